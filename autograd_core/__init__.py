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

__version__ = "0.1.0"

from .engine import (  # noqa: E402
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
from .primitives import PRIMITIVES, Primitive, primitive  # noqa: E402
from .trace import Trace, explain  # noqa: E402
from .parser import parse  # noqa: E402
from .numerical import numerical_grad  # noqa: E402
from .gradcheck import GradcheckReport, gradcheck  # noqa: E402
from .functional import grad, hessian, jvp, value_and_grad  # noqa: E402
from . import testing  # noqa: E402,F401
from .static import StaticGraph, StaticGraphBranchError, static  # noqa: E402
from .tensor import Tensor  # noqa: E402
from .anomaly import AnomalyError, detect_anomaly  # noqa: E402
from . import math  # noqa: E402,F401  (autograd_core.math: the functions for writing rules)
from ._gc import pause_gc  # noqa: E402

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
