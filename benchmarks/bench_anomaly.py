"""Cost of anomaly mode and of the new gradcheck/primitive checks.

    python3 benchmarks/bench_anomaly.py [--runs 5]

Row 1: forward + backward of an MLP(8, [16, 16, 1]) loss on 32 samples,
outside any anomaly context before any was ever entered, after one was
entered and left (the engine's own functions are back: ratio ~1.0), and
inside ``detect_anomaly()`` (checking every node, capturing source lines).
Row 2: seconds to define (and validate) a user primitive with ``@primitive``.
Best of ``--runs`` runs each.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd_core as ac  # noqa: E402
from autograd_core import PRIMITIVES, Value, detect_anomaly  # noqa: E402
from autograd_core import math as am  # noqa: E402


def workload() -> None:
    rng = random.Random(0)
    sizes = [8, 16, 16, 1]
    ws = [[[Value(rng.gauss(0, 0.5)) for _ in range(a)] for _ in range(b)]
          for a, b in zip(sizes, sizes[1:])]
    total = Value(0.0)
    for _ in range(32):
        h = [rng.gauss(0, 1) for _ in range(8)]
        for layer in ws:
            h = [ac.dot(row, h).tanh() for row in layer]
        total = total + (h[0] - 0.5) ** 2
    total.backward()


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    off = best(workload, runs)
    with detect_anomaly():
        pass
    after = best(workload, runs)

    def on() -> None:
        with detect_anomaly():
            workload()
    inside = best(on, runs)

    def define() -> None:
        @ac.primitive("bench_softsign")
        def softsign(x):
            d = 1.0 + abs(x)
            return am.div(x, d), (am.div(1.0, d * d),)
        del PRIMITIVES["bench_softsign"]
    validate = best(define, runs)

    print("| workload | seconds | ratio to off |")
    print("|---|---|---|")
    print(f"| MLP forward+backward, anomaly never entered | {off:.4f} | 1.00 |")
    print(f"| same, after a detect_anomaly() block was left | {after:.4f} | {after / off:.2f} |")
    print(f"| same, inside detect_anomaly() | {inside:.4f} | {inside / off:.2f} |")
    print(f"| define + validate a user primitive (@primitive) | {validate:.4f} | |")


if __name__ == "__main__":
    main()
