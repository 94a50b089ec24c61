"""Checks that never pass by accident: vacuous inputs flagged, rows named after
f's parameters, hand-written numpy gradients, nn modules, sampled domains and
the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import tomllib

import numpy as np
import pytest

from autograd_core import PRIMITIVES, Value, gradcheck
from autograd_core import math as am
from autograd_core.primitives import primitive
from autograd_core.testing import (assert_gradients_match, assert_module_gradients, check_grad,
                                   gradients_match_everywhere)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def wrong_tanh():
    """tanh with d/dx off by 1e-3 (registered without validation, removed after)."""
    prim = primitive("wrong_tanh_t", validate=False)(
        lambda x: (am.tanh(x), ((1.0 - am.tanh(x) * am.tanh(x)) * 1.001,)))
    yield prim
    del PRIMITIVES["wrong_tanh_t"]


# ------------------------------------------------------------------ vacuous checks

def test_a_function_that_ignores_its_inputs_is_flagged_and_fails_the_assertion():
    w, b = Value(0.5, "w"), Value(0.1, "b")

    def loss():
        return (w * 2.0 + b).tanh()

    report = gradcheck(lambda *ps: loss(), [w, b])
    assert report and report.unused == ["w", "b"]  # gradcheck: listed (allow_unused=True)
    assert "f does not use input(s) w, b: no path" in str(report)
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(lambda *ps: loss(), [w, b])
    msg = str(info.value)
    assert msg.startswith("vacuous check: f does not use input(s) w, b")
    assert "gradcheck FAILED: 4 of 4 derivatives match" in msg
    assert assert_gradients_match(lambda *ps: loss(), [w, b], allow_unused=True).unused == ["w", "b"]
    # the right way: f uses its arguments
    assert assert_gradients_match(lambda w, b: (w * 2.0 + b).tanh(), [w, b]).unused == []


def test_inputs_with_exactly_zero_derivatives_are_listed():
    report = gradcheck(lambda w, b: w * 0.0 + b, [1.0, 2.0])
    assert report.ok and report.unused == [] and report.zero == ["w"]
    assert "input(s) w: analytic and numeric derivatives are both exactly 0" in str(report)
    report = gradcheck(lambda w, b: w.relu() + b, [-1.0, 2.0])
    assert report.zero == ["w"]


def test_rows_use_the_function_parameter_names_else_labels_else_positions():
    report = gradcheck(lambda w, b: w * b, [1.0, 2.0])
    assert [r.name for r in report.rows] == ["w", "w", "b", "b"]
    report = gradcheck(lambda w, b: w * b, [Value(1.0, "weight"), 2.0])
    assert report.names == ["weight", "b"]
    report = gradcheck(lambda *xs: xs[0] * xs[1], [1.0, 2.0])
    assert report.names == ["x0", "x1"]
    report = gradcheck(lambda w, b: w * b, [1.0, 2.0], order=2)
    assert [r.name for r in report.rows if r.order == 2][::2] == ["w,w", "w,b", "b,w", "b,b"]


# ------------------------------------------------------------------ check_grad

def test_check_grad_of_a_numpy_model():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 2))
    t = np.array([0.5, -1.0, 2.0])

    def f(w):
        r = A @ w - t
        return 0.5 * float(r @ r)

    def grad_f(w):
        return A.T @ (A @ w - t)

    def grad_wrong(w):
        return A.T @ (A @ w - t) * 1.01

    w0 = np.array([0.3, -0.7])
    report = check_grad(f, grad_f, w0)
    assert report and [r.name for r in report.rows] == ["x[0]", "x[1]"]
    assert all(r.abs_error < 1e-9 for r in report.rows)
    assert np.allclose([r.analytic for r in report.rows], grad_f(w0))
    bad = check_grad(f, grad_wrong, w0)
    assert not bad and len(bad.failures) == 2 and "grad_f" in str(bad)
    scalar = check_grad(lambda x: x ** 3, lambda x: 3 * x ** 2, 1.5)
    assert scalar and scalar.names == ["x"] and scalar.rows[0].numeric == pytest.approx(6.75)
    with pytest.raises(ValueError, match="grad_f\\(x\\) has 1 components for an x of 2"):
        check_grad(f, lambda w: 1.0, w0)
    with pytest.raises(TypeError, match="two callables"):
        check_grad(f, None, w0)


# ------------------------------------------------------------------ modules

def test_assert_module_gradients_checks_parameters_and_samples_big_models(wrong_tanh):
    from nn.layers import MLP
    from nn.losses import quadratic
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3))
    y = [0.1, 0.5, 0.2, 0.9]
    model = MLP(3, [4, 1], activation="tanh")
    full = assert_module_gradients(model, X, y, loss=quadratic, samples=None)
    assert len(full.rows) == len(model.parameters()) == 21 and full.sample == ""
    sampled = assert_module_gradients(model, X, y, loss=quadratic, samples=5)
    assert len(sampled.rows) == 5
    assert "checked a seeded random sample of 5 of the 21 parameters" in str(sampled)
    before = [p.data for p in model.parameters()]
    assert [p.data for p in model.parameters()] == before  # every parameter put back

    bad = MLP(3, [4, 1], activation=lambda v: wrong_tanh(v))
    with pytest.raises(AssertionError, match="derivatives do not match") as info:
        assert_module_gradients(bad, X, y, loss=quadratic, samples=None)
    assert "FAIL" in str(info.value) and "layers.0.neurons" in str(info.value)
    # which operation is wrong: the culprit search runs on the model's graph too
    assert "culprit node(s)" in str(info.value) and "wrong_tanh_t" in str(info.value)


def test_a_parameter_the_loss_does_not_use_fails_the_module_check():
    from nn.layers import MLP
    from nn.losses import quadratic
    model = MLP(2, [1], activation="tanh")

    def loss(out, target):  # forgets the output: only the first weight is used
        return model.parameters()[0] * 2.0

    names = [n for n, _ in model.named_parameters()]
    with pytest.raises(AssertionError, match="vacuous check: f does not use input") as info:
        assert_module_gradients(model, [[0.5, 0.2]], [0.3], loss=loss, samples=None)
    assert f"input(s) {', '.join(names[1:])}" in str(info.value)
    assert assert_module_gradients(model, [[0.5, 0.2]], [0.3], loss=lambda o, t: quadratic(o, t),
                                   samples=None)


# ------------------------------------------------------------------ everywhere

def test_gradients_match_everywhere_passes_and_names_the_worst_point(wrong_tanh):
    report = gradients_match_everywhere(lambda x, y: (x * y).tanh() + x.softplus(), (-2, 2),
                                        examples=20)
    assert report and "checked 20 points from hypothesis" in str(report)
    with pytest.raises(AssertionError) as info:
        gradients_match_everywhere(lambda x: wrong_tanh(x * 1.0), [(-1.0, 1.0)], examples=10)
    msg = str(info.value)
    assert msg.startswith("derivatives do not match at ") and "the worst:" in msg
    assert "culprit node(s)" in msg and "wrong_tanh_t(" in msg


def test_gradients_match_everywhere_without_hypothesis_uses_seeded_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import fails
    f = lambda a, b: (a * b).sin()  # noqa: E731
    r1 = gradients_match_everywhere(f, [(-1, 1), (0.5, 2.0)], examples=7, seed=3)
    r2 = gradients_match_everywhere(f, [(-1, 1), (0.5, 2.0)], examples=7, seed=3)
    assert "checked 7 points from numpy (seed=3)" in str(r1) and r1.inputs == r2.inputs
    assert -1 < r1.inputs[0] < 1 and 0.5 < r1.inputs[1] < 2.0
    zero = gradients_match_everywhere(lambda a, b: a.relu() + b, [(-2, -1), (0, 1)], examples=5)
    assert zero.zero == ["a"]
    with pytest.raises(TypeError, match="one \\(low, high\\) per input"):
        gradients_match_everywhere(lambda *xs: xs[0], (0, 1))
    with pytest.raises(ValueError, match="low < high"):
        gradients_match_everywhere(f, (1, 0))


# ------------------------------------------------------------------ pytest plugin

def test_the_plugin_is_an_entry_point_and_its_fixture_fails_with_the_table(tmp_path):
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        eps = tomllib.load(fh)["project"]["entry-points"]["pytest11"]
    assert eps == {"autograd_core": "autograd_core.pytest_plugin"}
    (tmp_path / "test_user.py").write_text(textwrap.dedent('''
        import numpy as np

        def test_good(gradcheck):
            gradcheck(lambda w, b: (w * 0.5 + b).tanh(), [0.3, -0.1], order=2)
            gradcheck.everywhere(lambda x: x.softplus(), (-3, 3), examples=5)
            gradcheck.grad(lambda x: float(np.sum(x ** 2)), lambda x: 2 * x, np.ones(3))

        def test_bad(gradcheck):
            gradcheck.grad(lambda x: float(np.sum(x ** 2)), lambda x: 3 * x, np.ones(2))
    '''))
    # loaded by name (-p) with entry-point autoloading off, so it is registered
    # once whether or not the package is installed
    env = dict(os.environ, PYTHONPATH=ROOT, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    runs = [[sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
             "autograd_core.pytest_plugin", str(tmp_path / "test_user.py")]]
    installed = [e for e in importlib.metadata.entry_points(group="pytest11")
                 if e.value == "autograd_core.pytest_plugin"]
    if installed:  # installed: pytest finds it through the entry point alone
        runs.append([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     str(tmp_path / "test_user.py")])
    for i, cmd in enumerate(runs):
        e = env if i == 0 else dict(os.environ, PYTHONPATH=ROOT)
        out = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=tmp_path, timeout=300)
        assert "1 failed, 1 passed" in out.stdout, out.stdout + out.stderr
        assert "grad_f does not match finite differences of f" in out.stdout
        assert "x[1]   grad_f      1" in out.stdout


def test_assert_module_gradients_on_a_tensor_model_checks_elements():
    from nn.tensor_layers import TensorMLP
    model = TensorMLP(3, [4, 2], activation="tanh", seed=0)
    X = np.random.default_rng(2).normal(size=(3, 3))
    Y = [np.array([0.2, 0.7]), np.array([0.9, 0.1]), np.array([0.4, 0.4])]

    def loss(out, t):
        d = out - t
        return (d * d).sum()

    n = sum(p.data.size for p in model.parameters())
    full = assert_module_gradients(model, X, Y, loss=loss, samples=None)
    assert len(full.rows) == n == 3 * 4 + 4 + 4 * 2 + 2
    assert all(r.abs_error < 1e-8 for r in full.rows)
    assert full.rows[0].name.endswith("[0, 0]")
    part = assert_module_gradients(model, X, Y, loss=loss, samples=7)
    assert len(part.rows) == 7 and f"sample of 7 of the {n} parameter elements" in str(part)


def test_array_inputs_that_f_does_not_use_are_flagged():
    f = lambda a, b: (a * 2.0).sum()  # noqa: E731
    report = gradcheck(f, [np.ones(2), np.ones(3)])
    assert report.ok and report.unused == [1] and "does not use input(s) 1" in str(report)
    with pytest.raises(AssertionError, match="vacuous check: f does not use input\\(s\\) 1"):
        assert_gradients_match(f, [np.ones(2), np.ones(3)])
    assert assert_gradients_match(lambda a, b: (a * b).sum(), [np.ones(2), np.ones(2)])
