"""``autograd-core playground [FORMULA] [NAME=VALUE ...]``: a live page to type
a formula, drag its inputs and watch (or practise) the chain rule.

Serves :mod:`autograd_core.cli.playground` with uvicorn on loopback
(``--host`` to change that, with a warning), prints the URL and opens the
browser unless ``--no-browser``. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import webbrowser
from typing import Any
from urllib.parse import quote

from .. import UsageError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "playground", help="a live page: type a formula, move the inputs, practise the chain rule",
        description="Start a local web page where a formula's graph, forward table, backward steps "
                    "and gradients update as you type and move sliders, with a practice mode.")
    p.add_argument("expression", nargs="?", metavar="FORMULA", help="the formula to open with")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE", help="starting values")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=run)


def page_url(host: str, port: int, formula: str | None, values: dict[str, float]) -> str:
    """The page's address; the formula and values ride in the fragment."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if formula:
        parts = ["f=" + quote(formula, safe="")] + [f"{quote(k)}={v!r}" for k, v in values.items()]
        url += "#" + "&".join(parts)
    return url


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by the accepted connections: small answers go out at once instead of
        # waiting ~40 ms for the client's delayed ACK (Nagle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(addr)
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def run(args: argparse.Namespace) -> int:
    from .explain import _values, build
    values = _values(args.assignments)
    if args.expression is not None:
        build(args.expression, values, None)  # bad input: one line and exit 2, before serving
    elif values:
        raise UsageError("values were given without a formula")
    try:
        import uvicorn

        from ..playground import create_app
        # loopback names only (no DNS rebinding); Starlette cannot match a bracketed IPv6 Host
        app = create_app(None if args.host in ("127.0.0.1", "localhost") else ["*"])
    except ImportError:
        raise UsageError("the playground needs Starlette and uvicorn: "
                         "pip install 'autograd-core[playground]'") from None
    if args.host not in LOOPBACK:
        print(f"autograd-core: warning: listening on {args.host}, not loopback: anyone who can "
              "reach this machine can use the playground", file=sys.stderr)
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    url = page_url("127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host, port,
                   args.expression, values)
    print(f"autograd-core playground: {url}  (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down; it re-raises the Ctrl-C it caught
        pass
    finally:
        sock.close()
    print("autograd-core playground: stopped", file=sys.stderr)
    return 0
