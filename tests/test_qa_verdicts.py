"""QA: verdicts that match the lesson when gradients overflow or diverge.

Class of bug: the verdict comes from first/last speed; inf/inf and nan ratios
fell through to "no gradient", so a network whose gradients overflow (the
exploding case itself) and one whose training diverged to nan were both told
there was *no gradient*.
"""

from __future__ import annotations

import math

import pytest

import nn
import nn.diagnostics as diag

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize("speeds,expected", [
    ([INF, INF], "exploding"), ([INF, 3.0, INF], "exploding"), ([INF, 1.0], "exploding"),
    ([1.0, INF], "vanishing"), ([NAN, 1.0], "nan gradient"), ([1.0, NAN], "nan gradient"),
    ([INF, NAN], "nan gradient"), ([0.0, 0.0], "no gradient"), ([], "no gradient"),
    ([1e-3, NAN, 1.0], "vanishing"), ([0.0, 1.0], "vanishing"), ([1.0, 0.0], "exploding"),
])
def test_verdicts_for_non_finite_speeds(speeds, expected):
    assert diag.verdict(speeds) == expected


def test_an_overflowing_deep_linear_net_is_exploding_not_no_gradient():
    model = nn.MLP(1, [1] * 12 + [1], activation="linear", output_activation=None, seed=0)
    for p in model.parameters():
        p.assign(1e30)  # ∂C/∂b of the first layer ~ (1e30)^24: overflows to inf
    speeds = diag.learning_speeds(model, [[1.0]], [[0.0]], "quadratic")
    assert math.isinf(speeds[0])
    assert diag.verdict(speeds) == "exploding"
