"""Property tests: random expression trees over the primitives, reverse mode
against finite differences of the same forward computation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ac
from autograd_core import Value

N_VARS = 3

# Each op builds on Values using the engine's primitives; domain-restricted
# primitives get arguments kept inside their domain by construction.
UNARY_OPS = {
    "neg": lambda a: -a,
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "softplus": lambda a: a.softplus(),
    "gelu": lambda a: a.gelu(),
    "gelu_tanh": lambda a: a.gelu("tanh"),
    "swish": lambda a: a.swish(1.5),
    "elu": lambda a: (a + 0.1).elu(0.8) if abs(a.data + 0.1) > 1e-3 else a.elu(0.8),
    "exp": lambda a: a.tanh().exp(),
    "log": lambda a: (a * a + 1).log(),
    "log1p": lambda a: (a * a).log1p(),
    "sqrt": lambda a: (a * a + 0.5).sqrt(),
    "erf": lambda a: a.erf(),
    "powc": lambda a: (a * a + 0.5) ** 1.5,
    "rpowc": lambda a: 2.0 ** a.tanh(),
    "rdivc": lambda a: 3.0 / (a * a + 1),
    "affine": lambda a: 2.5 - a * 0.5 + 1,
}
BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 0.5) ** b.tanh(),
    "sum": lambda a, b: ac.sum([a, b, a]),
    "dot": lambda a, b: ac.dot([a, b], [b, 0.5]),
}

leaf = st.integers(0, N_VARS - 1).map(lambda i: ("var", i))
trees = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY_OPS)), children),
        st.tuples(st.sampled_from(sorted(BINARY_OPS)), children, children),
    ),
    max_leaves=8,
)


def build(tree, xs):
    if tree[0] == "var":
        return xs[tree[1]]
    if len(tree) == 2:
        return UNARY_OPS[tree[0]](build(tree[1], xs))
    return BINARY_OPS[tree[0]](build(tree[1], xs), build(tree[2], xs))


def evaluate(tree, values):
    return build(tree, [Value(v) for v in values]).data


@settings(max_examples=150, deadline=None)
@given(trees, st.lists(st.floats(-2.0, 2.0), min_size=N_VARS, max_size=N_VARS))
def test_reverse_mode_matches_finite_differences(tree, values):
    xs = [Value(v, f"x{i}") for i, v in enumerate(values)]
    out = build(tree, xs)
    out.backward()
    for i, v in enumerate(values):
        h = 1e-5 * max(1.0, abs(v))

        def f(t):
            vals = list(values)
            vals[i] = t
            return evaluate(tree, vals)

        # 4th-order central difference: truncation error O(h^4)
        fd = (8 * (f(v + h) - f(v - h)) - (f(v + 2 * h) - f(v - 2 * h))) / (12 * h)
        scale = 1.0 + abs(fd) + abs(out.data)
        assert abs(xs[i].grad - fd) <= 1e-6 * scale, (tree, values, i, xs[i].grad, fd)


@settings(max_examples=100, deadline=None)
@given(trees, st.lists(st.floats(-2.0, 2.0), min_size=N_VARS, max_size=N_VARS))
def test_gradients_equals_backward_and_leaves_grad_alone(tree, values):
    xs = [Value(v) for v in values]
    out = build(tree, xs)
    grads = ac.gradients(out, xs)
    assert all(x.grad == 0.0 for x in xs)
    out.backward()
    assert [x.grad for x in xs] == grads
