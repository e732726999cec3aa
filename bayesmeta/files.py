"""Safe output files: never overwrite without ``force``, always write atomically.

A result file is first written to a temporary file in the same directory and then renamed
over the target, so a crash or a full disk never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from bayesmeta.errors import InputError, OutputExistsError


def check_writable(path: str | Path, *, force: bool) -> Path:
    """Return ``path`` as a Path after checking it may be written.

    Raises :class:`OutputExistsError` when it exists and ``force`` is false, and
    :class:`InputError` when its directory does not exist or it is a directory.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError("is a directory, not a file", source=p)
    if p.exists() and not force:
        raise OutputExistsError(p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"directory '{parent}' does not exist", source=p)
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary path; on success rename it onto ``path``.

    Use for writers that want a file name (NetCDF, matplotlib). The temporary file is
    removed if the body raises.
    """
    target = check_writable(path, force=force)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    """The process umask (read from /proc where possible: setting it is not thread-safe)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str, *, force: bool) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_with(path: str | Path, writer: Callable[[Path], object], *, force: bool) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path, force=force) as tmp:
        writer(tmp)
    return Path(path)
