"""The public math layer for writing primitive rules (see :func:`autograd_core.primitive`).

Every function here runs on Python floats (IEEE results, never raises: ``exp(1000)``
is ``inf``, ``log(-1)`` is ``nan``), on :class:`~autograd_core.Value` (building a
graph, so second derivatives work), on symbols (``explain`` prints the formula) and
on arrays. Write rules with these, never with ``math.*`` or ``float()``, which turn a
Value into a plain number and silently cut the graph.

This module re-exports :mod:`autograd_core.core._math`, so functions added there appear
here too.
"""

from __future__ import annotations

from . import _math

import types as _types


def _public(name: str, obj: object) -> bool:
    if name.startswith("_") or isinstance(obj, _types.ModuleType) or name == "annotations":
        return False
    return not callable(obj) or getattr(obj, "__module__", None) == _math.__name__


__all__ = sorted(name for name, obj in vars(_math).items() if _public(name, obj))
globals().update({name: getattr(_math, name) for name in __all__})
