"""The core: each operation's value and derivatives (``primitives``, once), the
nodes and the backward/forward drivers (``engine``), the functions rules are
written with (``math``, ``_math``), graph node names (``naming``), ``pause_gc``
(``_gc``) and the optional compiled bookkeeping (``_speedups``). Imports nothing
above itself."""
