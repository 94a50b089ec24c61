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


# ---------------------------------------------------------------- several computed inputs
# Every node has a creation number that only grows (engine._next_seq, the same
# counter in the compiled node maker); the walk does not go behind a node made
# before all the inputs. Both drivers, compiled and pure Python, are checked.

import threading  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograd_core import Tensor  # noqa: E402
from autograd_core import tensor as T  # noqa: E402


@pytest.fixture(params=["compiled", "pure"])
def driver(request, monkeypatch):
    """The compiled driver (when built) and the pure-Python reference."""
    if request.param == "compiled":
        if engine._speedups is None:
            pytest.skip("compiled driver not built")
    else:
        monkeypatch.setattr(engine, "_speedups", None)
    return request.param


def walk(out, inputs, create_graph=False):
    """(order, grads) of the driver, and the inputs' gradients from it."""
    order, grads = engine._backprop(out, 1.0, create_graph, inputs)
    return order, [grads.get(x, 0.0) for x in inputs]


def bits(g):
    return repr(g.data if isinstance(g, Value) else g)


def test_creation_numbers_never_decrease_along_edges(driver):
    x0, x = history(500)
    nodes = engine._order(x, None)
    assert len(nodes) == 751  # x0, and 250 tanh, 250 mul and 250 add nodes
    assert all(p._seq <= n._seq for n in nodes for p in n._parents)
    assert nodes[0]._seq < nodes[-1]._seq  # it grows: 500 nodes span several blocks
    d = x.detach()
    assert d._seq >= x._seq and Value(1.0)._seq >= x._seq
    t = Tensor(np.ones(2))
    assert (t * 2.0)._seq >= t._seq >= d._seq


def test_several_computed_inputs_walk_only_the_graph_between(driver):
    x0, x = history(20_000)
    a = x.tanh()
    b = a * 3.0 + x          # b depends on a and x: inputs behind inputs
    c = (b * a).sin()
    out = c * b + a
    inputs = [x, a, b]
    full_order, full = engine._backprop(out, 1.0, False)
    assert len(full_order) > 20_000
    for xs in (inputs, [b, x], [c, a, x], [x0, b]):
        order, gs = walk(out, xs)
        assert [bits(g) for g in gs] == [bits(full.get(v, 0.0)) for v in xs]
        if x0 not in xs:
            # the 10 nodes between x and out, the block x was made in, and the
            # cut nodes' parents: not the 20,000 behind x
            assert len(order) < 10 + 3 * engine._SEQ_BLOCK
        else:  # a leaf input made first: its whole history is between
            assert len(order) == len(full_order)
    # create_graph: the same numbers, and they differentiate again
    order, gs = walk(out, inputs, create_graph=True)
    assert len(order) < 10 + 3 * engine._SEQ_BLOCK
    full_cg = engine._backprop(out, 1.0, True)[1]
    assert [bits(g) for g in gs] == [bits(full_cg.get(v, 0.0)) for v in inputs]
    assert gradients(out, inputs) == [full[v] for v in inputs]
    gx = gradients(out, inputs, create_graph=True)[0]
    h = gradients(gx, [x, a])
    full_h = engine._backprop(gx, 1.0, False)[1]
    assert h == [full_h.get(x, 0.0), full_h.get(a, 0.0)]


def test_cut_walk_keeps_the_order_of_the_whole_walk(driver):
    # the nodes the cut walk goes behind come in the same order as in the whole
    # walk, so each input's gradient is the same sum in the same order
    x0, x = history(3_000)
    a = x * x
    b = (a + x).exp()
    out = b * a - x
    full_order = engine._order(out, None)
    limit = min(x._seq, a._seq, b._seq)
    cut = engine._order(out, None, limit)
    if engine._speedups is not None:
        assert engine._speedups.order(out, None, limit) == cut
    inner = [n for n in cut if n._seq >= limit]
    assert inner == [n for n in full_order if n._seq >= limit]
    assert len(cut) < 10 + 3 * engine._SEQ_BLOCK


def _random_graph(rng, prefix, n_ops):
    """A random DAG behind a history of ``prefix`` nodes (several blocks)."""
    leaves = [Value(rng.uniform(0.5, 1.5)) for _ in range(3)]
    h = leaves[0]
    for _ in range(prefix):
        h = (h * 0.999).sin() if rng.random() < 0.5 else h + leaves[1]
    nodes = [*leaves, h]
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes[-20:])
        op = rng.randrange(5)
        nodes.append(a * b if op == 0 else a + b if op == 1 else (a - b).tanh() if op == 2
                     else a.sin() if op == 3 else a * 0.5)
    return nodes, nodes[-1] * nodes[-2] + nodes[-3]


def _ancestor(rng, n):
    while n._parents and rng.random() < 0.7:
        n = rng.choice(n._parents)
    return n


def test_random_graphs_inputs_ancestors_of_each_other(driver):
    rng = random.Random(11)
    cut_somewhere = 0
    for trial in range(25):
        nodes, out = _random_graph(rng, rng.choice([0, 70, 300]), 200)
        full_order, full = engine._backprop(out, 1.0, False)
        full_cg = engine._backprop(out, 1.0, True)[1] if trial % 5 == 0 else None
        for _ in range(6):
            top = rng.choice(nodes[-150:])
            # inputs on one path (each behind the next), plus others
            xs = [top, _ancestor(rng, top), _ancestor(rng, top),
                  *rng.sample(nodes[-100:], rng.randrange(3))]
            rng.shuffle(xs)
            order, gs = walk(out, xs)
            assert [bits(g) for g in gs] == [bits(full.get(v, 0.0)) for v in xs]
            assert gradients(out, xs) == [full.get(v, 0.0) for v in xs]
            cut_somewhere += len(order) < len(full_order)
            if full_cg is not None:
                gs = walk(out, xs, create_graph=True)[1]
                assert [bits(g) for g in gs] == [bits(full_cg.get(v, 0.0)) for v in xs]
    assert cut_somewhere > 50  # the cut is exercised, not only whole walks


def test_tensor_inputs_with_a_history(driver):
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 1.5, size=(3,)))
    for _ in range(2_000):
        x = (x * 0.999).sin() + 0.01
    a = x.tanh()
    b = a * x + 1.0
    out = (b * a).sum()
    seed = np.ones(())
    full = engine._backprop(out, seed, False)[1]
    order, grads = engine._backprop(out, seed, False, [x, a, b])
    assert len(order) < 10 + 3 * engine._SEQ_BLOCK
    for v in (x, a, b):
        assert grads[v].tobytes() == full[v].tobytes()
    gs = T.gradients(out, [b, x])
    assert gs[0].tobytes() == full[b].tobytes() and gs[1].tobytes() == full[x].tobytes()


def test_creation_numbers_from_several_threads(driver):
    # nodes made by 4 threads at once (sharing leaves): numbers never decrease
    # along an edge, and the cut walks give the whole walks' gradients
    w = Value(0.7, "w")
    results = {}

    def build(k):
        h = Value(0.1 * (k + 1))
        for i in range(3_000):
            h = (h * w).sin() if i % 3 else h + w
        a = h * w
        out = (a * h + w).tanh()
        results[k] = (h, a, out)

    threads = [threading.Thread(target=build, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for h, a, out in results.values():
        order = engine._order(out, None)
        assert all(p._seq <= n._seq for n in order for p in n._parents)
        full = engine._backprop(out, 1.0, False)[1]
        cut_order, gs = walk(out, [h, a])
        assert gs == [full[h], full[a]]
        assert len(cut_order) < 10 + 3 * engine._SEQ_BLOCK
    h, a, out = results[0]
    assert gradients(out, [w, a]) == [engine._backprop(out, 1.0, False)[1][v] for v in (w, a)]
