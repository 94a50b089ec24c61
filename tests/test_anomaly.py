"""Anomaly mode: the first operation that makes NaN/inf is named, with its
operands and the line of the user's code; nothing is swapped in when off."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_core as ac
from autograd_core import Tensor, Value, detect_anomaly, engine
from autograd_core.anomaly import AnomalyError

HERE = "test_anomaly.py"


def _line_of(fn, k: int = 1) -> str:
    return f"{HERE}:{fn.__code__.co_firstlineno + k}"


# each source: a function making the NaN/inf on its line 1 (from finite operands),
# the primitive that must be named, and the operands shown
def s_exp(x):
    return (x * 710.0).exp()


def s_expm1(x):
    return (x * 710.0).expm1()


def s_mul(x):
    return (x * 1e200) * (x * 1e200)


def s_add(x):
    return (x * 1e308) + (x * 1e308)


def s_mul_const(x):
    return (x * 1e308) * 10.0


def s_div(x):
    return (x * 1e300) / (x * 1e-300)


def s_pow_const(x):
    return (x * 10.0) ** 400.0


def s_rpow_const(x):
    return 10.0 ** (x * 400.0)


def s_pow(x):
    return (x * 10.0) ** (x * 400.0)


def s_sum(x):
    return ac.sum([x * 1e308, x * 1e308])


def s_dot(x):
    return ac.dot([x * 1e200, x * 1e200], [x * 1e200, x * 1e200])


def s_div_const(x):
    return (x * 1e308) / 1e-10


def s_tensor_exp(x):
    return (Tensor(np.array([1.0, 710.0])) * x.data).exp()


SOURCES = [
    (s_exp, "exp(710)"), (s_expm1, "expm1(710)"), (s_mul, "mul(1e+200, 1e+200)"),
    (s_add, "add(1e+308, 1e+308)"), (s_mul_const, "mul_const(1e+308; c=10)"),
    (s_div, "div(1e+300, 1e-300)"), (s_pow_const, "pow_const(10; c=400)"),
    (s_rpow_const, "rpow_const(400; c=10)"), (s_pow, "pow(10, 400)"),
    (s_sum, "sum(1e+308, 1e+308)"), (s_dot, "dot(1e+200, 1e+200, 1e+200, 1e+200)"),
    (s_div_const, "div_const(1e+308; c=1e-10)"), (s_tensor_exp, "exp("),
]


@pytest.mark.parametrize("fn,named", SOURCES, ids=[s[0].__name__ for s in SOURCES])
def test_forward_names_the_operation_its_operands_and_the_line(fn, named):
    x = Value(1.0, "x")
    fn(x)  # without anomaly mode: silently inf, no error
    with pytest.raises(AnomalyError) as info:
        with detect_anomaly():
            fn(x)
    msg = str(info.value)
    assert msg.startswith(f"anomaly in forward: {named}") and "from finite operands" in msg
    assert info.value.source.endswith(_line_of(fn)) and msg.endswith(info.value.source)
    assert info.value.node.op == named.split("(")[0]


def b_sqrt(x):
    return (x * 0.0).sqrt() + x


def b_pow_half(x):
    return (x - 1.0) ** 0.5 + x



@pytest.mark.parametrize("fn,named,local", [(b_sqrt, "sqrt(0)", "inf"),
                                            (b_pow_half, "pow_const(0; c=0.5)", "inf")],
                         ids=["sqrt", "pow_const"])
def test_backward_names_the_node_whose_local_derivative_makes_the_gradient_infinite(fn, named, local):
    x = Value(1.0, "x")
    y = fn(x)
    y.backward()
    assert not np.isfinite(x.grad)  # silently inf without anomaly mode
    x.grad = 0.0
    with pytest.raises(AnomalyError) as info:
        with detect_anomaly():
            y = fn(x)
            y.backward()
    msg = str(info.value)
    assert msg.startswith(f"anomaly in backward: the gradient of operand 0 of {named}, made at "
                          f"{info.value.source} became {local}")
    assert info.value.source.endswith(_line_of(fn))
    assert x.grad == 0.0  # nothing half-accumulated
    with pytest.raises(AnomalyError, match=named.replace("(", r"\(").replace(")", r"\)")):
        with detect_anomaly():
            ac.gradients(fn(x), [x])
    assert all(getattr(n, "_g", 0.0) == 0.0 for n in ac.topological_order(y))


def test_backward_nan_from_inf_times_zero_is_named():
    x = Value(0.0, "x")
    with pytest.raises(AnomalyError, match=r"sqrt\(0\).*became nan.*local derivative is inf, "
                                           r"times the incoming gradient 0"):
        with detect_anomaly():
            ((x.sqrt()) * 0.0).backward()


def test_nothing_is_swapped_in_when_off_and_other_threads_are_not_checked():
    orig = (engine._node, engine._backprop)
    errors = []
    with detect_anomaly():
        assert engine._node is not orig[0]

        def other():
            try:
                Value(710.0).exp()  # not in anomaly mode in this thread: no error
            except AnomalyError as e:  # pragma: no cover - the failure being tested
                errors.append(e)
        t = threading.Thread(target=other)
        t.start()
        t.join()
        with detect_anomaly():  # nested
            pass
        with pytest.raises(AnomalyError):
            Value(710.0).exp()
    assert errors == []
    assert (engine._node, engine._backprop) == orig
    Value(710.0).exp()  # no error once off


def test_finite_results_and_non_finite_operands_do_not_raise():
    with detect_anomaly():
        x = Value(2.0, "x")
        y = (x * x).log() + x.tanh()
        y.backward()
        assert x.grad == pytest.approx(1.0 + (1 - np.tanh(2.0) ** 2))
        inf = Value(float("inf"))
        inf + 1.0  # already infinite: the cause is earlier, not here


def test_nn_layers_are_checked_too():
    from nn.layers import Neuron
    n = Neuron(2, activation="linear")
    for p in n.parameters():
        p.assign(1e200)
    with pytest.raises(AnomalyError, match="dot_const"):
        with detect_anomaly():
            n([1e200, 1e200])


def test_tensor_backward_is_checked():
    t = Tensor(np.array([0.0, 4.0]), "t")
    with pytest.raises(AnomalyError, match=r"anomaly in backward: .*sqrt\(\[0\. 4\.\]\).*"
                                           + HERE + r".*became \[ inf 0\.25\]"):
        with detect_anomaly():
            t.sqrt().sum().backward()
