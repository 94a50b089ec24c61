"""A per-sample numpy implementation of network2's equations (the reference
the Tensor backend is timed and checked against).

Nielsen's network2 ``Network`` with ``CrossEntropyCost``: sigmoid layers,
weights N(0,1)/√n_in and biases N(0,1) (biases drawn first, then weights,
from ``RandomState(seed)``), and for each mini-batch the per-sample
backpropagation summed over the batch, then
``w ← (1 − ηλ/n) w − (η/m) ∇w``, ``b ← b − (η/m) ∇b``.
Written from the book's equations (BP1–BP4, L2 weight decay).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class Network2:
    def __init__(self, sizes: list[int], seed: int) -> None:
        rng = np.random.RandomState(seed)
        self.sizes = sizes
        self.biases = [rng.randn(y, 1) for y in sizes[1:]]
        self.weights = [rng.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = activations[-1] - y  # cross-entropy cost with sigmoid outputs
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.sizes)):
            sp = sigmoid(zs[-l]) * (1 - sigmoid(zs[-l]))
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def update_mini_batch(self, batch: list, eta: float, lmbda: float, n: int) -> None:
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in batch:
            dnb, dnw = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        m = len(batch)
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]

    def epoch(self, data: list, order: np.ndarray, batch_size: int, eta: float,
              lmbda: float) -> None:
        n = len(data)
        for s in range(0, n, batch_size):
            self.update_mini_batch([data[i] for i in order[s:s + batch_size]], eta, lmbda, n)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        a = X.T
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return float(np.mean(np.argmax(a, axis=0) == y))


def as_samples(X: np.ndarray, y: np.ndarray, nout: int = 10) -> list:
    out = []
    for x, label in zip(X, y):
        t = np.zeros((nout, 1))
        t[int(label)] = 1.0
        out.append((x.reshape(-1, 1), t))
    return out
