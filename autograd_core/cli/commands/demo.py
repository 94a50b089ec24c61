"""``autograd-core demo [--out DIR] [--open]``: the main job in one command.

Builds the report of :mod:`autograd_core.cli.demo` (chain rule, forward vs
reverse mode, gradcheck catching a wrong derivative, an MLP on moons, the
vanishing and exploding gradients) into DIR, printing one line per stage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any

from .. import output_dir


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help="build the demo report (index.html) showing what autograd-core is for",
        description="Run the built-in demonstrations (no network, about 5 seconds) and write a "
                    "self-contained report: DIR/index.html with the pictures and pages it links to.")
    p.add_argument("--out", metavar="DIR", default="autograd-demo",
                   help="directory to write into (created if missing; default: ./autograd-demo/)")
    p.add_argument("--open", action="store_true",
                   help="open index.html in a web browser when done (skipped without a display)")
    p.add_argument("--quick", action="store_true",
                   help="shorter training runs and fewer images (a few seconds; for a smoke test)")
    p.set_defaults(func=run)


def _has_display() -> bool:
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def open_in_browser(index: Path) -> str:
    """Try to open ``index`` in a browser; returns a line saying what happened.
    Never raises: a headless machine just gets the file's URL."""
    url = index.resolve().as_uri()
    if not _has_display():
        return f"no display: open {url} in a browser"
    try:
        opened = webbrowser.open(url)
    except Exception as exc:  # webbrowser.Error, OSError from a broken browser entry
        return f"could not start a browser ({exc}); open {url}"
    return f"opened {url}" if opened else f"no browser found: open {url}"


def run(args: argparse.Namespace) -> int:
    from ..demo import build_demo

    out = Path(output_dir(args.out, "--out"))
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - t0:5.1f} s] {message}", flush=True)

    print(f"autograd-core demo: writing into {out}{os.sep}", flush=True)
    result = build_demo(out, quick=args.quick, progress=progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"done in {result.seconds:.1f} s: {len(result.files)} files; open {result.index}",
          flush=True)
    if args.open:
        print(open_in_browser(result.index), flush=True)
    return 0
