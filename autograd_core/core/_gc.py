"""``pause_gc``: build big graphs without Python's cyclic garbage collector.

Every ``Value`` is an object the cyclic collector tracks (it has ``__slots__``
holding references), so while a forward pass makes hundreds of thousands of
nodes, the collector's full collections walk the whole growing graph again
and again, although autograd-core's graphs contain no reference cycles and
are freed by reference counting alone. Inside ``pause_gc()`` the collector
does not run. The library never changes the collector's settings at import
time or behind the user's back: only inside this block (opt-in) and inside
loops the library owns (``nn.fit`` uses it around each step's forward and
backward pass).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Any

__all__ = ["pause_gc"]

_lock = threading.Lock()
_depth = 0  # open pause_gc blocks, all threads together
_was_enabled = False  # the collector's state when the first of them opened


class pause_gc(contextlib.ContextDecorator):  # noqa: N801 - used like a function
    """Disable the cyclic garbage collector inside the block; on exit restore
    exactly the state it had when the block was entered (enabled or not),
    also on exceptions. Thresholds are never touched.

    Nested blocks and blocks open in several threads at once are counted: the
    collector is restored when the last one closes (it is one per process).
    Cyclic garbage made inside is collected later, as usual; plain garbage is
    freed at once by reference counting as always. Usable as a decorator."""

    def __enter__(self) -> pause_gc:
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
