"""Where the paper's data files come from: a local directory, the cache, or a verified download.

Each file a loader needs is a :class:`DataFile`: its name, the original URL (a UCI archive,
Keras's ``mnist.npz``, the paper repository's cheetah traces), the member to take from an
archive, and the sha256 checksums it is accepted with. :func:`locate` finds it, in order:

1. ``data_dir`` (the argument of :func:`ltcjax.data.load_task`), else ``$LTCJAX_DATA_DIR``:
   a local copy, read in place. It must hold the file (``<dir>/<folder>/<name>`` or
   ``<dir>/<name>``), else a ``FileNotFoundError`` names what is missing.
2. The cache ``$LTCJAX_DATA`` (default ``~/.cache/ltcjax``), ``<cache>/<folder>/<name>``.
3. A download from the original URL into the cache (``urllib``): streamed into a temporary
   file, its sha256 checked, the member extracted into another temporary file and checked,
   and only then renamed into place (``os.replace``). A failed, interrupted or corrupt
   download leaves no file behind that a later call would trust.

Every file is checked against its known checksums when it is found (``verify=False`` skips
this for a deliberately modified copy). Where no checksum is published (UCI HAR, person
activity, the unzipped power text) a download is trusted on first use: its sha256 is recorded
beside it (``<name>.sha256``) with a warning, and later uses are checked against the record.

Example:
    >>> import tempfile, pathlib, hashlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "toy").mkdir(); _ = (d / "toy" / "a.txt").write_text("1,2\\n")
    >>> digest = hashlib.sha256(b"1,2\\n").hexdigest()
    >>> f = DataFile("toy", "a.txt", url="https://example.invalid/a.txt", sha256=(digest,))
    >>> locate(f, data_dir=d).name
    'a.txt'
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DataFile",
    "cache_dir",
    "cached_arrays",
    "file_sha256",
    "local_data_dir",
    "locate",
    "locate_all",
]

#: Environment variable of the cache directory (downloads and parsed arrays).
CACHE_ENV = "LTCJAX_DATA"
#: Environment variable of a local directory of copies, used like ``data_dir=``.
DATA_DIR_ENV = "LTCJAX_DATA_DIR"
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class DataFile:
    """One file a loader reads, and where it comes from.

    Args:
        folder: the data set's folder (in a data directory and in the cache), e.g. ``"ozone"``.
        name: the file's name there, e.g. ``"eighthr.data"``.
        url: the original download address.
        sha256: checksums the file is accepted with (the original's, and those of known
            local copies with the same name); empty when none is published.
        member: the path of the file inside the downloaded archive (``archive="zip"``);
            matched by its end, so ``"train/X_train.txt"`` finds ``"UCI HAR Dataset/train/..."``.
        archive: ``None`` (the URL is the file), ``"zip"`` or ``"gzip"``.
        url_sha256: checksum of the downloaded bytes (the archive), when known.
        alternatives: other file names accepted in a data directory, each with its own
            checksum (e.g. the gzipped power text of ``../shared/data``).
    """

    folder: str
    name: str
    url: str
    sha256: tuple[str, ...] = ()
    member: str | None = None
    archive: str | None = None
    url_sha256: str | None = None
    alternatives: tuple[tuple[str, str], ...] = ()


def cache_dir() -> Path:
    """The cache directory: ``$LTCJAX_DATA``, default ``~/.cache/ltcjax``.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"LTCJAX_DATA": "/data/cache"}):
        ...     cache_dir().as_posix()
        '/data/cache'
    """
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ltcjax"


def local_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """``data_dir`` if given, else ``$LTCJAX_DATA_DIR`` if set, else None.

    Example:
        >>> local_data_dir("/tmp").as_posix()
        '/tmp'
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else None


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, as hex.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
        >>> file_sha256(p)[:12]
        'e3b0c44298fc'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _tmp_beside(path: Path, tag: str = "") -> Path:
    return path.with_name(f".{path.name}{tag}.{os.getpid()}.tmp")


def _check(path: Path, accepted: Sequence[str], what: str) -> None:
    got = file_sha256(path)
    if got not in accepted:
        hint = "nothing was cached" if what == "download" else "pass verify=False to use it anyway"
        raise ValueError(
            f"{what}: expected sha256 {' or '.join(accepted)}, got {got} for {str(path)!r} "
            f"(a corrupt or different version of the file; {hint})"
        )


def _candidates(f: DataFile) -> list[tuple[str, tuple[str, ...]]]:
    names = [(f.name, f.sha256)]
    if f.member and f.member != f.name:
        names.append((f.member, f.sha256))
    names += [(alt, (sha,)) for alt, sha in f.alternatives]
    return names


def _find_local(f: DataFile, root: Path, verify: bool) -> Path:
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir: directory {str(root)!r} does not exist")
    for name, accepted in _candidates(f):
        for base in (root / f.folder, root):
            path = base / name
            if not path.is_file() and name == f.member:  # an archive's layout, unpacked
                path = next((p for p in sorted(base.glob(f"*/{name}")) if p.is_file()), path)
            if path.is_file():
                if verify and accepted:
                    _check(path, accepted, "data_dir")
                return path
    wanted = " or ".join(repr(f"{f.folder}/{n}") for n, _ in _candidates(f))
    raise FileNotFoundError(
        f"data_dir: {str(root)!r} lacks the file {wanted} (original source: {f.url}); "
        "point data_dir (or $LTCJAX_DATA_DIR) at a directory that holds it, or leave both "
        "unset to download it into the cache"
    )


def _find_cached(f: DataFile, verify: bool) -> Path | None:
    path = cache_dir() / f.folder / f.name
    if not path.is_file():
        return None
    if verify:
        record = path.with_name(path.name + ".sha256")
        accepted = f.sha256 or ((record.read_text().split()[0],) if record.is_file() else ())
        if accepted:
            _check(path, accepted, "cache")
    return path


def _download(url: str, dest: Path, expected: str | None) -> None:
    """Stream ``url`` into ``dest`` (a temporary path), checking its sha256 if known."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        total = response.headers.get("Content-Length")
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            desc=f"download {url.rsplit('/', 1)[-1]}",
            leave=False,
            disable=None,
        ) as bar:
            while chunk := response.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    if expected is not None and h.hexdigest() != expected:
        raise ValueError(
            f"download: expected sha256 {expected}, got {h.hexdigest()} from {url} "
            "(corrupt or changed at the source; nothing was cached)"
        )


def _extract(archive: Path, kind: str | None, member: str | None, dest: Path) -> None:
    if kind is None:
        shutil.copyfile(archive, dest)
    elif kind == "gzip":
        with gzip.open(archive, "rb") as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
    elif kind == "zip":
        with zipfile.ZipFile(archive) as z:
            names = [
                n
                for n in z.namelist()
                if "__MACOSX" not in n and (n == member or n.endswith("/" + str(member)))
            ]
            if not names:
                raise ValueError(f"download: the archive lacks a member {member!r}")
            with z.open(names[0]) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
    else:  # pragma: no cover - the registry only uses the three kinds
        raise ValueError(f"archive: expected None, 'zip' or 'gzip', got {kind!r}")


def _fetch(files: Sequence[DataFile]) -> None:
    """Download the URL shared by ``files`` once and install each file into the cache."""
    first = files[0]
    folder = cache_dir() / first.folder
    folder.mkdir(parents=True, exist_ok=True)
    archive = _tmp_beside(folder / first.url.rsplit("/", 1)[-1], ".download")
    staged: list[tuple[Path, Path, str | None]] = []
    try:
        try:
            _download(first.url, archive, first.url_sha256)
        except (urllib.error.URLError, OSError) as err:
            raise FileNotFoundError(
                f"data_dir: the file {first.folder}/{first.name} is not available offline "
                f"and downloading {first.url} failed ({err}); pass data_dir= (or set "
                f"${DATA_DIR_ENV}) to a directory with a copy, or place the file at "
                f"{str(folder / first.name)!r}"
            ) from err
        for f in files:
            final = folder / f.name
            tmp = _tmp_beside(final)
            staged.append((tmp, final, None))
            _extract(archive, f.archive, f.member, tmp)
            if f.sha256:
                _check(tmp, f.sha256, "download")
            else:
                staged[-1] = (tmp, final, file_sha256(tmp))
        for tmp, final, recorded in staged:  # every file checked: install them
            if recorded is not None:
                record = final.with_name(final.name + ".sha256")
                record_tmp = _tmp_beside(record)
                record_tmp.write_text(f"{recorded}  {final.name}\n")
                os.replace(record_tmp, record)
                warnings.warn(
                    f"{final.name}: no published sha256 is known; recorded {recorded} "
                    f"(trust on first use) in {str(record)!r}",
                    UserWarning,
                    stacklevel=4,
                )
            os.replace(tmp, final)
    finally:
        archive.unlink(missing_ok=True)
        for tmp, _, _ in staged:
            tmp.unlink(missing_ok=True)


def locate_all(
    files: Sequence[DataFile],
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> list[Path]:
    """The paths of ``files`` (see the module docstring for the order of sources).

    Files missing from the cache are downloaded, one download per distinct URL.
    """
    root = local_data_dir(data_dir)
    if root is not None:
        return [_find_local(f, root, verify) for f in files]
    found = {f: _find_cached(f, verify) for f in files}
    missing = [f for f in files if found[f] is None]
    if missing and not download:
        f = missing[0]
        raise FileNotFoundError(
            f"data_dir: the file {f.folder}/{f.name} is neither in the cache "
            f"{str(cache_dir())!r} nor in a data directory, and download=False; pass "
            f"data_dir= (or set ${DATA_DIR_ENV}) to a directory with a copy, or allow the "
            f"download from {f.url}"
        )
    by_url: dict[str, list[DataFile]] = {}
    for f in missing:
        by_url.setdefault(f.url, []).append(f)
    for group in by_url.values():
        _fetch(group)
    return [found[f] or cache_dir() / f.folder / f.name for f in files]


def locate(
    file: DataFile,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> Path:
    """The path of one ``file`` (see :func:`locate_all`)."""
    return locate_all([file], data_dir, download=download, verify=verify)[0]


def cached_arrays(
    folder: str, key: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """``build()``'s arrays, cached as ``<cache>/<folder>/parsed-<key>.npz`` (written
    atomically; a cache that cannot be written is skipped). ``key`` must change with the
    source's checksum and the parser.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from unittest import mock
        >>> calls = []
        >>> build = lambda: calls.append(1) or {"x": np.arange(3)}
        >>> with mock.patch.dict(os.environ, {"LTCJAX_DATA": tempfile.mkdtemp()}):
        ...     got = [cached_arrays("toy", "k1", build)["x"].tolist() for _ in range(2)]
        >>> got, len(calls)
        ([[0, 1, 2], [0, 1, 2]], 1)
    """
    path = cache_dir() / folder / f"parsed-{key}.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile):
            pass  # unreadable: rebuild and replace it below
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_beside(path)
        try:
            with open(tmp, "wb") as out:
                np.savez(out, **arrays)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache only costs the parse next time
    return arrays
