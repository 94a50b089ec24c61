"""The largest differences between autograd-core and its exports (issue 20).

    PYTHONPATH=. python3 benchmarks/bench_export.py

Prints one table row per comparison: the largest |ours − theirs| / max(1, |ours|)
over the cases checked by tests/test_export_*.py (same inputs and models).
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import test_export_graph as tg  # noqa: E402
import test_export_torch as tt  # noqa: E402


def main() -> None:
    import jax
    import onnxruntime as ort
    import torch

    import nn
    from autograd_core.export import to_jax, to_onnx, to_torch_source
    from autograd_core.primitives import PRIMITIVES

    rows = []

    def rel(a: float, b: float) -> float:
        return abs(a - b) / max(1.0, abs(b))

    # every primitive: ONNX value, JAX value + gradient, torch file value + gradient
    worst = {"onnx value": 0.0, "jax value": 0.0, "jax gradient": 0.0, "torch file value": 0.0,
             "torch file gradient": 0.0}
    with tempfile.TemporaryDirectory() as d:
        for k, name in enumerate(sorted(PRIMITIVES)):
            prim = PRIMITIVES[name]
            for j, (args, param) in enumerate(tg.cases(prim)):
                out, inputs = tg.build(prim, args, param)
                path = os.path.join(d, f"{name}.onnx")
                to_onnx(out, path, inputs)
                s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                feed = {i.name: np.array(inputs[i.name].data) for i in s.get_inputs()}
                worst["onnx value"] = max(worst["onnx value"], rel(float(s.run(None, feed)[0]), out.data))
                f = to_jax(out, inputs)
                xs = [v.data for v in inputs.values()]
                worst["jax value"] = max(worst["jax value"], rel(float(f(*xs)), out.data))
                gs = jax.grad(f, argnums=tuple(range(len(xs))))(*xs)
                for g, v in zip(gs, inputs.values()):
                    worst["jax gradient"] = max(worst["jax gradient"], rel(float(g), v.grad))
                from pathlib import Path
                mod = tg._load(to_torch_source(out, inputs), Path(d) / f"m{k}_{j}.py")
                ts = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True)
                      for v in inputs.values()]
                y = mod.Formula()(*ts)
                y.backward()
                worst["torch file value"] = max(worst["torch file value"], rel(y.item(), out.data))
                for t, v in zip(ts, inputs.values()):
                    worst["torch file gradient"] = max(worst["torch file gradient"],
                                                       rel(t.grad.item(), v.grad))
    n_cases = sum(len(tg.cases(p)) for p in PRIMITIVES.values())
    for what, w in worst.items():
        rows.append((f"{len(PRIMITIVES)} primitives, {n_cases} points", what, w))

    # nn.to_torch: every activation, both backends, BatchNorm train/eval, residual
    for backend in ("scalar", "tensor"):
        dv = dg = 0.0
        for act in tt.ACTS:
            for bn in (False, True):
                m = nn.MLP(3, [3, 3, 2], activation=act, output_activation=act, batchnorm=bn,
                           residual=True, seed=7, backend=backend)
                a, b, _ = tt.compare(m, tt.X)
                dv, dg = max(dv, a), max(dg, b)
                if bn:
                    m.eval()
                    a, b, _ = tt.compare(m, tt.X)
                    dv, dg = max(dv, a), max(dg, b)
        rows.append((f"nn.to_torch, {backend} MLPs (10 activations, BN train+eval, residual)",
                     "output", dv))
        rows.append((f"nn.to_torch, {backend} MLPs (10 activations, BN train+eval, residual)",
                     "parameter gradient", dg))

    print("| what | compared | largest relative difference |")
    print("|---|---|---:|")
    for who, what, w in rows:
        print(f"| {who} | {what} | {w:.2e} |")


if __name__ == "__main__":
    main()
