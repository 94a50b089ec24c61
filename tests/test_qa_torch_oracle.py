"""QA: every scalar primitive against PyTorch float64 -- value, first and
second derivative (create_graph) -- at ordinary points and near domain edges,
kinks and the float range ends; forward mode (jvp) equals reverse mode there.

Only points where PyTorch is finite and not on a declared kink are compared
(at kinks the conventions are documented; where PyTorch overflows or gives
nan the engine is finite: see tests/test_qa_numerics.py).
"""

from __future__ import annotations

import math
import warnings

import pytest

from autograd_core import PRIMITIVES, Value, apply, gradients, jvp

torch = pytest.importorskip("torch")
F = torch.nn.functional

UNARY = {
    "exp": (lambda v: v.exp(), torch.exp), "expm1": (lambda v: v.expm1(), torch.expm1),
    "log": (lambda v: v.log(), torch.log), "log1p": (lambda v: v.log1p(), torch.log1p),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt), "sin": (lambda v: v.sin(), torch.sin),
    "cos": (lambda v: v.cos(), torch.cos), "erf": (lambda v: v.erf(), torch.erf),
    "erfc": (lambda v: v.erfc(), torch.erfc), "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "softplus": (lambda v: v.softplus(), lambda t: F.softplus(t, threshold=1e300)),
    "softplus_beta": (lambda v: v.softplus(beta=2.5), lambda t: F.softplus(t, beta=2.5, threshold=1e300)),
    "relu": (lambda v: v.relu(), torch.relu), "leaky_relu": (lambda v: v.leaky_relu(0.1), lambda t: F.leaky_relu(t, 0.1)),
    "elu": (lambda v: v.elu(0.7), lambda t: F.elu(t, 0.7)), "swish": (lambda v: v.swish(1.0), F.silu),
    "gelu": (lambda v: v.gelu(), F.gelu),
    "gelu_tanh": (lambda v: v.gelu("tanh"), lambda t: F.gelu(t, approximate="tanh")),
    "tan": (lambda v: v.tan(), torch.tan), "sinh": (lambda v: v.sinh(), torch.sinh),
    "cosh": (lambda v: v.cosh(), torch.cosh), "arcsin": (lambda v: v.arcsin(), torch.asin),
    "arccos": (lambda v: v.arccos(), torch.acos), "arctan": (lambda v: v.arctan(), torch.atan),
    "arcsinh": (lambda v: v.arcsinh(), torch.asinh), "arccosh": (lambda v: v.arccosh(), torch.acosh),
    "arctanh": (lambda v: v.arctanh(), torch.atanh), "log2": (lambda v: v.log2(), torch.log2),
    "log10": (lambda v: v.log10(), torch.log10), "sign": (lambda v: v.sign(), torch.sign),
    "floor": (lambda v: v.floor(), torch.floor), "ceil": (lambda v: v.ceil(), torch.ceil),
    "selu": (lambda v: v.selu(), F.selu), "relu6": (lambda v: v.relu6(), F.relu6),
    "hardtanh": (lambda v: v.hardtanh(-0.5, 2.0), lambda t: F.hardtanh(t, -0.5, 2.0)),
    "hardswish": (lambda v: v.hardswish(), F.hardswish), "mish": (lambda v: v.mish(), F.mish),
    "softsign": (lambda v: v.softsign(), F.softsign), "logsigmoid": (lambda v: v.logsigmoid(), F.logsigmoid),
    "clip": (lambda v: v.clip(-0.5, 2.0), lambda t: torch.clamp(t, -0.5, 2.0)),
    "abs": (lambda v: abs(v), torch.abs), "pow_const": (lambda v: v ** 3.0, lambda t: t ** 3.0),
    "pow_half": (lambda v: v ** 0.5, lambda t: t ** 0.5), "pow_neg": (lambda v: v ** -1.5, lambda t: t ** -1.5),
    "rpow_const": (lambda v: 2.0 ** v, lambda t: 2.0 ** t), "rdiv_const": (lambda v: 3.0 / v, lambda t: 3.0 / t),
}
KINKS = {"relu": (0.0,), "leaky_relu": (0.0,), "elu": (0.0,), "selu": (0.0,), "abs": (0.0,),
         "softsign": (0.0,), "relu6": (0.0, 6.0), "hardtanh": (-0.5, 2.0), "clip": (-0.5, 2.0),
         "hardswish": (-3.0, 3.0)}
PTS = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 6.0, 1e-8, -1e-8, 0.9999999999,
       -0.9999999999, 1.0000001, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0, 700.0, -700.0,
       1e5, -1e5, 1e10, 1e150, -1e150, math.pi / 2, 2.7, -2.7, 1.5, -1.5, 0.1, 1 / 3]


def _torch(f, xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    y = f(*ts)
    g = torch.autograd.grad(y, ts, create_graph=True, allow_unused=True)
    h = []
    for gi in g:
        if gi is None or not gi.requires_grad:
            h.append([0.0] * len(xs))
            continue
        hh = torch.autograd.grad(gi, ts, allow_unused=True, retain_graph=True)
        h.append([0.0 if v is None else float(v) for v in hh])
    return float(y), [0.0 if gi is None else float(gi) for gi in g], h


def _engine(f, xs):
    vs = [Value(x) for x in xs]
    y = f(*vs)
    g = gradients(y, vs, create_graph=True)
    h = [[float(getattr(d, "data", d)) for d in gradients(gi, vs)] if isinstance(gi, Value)
         else [0.0] * len(xs) for gi in g]
    return y.data, [float(getattr(gi, "data", gi)) for gi in g], h


def _close(a, b, tol):
    return a == b or abs(a - b) <= tol * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_primitives_match_torch(name):
    ours, theirs = UNARY[name]
    bad = []
    for x in PTS:
        if x in KINKS.get(name, ()):
            continue
        try:
            v, g, h = _engine(ours, [x])
        except (ValueError, ZeroDivisionError):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tv, tg, th = _torch(theirs, [x])
            except RuntimeError:  # no double backward in torch (hardsigmoid)
                continue
        for what, a, b in (("value", v, tv), ("d1", g[0], tg[0]), ("d2", h[0][0], th[0][0])):
            if math.isfinite(b) and not _close(a, b, 1e-8):
                bad.append((x, what, a, b))
        if math.isfinite(g[0]):
            assert jvp(ours, [x], [1.0])[1] == pytest.approx(g[0], rel=1e-12, abs=0.0), x
    assert not bad, bad


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b), "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b), "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "hypot": (lambda a, b: a.hypot(b), torch.hypot), "arctan2": (lambda a, b: a.arctan2(b), torch.atan2),
    "maximum": (lambda a, b: a.maximum(b), torch.maximum), "minimum": (lambda a, b: a.minimum(b), torch.minimum),
    "logaddexp": (lambda a, b: a.logaddexp(b), torch.logaddexp),
    "prelu": (lambda a, b: apply(PRIMITIVES["prelu"], a, b), lambda a, b: torch.where(a > 0, a, b * a)),
}
BPTS = [1.0, -1.0, 2.0, -2.0, 0.5, 3.0, -0.5, 1e200, -1e200, 1e-200, 700.0, -800.0, 0.1, 2.5]


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_primitives_match_torch(name):
    ours, theirs = BINARY[name]
    bad = []
    for x in BPTS:
        for y in BPTS:
            if name in ("maximum", "minimum") and x == y:
                continue  # the tie convention (1/2 each) is tested by hand
            if name == "arctan2" and max(abs(x), abs(y)) < 1e-100:
                continue  # torch's x² + y² underflows to 0 there (gradient 0; ours is right)
            try:
                v, g, h = _engine(ours, [x, y])
            except (ValueError, ZeroDivisionError):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tv, tg, th = _torch(theirs, [x, y])
            pairs = [("value", v, tv)] + [(f"d{i}", g[i], tg[i]) for i in range(2)]
            pairs += [(f"d{i}{j}", h[i][j], th[i][j]) for i in range(2) for j in range(2)]
            bad += [((x, y), w, a, b) for w, a, b in pairs if math.isfinite(b) and not _close(a, b, 1e-8)]
            for i, t in enumerate(([1.0, 0.0], [0.0, 1.0])):
                if math.isfinite(g[i]):
                    assert jvp(ours, [x, y], t)[1] == pytest.approx(g[i], rel=1e-12, abs=0.0)
    assert not bad, bad[:6]
