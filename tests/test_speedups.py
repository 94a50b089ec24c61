"""The compiled driver bookkeeping (``autograd_core._speedups``, built by
``setup.py`` where a C compiler is present) against the pure-Python
reference in ``engine.py``: the same topological order, and bit for bit the
same gradients and ``.grad`` on random programs (floats, repeated operands,
n-ary nodes, nan/inf/-0.0, Tensors with LocalMap derivatives)."""

from __future__ import annotations

import math
import random
import struct

import numpy as np
import pytest

from autograd_core import Tensor, Value, engine
from autograd_core import sum as vsum
from autograd_core import dot

speedups = engine._speedups
if speedups is None:
    pytest.skip("compiled driver not built (pip install -e . builds it where a C compiler "
                "exists) or AUTOGRAD_CORE_PURE_PYTHON is set", allow_module_level=True)


def bits(x):
    if isinstance(x, float):
        return struct.pack("<d", x)
    if isinstance(x, np.ndarray):
        return (x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, Value):
        return ("Value", bits(x.data))
    return repr(x)


@pytest.fixture
def pure(monkeypatch):
    """Run a callable with the pure-Python driver."""
    def run(f, *args):
        monkeypatch.setattr(engine, "_speedups", None)
        try:
            return f(*args)
        finally:
            monkeypatch.setattr(engine, "_speedups", speedups)
    return run


def random_program(rng: random.Random, n_ops: int = 60) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.choice([rng.uniform(-2, 2), 0.0, -0.0, 1.0])) for _ in range(4)]
    nodes = list(leaves)
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes[-8:])
        k = rng.randrange(12)
        try:
            v = [lambda: a * b, lambda: a + b, lambda: a - b, lambda: a * a, lambda: a.tanh(),
                 lambda: a * 1e300, lambda: (a * 0.5).exp(), lambda: a.relu(), lambda: 3.0 - a,
                 lambda: vsum([a, b, a]), lambda: dot([a, b], [b, 2.0]), lambda: a / 7.0][k]()
        except (ValueError, OverflowError):
            continue
        nodes.append(v)
    return vsum(nodes[-5:]), nodes


def test_same_order_and_bitwise_gradients_on_random_programs(pure):
    rng = random.Random(1234)
    for trial in range(150):
        out, nodes = random_program(rng)
        seed = rng.choice([1.0, -0.5, 2.0 ** -30, 3.7])
        assert speedups.order(out, None) == pure(engine._order, out, None)
        assert all(a is b for a, b in zip(speedups.order(out, None), pure(engine._order, out, None)))
        order_c, grads_c = engine._backprop(out, seed, False)
        order_p, grads_p = pure(engine._backprop, out, seed, False)
        assert [id(n) for n in order_c] == [id(n) for n in order_p]
        assert {id(n): bits(g) for n, g in grads_c.items()} == \
               {id(n): bits(g) for n, g in grads_p.items() if n in set(order_p)}
        # with a stop set (gradients with one input)
        x = rng.choice(nodes)
        assert bits(engine.gradients(out, [x])[0]) == bits(pure(engine.gradients, out, [x])[0])


def test_same_cut_walks_with_several_inputs(pure):
    # gradients with several inputs: the walk does not go behind nodes made
    # before all inputs (creation numbers); both drivers cut at the same nodes
    rng = random.Random(4321)
    cut = 0
    for trial in range(60):
        pre, _ = random_program(rng, rng.choice([10, 100, 200]))  # a history of a few blocks
        out, nodes = random_program(rng)
        out = out * pre + pre.tanh()
        xs = rng.sample(nodes, 3) + [pre] * rng.randrange(2)
        seed = rng.choice([1.0, -0.5, 3.7])
        limit = min(x._seq for x in xs)
        assert speedups.order(out, None, limit) == pure(engine._order, out, None, limit)
        order_c, grads_c = engine._backprop(out, seed, False, xs)
        order_p, grads_p = pure(engine._backprop, out, seed, False, xs)
        assert [id(n) for n in order_c] == [id(n) for n in order_p]
        assert {id(n): bits(g) for n, g in grads_c.items()} == \
               {id(n): bits(g) for n, g in grads_p.items()}
        full = engine._backprop(out, seed, False)
        cut += len(order_c) < len(full[0])
        assert [bits(grads_c.get(x, 0.0)) for x in xs] == [bits(full[1].get(x, 0.0)) for x in xs]
        assert [bits(g) for g in engine.gradients(out, xs)] == \
               [bits(g) for g in pure(engine.gradients, out, xs)]
    assert cut > 20


def test_backward_accumulates_the_same_grads(pure):
    rng = random.Random(99)
    for trial in range(60):
        state = rng.getstate()
        out_c, nodes_c = random_program(rng)
        rng.setstate(state)
        out_p, nodes_p = random_program(rng)
        for out, ns, run in ((out_c, nodes_c, lambda f, *a: f(*a)), (out_p, nodes_p, pure)):
            run(out.backward)
            run(out.backward, 0.25)
        assert [bits(n.grad) for n in nodes_c] == [bits(n.grad) for n in nodes_p]


def test_special_values_and_accumulating_into_value_grads(pure):
    x = Value(0.0)
    y = (x * -1.0) * math.inf + x * math.nan
    for f in (lambda: y.backward(), lambda: pure(y.backward)):
        f()
    assert math.isnan(x.grad)
    z = Value(2.0)
    z.grad = Value(1.0)  # a Value grad (from create_graph) is added to, not replaced
    (z * 3.0).backward()
    assert isinstance(z.grad, Value) and z.grad.data == 4.0
    w = Value(-0.0)
    w2 = Value(-0.0)
    (w * 0.0).backward(-1.0)
    pure((w2 * 0.0).backward, -1.0)
    assert bits(w.grad) == bits(w2.grad)


def test_tensor_graphs_with_local_maps(pure):
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(4, 3)))
    x = Tensor(rng.normal(size=(5, 4)))
    b = Tensor(rng.normal(size=3))
    out = (((x @ W) + b).tanh() * (x @ W)).sum()
    seed = np.ones(())
    oc, gc_ = engine._backprop(out, seed, False)
    op, gp = pure(engine._backprop, out, seed, False)
    assert [id(n) for n in oc] == [id(n) for n in op]
    assert {id(n): bits(g) for n, g in gc_.items()} == {id(n): bits(g) for n, g in gp.items()}


def test_deep_chain_and_errors():
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    with pytest.raises(TypeError, match="graph node"):
        speedups.order(3.0, None)
    with pytest.raises(TypeError, match="set"):
        speedups.backprop(x, 1.0, [x])


def test_compiled_nodes_are_untracked_and_freed_at_once():
    import gc
    import tracemalloc

    x = Value(1.5)
    y = x * x + 2.0
    assert not gc.is_tracked(y) and not gc.is_tracked(y.parents)
    assert gc.is_tracked(x)  # leaves made by Value() are ordinary objects
    with pytest.raises(AttributeError):
        y.nope = 1  # still a __slots__ Value
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            z = x
            for _ in range(5000):
                z = z * 1.0001 + x
            del z  # freed by reference counting, no collection needed
        # 19 MB if kept; what stays is CPython's tuple free lists (< 300 kB)
        assert tracemalloc.get_traced_memory()[0] - base < 400_000
    finally:
        tracemalloc.stop()


def test_building_a_graph_adds_no_tracked_objects():
    import gc
    gc.collect()
    before = len(gc.get_objects())
    x = Value(0.5)
    z = x
    for _ in range(20_000):
        z = (z * x).tanh() + 1.0
    assert len(gc.get_objects()) - before < 1000  # not 60,000 nodes and tuples
    del z


def test_create_graph_cycle_is_collected():
    import gc
    import tracemalloc

    def make_cycle() -> None:
        x = Value(0.7)
        y = (x * x).sin() * x
        y.backward(create_graph=True)  # x.grad is a graph that reaches x: a cycle
        assert isinstance(x.grad, Value)

    gc.collect()
    tracemalloc.start()
    try:
        make_cycle()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            make_cycle()
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - base < 20_000  # ~1 MB if they leaked
    finally:
        tracemalloc.stop()


def test_node_maker_respects_no_grad_and_generators():
    from autograd_core import no_grad
    x = Value(2.0)
    with no_grad():
        y = x * x
    assert y.is_leaf and y.op == "" and y.data == 4.0 and y.grad == 0.0 and y.label == ""

    def gen():
        with no_grad():
            yield (x * 3).is_leaf
            yield (x * 3).is_leaf

    it = gen()
    assert next(it) is True
    assert not (x * 3).is_leaf
    assert next(it) is True


def test_fused_backward_falls_back_bit_for_bit(pure):
    """Value.backward's one-pass path (every .grad a float) gives up as soon as a
    node is outside that case -- possibly after it wrote some .grad, which it
    puts back -- and the two-pass path runs: the same .grad, bit for bit, as
    the pure-Python driver, whatever the place of the odd node."""
    from fractions import Fraction

    odd = [lambda: np.float64(0.25), lambda: Value(0.5), lambda: Fraction(1, 3), lambda: 2]
    rng = random.Random(7)
    for trial in range(80):
        state = rng.getstate()
        out_c, nodes_c = random_program(rng)
        rng.setstate(state)
        out_p, nodes_p = random_program(rng)
        k = rng.randrange(len(odd))
        where = rng.sample(range(len(nodes_c)), rng.choice([1, 2]))
        for i in where:
            nodes_c[i].grad, nodes_p[i].grad = odd[k](), odd[k]()
        seed = rng.choice([1.0, -0.5, np.float64(2.0)])
        out_c.backward(seed)
        pure(out_p.backward, seed)
        assert [bits(n.grad) for n in nodes_c] == [bits(n.grad) for n in nodes_p], trial


def test_fused_backward_error_leaves_no_grad_written():
    """An error (here: a local derivative tuple that does not match the parents)
    found after the one-pass path wrote some .grad: every .grad is as before."""
    x = Value(1.5)
    h = x * 2.0
    out = (h.tanh() + h * h) * 3.0
    before = [x.grad, h.grad, out.grad]
    h._local = (2.0, 9.0)  # corrupt a node the walk reaches last
    with pytest.raises(ValueError, match="local derivatives"):
        out.backward()
    assert [x.grad, h.grad, out.grad] == before


def test_backward_inside_backward_uses_its_own_buffers(pure):
    """Python code run from inside the compiled driver (here: a gradient
    object's multiplication) that runs another backward: the inner call must
    not share the outer call's buffers, and both give the reference's numbers."""
    inner_x = Value(3.0)
    calls = []

    class G(float):
        def __rmul__(self, l):
            y = inner_x * inner_x + inner_x.tanh()
            y.backward()
            calls.append(inner_x.grad)
            return l * float(self)

    def build():
        x = Value(2.0)
        outs = [(x * x + x).exp() for _ in range(3)]
        return x, outs[0] + outs[1] * outs[2]

    x, total = build()
    order, grads = speedups.backprop(total, G(1.0), None)
    x2, total2 = build()
    order2, grads2 = pure(engine._backprop, total2, 1.0, False)
    assert bits(float(grads[x])) == bits(grads2[x2])
    one = 2 * 3.0 + 1 - math.tanh(3.0) ** 2  # the root has two parents: two products with G
    assert calls == [one, 2 * one]
    # the general driver of Value.backward (a .grad that is not a float) runs
    # Python code too: a .grad whose + runs a backward
    class Acc(float):
        def __add__(self, g):
            (inner_x * 2.0).backward()
            return float(self) + g

    x3, total3 = build()
    x3.grad = Acc(1.0)
    total3.backward()
    assert bits(x3.grad) == bits(grads2[x2] + 1.0)


def test_backward_with_a_grad_that_cannot_be_added_changes_nothing(pure):
    """A .grad of None counts as 0 (as PyTorch's); a .grad that cannot take a
    gradient is a TypeError naming the node, and no .grad is changed."""
    for run in (lambda f: f(), pure):
        a, b = Value(1.5, "a"), Value(-2.0, "b")
        out = (a * b).tanh() + a
        a.grad = None
        run(out.backward)
        assert a.grad == (1 - math.tanh(-3.0) ** 2) * -2.0 + 1.0
        before = [a.grad, b.grad, out.grad]
        b.grad = "zero"
        with pytest.raises(TypeError, match="the .grad of 'b', which holds 'zero'"):
            run(out.backward)
        assert [a.grad, b.grad, out.grad] == before[:1] + ["zero"] + before[2:]


def test_value_subclasses_combine_with_values_both_ways(pure):
    """A Value subclass on either side of every binary operator (Python tries
    the subclass's reflected method first); its .grad is written the generic
    way by the driver, the same as the pure-Python one."""
    class SubValue(Value):
        __slots__ = ()

    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
           lambda a, b: a ** b]
    for op in ops:
        for sub_left in (True, False):
            results = []
            for run in (lambda f: f(), pure):
                s, a = SubValue(1.5), Value(2.0)
                z = op(s, a) if sub_left else op(a, s)
                plain = op(Value(1.5), Value(2.0)) if sub_left else op(Value(2.0), Value(1.5))
                assert bits(z.data) == bits(plain.data)
                w = (z * a).tanh() + z
                run(w.backward)
                results.append([bits(v.grad) for v in (s, a, z, w)])
            assert results[0] == results[1]


def test_walk_on_wide_deep_and_shared_graphs(pure):
    """The compiled walk (one frame per node, parents' numbers recorded) on
    shapes the random programs rarely make: a node with 3,000 parents, the same
    operand many times, a 50,000-deep chain under a wide sum, and graphs bigger
    than the kept buffers of the call before (they grow) and smaller (reused)."""
    rng = random.Random(5)
    for size in (3000, 10, 20000, 5):
        xs = [Value(rng.uniform(-1, 1)) for _ in range(8)]
        terms = [xs[i % 8] * xs[(i * 3) % 8] for i in range(size)]
        wide = vsum(terms + [xs[0]] * 50)
        y = xs[1]
        for _ in range(size // 2):
            y = y * 0.9999 + xs[2]
        out = wide * y + dot(xs, xs[::-1])
        assert speedups.order(out, None) == pure(engine._order, out, None)
        oc, gc_ = engine._backprop(out, 1.0, False)
        op, gp = pure(engine._backprop, out, 1.0, False)
        assert {id(n): bits(g) for n, g in gc_.items()} == {id(n): bits(g) for n, g in gp.items()}
        before = [x.grad for x in xs]
        out.backward()
        assert [bits(x.grad) for x in xs] == [bits(b + gp[x]) for x, b in zip(xs, before)]


def test_marked_walk_gives_way_and_puts_every_grad_back(pure):
    """Value.backward's walk numbers the nodes in their .grad slots (no lookup
    table): a node that is not a plain Value met deep in the walk (here a
    subclass, reached last), or a .grad the one-pass case cannot take, makes
    it put every .grad back and the other drivers run; the results are the
    reference's, and no .grad is left holding anything else."""
    class SubValue(Value):
        __slots__ = ()

    for odd in ("subclass", "grad"):
        results = []
        for run in (lambda f: f(), pure):
            s = SubValue(0.3) if odd == "subclass" else Value(0.3)
            if odd == "grad":
                s.grad = np.float64(0.5)
            xs = [Value(0.1 * k) for k in range(1, 30)]
            y = s
            for x in xs:
                y = (y * x + x).tanh() + y
            run(y.backward)
            results.append([bits(v.grad) for v in [s, y, *xs]])
            assert all(type(v.grad) in (float, np.float64) for v in [s, y, *xs])
        assert results[0] == results[1]
