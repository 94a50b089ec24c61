"""Culprit search of the Tensor gradcheck: when an element of an array check
fails, every node of f's graph is re-run at its recorded operands and its
engine derivative compared with finite differences along random directions;
``report.culprits`` names exactly the node whose rule is wrong (primitive,
operand, source line in this file), a cut graph (``.data`` put back as a
constant) gives no culprit and says so."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core as ac
from autograd_core import PRIMITIVES, Tensor, gradcheck
from autograd_core import math as am
from autograd_core.primitives import primitive
from autograd_core.tensor import _ELEMENTWISE
from autograd_core.tensor.check import TensorCulprit, find_tensor_culprits, tensor_gradcheck
from autograd_core.testing import assert_gradients_match


@pytest.fixture(autouse=True)
def _clean_tables():
    """Primitives registered by a test are removed after it, from the scalar
    table and from the cache of their elementwise (array) versions."""
    before = set(PRIMITIVES)
    yield
    for name in set(PRIMITIVES) - before:
        del PRIMITIVES[name]
        _ELEMENTWISE.pop(name, None)


def rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def line_of(f, k):
    """``test_tensor_culprits.py:N``, N the k-th line of f's body (0: the def line)."""
    return f"test_tensor_culprits.py:{f.__code__.co_firstlineno + k}"


# ------------------------------------------------------------------ wrong rules

def sign_flip():
    @primitive("tc_sign_flip", validate=False)
    def rule(x):
        return am.sin(x), (-am.cos(x),)      # sin' = +cos
    return rule


def wrong_factor():
    @primitive("tc_wrong_factor", validate=False)
    def rule(x):
        return x * x * x, (2.0 * x * x,)     # (x³)' = 3x²
    return rule


def wrong_for_negatives():
    @primitive("tc_wrong_neg", validate=False)
    def rule(x):
        if x > 0.0:
            return x * x * x, (3.0 * x * x,)
        return x * x * x, (-3.0 * x * x,)    # right only where x > 0
    return rule


def wrong_second_operand():
    @primitive("tc_wrong_mul", arity=2, validate=False)
    def rule(a, b):
        return a * b, (b, 2.0 * a)            # ∂(ab)/∂b = a
    return rule


# ------------------------------------------------------------------ the tests

def test_a_sign_flip_inside_matmul_tanh_and_sum_is_the_culprit():
    bad = sign_flip()
    W, x, b = rand(3, 4), rand(4), rand(3)

    def f(W, x, b):
        h = (W @ x + b).tanh()
        return (bad(h * 2.0) * h).sum()

    report = gradcheck(f, [W, x, b])
    assert not report and report.failures
    assert len(report.culprits) == 1
    c = report.culprits[0]
    assert isinstance(c, TensorCulprit)
    assert c.primitive == "tc_sign_flip" and c.operand == 0 and c.order == 1
    assert c.shapes == ((3,),) and c.source.endswith(line_of(f, 2))
    # the rule's derivative is -cos instead of cos: along the same direction the
    # engine gives exactly minus the finite difference
    assert c.got == pytest.approx(-c.expected, rel=1e-6) and abs(c.expected) > 1e-3
    h = np.tanh(W @ x + b)
    assert np.array_equal(c.operands[0], h * 2.0)
    text = str(report)
    assert "culprit node(s), local derivatives that disagree with finite differences" in text
    assert f"tc_sign_flip(shape (3,)) at {c.source}: d/d(operand 0)" in text
    assert report.culprit_note == ""


def test_a_wrong_factor_with_broadcasting_is_named_with_its_shapes_and_line():
    bad = wrong_factor()
    A, r = rand(4, 3), rand(3)

    def f(A, r):
        z = A * r                                  # broadcast (4, 3) * (3,)
        return (bad(z).sum(axis=0) * r).sum()

    report = gradcheck(f, [A, r])
    assert not report
    [c] = report.culprits
    assert c.primitive == "tc_wrong_factor" and c.operand == 0 and c.shapes == ((4, 3),)
    assert c.source.endswith(line_of(f, 2))
    assert c.got == pytest.approx(2.0 / 3.0 * c.expected, rel=1e-6)  # 2x² against 3x²
    assert f"tc_wrong_factor(shape (4, 3)) at {c.source}" in str(report)


def test_a_rule_wrong_only_for_negative_elements_is_found_where_there_are_some():
    bad = wrong_for_negatives()

    def f(W, x):
        return bad(W @ x).tanh().sum()

    W, x = rand(3, 4), rand(4)
    z = W @ x
    assert (z < 0).any() and (z > 0).any()
    report = gradcheck(f, [W, x])
    assert not report
    [c] = report.culprits
    assert c.primitive == "tc_wrong_neg" and c.operand == 0
    assert c.source.endswith(line_of(f, 1))
    # where every element is positive the same rule is right: nothing fails, no search
    Wp, xp = np.abs(W), np.abs(x)
    good = gradcheck(f, [Wp, xp])
    assert good and good.culprits == [] and good.culprit_note == "" and good.graph is None


def test_the_wrong_second_operand_of_a_binary_op_is_named_and_not_the_first():
    bad = wrong_second_operand()
    A, v = rand(3, 4), rand(4)

    def f(A, v):
        s = A.sigmoid()
        return bad(s, v.exp()).sum() + (A * A).sum()     # v.exp() is broadcast over rows

    report = gradcheck(f, [A, v])
    assert not report
    # only v's elements fail: the first operand's derivative is right
    assert {r.input for r in report.failures} == {1}
    [c] = report.culprits
    assert c.primitive == "tc_wrong_mul" and c.operand == 1
    assert c.shapes == ((3, 4), (4,)) and c.source.endswith(line_of(f, 2))
    assert "tc_wrong_mul(shape (3, 4), shape (4,))" in str(report)


def test_a_wrong_operand_that_is_a_constant_is_not_blamed():
    mul = wrong_second_operand()       # wrong in operand 1 only
    flip = sign_flip()
    C = rand(2, 3)

    def f(x):
        y = mul(x, Tensor(C))          # operand 1 is a constant: its derivative is never used
        return flip(y).sum()

    report = gradcheck(f, [rand(2, 3, seed=5)])
    assert not report
    assert [c.primitive for c in report.culprits] == ["tc_sign_flip"]
    assert report.culprits[0].source.endswith(line_of(f, 2))


def test_the_data_trick_gives_no_culprit_and_says_the_graph_is_wrong():
    W, x = rand(3, 4), rand(4)

    def f(W, x):
        h = (W @ x).tanh()
        return (h * Tensor(h.data)).sum()       # h² with one factor cut from the graph

    report = gradcheck(f, [W, x])
    assert not report and report.culprits == []
    assert "graph itself is wrong" in report.culprit_note
    assert report.culprit_note in str(report)
    assert isinstance(report.graph, Tensor)
    assert report.graph.data == pytest.approx(np.sum(np.tanh(W @ x) ** 2))


def test_a_passing_check_searches_nothing_and_culprits_false_skips_the_search():
    report = gradcheck(lambda W, x: (W @ x).tanh().sum(), [rand(3, 4), rand(4)])
    assert report and report.culprits == [] and report.culprit_note == ""
    assert report.graph is None and "culprit" not in str(report)
    bad = sign_flip()
    off = tensor_gradcheck(lambda x: bad(x).sum(), [rand(5)], culprits=False)
    assert not off and off.culprits == [] and off.culprit_note == "" and off.graph is None
    assert not gradcheck(lambda x: bad(x).sum(), [rand(5)], culprits=False).culprits


def test_identical_nodes_are_checked_once_and_the_search_stops_after_three():
    flip = sign_flip()
    cube = wrong_factor()
    neg = wrong_for_negatives()
    mul = wrong_second_operand()
    x0 = rand(6)

    def f(x):
        a = flip(x) + flip(x)          # the same operation on the same operand twice
        b = cube(a)
        c = neg(b)
        return mul(x, c).sum()         # a fourth wrong node, past the limit

    report = gradcheck(f, [x0])
    assert not report
    assert [c.primitive for c in report.culprits] == ["tc_sign_flip", "tc_wrong_factor",
                                                      "tc_wrong_neg"]
    assert report.culprits[0].source.endswith(line_of(f, 1))
    found, note, out = find_tensor_culprits(f, [x0], limit=5)
    assert [c.primitive for c in found] == ["tc_sign_flip", "tc_wrong_factor", "tc_wrong_neg",
                                            "tc_wrong_mul"]
    assert found[3].operand == 1 and note == "" and isinstance(out, Tensor)


def test_the_search_is_deterministic():
    bad = wrong_factor()

    def f(W, x):
        return bad(W @ x).sum()

    W, x = rand(3, 4), rand(4)
    one, two = gradcheck(f, [W, x]), gradcheck(f, [W, x])
    assert [(c.expected, c.got) for c in one.culprits] == [(c.expected, c.got) for c in two.culprits]
    other = find_tensor_culprits(f, [W, x], seed=3)[0]
    assert other[0].primitive == "tc_wrong_factor"
    assert other[0].expected != one.culprits[0].expected   # another seed, other directions


def test_correct_composites_of_many_operations_give_no_false_culprit():
    """Every node of a correct graph agrees; a wrong `.data` elsewhere makes
    the check fail, and the search must blame none of these operations."""
    X, W, b = rand(5, 4), rand(4, 3), rand(3)

    def f(X, W, b):
        z = X @ W + b
        p = z.log_softmax(1).exp()
        q = (z.sigmoid() * z.tanh()).mean(axis=0)
        cut = Tensor(z.data).sum()
        return (p * p).sum() + (q ** 2).sum() + abs(z).sum() + (z * z).sum() * cut

    report = gradcheck(f, [X, W, b])
    assert not report and report.culprits == []
    assert "graph itself is wrong" in report.culprit_note


def test_assert_gradients_match_on_arrays_names_the_culprit():
    bad = sign_flip()

    def f(W, x):
        return bad(W @ x).tanh().sum()

    with pytest.raises(AssertionError) as info:
        assert_gradients_match(f, [rand(3, 4), rand(4)])
    msg = str(info.value)
    assert msg.startswith("derivatives do not match finite differences")
    assert "culprit node(s)" in msg
    assert "tc_sign_flip(shape (3,)) at" in msg and line_of(f, 1) in msg


def test_draw_graph_marks_the_tensor_culprit_in_red():
    pytest.importorskip("graphviz")
    from visualize.graph import draw_graph

    bad = sign_flip()
    report = gradcheck(lambda x: bad(x * 2.0).sum(), [rand(4)])
    assert report.culprits
    dot = draw_graph(report.graph, highlight=report.culprits).source
    [marked] = [ln for ln in dot.splitlines() if "#d50000" in ln]   # one node, in red
    assert "tc_sign_flip" in marked
    assert "#d50000" not in draw_graph(report.graph).source
    with pytest.raises(TypeError, match="highlight takes Tensors"):
        draw_graph(report.graph, highlight=[1.0])


def test_a_wrong_array_primitive_of_the_tensor_table_is_re_run_and_named():
    """Nodes made by ``_apply`` (array primitives: matmul, reductions, ...) are
    re-run the same way as elementwise ones."""
    from autograd_core.tensor import TENSOR_PRIMITIVES, _apply, _matmul_rule, _register

    def rule(a, b):
        out, (_, right) = _matmul_rule(a, b)
        _, (left2, _) = _matmul_rule(a, 2.0 * b)     # ∂/∂a taken with 2b: twice too big
        return out, (left2, right)

    prim = _register("tc_wrong_matmul", rule, arity=2)
    try:
        def f(A, B):
            return _apply(prim, (A.tanh(), B)).sigmoid().sum()

        report = gradcheck(f, [rand(3, 4), rand(4, 2)])
        assert not report
        [c] = report.culprits
        assert c.primitive == "tc_wrong_matmul" and c.operand == 0
        assert c.shapes == ((3, 4), (4, 2)) and c.source.endswith(line_of(f, 1))
        assert c.got == pytest.approx(2.0 * c.expected, rel=1e-6)
    finally:
        del TENSOR_PRIMITIVES["tc_wrong_matmul"]


def test_assert_module_gradients_of_a_tensor_model_names_the_culprit():
    from autograd_core.testing import assert_module_gradients

    bad = wrong_factor()

    class Model:
        def __init__(self):
            self.W = Tensor(rand(2, 3), "W")
            self.b = Tensor(rand(2), "b")

        def parameters(self):
            return [self.W, self.b]

        def __call__(self, x):
            return bad(self.W @ Tensor(np.array(x)) + self.b).tanh()

    X = rand(4, 3, seed=7)
    Y = [rand(2, seed=k) for k in range(4)]

    def loss(out, t):
        d = out - t
        return (d * d).sum()

    with pytest.raises(AssertionError) as info:
        assert_module_gradients(Model(), X, Y, loss=loss, samples=None)
    msg = str(info.value)
    assert "culprit node(s)" in msg and "tc_wrong_factor(shape (2,)) at" in msg
    assert line_of(Model.__call__, 1) in msg


def test_no_false_culprit_at_kinks_near_ties_or_where_rounding_swamps_the_step():
    """Correct nodes whose finite differences are unreliable -- operands exactly
    at a kink (abs and relu at 0), a near-tie of max (4e-8 apart), a sum whose other
    operand is 1e13 (every step is lost to rounding) -- are not blamed."""
    x0 = np.array([[0.0, 0.5, -1.25, 2.0],
                   [0.16440191, 0.16440195, -0.27, 0.1643819],
                   [1.5, -0.75, 0.25, 1.0]])

    def f(x):
        y = abs(x) + x.relu() * 2.0 + x.max(axis=1, keepdims=True) * x
        big = (x[2] * 20.0).exp() * 1e4 + x[0]        # exp(30) * 1e4 ≈ 1e17 next to x[0]
        return (y * Tensor(y.data)).sum() + (big * Tensor(big.data)).sum()

    report = gradcheck(f, [x0])
    assert not report and report.culprits == []
    assert "graph itself is wrong" in report.culprit_note
