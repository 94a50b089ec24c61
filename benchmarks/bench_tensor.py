"""Tensor backend speed (issue 9): prints a table of times and ratios.

1. One training epoch of [784,30,10] (sigmoid, cross-entropy, mini-batch 10,
   eta 0.1, lambda 5.0) on the MNIST test set's first 8000 images (and on
   Fashion-MNIST's 60000 with ``--fashion``): ``nn.fit`` on
   ``nn.MLP(..., backend="tensor")`` against a per-sample numpy
   implementation of network2's equations (benchmarks/_network2.py), same
   initial weights, same batch order. Target: Tensor <= 0.5x network2 (issue 9),
   <= 0.4x (issue 19).
2. The same epoch in PyTorch 2.13.0 CPU when it is installed (optional).
   Target: Tensor within 1.5x of PyTorch.
3. The textbook chapter's learning-speed measurement (‖∂C/∂b^l‖ per layer of
   [784,30,30,10] on 1000 training images): the Tensor engine against the
   scalar engine, with the speed-up.

BLAS runs single-threaded (threadpoolctl) for every contender: mini-batches
of 10 are far too small for threads, and the machine is shared.

Usage: python3 benchmarks/bench_tensor.py [--repeat 3] [--fashion] [--no-scalar] [--data DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import nn  # noqa: E402
from _network2 import Network2, as_samples  # noqa: E402
from nn.tensor_train import LearningSpeed  # noqa: E402

ETA, LMBDA, B = 0.1, 5.0, 10


def _best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def epoch_network2(X: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, Network2, float]:
    """(wall seconds, the trained network, CPU seconds) of one epoch."""
    net = Network2([784, 30, 10], seed)
    data = as_samples(X, y)
    order = np.random.RandomState(seed).permutation(len(X))
    t, c = time.perf_counter(), time.process_time()
    net.epoch(data, order, B, ETA, LMBDA)
    return time.perf_counter() - t, net, time.process_time() - c


def epoch_tensor(X: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, object, float]:
    """(wall seconds, the trained model, CPU seconds) of one epoch."""
    m = nn.MLP(784, [30, 10], seed=seed, backend="tensor")
    t, c = time.perf_counter(), time.process_time()
    nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.optim.SGD(m.parameters(), lr=ETA),
           epochs=1, batch_size=B, l2=LMBDA, seed=seed, progress=False)
    return time.perf_counter() - t, m, time.process_time() - c


def epoch_torch(X: np.ndarray, y: np.ndarray, seed: int = 0) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    r = np.random.RandomState(seed)
    b = [r.randn(30, 1), r.randn(10, 1)]
    w = [r.randn(30, 784) / math.sqrt(784), r.randn(10, 30) / math.sqrt(30)]
    model = torch.nn.Sequential(torch.nn.Linear(784, 30), torch.nn.Sigmoid(), torch.nn.Linear(30, 10)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w[0]))
        model[0].bias.copy_(torch.from_numpy(b[0][:, 0]))
        model[2].weight.copy_(torch.from_numpy(w[1]))
        model[2].bias.copy_(torch.from_numpy(b[1][:, 0]))
    Xt = torch.from_numpy(X)
    Yt = torch.from_numpy(np.eye(10)[y])
    n = len(X)
    weights = [model[0].weight, model[2].weight]
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    lossf = torch.nn.BCEWithLogitsLoss(reduction="sum")
    order = torch.from_numpy(np.random.RandomState(seed).permutation(n))
    t = time.perf_counter()
    for s in range(0, n, B):
        idx = order[s:s + B]
        opt.zero_grad()
        loss = lossf(model(Xt[idx]), Yt[idx]) / len(idx)
        loss = loss + sum((W * W).sum() for W in weights) * (LMBDA / (2 * n))
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def speed_measurement(X: np.ndarray, y: np.ndarray, scalar: bool) -> list[tuple[str, float, list[float]]]:
    """Gradient of the mean cost over 1000 images, [784,30,30,10]: ‖∂C/∂b^l‖."""
    out = []
    Xs, ys = X[:1000], y[:1000]
    t = nn.MLP(784, [30, 30, 10], seed=0, backend="tensor")
    from nn.tensor_train import _output_and_loss, encode_targets
    Y, _ = encode_targets(ys, 1000, 10, "bench")
    t0 = time.perf_counter()
    _, obj = _output_and_loss(t, Xs, Y, "binary_cross_entropy")
    obj.backward()
    out.append(("tensor", time.perf_counter() - t0, LearningSpeed.bias_gradient_norms(t)))
    if scalar:
        s = nn.MLP(784, [30, 30, 10], seed=0)
        t0 = time.perf_counter()
        rows = [tuple(x) for x in Xs.tolist()]
        outs = s.forward_batch(rows)
        import autograd_core as ag
        obj = ag.sum([nn.losses.binary_cross_entropy(o, int(c)) for o, c in zip(outs, ys)]) * (1 / 1000)
        obj.backward()
        out.append(("scalar", time.perf_counter() - t0, LearningSpeed.bias_gradient_norms(s)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fashion", action="store_true", help="also time an epoch on Fashion-MNIST's 60000")
    ap.add_argument("--no-scalar", action="store_true", help="skip the scalar engine (slow)")
    ap.add_argument("--data", metavar="DIR", help="folder holding the MNIST t10k IDX files "
                    "(default: the repository's usual places)")
    args = ap.parse_args()
    folder = nn.data.find_mnist((args.data,) if args.data else ())
    if folder is None:
        print("MNIST files not found", file=sys.stderr)
        return 2
    X, y = nn.load_mnist(folder, "test")
    sets = [("MNIST 8000", X[:8000], y[:8000])]
    if args.fashion:
        Xf, yf = nn.load_mnist("/usr/share/datasets/fashion-mnist", "train")
        sets.append(("Fashion 60000", Xf, yf))
    rows = []
    with threadpool_limits(1):
        for name, Xs, ys in sets:
            rep = args.repeat if len(Xs) <= 10000 else 1
            rn = [epoch_network2(Xs, ys) for _ in range(rep)]
            rt = [epoch_tensor(Xs, ys) for _ in range(rep)]
            tn, tt = min(r[0] for r in rn), min(r[0] for r in rt)
            cn, ct = min(r[2] for r in rn), min(r[2] for r in rt)
            tp = None
            if rep:
                tps = [epoch_torch(Xs, ys) for _ in range(rep)]
                tp = None if tps[0] is None else min(tps)
            # the two implementations train the same network the same way
            net = epoch_network2(Xs[:500], ys[:500])[1]
            m = epoch_tensor(Xs[:500], ys[:500])[1]
            diff = max(float(np.abs(m.layers[i].weight.data - net.weights[i]).max()) for i in range(2))
            rows.append((name, tn, tt, tp, diff, cn, ct))
        speeds = speed_measurement(X, y, not args.no_scalar)
    print("Tensor backend: one epoch of [784,30,10], mini-batch 10, eta 0.1, lambda 5.0 "
          "(best of %d; BLAS 1 thread)" % args.repeat)
    print(f"{'data':<15} {'network2 s':>11} {'Tensor s':>9} {'ratio':>6} {'target':>7} "
          f"{'PyTorch s':>10} {'vs torch':>9} {'max |ΔW| (500 imgs)':>20} {'CPU s n2/Tensor':>16} "
          f"{'CPU ratio':>9}")
    for name, tn, tt, tp, diff, cn, ct in rows:
        torch_s = f"{tp:10.3f}" if tp else f"{'n/a':>10}"
        vs = f"{tt / tp:8.2f}x" if tp else f"{'n/a':>9}"
        print(f"{name:<15} {tn:11.3f} {tt:9.3f} {tt / tn:5.2f}x {'<=0.4x':>7} {torch_s} {vs} {diff:20.2e} "
              f"{cn:7.3f}/{ct:<8.3f} {ct / cn:8.2f}x")
    print("(wall-clock best of each; CPU s = best process CPU time, steadier on a shared machine)")
    print("\nLearning-speed measurement (‖∂C/∂b^l‖, [784,30,30,10], 1000 images, one gradient)")
    base = None
    for name, sec, sp in speeds:
        if name == "scalar":
            base = sec
        print(f"  {name:<7} {sec:9.3f} s   speeds {' '.join(f'{v:.4g}' for v in sp)}")
    if base is not None:
        print(f"  speed-up Tensor vs scalar: {base / speeds[0][1]:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
