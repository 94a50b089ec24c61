"""The backward driver's walk (issue 13 §1, last bullet): ``gradients`` walks
only the graph between its inputs and the output, not the history behind
the inputs; the results are those of the whole-graph walk."""

from __future__ import annotations

import random

from autograd_core import Value, engine, gradients


def history(n: int) -> tuple[Value, Value]:
    x0 = Value(0.5, "x0")
    x = x0
    for i in range(n):
        x = (x * 0.999 + 0.001) if i % 2 else x.tanh()
    return x0, x


def test_gradients_does_not_walk_the_history_behind_its_input():
    x0, x = history(20_000)
    y = x * x
    order = engine._backprop(y, 1.0, False, [x])[0]
    assert len(order) == 2  # y and x: not the 20,000 nodes behind x
    order = engine._backprop(y, 1.0, True, [x])[0]
    assert len(order) == 2
    (g,) = gradients(y, [x])
    assert g == 2 * x.data
    (g2,) = gradients(y, [x], create_graph=True)
    assert g2.data == 2 * x.data
    (h,) = gradients(g2, [x])
    assert h == 2.0
    # the history is still there for a gradient that needs it
    (gx0,) = gradients(y, [x0])
    full = engine._backprop(y, 1.0, False)[1]
    assert gx0 == full[x0] != 0.0


def test_pruned_and_whole_walks_agree_on_random_graphs():
    rng = random.Random(3)
    for _ in range(50):
        leaves = [Value(rng.uniform(0.5, 1.5)) for _ in range(3)]
        nodes = list(leaves)
        for _ in range(30):
            a, b = rng.choice(nodes), rng.choice(nodes)
            op = rng.randrange(4)
            nodes.append(a * b if op == 0 else a + b if op == 1 else (a - b).tanh() if op == 2 else a.sin())
        out = nodes[-1] * nodes[-2] + nodes[-3]
        full = engine._backprop(out, 1.0, False)[1]
        for x in rng.sample(nodes, 6):
            assert gradients(out, [x]) == [full.get(x, 0.0)]
        # several inputs, one computed from another: paths through it count
        xs = rng.sample(nodes, 4)
        assert gradients(out, xs) == [full.get(x, 0.0) for x in xs]


def test_input_computed_from_another_input():
    a = Value(2.0, "a")
    b = a * 3.0          # ∂b/∂a = 3
    out = b * a          # 3a², ∂out/∂a (total) = 6a = 12, ∂out/∂b = a = 2
    assert gradients(out, [a, b]) == [12.0, 2.0]
    assert gradients(out, [b, a]) == [2.0, 12.0]
    assert gradients(out, [b]) == [2.0]
    assert gradients(out, [out]) == [1.0]
