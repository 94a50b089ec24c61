"""Thread safety of the backward driver (issue 13 §2).

Real threads, many repetitions, and a tiny interpreter switch interval so
that the threads really interleave inside the backward passes. Before the
driver kept its gradients in a per-call dict, every node had one scratch
field that all calls shared: these tests failed (wrong gradients) on it.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable

import pytest

import autograd_core as ac
import nn
from autograd_core import Value, engine, gradients

THREADS = 4
REPEATS = 40


@pytest.fixture(autouse=True, params=["compiled", "pure Python"])
def engine_kind(request, monkeypatch):
    """Every test with the compiled driver (when built) and the pure-Python one."""
    if request.param == "compiled":
        if engine._speedups is None:
            pytest.skip("compiled driver not built")
    else:
        monkeypatch.setattr(engine, "_speedups", None)
        monkeypatch.setattr(engine, "_node", engine._py_node)
    return request.param


@pytest.fixture(autouse=True)
def _switch_often():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(work: Callable[[int], None], n: int = THREADS) -> None:
    """Start ``work(i)`` in ``n`` threads at the same moment; re-raise the first error."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _shared_weight_loss(w: Value, b: Value, xs: list[float]) -> Value:
    """A deep-ish graph sharing the leaves w and b (binary ops, repeated use)."""
    s = b
    for x in xs:
        s = s + (w * x).tanh() * w + b * x
    return (s * s).sigmoid()


def test_gradients_from_threads_sharing_a_weight_equal_single_threaded():
    w, b = Value(0.3, "w"), Value(-0.2, "b")
    rng = random.Random(0)
    data = [[rng.uniform(-1, 1) for _ in range(30)] for _ in range(THREADS)]
    expected = [gradients(_shared_weight_loss(w, b, xs), [w, b]) for xs in data]
    got: list[list[list[float]]] = [[] for _ in range(THREADS)]

    def work(i: int) -> None:
        for _ in range(REPEATS):
            got[i].append(gradients(_shared_weight_loss(w, b, data[i]), [w, b]))

    run_threads(work)
    for i in range(THREADS):
        assert got[i] == [expected[i]] * REPEATS  # bit for bit
    assert w.grad == 0.0 and b.grad == 0.0  # gradients() touches no .grad


def test_backward_from_threads_on_one_shared_graph():
    # The same graph object, backward from every thread: each call sees it whole.
    w = Value(0.7, "w")
    x = Value(1.3, "x")
    out = _shared_weight_loss(w, x, [0.5, -1.5, 2.0] * 10)
    gw, gx = gradients(out, [w, x])
    total = THREADS * REPEATS

    def work(i: int) -> None:
        for _ in range(REPEATS):
            assert gradients(out, [w, x]) == [gw, gx]
            out.backward(2.0 ** -10)  # dyadic seed: sums below are exact in any order

    run_threads(work)
    assert w.grad == pytest.approx(gw * total * 2.0 ** -10, rel=1e-12)
    # exact: the same addends are added, so compare with a single-threaded replay
    w2, x2 = Value(0.7), Value(1.3)
    out2 = _shared_weight_loss(w2, x2, [0.5, -1.5, 2.0] * 10)
    for _ in range(total):
        out2.backward(2.0 ** -10)
    assert (w.grad, x.grad) == (w2.grad, x2.grad)


def test_one_mlp_used_by_two_threads():
    model = nn.MLP(3, [8, 8, 1], activation="tanh", seed=1)
    params = model.parameters()
    rng = random.Random(2)
    batches = [[[rng.uniform(-1, 1) for _ in range(3)] for _ in range(4)] for _ in range(2)]

    def loss_of(batch: list[list[float]]) -> Value:
        return ac.sum(model(x)[0] ** 2 for x in batch)

    expected = [gradients(loss_of(b), params) for b in batches]
    results: list[list[list[float]]] = [[], []]

    def work(i: int) -> None:
        for _ in range(REPEATS // 2):
            results[i].append(gradients(loss_of(batches[i]), params))

    run_threads(work, 2)
    for i in range(2):
        assert all(r == expected[i] for r in results[i])


def test_concurrent_accumulation_into_a_shared_leaf_loses_nothing():
    w = Value(1.5, "w")
    n_each = 300

    def work(i: int) -> None:
        y = w * float(i + 1) + w  # ∂y/∂w = i + 2
        for _ in range(n_each):
            y.backward()

    run_threads(work)
    # integers: exact in any order
    assert w.grad == float(n_each * sum(i + 2 for i in range(THREADS)))


def test_create_graph_gradients_from_threads():
    x = Value(0.9, "x")

    def f(v: Value) -> Value:
        return (v * v * v).sin() + v.exp() * v

    (d1,) = gradients(f(x), [x], create_graph=True)
    (d2,) = gradients(d1, [x])
    got: list[tuple[float, float]] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for _ in range(REPEATS // 4):
            (g1,) = gradients(f(x), [x], create_graph=True)
            (g2,) = gradients(g1, [x])
            with lock:
                got.append((g1.data, g2))

    run_threads(work)
    assert got == [(d1.data, d2)] * len(got) and len(got) == THREADS * (REPEATS // 4)


def test_tensor_backward_from_threads():
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    from autograd_core import tensor as T

    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(4, 3)), "W")
    xs = [rng.normal(size=(5, 4)) for _ in range(THREADS)]

    def loss(i: int) -> Tensor:
        return ((Tensor(xs[i]) @ W).tanh() ** 2).sum()

    expected = [T.gradients(loss(i), [W])[0] for i in range(THREADS)]

    def work(i: int) -> None:
        for _ in range(REPEATS // 2):
            (g,) = T.gradients(loss(i), [W])
            assert np.array_equal(g, expected[i])

    run_threads(work)
