"""Accuracy of finite differences against the analytic derivatives, and what
gradcheck's defaults catch compared with torch-style and HIPS-style checks.

    python3 benchmarks/bench_gradcheck.py

Table 1: relative error |numeric - analytic| / |analytic| (absolute error
where the analytic derivative is 0) of forward, central and Richardson
differences with their default steps, over every primitive of
``autograd_core.PRIMITIVES`` (several parameter values each), every operand,
on the grid of moderate points of ``autograd_core.testing.primitive_cases``.
Table 2: the same for second derivatives (finite differences of the
analytic gradient, what ``gradcheck(order=2)`` compares with), over the
nonzero Hessian entries.
Table 3: share of injected relative errors in one partial derivative that
each criterion detects (partials with |∂| >= 0.01).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd_core import PRIMITIVES, Value, apply, gradcheck, gradients, grad, numerical_grad  # noqa: E402
from autograd_core.testing import primitive_cases  # noqa: E402

METHODS = ("forward", "central", "richardson")


def rel_error(numeric: float, analytic: float) -> float:
    err = abs(numeric - analytic)
    return err / abs(analytic) if analytic != 0.0 else err


def first_derivatives():
    for case in primitive_cases():
        def f(*xs, case=case):
            return case.fn(*[Value(x) for x in xs]).data
        for point in case.points:
            leaves = [Value(x) for x in point]
            analytic = [float(g) for g in gradients(case.fn(*leaves), leaves)]
            yield case, point, f, analytic


def accuracy_table(title: str, samples, skip_zero: bool = False) -> None:
    errs = {m: [] for m in METHODS}
    worst_at = {m: ("", ()) for m in METHODS}
    worst = {m: 0.0 for m in METHODS}
    t0 = time.perf_counter()
    n = 0
    for label, point, f, analytic in samples:
        n += len(analytic)
        for method in METHODS:
            numeric = numerical_grad(f, point, method=method)
            for a, v in zip(analytic, numeric):
                if skip_zero and a == 0.0:
                    continue
                e = rel_error(v, a)
                if not errs[method] or e > worst[method]:
                    worst_at[method] = (label, point)
                    worst[method] = e
                errs[method].append(e)
    n = len(errs[METHODS[0]])
    print(f"\n{title}: {n} derivatives ({time.perf_counter() - t0:.1f} s)")
    print(f"{'method':<11} {'median rel err':>15} {'worst rel err':>14}  worst at")
    for method in METHODS:
        label, point = worst_at[method]
        where = f"{label} at {', '.join(f'{x:g}' for x in point)}"
        print(f"{method:<11} {statistics.median(errs[method]):>15.2e} "
              f"{max(errs[method]):>14.2e}  {where}")


def second_derivatives():
    for case in primitive_cases():
        for point in case.points:
            for i in range(len(point)):
                gi = grad(case.fn, argnums=i)
                analytic = [float(h) for h in _hessian_row(case, point, i)]
                yield case.label, point, (lambda *xs, gi=gi: float(gi(*xs))), analytic


def _hessian_row(case, point, i):
    leaves = [Value(x) for x in point]
    gs = gradients(case.fn(*leaves), leaves, create_graph=True)
    g = gs[i]
    return gradients(g, leaves) if isinstance(g, Value) else [0.0] * len(point)


def _inject(case, k: int, rel: float):
    prim = case.primitive
    rule = prim.rule

    def faulty(*args):
        value, local = rule(*args)
        local = list(local)
        local[k] = local[k] * (1.0 + rel)
        return value, tuple(local)

    bad = dataclasses.replace(prim, name=f"bench_faulty_{prim.name}", rule=faulty)
    param = case.fn(*[Value(x) for x in case.points[0]]).param
    if param is None:
        return lambda *xs: apply(bad, *xs)
    return lambda *xs: apply(bad, *xs, param=param)


def detection_table() -> None:
    rng = random.Random(0)
    rels = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
    found = {key: {r: 0 for r in rels} for key in ("gradcheck", "torch", "hips")}
    total = 0
    t0 = time.perf_counter()
    for case, point, f, analytic in first_derivatives():
        numeric_c6 = numerical_grad(f, point, method="central", eps=1e-6)
        for k, a in enumerate(analytic):
            if abs(a) < 1e-2:
                continue
            total += 1
            v = [rng.gauss(0.0, 1.0) for _ in point]  # HIPS: one random direction
            for r in rels:
                wrong = list(analytic)
                wrong[k] = a * (1.0 + r)
                # gradcheck with its defaults, on a really faulty primitive
                if not gradcheck(_inject(case, k, r), point):
                    found["gradcheck"][r] += 1
                # torch.autograd.gradcheck criterion: eps 1e-6, atol 1e-5, rtol 1e-3
                if any(abs(w - n) > 1e-5 + 1e-3 * abs(n) for w, n in zip(wrong, numeric_c6)):
                    found["torch"][r] += 1
                # HIPS check_grads style: directional derivative along v, eps 1e-6,
                # fixed tolerances 1e-6
                an = sum(w * d for w, d in zip(wrong, v))
                h = 1e-6
                fd = (f(*[x + h * d for x, d in zip(point, v)]) -
                      f(*[x - h * d for x, d in zip(point, v)])) / (2 * h)
                if abs(an - fd) > 1e-6 + 1e-6 * abs(fd):
                    found["hips"][r] += 1
    print(f"\nInjected relative error in one partial derivative: share detected "
          f"({total} partials, {time.perf_counter() - t0:.1f} s)")
    print(f"{'criterion':<44}" + "".join(f"{r:>9.0e}" for r in rels))
    names = {"gradcheck": "autograd_core.gradcheck (defaults)",
             "torch": "torch-style (eps 1e-6, atol 1e-5, rtol 1e-3)",
             "hips": "HIPS-style (1 random direction, tol 1e-6)"}
    for key, name in names.items():
        print(f"{name:<44}" + "".join(f"{found[key][r] / total:>9.1%}" for r in rels))


def main() -> None:
    print(f"primitives: {len(PRIMITIVES)}, cases (with parameter values): "
          f"{len(primitive_cases())}")
    accuracy_table("First derivatives vs analytic",
                   ((c.label, p, f, a) for c, p, f, a in first_derivatives()))
    accuracy_table("Second derivatives (finite differences of the analytic gradient) vs analytic,\n"
                   "nonzero entries of the Hessians", second_derivatives(), skip_zero=True)
    detection_table()
    # keep the table honest: fail loudly if the target is missed
    worst = max(rel_error(v, a) for c, p, f, an in first_derivatives()
                for v, a in zip(numerical_grad(f, p), an))
    target = "met" if worst <= 1e-9 else "MISSED"
    print(f"\nRichardson worst relative error {worst:.2e}: target <= 1e-9 {target}")


if __name__ == "__main__":
    main()
