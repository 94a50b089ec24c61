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
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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


def _writable(folder: str) -> bool:
    """Whether a file can be created in ``folder``: tried, with a temporary
    file removed at once (permission bits say nothing for root or on a
    read-only mount)."""
    from .._io import _create_temp
    try:
        fd, tmp = _create_temp(Path(folder), "autograd-core-probe")
    except OSError:
        return False
    os.close(fd)
    os.unlink(tmp)
    return True


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
    if not _writable(folder):
        raise UsageError(f"{option} {path!r}: folder {folder!r} is not writable")
    return path


def output_dir(path: str, option: str) -> str:
    """Check an output folder option (``--out DIR``) before any work: it is a
    writable folder, or can be made in a writable one."""
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"{option} {path!r} exists and is not a directory")
        if not _writable(path):
            raise UsageError(f"{option} {path!r} is not writable")
        return path
    parent = os.path.dirname(os.path.abspath(path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not (os.path.isdir(parent) and _writable(parent)):
        raise UsageError(f"{option} {path!r} cannot be created: {parent!r} is not a writable folder")
    return path


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
