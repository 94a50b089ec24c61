"""Training speed of nn.MLP(784, [30, 10]) against micrograd 0.1.0's MLP.

Samples per second for forward + backward + SGD step, mini-batches of 10, on
MNIST test images (../shared/data/mnist relative to the repository, then
/usr/share/datasets/fashion-mnist, or --data DIR; random data of the same
shape when none is found). Both models are ReLU hidden layer + linear output
with the quadratic cost, the same images, in the same run. Target: nn at least
50x micrograd.

    python3 benchmarks/bench_nn.py [--images 1000] [--micrograd-images 100]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import autograd_core as ag  # noqa: E402
import nn  # noqa: E402
from nn.data import find_mnist, load_mnist  # noqa: E402


def get_data(n: int, data_dir: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    folder = find_mnist((data_dir,) if data_dir else ())
    if folder is not None:
        X, y = load_mnist(folder, limit=n)
        return X, y, folder
    rng = np.random.RandomState(0)
    X = rng.rand(n, 784) * (rng.rand(n, 784) < 0.2)   # MNIST-like: ~80% zero pixels
    return X, rng.randint(0, 10, size=n), "random data (no MNIST files found)"


def one_hot(k: int) -> list[float]:
    t = [0.0] * 10
    t[k] = 1.0
    return t


def bench_nn(X: np.ndarray, y: np.ndarray, batch: int, activation: str, out_act: str, loss: str,
             lr: float) -> float:
    model = nn.MLP(784, [30, 10], activation=activation, output_activation=out_act, seed=0)
    opt = nn.SGD(model.parameters(), lr=lr)
    loss_fn = nn.losses.get(loss)
    rows = [tuple(r) for r in X.tolist()]
    labels = [int(v) for v in y]
    t0 = time.perf_counter()
    for s in range(0, len(rows), batch):
        opt.zero_grad()
        outs = model.forward_batch(rows[s:s + batch])
        obj = ag.sum([loss_fn(o, t) for o, t in zip(outs, labels[s:s + batch])]) * (1.0 / batch)
        obj.backward()
        opt.step()
    return len(rows) / (time.perf_counter() - t0)


def bench_micrograd(X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> float:
    from micrograd.nn import MLP
    random.seed(0)
    model = MLP(784, [30, 10])
    params = model.parameters()
    rows = X.tolist()
    t0 = time.perf_counter()
    for s in range(0, len(rows), batch):
        model.zero_grad()
        total = 0
        for x, k in zip(rows[s:s + batch], y[s:s + batch]):
            out = model(x)
            total = total + sum((o - t) ** 2 for o, t in zip(out, one_hot(int(k)))) * 0.5
        obj = total * (1.0 / batch)
        obj.backward()
        for p in params:
            p.data -= lr * p.grad
    return len(rows) / (time.perf_counter() - t0)


def bench_bias_variants(X: np.ndarray, reps: int) -> list[tuple[str, float]]:
    """First layer (784 -> 30) forward + backward per image, three ways of
    adding the bias: folded into the dot_const node (w·x + b·1, one node, what
    nn.Neuron does), the same dot_const node without the bias followed by + b
    (two nodes), and the public autograd_core.dot(w, x) + b (two nodes, plus
    dot()'s per-call input checks)."""
    from autograd_core import engine
    from autograd_core.primitives import PRIMITIVES
    dc = PRIMITIVES["dot_const"]
    layer = nn.Layer(784, 30, activation="linear", seed=0)
    rows = [tuple(r) for r in X[:reps].tolist()]
    ws = [tuple(n.w) for n in layer.neurons]

    def folded() -> None:
        for xs in rows:
            ag.sum(layer(xs)).backward()

    def node_plus_b() -> None:
        for xs in rows:
            zs = []
            for w, n in zip(ws, layer.neurons):
                out, local = dc.rule(*[p._data for p in w], xs)
                zs.append(engine._node(out, w, local, dc, xs) + n.b)
            ag.sum(zs).backward()

    def public_dot() -> None:
        for xs in rows:
            ag.sum([ag.dot(n.w, xs) + n.b for n in layer.neurons]).backward()

    out = []
    for name, f in (("bias folded into one dot_const node (nn.Neuron)", folded),
                     ("dot_const node, then + b (two nodes)", node_plus_b),
                     ("autograd_core.dot(w, x) + b (two nodes)", public_dot)):
        t0 = time.perf_counter()
        f()
        out.append((name, (time.perf_counter() - t0) / len(rows) * 1e3))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=1000, help="images for nn (default 1000)")
    ap.add_argument("--micrograd-images", type=int, default=100, help="images for micrograd (default 100)")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--data", default=None, help="folder with MNIST IDX files")
    args = ap.parse_args()
    X, y, source = get_data(max(args.images, args.micrograd_images), args.data)
    print(f"data: {source}; nn on {args.images} images, micrograd on {args.micrograd_images}, "
          f"mini-batch {args.batch_size}, MLP(784, [30, 10])\n")
    nn_relu = bench_nn(X[:args.images], y[:args.images], args.batch_size, "relu", "linear", "quadratic", 0.01)
    nn_sig = bench_nn(X[:args.images], y[:args.images], args.batch_size, "sigmoid", "sigmoid",
                      "binary_cross_entropy", 0.5)
    mg = bench_micrograd(X[:args.micrograd_images], y[:args.micrograd_images], args.batch_size, 0.01)
    rows = [
        ("micrograd 0.1.0 MLP (relu, linear out, quadratic)", mg, 1.0),
        ("nn.MLP (relu, linear out, quadratic)", nn_relu, nn_relu / mg),
        ("nn.MLP (sigmoid, sigmoid out, cross-entropy)", nn_sig, nn_sig / mg),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'model':<{w}} | {'samples/s':>10} | {'vs micrograd':>12}")
    print(f"{'-' * w}-|-{'-' * 10}-|-{'-' * 12}")
    for name, sps, ratio in rows:
        print(f"{name:<{w}} | {sps:>10.1f} | {ratio:>11.1f}x")
    target = nn_relu / mg >= 50
    print(f"\ntarget >= 50x micrograd (same model and cost): {'met' if target else 'NOT met'} "
          f"({nn_relu / mg:.1f}x)")
    variants = bench_bias_variants(X, min(200, len(X)))
    print("\nthe bias, layer 784->30, forward+backward per image:")
    w = max(len(n) for n, _ in variants)
    for name, ms in variants:
        print(f"  {name:<{w}} | {ms:6.2f} ms")


if __name__ == "__main__":
    main()
