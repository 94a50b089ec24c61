"""The playground: a local web page to type a formula, move its inputs and
watch the chain rule (``autograd-core playground``), with a practice mode.

:func:`create_app` (in :mod:`autograd_core.cli.playground.app`) builds the
Starlette app; it needs the ``playground`` extra (Starlette and uvicorn).
The page's own assets live in ``static/``; Graphviz compiled to WebAssembly
(viz-js, MIT) and the practice script are shared with the stepper and live in
``visualize/static/`` (:mod:`visualize.assets`).
"""

from __future__ import annotations

from importlib import resources

__all__ = ["create_app", "asset"]


def asset(name: str) -> str:
    """The text of one of the page's static files (its own, or a shared one
    such as ``viz-global.js`` from :mod:`visualize.assets`)."""
    from visualize.assets import ASSET_NAMES, asset as shared
    if name in ASSET_NAMES:
        return shared(name)
    return resources.files(__name__).joinpath("static", name).read_text(encoding="utf-8")


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """The Starlette app (see :func:`autograd_core.cli.playground.app.create_app`)."""
    try:
        from .app import create_app as make
    except ImportError as exc:  # starlette missing
        raise ImportError("the playground needs Starlette and uvicorn: "
                          "pip install 'autograd-core[playground]'") from exc
    return make(*args, **kwargs)
