"""Atomic file writes, used by everything that saves a file (models, pictures,
reports): the data goes to a temporary file in the same folder, is flushed to
disk, and replaces the target in one ``os.replace``, so a reader never sees a
half-written file and a failure leaves the old file as it was."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; returns the path.

    An existing file keeps its permissions; a new one gets the usual ones (umask)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], doc: Any) -> Path:
    """``doc`` as strict JSON (no NaN/inf: ValueError instead), written atomically."""
    return write_atomic(path, json.dumps(doc, allow_nan=False))
