"""The ``autograd-core`` command-line tool.

Each subcommand lives in its own module under :mod:`autograd_core.commands`
and provides ``add_parser(subparsers)``, which registers the subcommand and
sets ``func(args) -> int`` as its handler. Bad input from the user raises
:class:`UsageError` (or ValueError/TypeError); the tool prints one line and
exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: list[str] = [
    "autograd_core.commands.explain",
    "autograd_core.commands.experiment",
    "autograd_core.commands.demo",
    "autograd_core.commands.export",
]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


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
    except (UsageError, ValueError, TypeError, ZeroDivisionError, FileNotFoundError) as exc:
        print(f"autograd-core: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograd-core: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
