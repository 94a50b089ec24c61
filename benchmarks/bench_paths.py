"""Trace.paths on long chains: time per step stays flat (linear), where the
old walk copied the path's tuples at every step (quadratic: 16,000 steps took
10.8 s).

    python3 benchmarks/bench_paths.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd_core import Value, explain  # noqa: E402


def chain(n: int) -> Value:
    x = Value(0.5, "x")
    h = x
    for i in range(n):
        h = h + 0.1 if i % 2 else (h * 1.0001).tanh()
    return h


def main() -> None:
    print(f"{'steps':>7}  {'paths() s':>9}  {'µs/step':>8}  {'ratio to 1000':>13}")
    base = None
    for n in (1000, 4000, 16000, 64000):
        t = explain(chain(n))
        t0 = time.perf_counter()
        t.paths("x")
        dt = time.perf_counter() - t0
        per = dt / n * 1e6
        base = base or per
        print(f"{n:>7}  {dt:>9.3f}  {per:>8.2f}  {per / base:>13.2f}")


if __name__ == "__main__":
    main()
