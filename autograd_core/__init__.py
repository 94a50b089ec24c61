"""autograd-core: a scalar reverse-mode automatic-differentiation engine for
learning, teaching and testing derivatives.

>>> from autograd_core import Value
>>> x = Value(2.0, "x")
>>> y = x * x + x.exp()
>>> y.backward()
>>> round(x.grad, 6)   # 2x + e^x
11.389056
"""

from __future__ import annotations

import sys as _sys

__version__ = "0.1.0"

from . import _aliases  # noqa: E402  (old flat module names, see docs/layout.md)

_aliases.install()

from .core.engine import (  # noqa: E402
    Value,
    apply,
    arctan2,
    clip,
    hypot,
    logaddexp,
    maximum,
    minimum,
    dot,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
    prelu,
    push_tangents,
    sum,
    topological_order,
    zero_grad,
)
from .core.primitives import PRIMITIVES, Primitive, primitive  # noqa: E402
from .stepthrough.trace import Trace, explain  # noqa: E402
from .stepthrough.parser import parse  # noqa: E402
from .derivatives.numerical import numerical_grad  # noqa: E402
from .derivatives.gradcheck import GradcheckReport, gradcheck  # noqa: E402
from .derivatives.functional import grad, hessian, jvp, value_and_grad  # noqa: E402
from .derivatives import testing  # noqa: E402,F401
from .static import StaticGraph, StaticGraphBranchError, static  # noqa: E402
from .tensor import Tensor  # noqa: E402
from .derivatives.anomaly import AnomalyError, detect_anomaly  # noqa: E402
from .core import math  # noqa: E402,F401  (autograd_core.math: the functions for writing rules)
from .core._gc import pause_gc  # noqa: E402

_aliases.install()  # now that the core and the tools are loaded: their old names
for _old, _new in _aliases.MOVED.items():
    _short = _old.rpartition(".")[2]
    if _new in _sys.modules and _short not in globals():  # `gradcheck` etc. stay the functions
        globals()[_short] = _sys.modules[_new]
del _old, _new, _short

__all__ = [
    "__version__", "Value", "apply", "dot", "enable_grad", "gradients", "is_grad_enabled",
    "no_grad", "prelu", "push_tangents", "sum", "topological_order", "zero_grad", "PRIMITIVES", "Primitive",
    "explain", "Trace", "parse",
    "numerical_grad", "gradcheck", "GradcheckReport", "jvp", "grad", "hessian", "value_and_grad",
    "static", "StaticGraph", "StaticGraphBranchError",
    "Tensor", "primitive", "detect_anomaly", "AnomalyError", "math",
    "arctan2", "hypot", "maximum", "minimum", "logaddexp", "clip",
    "pause_gc",
]
