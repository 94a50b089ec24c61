"""Static-graph benchmark: replaying a captured graph against building and
differentiating the dynamic graph again.

Run:  python3 benchmarks/bench_static.py [--runs 7] [--samples 50]

W1 (as in bench_engine.py): an MLP 64 -> [32, 32, 10] (relu hidden, linear output) built
the way ``nn`` builds neurons (one ``autograd_core.dot`` node per weighted sum, + bias,
relu), the squared outputs over 50 random samples summed into one loss, one backward.
The weights are labelled Values, so ``static`` makes them parameters (extra inputs) and
the 50 samples are constants of the graph.

Rows: the dynamic engine (forward = build the graph, backward = ``loss.backward()``);
the static replays ``g.grad()`` (forward + backward, all parameter gradients) with the
default backend (generated code, + - * rules written out), the generated code calling
every rule, and the flat-array loop; ``g()`` (forward only) against the dynamic forward.
Median seconds of the runs, with Python's default settings and with the cyclic garbage
collector disabled. Every replay is checked to equal the engine bit for bit.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd_core as ac  # noqa: E402
from autograd_core import Value  # noqa: E402
from autograd_core.static import static  # noqa: E402

SIZES = [64, 32, 32, 10]


def w1(samples: int, seed: int = 0) -> tuple[Callable[[], Value], list[Value]]:
    """The W1 loss as a function of no arguments, and its parameters."""
    rng = random.Random(seed)
    layers = []
    for li, (nin, nout) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append([([Value(rng.uniform(-1, 1) / nin ** 0.5, f"L{li}.n{j}.w{k}") for k in range(nin)],
                        Value(rng.uniform(-0.1, 0.1), f"L{li}.n{j}.b")) for j in range(nout)])
    X = [[rng.gauss(0, 1) for _ in range(SIZES[0])] for _ in range(samples)]

    def loss() -> Value:
        terms = []
        for x in X:
            a = x
            for li, layer in enumerate(layers):
                out = []
                for ws, b in layer:
                    z = ac.dot(ws, a) + b
                    out.append(z if li == len(layers) - 1 else z.relu())
                a = out
            terms.extend(o * o for o in a)
        return ac.sum(terms)

    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    return loss, params


def median_time(fn: Callable[[], object], runs: int, gc_off: bool) -> float:
    fn()  # warm up
    times = []
    for _ in range(runs):
        gc.collect()
        was = gc.isenabled()
        if gc_off:
            gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            if was:
                gc.enable()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args(argv)
    if args.runs < 1 or args.samples < 1:
        print("bench_static: --runs and --samples must be >= 1", file=sys.stderr)
        return 2

    loss, params = w1(args.samples)

    # one-off costs
    t0 = time.perf_counter()
    g = static(loss)
    t_capture = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = g.grad()
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    g()
    t_compile_fwd = time.perf_counter() - t0
    g_calls = static(loss)
    g_calls._inline = False
    g_calls.grad()
    g_loop = static(loss, backend="loop")

    # exactness against the engine
    L = loss()
    dyn = ac.gradients(L, list(g.params))
    exact = (L.data == ref.value and list(ref.params) == dyn
             and g_calls.grad() == ref and g_loop.grad() == ref and g() == L.data)
    del L, dyn
    n_nodes, n_edges = g.num_nodes, sum(len(r.operands) for r in g.nodes[:g.num_nodes])

    def dyn_forward() -> Value:
        return loss()

    def dyn_total() -> None:
        loss().backward()

    rows = []
    for gc_off in (False, True):
        setting = "gc off" if gc_off else "default"
        d_fwd = median_time(dyn_forward, args.runs, gc_off)
        d_tot = median_time(dyn_total, args.runs, gc_off)
        rows.append((setting, "dynamic: build graph + backward", d_tot, 1.0))
        for name, fn in (("static g.grad(): generated code (default)", g.grad),
                         ("static g.grad(): generated code, every rule called", g_calls.grad),
                         ("static g.grad(): flat-array loop", g_loop.grad)):
            t = median_time(fn, args.runs, gc_off)
            rows.append((setting, name, t, d_tot / t))
        rows.append((setting, "dynamic: build graph only (forward)", d_fwd, 1.0))
        t = median_time(g, args.runs, gc_off)
        rows.append((setting, "static g(): forward only", t, d_fwd / t))

    print(f"W1: MLP {SIZES[0]} -> {SIZES[1:]}, {args.samples} samples, one loss: "
          f"{n_nodes} nodes, {n_edges} edges, {len(g.params)} parameters; median of {args.runs} runs")
    print(f"one-off: capture {t_capture:.3f} s, generate+compile g.grad {t_compile:.2f} s, "
          f"g() {t_compile_fwd:.2f} s; replays equal the dynamic engine bit for bit: "
          f"{'yes' if exact else 'NO'}")
    print()
    print(f"| {'gc':<8}| {'what':<52}| {'seconds':>9} | {'speed-up vs dynamic':>19} |")
    print(f"|{'-' * 9}|{'-' * 53}|{'-' * 11}|{'-' * 21}|")
    for setting, name, t, ratio in rows:
        print(f"| {setting:<8}| {name:<52}| {t:9.4f} | {ratio:18.1f}x |")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
