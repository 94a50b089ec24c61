"""QA 2: ONNX exports compute the primitive's value, also at -0, near 0 and far out.

Class of bug: the ONNX vocabulary writes functions onnxruntime lacks in
float64 with elementary operators, in forms that lose the value where the
engine is exact:

* ``arctan2(y, -0.0)`` took the sign of y/x = -inf and gave -π/2 for y > 0
  (IEEE: +π/2): ``arccos(-0.0)`` exported as -π/2 instead of π/2 (arccos(-x)
  at x = 0 is a realistic -0.0); ``arctan2(0, -0.0)`` gave 0 (the engine's
  documented value is π);
* ``expm1`` as exp(x) - 1 and ``log1p`` as log(1 + x): 0 at x = 1e-300 and 8e-8
  relative error at 1e-10 (their whole point is the accuracy near 0), and so
  ``sinh``, ``arcsinh``, ``arctanh``, ``elu``/``selu``/``celu`` for small x;
* onnxruntime's ``Sigmoid`` flushes to 0 from x ≈ -37 (true 4e-18 at -40), and
  ``softplus``/``logsigmoid``/``swish``/``mish`` did likewise;
* ``arcsinh(1e300)`` was inf (x² overflowed).

Oracle: the engine's own value (``math``-based), to 1e-13 relative -- not
relative to max(1, |value|), which hides a 100 % error in a tiny value. (A zero
result may come out as +0 where the engine gives -0: onnxruntime's Where drops
the sign of zero; equal numbers.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Value, arctan2
from autograd_core.core.primitives import PRIMITIVES

ort = pytest.importorskip("onnxruntime")
from autograd_core.export import to_onnx  # noqa: E402


def _onnx_value(f, xs):
    vs = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    out = f(*vs)
    model = to_onnx(out, None, inputs={f"x{i}": v for i, v in enumerate(vs)})
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {f"x{i}": np.array(x, dtype=np.float64) for i, x in enumerate(xs)}
    return out.data, float(np.asarray(sess.run(None, feeds)[0]).reshape(-1)[0])


def _same(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    if want == 0.0:  # (onnxruntime's Where returns -0.0 as +0.0: the sign of a zero result
        return got == 0.0  # is not kept; the sign of a zero operand is, e.g. arctan2(-0, -1) = -π)
    return got == want or abs(got - want) <= 1e-13 * abs(want)


def _p(name, param=None):
    prim = PRIMITIVES[name]
    return (lambda x: prim(x, param=param)) if param is not None else (lambda x: prim(x))


SMALL = [1e-300, -1e-300, 1e-10, -1e-10, 3e-6, -3e-6]
CASES = (
    [("arccos", _p("arccos"), (x,)) for x in (-0.0, 0.0, 0.5, -0.5, 1.0, -1.0)]
    + [("arcsin", _p("arcsin"), (x,)) for x in (-0.0, 0.0, 0.5, -1.0, 1.0)]
    + [("arctan2", arctan2, yx) for yx in ((1.0, -0.0), (-1.0, -0.0), (1.0, 0.0), (0.0, -0.0),
                                           (-0.0, -0.0), (0.0, 0.0), (-0.0, -1.0), (0.0, -1.0),
                                           (2.0, -3.0), (-2.0, -3.0), (1e-300, -1.0))]
    + [(n, _p(n), (x,)) for n in ("expm1", "log1p", "sinh", "arcsinh", "arctanh")
       for x in SMALL]
    + [("elu", _p("elu", 1.0), (x,)) for x in (-1e-10, -1e-300, -3e-6)]
    + [("selu", _p("selu"), (x,)) for x in (-1e-10, -1e-300)]
    + [("celu", _p("celu", 0.5), (x,)) for x in (-1e-10, -1e-300)]
    + [(n, _p(n), (x,)) for n in ("sigmoid", "softplus", "mish") for x in (-40.0, -100.0, -700.0)]
    + [("logsigmoid", _p("logsigmoid"), (x,)) for x in (40.0, 100.0, 700.0)]
    + [("swish", _p("swish", 1.0), (x,)) for x in (-40.0, -100.0)]
    + [("softplus_beta", _p("softplus_beta", 2.0), (x,)) for x in (-40.0, -100.0)]
    + [("arcsinh", _p("arcsinh"), (x,)) for x in (1e300, -1e300, 1e160, 3.0, -0.7)]
    # ordinary points keep their values
    + [(n, _p(n), (x,)) for n in ("expm1", "log1p", "sinh", "arcsinh", "arctanh", "sigmoid",
                                   "softplus", "logsigmoid") for x in (0.3, -0.6, 0.0)]
    + [(n, _p(n), (x,)) for n in ("expm1", "sinh", "sigmoid", "softplus", "logsigmoid",
                                   "arcsinh") for x in (5.0, -5.0, 30.0, 700.0, -700.0)]
)


@pytest.mark.parametrize(("name", "f", "xs"), CASES, ids=[f"{n}{xs}" for n, _, xs in CASES])
def test_onnx_value_equals_the_engine(name, f, xs):
    want, got = _onnx_value(f, xs)
    assert _same(got, want), f"{name}{xs}: onnx {got!r}, engine {want!r}"
