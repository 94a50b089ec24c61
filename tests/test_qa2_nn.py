"""QA 2: nn refuses non-finite training data instead of training on it.

Class of bug: ``nn.fit`` on data with one NaN (or inf) in X or y trained
anyway: the first mini-batch turned every weight into NaN and fit returned a
History (loss nan, accuracy 0.35) -- a silently destroyed model.
``evaluate`` counted a NaN row in its accuracy and ``predict`` returned NaN
rows. Now the front functions (both backends) raise a ValueError naming the
sample, before anything changes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn

X, Y = nn.make_moons(20, noise=0.1, seed=0)


def _bad_x(value: float) -> np.ndarray:
    Xb = np.array(X, dtype=float)
    Xb[3, 1] = value
    return Xb


def _bad_y(value: float) -> np.ndarray:
    yb = np.array(Y, dtype=float)
    yb[5] = value
    return yb


def _model(backend: str):
    return nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0,
                  backend=backend)


BACKENDS = ["scalar", "tensor"]
BAD = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("where", ["X", "y", "validation X"])
def test_fit_refuses_non_finite_data_and_leaves_the_model_alone(backend, value, where):
    model = _model(backend)
    before = [np.array(getattr(p, "data", p), dtype=float).copy() for p in model.parameters()]
    opt = nn.SGD(model.parameters(), lr=0.1)
    args = {"X": (_bad_x(value), Y, None), "y": (X, _bad_y(value), None),
            "validation X": (X, Y, (_bad_x(value), Y))}[where]
    with pytest.raises(ValueError, match=r"(?i)sample 3|sample 5") as info:
        nn.fit(model, args[0], args[1], loss="binary_cross_entropy", optimizer=opt, epochs=1,
               batch_size=5, validation=args[2], progress=False)
    assert ("nan" in str(info.value)) or ("inf" in str(info.value))
    after = [np.array(getattr(p, "data", p), dtype=float) for p in model.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("value", BAD)
def test_evaluate_and_predict_refuse_non_finite_inputs(backend, value):
    model = _model(backend)
    with pytest.raises(ValueError, match="sample 3"):
        nn.evaluate(model, _bad_x(value), Y, "binary_cross_entropy")
    with pytest.raises(ValueError, match="sample 3"):
        nn.predict(model, _bad_x(value))
    with pytest.raises(ValueError, match="sample 5"):
        nn.evaluate(model, X, _bad_y(value), "binary_cross_entropy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_finite_data_still_trains(backend):
    model = _model(backend)
    hist = nn.fit(model, X, Y, loss="binary_cross_entropy",
                  optimizer=nn.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=5,
                  progress=False, seed=0)
    assert math.isfinite(hist.loss[-1] if hasattr(hist.loss, "__getitem__") else hist.loss)
    loss, acc = nn.evaluate(model, [list(r) for r in X], list(Y), "binary_cross_entropy")
    assert math.isfinite(loss) and 0.0 <= acc <= 1.0


def test_finite_data_whose_sum_overflows_is_accepted():
    from nn.train import _check_finite
    big = np.full((3, 2), 1e308)
    _check_finite(big, "fit", "X")  # the sum is inf, every number is finite
    big[1, 1] = np.inf
    with pytest.raises(ValueError, match="sample 1 holds inf"):
        _check_finite(big, "fit", "X")
    big[1, 1] = -1e308
    big[2, 0] = np.nan
    with pytest.raises(ValueError, match="sample 2 holds nan"):
        _check_finite(big, "fit", "X")
