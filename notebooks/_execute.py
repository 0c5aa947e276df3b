"""Execute notebooks from their jupytext sources and store the .ipynb with outputs.

    python notebooks/_execute.py                      # every notebook, full size
    python notebooks/_execute.py quickstart expressivity
    LTCJAX_NOTEBOOK_SMALL=1 python notebooks/_execute.py quickstart   # small (do not commit)

The ``.py`` (percent format) is the source of truth; this writes ``<name>.ipynb`` beside it
(atomically), with the outputs of a real run in a fresh kernel whose working directory is
``notebooks/``, and prints each notebook's wall time and its ``RESULT`` line.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def sources(names: list[str] | None = None) -> list[Path]:
    """The notebooks' jupytext sources (every ``*.py`` here but this helper), or ``names``."""
    found = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"names: expected some of {sorted(by_name)}, got {unknown}")
    return [by_name[n] for n in names]


def execute(source: Path, timeout: int = 3600):
    """Run the notebook of ``source`` in a fresh kernel; returns (notebook, seconds)."""
    notebook = jupytext.read(source)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
    )
    start = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - start


def result_line(notebook) -> str | None:
    """The ``RESULT {...}`` line a notebook prints last, or None."""
    for cell in reversed(notebook.cells):
        for output in cell.get("outputs", []):
            # a progress bar's carriage returns may share the line: take what follows RESULT
            for line in output.get("text", "").replace("\r", "\n").splitlines():
                start = line.find("RESULT {")
                if start >= 0:
                    return line[start:]
    return None


def main(argv: list[str]) -> int:
    for source in sources(argv):
        notebook, seconds = execute(source)
        target = source.with_suffix(".ipynb")
        text = jupytext.writes(notebook, fmt="ipynb")
        with tempfile.NamedTemporaryFile("w", dir=HERE, suffix=".tmp", delete=False) as tmp:
            tmp.write(text)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, target)  # atomic: a reader never sees half a notebook
        print(f"{source.stem}: {seconds:.0f} s wall; {result_line(notebook)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
