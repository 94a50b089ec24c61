"""The ``autograd-core`` command-line tool.

Each subcommand lives in its own module under :mod:`autograd_core.cli.commands`
and provides ``add_parser(subparsers)``, which registers the subcommand and
sets ``func(args) -> int`` as its handler. Bad input from the user raises
:class:`UsageError` (or ValueError/TypeError); the tool prints one line and
exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: list[str] = [
    "autograd_core.cli.commands.explain",
    "autograd_core.cli.commands.experiment",
    "autograd_core.cli.commands.demo",
    "autograd_core.cli.commands.playground",
    "autograd_core.cli.commands.export",
]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _not_writable(folder: str) -> str | None:
    """Why no file can be created in ``folder`` (None: as far as can be told
    without writing there). Asked, never tried: ``os.access`` (the effective
    user's permissions; False on a read-only mount or an immutable folder) and
    ``os.statvfs`` (a read-only file system, or no free block for this user: a
    full disk, or a pseudo file system like /sys). Whatever these cannot see
    surfaces at the write itself, which is atomic and fails with an OSError
    naming the file: one line and exit status 2 all the same."""
    if not os.access(folder, os.W_OK | os.X_OK,
                     effective_ids=os.access in os.supports_effective_ids):
        return "not writable"
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows) or it failed: the write will tell
        return None
    if st.f_flag & getattr(os, "ST_RDONLY", 1):
        return "not writable (a read-only file system)"
    free = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    if free == 0:
        return "not writable (no free space on its file system)"
    return None


def output_file(path: str, option: str) -> str:
    """Check an output file option (``--svg``, ``--html``, ``--plot``) before
    any work: UsageError when it names a directory, a FIFO or device, or a
    folder that is missing or not writable."""
    p = os.path.realpath(path) if os.path.islink(path) else path
    if os.path.isdir(p):
        raise UsageError(f"{option} {path!r} is a directory; give a file name")
    if os.path.exists(p) and not os.path.isfile(p):
        raise UsageError(f"{option} {path!r} is not a regular file (a FIFO or device)")
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path!r}: folder {folder!r} does not exist")
    why = _not_writable(folder)
    if why:
        raise UsageError(f"{option} {path!r}: folder {folder!r} is {why}")
    return path


def output_dir(path: str, option: str) -> str:
    """Check an output folder option (``--out DIR``) before any work: it is a
    writable folder, or can be made in a writable one."""
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"{option} {path!r} exists and is not a directory")
        why = _not_writable(path)
        if why:
            raise UsageError(f"{option} {path!r} is {why}")
        return path
    parent = os.path.dirname(os.path.abspath(path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not os.path.isdir(parent):
        raise UsageError(f"{option} {path!r} cannot be created: {parent!r} is not a folder")
    why = _not_writable(parent) if parent else None
    if why:
        raise UsageError(f"{option} {path!r} cannot be created: folder {parent!r} is {why}")
    return path


def json_safe(doc: Any) -> Any:
    """``doc`` with every non-finite float as the string ``inf``, ``-inf`` or
    ``nan`` (what ``explain --format json`` prints), so ``json.dumps(...,
    allow_nan=False)`` gives standard JSON, not ``NaN``/``Infinity``."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else ("nan" if doc != doc else "inf" if doc > 0 else "-inf")
    if isinstance(doc, dict):
        return {k: json_safe(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [json_safe(v) for v in doc]
    return doc


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (an OSError without its ``[Errno n]``)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror if exc.filename is None else f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autograd-core",
        description="Learn, teach and test derivatives with a scalar reverse-mode autodiff engine.",
    )
    parser.add_argument("--version", action="version", version=f"autograd-core {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, TypeError, ZeroDivisionError, OSError) as exc:
        # OSError: an output path in a read-only folder, a directory, a full disk...
        print(f"autograd-core: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograd-core: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
