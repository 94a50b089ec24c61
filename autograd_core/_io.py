"""Atomic file writes, used by everything that saves a file (models, pictures,
reports): the data goes to a temporary file in the target's folder, is
flushed to disk, and replaces the target in one ``os.replace``, so a reader
never sees a half-written file and a failure leaves the old file as it was.

* Writing through a symbolic link updates the file the link points to (the
  link stays a link).
* Only regular files are replaced: a directory raises IsADirectoryError, a
  FIFO, device or socket ValueError (writing there would block or never be
  atomic).
* The temporary file is created exclusively under a fresh random name
  (``.name.XXXXXXXX.tmp``, never colliding with another writer) and removed
  when the write fails or is interrupted (KeyboardInterrupt included).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any


def _target(path: Path) -> Path:
    """The file a write to ``path`` replaces: symlinks followed (a dangling
    link gives the file it would point to); refused if not a regular file."""
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = real.stat()
    except FileNotFoundError:
        return real
    except OSError:  # e.g. a symlink loop; let the write report it
        return real
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"cannot write {str(path)!r}: it is not a regular file "
                         "(a FIFO, device or socket)")
    return real


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new file ``.name.<random>.tmp`` in ``folder``, created exclusively."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name[:200]}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                           0o666), tmp
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    raise FileExistsError(f"no free temporary file name in {str(folder)!r}")  # pragma: no cover


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; returns ``path``.

    An existing file keeps its permissions; a new one gets the usual ones (umask)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = _target(path)
    try:
        mode: int | None = target.stat().st_mode & 0o777  # an existing file keeps its mode
    except OSError:
        mode = None  # a new file: 0o666 minus the umask, applied by os.open itself
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = _create_temp(folder, target.name)
    except OSError as e:  # read-only or missing folder: say which, not the temporary name
        what = ("folder {!r} is not writable" if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
                else "cannot create a file in {!r}").format(str(folder))
        raise type(e)(e.errno, f"cannot write {str(path)!r}: {what} ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.errno is not None:  # a full disk, a quota: name the file
            raise type(e)(e.errno, f"cannot write {str(path)!r} ({e.strerror})") from None
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], doc: Any) -> Path:
    """``doc`` as strict JSON (no NaN/inf: ValueError instead), written atomically."""
    return write_atomic(path, json.dumps(doc, allow_nan=False))
