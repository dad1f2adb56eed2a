"""Atomic output: files and folders appear complete or not at all, and never replace what the
user had unless asked (``force``).

Every temporary file or folder an output is written under is recorded until it is renamed
into place or removed, and every rename into place holds :data:`COMMIT_LOCK`: so that the
command line's interrupt handler (:mod:`seqexplain.entrypoint`), which stops the process at
once from another thread, can :func:`discard_unfinished` without ever catching an output
half-renamed."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import SeqexplainError


#: held while an output is renamed into place (and by :func:`discard_unfinished`)
COMMIT_LOCK = threading.RLock()
#: temporary outputs being written now
_UNFINISHED: set[Path] = set()


def track_unfinished(path: Path) -> None:
    """Record a temporary output: :func:`discard_unfinished` removes it unless it is
    :func:`forget_unfinished` first."""
    _UNFINISHED.add(Path(path))


def forget_unfinished(path: Path) -> None:
    _UNFINISHED.discard(Path(path))


def discard_unfinished(timeout: float = 5.0) -> None:
    """Remove every temporary output still being written, waiting up to ``timeout`` seconds
    for a rename in progress to finish (the process is about to stop)."""
    locked = COMMIT_LOCK.acquire(timeout=timeout)
    try:
        for path in list(_UNFINISHED):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            _UNFINISHED.discard(path)
    finally:
        if locked:
            COMMIT_LOCK.release()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normal_mode(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give the result the permissions a
    plain ``open``/``mkdir`` would have."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def check_writable(path: str | os.PathLike, force: bool = False, kind: str | None = None
                   ) -> Path:
    """Check, before any work, that ``path`` can be written: refuse an existing ``path``
    unless ``force``, one of the wrong kind (``kind``: "file" or "folder"), and a parent
    folder that is missing, not a folder, or not writable. Messages name the user's path,
    never the temporary name the output is written under."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not force:
            have = "folder" if path.is_dir() else "file"
            raise SeqexplainError(f"{path}: {have} exists; pass --force to overwrite it")
        if kind == "file" and path.is_dir():
            raise SeqexplainError(f"{path}: is a folder; expected a file name")
        if kind == "folder" and not path.is_dir():
            raise SeqexplainError(f"{path}: is a file; expected a folder name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise SeqexplainError(f"{path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise SeqexplainError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SeqexplainError(f"{path}: cannot write to folder {parent} (permission denied "
                              "or read-only)")
    return path


def portable_path(path: str | os.PathLike, output: str | os.PathLike) -> str:
    """``path`` as an output file records it: relative to the folder ``output`` is written
    in, so the two can move together (or be sent to a colleague); absolute only where no
    relative path exists (another drive)."""
    target = Path(path).resolve()
    base = Path(output).resolve().parent
    try:
        return Path(os.path.relpath(target, base)).as_posix()
    except ValueError:
        return str(target)


def recorded_path(recorded: str, output: str | os.PathLike) -> Path:
    """A path that ``output`` recorded (see :func:`portable_path`), as a path to open now:
    relative ones are taken from ``output``'s folder."""
    path = Path(recorded)
    return path if path.is_absolute() else Path(output).parent / path


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, force: bool = False, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was."""
    path = check_writable(path, force, kind="file")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    track_unfinished(tmp)
    try:
        yield tmp
        _normal_mode(tmp, directory=False)
        with COMMIT_LOCK:
            os.replace(tmp, path)
            forget_unfinished(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        forget_unfinished(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it becomes ``path``.

    With ``force`` an existing ``path`` is replaced only after the new folder is complete. On
    any exception the temporary folder is removed and ``path`` is left as it was."""
    path = check_writable(path, force, kind="folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    track_unfinished(tmp)
    old = None
    try:
        yield tmp
        _normal_mode(tmp, directory=True)
        with COMMIT_LOCK:
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old",
                                            dir=path.parent))
                track_unfinished(old)
                os.replace(path, old / "x")
            os.replace(tmp, path)
            forget_unfinished(tmp)
        if old is not None:  # the replaced output: removed now, or by an interrupt
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        forget_unfinished(tmp)
        if old is not None:
            forget_unfinished(old)


def _jsonable(value):
    """NaN/inf → None, numpy scalars/arrays → Python, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: dict) -> None:
    """``data`` as strict, indented JSON (NaN/inf as null, numpy values as Python)."""
    path.write_text(json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")
