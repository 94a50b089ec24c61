"""Engine benchmark: autograd-core against micrograd 0.1.0 (and PyTorch when installed).

Run:  python3 benchmarks/bench_engine.py [--runs 5] [--samples 50] [--max-depth 1000000]

W1  MLP 64 -> [32, 32, 10] (relu hidden, linear output) built from scalar ops, the summed
    squared outputs over 50 random samples as one loss, then one backward. Forward,
    backward and total CPU seconds (time.process_time), median of the rounds (in each
    round every engine runs once, in turn); with Python's default settings and
    with the cyclic garbage collector disabled for both engines. autograd-core builds each
    neuron's weighted sum as one n-ary `dot` node (as `nn` does); the row "binary ops"
    builds it from 2n binary nodes like micrograd, for comparison.
W2  the chain y = y*1.0001 + x at depths 1e3 .. 1e6: backward seconds, or the error.
W3  bytes per node (tracemalloc) of that chain at depth 1e5, after the forward pass.
W4  (PyTorch 2.13.0 installed) W1 with 0-d float64 tensors.
W5  gradients(x*x, [x], create_graph=True) where x has a 100,000-node history (ms); and
    with three computed inputs, gradients(c*b + a, [x, a, b]) (a = tanh x, b = a*3 + x,
    c = sin(b*a)), with and without create_graph.

autograd-core rows run the compiled driver/node maker (autograd_core._speedups) when it
is built, and the rows marked "pure Python" the reference pure-Python engine in the same
process; "pause_gc" rows wrap the forward and backward in autograd_core.pause_gc().
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd_core as ac  # noqa: E402
from autograd_core import Value, engine  # noqa: E402

try:
    from micrograd.engine import Value as MValue  # type: ignore
    from micrograd.nn import MLP as MMLP  # type: ignore
except ImportError:  # pragma: no cover - the bench extra installs it
    MValue = MMLP = None

try:
    import torch  # type: ignore
except ImportError:
    torch = None

SIZES = [64, 32, 32, 10]

#: CPU time of this process: on a machine shared with other jobs, waiting for a
#: core does not count (on an idle machine it is the wall-clock time).
clock = time.process_time


def _weights(seed: int = 0) -> list[tuple[list[list[float]], list[float]]]:
    rng = random.Random(seed)
    layers = []
    for nin, nout in zip(SIZES[:-1], SIZES[1:]):
        w = [[rng.uniform(-1, 1) / nin ** 0.5 for _ in range(nin)] for _ in range(nout)]
        b = [rng.uniform(-0.1, 0.1) for _ in range(nout)]
        layers.append((w, b))
    return layers


def _data(samples: int, seed: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(SIZES[0])] for _ in range(samples)]


# ----------------------------------------------------------------- builders

def ours_dot(layers, X):
    params = [([[Value(w) for w in row] for row in W], [Value(b) for b in B]) for W, B in layers]

    def forward():
        terms = []
        for x in X:
            a = x
            for li, (W, B) in enumerate(params):
                last = li == len(params) - 1
                out = []
                for ws, b in zip(W, B):
                    z = ac.dot(ws, a) + b
                    out.append(z if last else z.relu())
                a = out
            terms.extend(o * o for o in a)
        return ac.sum(terms)
    return forward, [p for W, B in params for row in W for p in row] + [b for _, B in params for b in B]


def ours_binary(layers, X):
    params = [([[Value(w) for w in row] for row in W], [Value(b) for b in B]) for W, B in layers]

    def forward():
        loss = 0.0
        for x in X:
            a = x
            for li, (W, B) in enumerate(params):
                last = li == len(params) - 1
                out = []
                for ws, b in zip(W, B):
                    z = b
                    for w, xi in zip(ws, a):
                        z = z + w * xi
                    out.append(z if last else z.relu())
                a = out
            for o in a:
                loss = loss + o * o
        return loss
    return forward, None


def micrograd_mlp(layers, X):
    model = MMLP(SIZES[0], SIZES[1:])
    for layer, (W, B) in zip(model.layers, layers):
        for neuron, ws, b in zip(layer.neurons, W, B):
            for p, w in zip(neuron.w, ws):
                p.data = w
            neuron.b.data = b

    def forward():
        loss = MValue(0.0)
        for x in X:
            for o in model(x):
                loss = loss + o * o
        return loss
    return forward, None


def torch_mlp(layers, X):
    params = [([[torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in row] for row in W],
               [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in B]) for W, B in layers]
    Xt = [[torch.tensor(v, dtype=torch.float64) for v in x] for x in X]

    def forward():
        loss = torch.tensor(0.0, dtype=torch.float64)
        for x in Xt:
            a = x
            for li, (W, B) in enumerate(params):
                last = li == len(params) - 1
                out = []
                for ws, b in zip(W, B):
                    z = b
                    for w, xi in zip(ws, a):
                        z = z + w * xi
                    out.append(z if last else torch.relu(z))
                a = out
            for o in a:
                loss = loss + o * o
        return loss
    return forward, None


@contextlib.contextmanager
def pure_python():
    """Run the reference pure-Python driver and node maker."""
    saved = engine._speedups, engine._node
    engine._speedups, engine._node = None, engine._py_node
    try:
        yield
    finally:
        engine._speedups, engine._node = saved


def variant(build, *, pure: bool = False, pause: bool = False):
    """``build`` run with the pure-Python engine and/or inside pause_gc()."""
    def wrapped(layers, X):
        forward, params = build(layers, X)

        def run():
            with (pure_python() if pure else contextlib.nullcontext()):
                with (ac.pause_gc() if pause else contextlib.nullcontext()):
                    loss = forward()
                    return _Timed(loss, pure, pause)
        return run, params
    return wrapped


class _Timed:
    """The loss; its backward runs in the same engine mode as the forward."""

    def __init__(self, loss, pure, pause):
        self.loss, self.pure, self.pause, self.data = loss, pure, pause, loss.data

    def backward(self):
        with (pure_python() if self.pure else contextlib.nullcontext()):
            with (ac.pause_gc() if self.pause else contextlib.nullcontext()):
                self.loss.backward()


# ----------------------------------------------------------------- timing

def time_w1_once(build: Callable, layers, X, gc_off: bool) -> tuple[float, float, float, float]:
    """One forward + backward: (forward, backward, total) CPU seconds and the loss."""
    forward, _ = build(layers, X)
    gc.collect()
    was = gc.isenabled()
    if gc_off:
        gc.disable()
    try:
        t0 = clock()
        loss = forward()
        t1 = clock()
        loss.backward()
        t2 = clock()
    finally:
        if was:
            gc.enable()
    loss_value = float(loss.data if not hasattr(loss, "item") else loss.item())
    del loss, forward
    return t1 - t0, t2 - t1, t2 - t0, loss_value


def time_w1(peers, layers, X, runs: int, gc_off: bool) -> dict[str, tuple[float, float, float, float]]:
    """Median over ``runs`` rounds; each round runs every engine once, in turn,
    so that a change of machine load affects all of them alike."""
    samples: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name, _ in peers}
    for _ in range(runs):
        for name, build in peers:
            samples[name].append(time_w1_once(build, layers, X, gc_off))
    return {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs),
                   statistics.median(r[2] for r in rs), rs[-1][3])
            for name, rs in samples.items()}


def chain(value_cls, depth: int):
    x = value_cls(1.0)
    y = value_cls(0.5)
    for _ in range(depth):
        y = y * 1.0001 + x
    return x, y


def time_w2(value_cls, depth: int) -> str:
    x, y = chain(value_cls, depth)
    t0 = clock()
    try:
        y.backward()
    except RecursionError:
        return "RecursionError"
    return f"{clock() - t0:.3f}"


def bytes_per_node(value_cls, depth: int, nodes_per_step: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    x, y = chain(value_cls, depth)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del x, y
    return (after - before) / (depth * nodes_per_step)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--max-depth", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    if args.runs < 1 or args.samples < 1:
        ap.error("--runs and --samples must be at least 1")

    layers = _weights()
    X = _data(args.samples)
    print(f"W1: MLP {SIZES[0]} -> {SIZES[1:]}, {args.samples} samples, median of {args.runs} rounds "
          f"(Python {sys.version.split()[0]}); CPU seconds of this process (time.process_time), "
          f"engines taking turns in each round\n")
    rows = []
    compiled = engine._speedups is not None
    print("autograd-core engine: " + ("compiled driver and node maker (autograd_core._speedups)"
                                      if compiled else "pure Python (_speedups not built)") + "\n")
    peers = [("autograd-core (dot nodes)", ours_dot), ("autograd-core (binary ops)", ours_binary)]
    if compiled:
        peers.append(("autograd-core (binary ops, pure Python)", variant(ours_binary, pure=True)))
    peers.append(("autograd-core (binary ops, pure Python, pause_gc)",
                  variant(ours_binary, pure=True, pause=True)))
    if MMLP is not None:
        peers.append(("micrograd 0.1.0", micrograd_mlp))
    if torch is not None:
        peers.append((f"PyTorch {torch.__version__} 0-d (W4)", torch_mlp))
    results: dict[tuple[str, bool], tuple[float, float, float, float]] = {}
    for gc_off in (False, True):
        by_name = time_w1(peers, layers, X, args.runs, gc_off)
        for name, _ in peers:
            r = by_name[name]
            results[(name, gc_off)] = r
            rows.append((name, "off" if gc_off else "on", *r))
    print("| engine | gc | forward s | backward s | total s | loss | micrograd total / this total |")
    print("|---|---|---|---|---|---|---|")
    for name, gcs, f, b, t, loss in rows:
        ref = results.get(("micrograd 0.1.0", gcs == "off"))
        ratio = f"{ref[2] / t:.1f}" if ref and not name.startswith("micrograd") else ""
        print(f"| {name} | {gcs} | {f:.3f} | {b:.3f} | {t:.3f} | {loss:.6f} | {ratio} |")
    if torch is not None:
        for gcs in (False, True):
            tt = results[(f"PyTorch {torch.__version__} 0-d (W4)", gcs)][2]
            ours = results[("autograd-core (dot nodes)", gcs)][2]
            print(f"\nW4 (gc {'off' if gcs else 'on'}): autograd-core {tt / ours:.1f}x faster than PyTorch 0-d tensors")

    fwd, _ = ours_binary(layers, X)
    n_nodes = len(ac.topological_order(fwd()))
    print(f"\nBackward per node, binary-op W1 graph ({n_nodes:,} nodes), collector on: "
          + ", ".join(f"{name}: {results[(name, False)][1] / n_nodes * 1e6:.2f} us"
                      for name, _ in peers if "binary" in name or name.startswith("micrograd")))

    print("\nW5: gradients(x*x, [x], create_graph=True), x with a 100,000-node history\n")
    x = Value(0.5)
    for _ in range(50_000):
        x = x * 0.99999 + 0.00001
    ts = []
    for _ in range(args.runs):
        t0 = clock()
        ac.gradients(x * x, [x], create_graph=True)
        ts.append(clock() - t0)
    print("| call | ms |")
    print("|---|---|")
    print(f"| gradients(x*x, [x], create_graph=True) | {statistics.median(ts) * 1e3:.3f} |")
    a = x.tanh()
    b = a * 3.0 + x
    out = (b * a).sin() * b + a
    for cg in (False, True):
        ts = []
        for _ in range(args.runs):
            t0 = clock()
            ac.gradients(out, [x, a, b], create_graph=cg)
            ts.append(clock() - t0)
        print(f"| gradients(out, [x, a, b], create_graph={cg}) | {statistics.median(ts) * 1e3:.3f} |")
    del x, a, b, out

    print("\nW2: chain y = y*1.0001 + x, backward seconds\n")
    depths = [d for d in (1_000, 10_000, 100_000, 1_000_000) if d <= args.max_depth]
    print("| depth | " + " | ".join(["autograd-core"] + (["micrograd 0.1.0"] if MValue else [])) + " |")
    print("|---|" + "---|" * (2 if MValue else 1))
    for d in depths:
        cells = [time_w2(Value, d)]
        if MValue is not None:
            cells.append(time_w2(MValue, d) if d <= 100_000 else "RecursionError (not run past 1e5)")
        print(f"| {d:,} | " + " | ".join(cells) + " |")

    print("\nW3: bytes per node (tracemalloc), chain depth 100,000 after the forward pass\n")
    print("| engine | bytes per node | bytes per chain step |")
    print("|---|---|---|")
    ours = bytes_per_node(Value, 100_000, 2)
    print(f"| autograd-core (2 nodes a step: mul_const, add) | {ours:.0f} | {2 * ours:.0f} |")
    if MValue is not None:
        mg = bytes_per_node(MValue, 100_000, 3)
        print(f"| micrograd 0.1.0 (3 nodes a step: constant, *, +) | {mg:.0f} | {3 * mg:.0f} |")
    print("\n(PyTorch is left out of W3: its nodes live in C++ memory that tracemalloc does not see.)")


if __name__ == "__main__":
    main()
