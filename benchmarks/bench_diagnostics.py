"""Time the 1000-image learning-speed measurement of [784,30,30,30,30,10].

The scalar engine (``nn.diagnostics.learning_speeds``: the averaged
cross-entropy of 1000 images as graphs of dot nodes, differentiated by the
engine's one backward driver) against a vectorised numpy implementation of
network2's equations on the same weights and images, in the same run.
Target: the scalar measurement takes at most 20 s on the 2-core machine.

    python3 benchmarks/bench_diagnostics.py [--images 1000] [--seed 0] [--chunk-size 100]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import nn
from nn import diagnostics as diag
from nn.experiments import load_images

SIZES = [784, 30, 30, 30, 30, 10]
TARGET_S = 20.0


def numpy_speeds(W: list[np.ndarray], B: list[np.ndarray], X: np.ndarray, labels: np.ndarray) -> list[float]:
    """network2's backpropagation over the whole batch at once: sigmoid layers,
    delta = a − y at the cross-entropy output, ∂C/∂b averaged over the images."""
    A = X.T
    acts, zs = [A], []
    for b, w in zip(B, W):
        z = w @ A + b
        zs.append(z)
        A = 1.0 / (1.0 + np.exp(-z))
        acts.append(A)
    Y = np.zeros((W[-1].shape[0], X.shape[0]))
    Y[labels, np.arange(len(labels))] = 1.0
    delta = acts[-1] - Y
    grads = [delta.sum(1)]
    for l in range(2, len(W) + 1):
        s = 1.0 / (1.0 + np.exp(-zs[-l]))
        delta = (W[-l + 1].T @ delta) * s * (1 - s)
        grads.insert(0, delta.sum(1))
    n = X.shape[0]
    return [float(np.linalg.norm(g / n)) for g in grads[:-1]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-size", type=int, default=100,
                    help="images per graph (the gradients are summed over the chunks)")
    args = ap.parse_args(argv)

    X, y, info = load_images(args.images)
    if info.message:
        print(f"note: {info.message}", file=sys.stderr)
    model = nn.MLP(784, SIZES[1:], activation="sigmoid", output_activation="sigmoid",
                   init="nielsen", seed=args.seed)
    W = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
    B = [np.array([[n.b.data] for n in layer.neurons]) for layer in model.layers]

    t = time.perf_counter()
    g = diag.layer_gradients(model, X, y, "binary_cross_entropy", chunk_size=args.chunk_size)
    scalar_s = time.perf_counter() - t
    scalar = g.bias_norms()[:-1]

    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        ref = numpy_speeds(W, B, X, y)
    numpy_s = (time.perf_counter() - t) / reps

    rel = max(abs(a - b) / b for a, b in zip(scalar, ref))
    nodes = len(X) * (sum(SIZES[1:]) * 3 + 10 * 4)
    print(f"Learning speeds of {SIZES}, seed {args.seed}, {info.describe()}")
    print(f"(scalar graph: about {nodes:,} nodes and {len(X) * 30 * 785:,} first-layer edges)\n")
    print(f"{'method':<40} {'seconds':>9} {'× numpy':>9}  speeds")
    print(f"{'scalar engine (nn.diagnostics)':<40} {scalar_s:9.3f} {scalar_s / numpy_s:9.0f}  "
          + " ".join(f"{v:.5f}" for v in scalar))
    print(f"{'numpy, network2 equations (vectorised)':<40} {numpy_s:9.4f} {1:9.0f}  "
          + " ".join(f"{v:.5f}" for v in ref))
    print(f"\nlargest relative difference of the speeds: {rel:.2e}")
    ok = scalar_s <= TARGET_S
    print(f"target: scalar measurement <= {TARGET_S:.0f} s: {'met' if ok else 'NOT met'} "
          f"({scalar_s:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
