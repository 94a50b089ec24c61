"""Export graphs to ONNX and JAX (``pip install autograd-core[export]``).

* :func:`to_onnx` writes a captured :func:`~autograd_core.static` graph (or a
  Value/Tensor graph with named inputs) as an ONNX model, opset :data:`OPSET`,
  float64 by default; open the file in Netron (https://netron.app, or
  ``pip install netron; netron out.onnx``) to see it. Nodes are named after
  their primitives (``tanh_5``; a form's other operators ``elu_4/Greater``).
* :func:`to_jax` returns a pure function that ``jax.grad``/``jax.jit`` accept.

Every primitive says how it is written in other frameworks right below its
rule, ``export_as(_tanh, lambda F, x: F.tanh(x))`` in
:mod:`autograd_core.core.primitives`: ``F`` is the small vocabulary below, which
each exporter supplies (ONNX operators, ``jax.numpy``, ``torch``), and the
operands support ``+ - * / **``, unary ``-`` and comparisons. A primitive
without a form is refused by name (:class:`ExportError`).

The vocabulary ``F`` is :data:`VOCABULARY`: elementwise functions named as in
numpy (``exp``, ``arctan2``, ``maximum``, ...), ``sigmoid``, ``softplus``,
``erf``, ``pow(a, b)``, ``where(cond, a, b)``, ``sum(xs)`` (left to right), and
for Tensor graphs ``matmul``, ``transpose``, ``reduce_sum``, ``reduce_mean``,
``reshape``. onnxruntime lacks float64 kernels for several of them (``Erf``,
``Atan``, ``Sinh``, ...): the ONNX exporter writes those with elementary operators.
"""

from __future__ import annotations

from typing import Any

from ._ir import EXTRA_HINT, ExportError, require
from ._onnx import OPSET

__all__ = ["to_onnx", "to_jax", "to_torch_source", "OPSET", "ExportError", "VOCABULARY",
           "require", "EXTRA_HINT"]

#: The names every exporter's ``F`` provides (what exported forms may use).
VOCABULARY = ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh",
              "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot",
              "log2", "log10", "erf", "erfc", "sigmoid", "softplus", "logaddexp", "abs", "sign",
              "floor", "ceil", "maximum", "minimum", "pow", "where", "sum",
              # Tensor graphs (ONNX and JAX)
              "matmul", "transpose", "reduce_sum", "reduce_mean", "reshape")
def to_onnx(g: Any, path: Any = None, inputs: Any = None, **kw: Any) -> Any:
    from ._onnx import to_onnx as _to_onnx
    return _to_onnx(g, path, inputs, **kw)


def to_jax(g: Any, inputs: Any = None, **kw: Any) -> Any:
    from ._jax import to_jax as _to_jax
    return _to_jax(g, inputs, **kw)


def to_torch_source(g: Any, inputs: Any = None, **kw: Any) -> str:
    from ._source import to_torch_source as _src
    return _src(g, inputs, **kw)


for _f, _impl in ((to_onnx, "_onnx"), (to_jax, "_jax"), (to_torch_source, "_source")):
    _f.__doc__ = f"See :func:`autograd_core.export.{_impl}.{_f.__name__}`."
del _f, _impl
