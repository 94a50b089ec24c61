"""A plain numpy implementation of network2's equations (sigmoid layers,
cross-entropy cost with delta = a - y at the output, BP1-BP4), used by the
diagnostics/experiments tests as an independent witness. Written from the
book's equations; it shares no code with the library."""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def network2_params(sizes, seed):
    """network2's draws after np.random.seed(seed): all biases, then all weights."""
    rng = np.random.RandomState(seed)
    B = [rng.randn(y, 1) for y in sizes[1:]]
    W = [rng.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    return W, B


def model_params(model):
    """(W, B) of an nn.MLP as numpy arrays (W[l] row j = neuron j)."""
    W, B = [], []
    for layer in model.layers:
        W.append(np.array([[w.data for w in n.w] for n in layer.neurons]))
        B.append(np.array([[n.b.data] for n in layer.neurons]))
    return W, B


def average_gradients(W, B, X, labels):
    """Per layer: (average dC/db (n_out,), average dC/dW (n_out, n_in)), C the
    cross-entropy summed over the outputs and averaged over the images."""
    A = X.T
    acts, zs = [A], []
    for b, w in zip(B, W):
        z = w @ A + b
        zs.append(z)
        A = sigmoid(z)
        acts.append(A)
    Y = np.zeros((W[-1].shape[0], X.shape[0]))
    Y[labels, np.arange(len(labels))] = 1.0
    delta = acts[-1] - Y
    n = X.shape[0]
    gb = [None] * len(B)
    gw = [None] * len(W)
    gb[-1] = delta.sum(1) / n
    gw[-1] = delta @ acts[-2].T / n
    for l in range(2, len(W) + 1):
        sp = sigmoid(zs[-l]) * (1 - sigmoid(zs[-l]))
        delta = (W[-l + 1].T @ delta) * sp
        gb[-l] = delta.sum(1) / n
        gw[-l] = delta @ acts[-l - 1].T / n
    return gb, gw


def speeds(W, B, X, labels):
    gb, _ = average_gradients(W, B, X, labels)
    return [float(np.linalg.norm(g)) for g in gb[:-1]]


def full_batch_step(W, B, X, labels, eta, lmbda):
    """network2's update on one mini-batch holding all n images."""
    gb, gw = average_gradients(W, B, X, labels)
    n = X.shape[0]
    W = [(1 - eta * lmbda / n) * w - eta * g for w, g in zip(W, gw)]
    B = [b - eta * g[:, None] for b, g in zip(B, gb)]
    return W, B
