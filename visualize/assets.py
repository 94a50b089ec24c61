"""Browser assets shared by the step-through pages, the playground and the demo:
Graphviz compiled to WebAssembly (viz-js, MIT; see ``static/LICENSE-viz-js.txt``),
the number formatting the pages share (``common.js``) and the practice-mode
script. They live here, in the drawing layer, so that the stepper, the demo and
the playground (above it) read them without importing each other."""

from __future__ import annotations

from importlib import resources

__all__ = ["asset", "ASSET_NAMES"]

#: The files in ``visualize/static/``.
ASSET_NAMES = ("viz-global.js", "common.js", "practice.js", "LICENSE-viz-js.txt")


def asset(name: str) -> str:
    """The text of one shared asset (``viz-global.js``, ``practice.js``)."""
    if name not in ASSET_NAMES:
        raise ValueError(f"unknown asset {name!r}; known: {', '.join(ASSET_NAMES)}")
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")
