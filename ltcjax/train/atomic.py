"""Atomic file writes: readers (and a resumed run) see the old file or the new one, never a
partial one, even if the process is killed mid-write.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "result.json"
    >>> write_text_atomically(path, "{}\\n")
    >>> path.read_text()
    '{}\\n'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomically", "write_text_atomically"]


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``
    (atomic on POSIX file systems); the temporary file is removed if ``write`` fails."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`write_atomically`)."""
    write_atomically(path, lambda tmp: tmp.write_text(text))
