"""The playground's web app (Starlette): the page, its own static assets and
a small JSON API.

* ``GET /`` the page; ``GET /static/NAME`` one of its own assets (a fixed
  list: nothing else on the disk is ever served).
* ``POST /api/explain`` with ``{"formula": ..., "values": {...}, "wrt": [...],
  "mode": "reverse"|"forward"|"both", "paths": false}`` returns exactly what
  ``autograd-core explain --format json`` prints (the same function builds
  it); bad input gives HTTP 400 with ``{"error": <one line>}`` (for a formula:
  the parser's message, with ``"column"`` when it names one).
* ``POST /api/graph`` (same body): ``{"dot": ..., "bins": ...}``, the graph as
  DOT text (values, gradients, local derivatives coloured by |gradient|), which
  the page lays out in the browser with Graphviz compiled to WebAssembly, and
  the |gradient| colour scale (to recolour it in place while a slider moves).
* ``POST /api/latex`` (same body; ``mode`` must be ``"reverse"``):
  ``{"latex": ...}``, exactly what ``autograd-core explain --format latex``
  prints (``--paths`` when ``"paths": true``): :meth:`Trace.to_latex`.
* ``POST /api/stepper`` (same body, plus ``"practice": bool``): the
  self-contained step-through page of the current state
  (:func:`visualize.write_stepper`), as a download.
* ``GET /api/examples``: the textbook's examples.
* ``GET /api/names``: ``{"functions": [...], "constants": [...]}``, the
  parser's function and constant names (the page gives every other name in a
  formula a slider).

Limits: request bodies up to :data:`MAX_BODY` bytes, formulas up to
:data:`MAX_FORMULA` characters, at most :data:`MAX_VALUES` variables. Every
request builds its own graph (nothing is shared between requests), so
concurrent requests are safe.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import UsageError
from ..commands.explain import build, json_document
from ...stepthrough.parser import CONSTANTS, FUNCTIONS
from . import examples
from visualize.assets import ASSET_NAMES, asset as shared_asset

__all__ = ["create_app", "MAX_BODY", "MAX_FORMULA", "MAX_VALUES", "ASSETS", "explain_request",
           "RequestError"]

#: Largest request body accepted, in bytes.
MAX_BODY = 16 * 1024
#: Longest formula accepted, in characters (about 300 operations).
MAX_FORMULA = 2000
#: Most variables a request may give values for.
MAX_VALUES = 64

#: The only files the app serves: name -> media type.
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "practice.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "viz-global.js": "text/javascript; charset=utf-8",
    "LICENSE-viz-js.txt": "text/plain; charset=utf-8",
}

_CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'")
_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"}
_KEYS = {"formula", "values", "wrt", "mode", "paths", "practice"}
_COLUMN = re.compile(r" at column (\d+)$")


class RequestError(ValueError):
    """A request the API refuses (HTTP 400, or 413 for an oversized body)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _asset(name: str) -> bytes:
    if name in ASSET_NAMES:  # shared with the stepper: visualize/static/
        return shared_asset(name).encode("utf-8")
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _no_constant(name: str) -> Any:
    raise RequestError(f"{name} is not a JSON number: values must be finite numbers")


def _decode(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise RequestError(f"request body too large: {len(body)} bytes (at most {MAX_BODY})", 413)
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RequestError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestError("the request body must be a JSON object") from None
    if not isinstance(doc, dict):
        raise RequestError("the request body must be a JSON object")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise RequestError(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    return doc


def explain_request(doc: dict[str, Any]) -> tuple[str, dict[str, float], list[str] | None, str, bool]:
    """Check an API request: ``(formula, values, wrt, mode, paths)``, or RequestError."""
    formula = doc.get("formula")
    if not isinstance(formula, str):
        raise RequestError("'formula' must be a string")
    if len(formula) > MAX_FORMULA:
        raise RequestError(f"formula is too long: {len(formula)} characters (at most {MAX_FORMULA})")
    if not formula.strip():
        raise RequestError("empty expression")
    raw = doc.get("values", {})
    if not isinstance(raw, dict):
        raise RequestError("'values' must be an object of name: number")
    if len(raw) > MAX_VALUES:
        raise RequestError(f"too many values: {len(raw)} (at most {MAX_VALUES})")
    values: dict[str, float] = {}
    for name, x in raw.items():
        if not name.isidentifier() or name.startswith("__"):
            raise RequestError(f"bad variable name {name[:40]!r}")
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise RequestError(f"the value of {name} must be a number, not {type(x).__name__}")
        try:
            f = float(x)
        except OverflowError:
            raise RequestError(f"the value of {name} is too large for a float") from None
        if not math.isfinite(f):
            raise RequestError(f"the value of {name} must be finite")
        values[name] = f
    wrt = doc.get("wrt")
    if wrt is not None:
        if not isinstance(wrt, list) or not all(isinstance(w, str) and w for w in wrt):
            raise RequestError("'wrt' must be a list of names")
        if len(wrt) > MAX_VALUES:
            raise RequestError(f"too many names in 'wrt': {len(wrt)} (at most {MAX_VALUES})")
    mode = doc.get("mode", "reverse")
    if mode not in ("reverse", "forward", "both"):
        raise RequestError(f"'mode' must be 'reverse', 'forward' or 'both', got {str(mode)[:40]!r}")
    paths = doc.get("paths", False)
    if not isinstance(paths, bool):
        raise RequestError("'paths' must be true or false")
    return formula, values, wrt, mode, paths


def _error(exc: Exception, status: int = 400) -> JSONResponse:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    body: dict[str, Any] = {"error": msg}
    m = _COLUMN.search(msg)
    if m:
        body["column"] = int(m.group(1))
    return JSONResponse(body, status_code=status, headers=_HEADERS)


async def _read(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise RequestError(f"request body too large: {declared[:20]} bytes (at most {MAX_BODY})", 413)
    chunks, size = [], 0
    async for chunk in request.stream():  # counted as it arrives: never more than MAX_BODY held
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestError(f"request body too large (at most {MAX_BODY} bytes)", 413)
        chunks.append(chunk)
    return _decode(b"".join(chunks))


_BAD_INPUT = (UsageError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError)


def _explain(doc: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    formula, values, wrt, mode, paths = explain_request(doc)
    out, trace, tables, sums = build(formula, values, wrt, mode, paths)
    return out, trace, json_document(formula, values, mode, trace, tables, sums)


def _explain_json(doc: dict[str, Any]) -> dict[str, Any]:
    return _explain(doc)[2]


def _graph(doc: dict[str, Any]) -> dict[str, Any]:
    from visualize.graph import GRAD_BINS, draw_graph
    _, trace, _ = _explain(doc)
    # the colour scale too, so the page can recolour the picture as values change
    bins = [[b if math.isfinite(b) else None, fill, font] for b, fill, font, _ in GRAD_BINS]
    return {"dot": draw_graph(trace, symbolic=True).source, "bins": bins}


def _latex(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("mode", "reverse") != "reverse":
        raise RequestError("LaTeX shows the reverse mode: 'mode' must be 'reverse'")
    _, trace, _, sums = build(*explain_request(doc))
    return {"latex": trace.to_latex(paths=sums)}


def _stepper(doc: dict[str, Any]) -> bytes:
    from visualize import write_stepper
    practice = doc.get("practice", False)
    if not isinstance(practice, bool):
        raise RequestError("'practice' must be true or false")
    _, trace, _ = _explain(doc)
    with tempfile.TemporaryDirectory(prefix="autograd-playground-") as tmp:
        path = write_stepper(trace, Path(tmp) / "steps.html", practice=practice, symbolic=True)
        return path.read_bytes()


async def _api(request: Request, work: Any) -> Response:
    from starlette.concurrency import run_in_threadpool
    try:
        doc = await _read(request)
        result = await run_in_threadpool(work, doc)
    except RequestError as exc:
        return _error(exc, exc.status)
    except _BAD_INPUT as exc:
        return _error(exc)
    if isinstance(result, bytes):
        return Response(result, media_type="text/html; charset=utf-8", headers={
            **_HEADERS, "Content-Disposition": 'attachment; filename="autograd-steps.html"'})
    return Response(json.dumps(result, ensure_ascii=False), media_type="application/json",
                    headers=_HEADERS)


async def api_explain(request: Request) -> Response:
    return await _api(request, _explain_json)


async def api_graph(request: Request) -> Response:
    return await _api(request, _graph)


async def api_latex(request: Request) -> Response:
    return await _api(request, _latex)


async def api_stepper(request: Request) -> Response:
    return await _api(request, _stepper)


async def api_examples(request: Request) -> Response:
    return JSONResponse(examples.as_json(), headers=_HEADERS)


async def api_names(request: Request) -> Response:
    return JSONResponse({"functions": list(FUNCTIONS), "constants": list(CONSTANTS)},
                        headers=_HEADERS)


async def page(request: Request) -> Response:
    return Response(_asset("index.html"), media_type=ASSETS["index.html"],
                    headers={**_HEADERS, "Content-Security-Policy": _CSP})


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return Response("not found\n", status_code=404, media_type="text/plain", headers=_HEADERS)
    return Response(_asset(name), media_type=ASSETS[name],
                    headers={**_HEADERS, "Content-Security-Policy": _CSP})


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def create_app(allowed_hosts: list[str] | None = None) -> Starlette:
    """The playground app. ``allowed_hosts``: the Host headers accepted (by
    default the loopback names, which stops other sites reaching a local
    server through DNS rebinding); ``["*"]`` accepts any."""
    hosts = list(allowed_hosts) if allowed_hosts is not None else [*LOOPBACK, "[::1]"]
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/explain", api_explain, methods=["POST"]),
        Route("/api/graph", api_graph, methods=["POST"]),
        Route("/api/latex", api_latex, methods=["POST"]),
        Route("/api/stepper", api_stepper, methods=["POST"]),
        Route("/api/examples", api_examples, methods=["GET"]),
        Route("/api/names", api_names, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
