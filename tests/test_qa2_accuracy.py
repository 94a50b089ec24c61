"""QA 2: gelu_tanh keeps its digits in the negative tail.

Class of bug (fixed): the rule computed 0.5·x·(1 + tanh(u)); 1 + tanh(u) cancels when
tanh(u) is near -1, so gelu_tanh(-6) was -8.43964897967e-11 (true
-8.43964670076e-11: 2.7e-7 relative), its derivative likewise, and from
x ≈ -9 on the value was -0 where the true one is a normal float (-1e-37 at
x = -10). 0.5·(1 + tanh(u)) is σ(2u) exactly, which has no cancellation (and
1 - σ(2u) is σ(-2u)); the rule now uses them. Oracle: mpmath at 50 digits,
rounded once (PyTorch keeps the cancelling form: 1.4e-12 off at -4).
"""

from __future__ import annotations

import pytest

from autograd_core import Value, gradients
from autograd_core.core.primitives import PRIMITIVES

mp = pytest.importorskip("mpmath")  # the dev extra installs it

C = "0.044715"


def _exact(x: float) -> tuple[float, float]:
    with mp.workdps(50):
        X = mp.mpf(x)
        k = mp.sqrt(2 / mp.pi)
        u = k * (X + mp.mpf(C) * X ** 3)
        s, sm = 1 / (1 + mp.exp(-2 * u)), 1 / (1 + mp.exp(2 * u))  # (1 ± tanh u)/2, no cancellation
        value = X * s
        d = s + 2 * X * s * sm * k * (1 + 3 * mp.mpf(C) * X * X)
        return float(value), float(d)


@pytest.mark.parametrize("x", [-20.0, -10.0, -8.0, -6.0, -4.0, -3.0, -1.5, -0.7, 0.0, 0.4, 2.5,
                               6.0, 30.0])
def test_gelu_tanh_value_and_derivative_to_the_last_digits(x):
    v = Value(x)
    out = PRIMITIVES["gelu_tanh"](v)
    (d,) = gradients(out, [v])
    want_v, want_d = _exact(x)
    assert out.data == pytest.approx(want_v, rel=1e-13, abs=0.0 if want_v else 1e-300)
    assert d == pytest.approx(want_d, rel=1e-12, abs=0.0 if want_d else 1e-300)
