"""Neurons, layers, MLPs, BatchNorm and residual connections.

A neuron computes ``a = f(z)`` with ``z = w·x + b``. The weighted sum is ONE
n-ary node of the graph (the engine's ``dot_const`` primitive when the inputs
are plain numbers such as pixels, with the bias folded in as one more operand
times the constant 1.0; ``dot(w, x) + b`` when the inputs are Values), so a
784-input neuron adds two nodes to the graph, not 1,568, while every weight is
still a parent with its exact local derivative ∂z/∂w_i = x_i.

Node labels: parameters carry their module path (``layers.0.neurons.3.w.12``,
``layers.0.neurons.3.b``); each call labels the neuron's weighted sum
``<path>z`` and its output ``<path>out`` (a linear neuron's output is its ``z``
node, labelled ``out``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Value
from autograd_core import engine as _engine
from autograd_core.core.primitives import PRIMITIVES

from . import init as _init
from .module import MODEL_CLASSES, Module

#: ``MLP(..., backend=name)`` builds this class: "scalar" is MLP, nn.tensor_layers
#: registers "tensor" (so this module does not import it).
MLP_BACKENDS: dict[str, type] = {}

__all__ = ["Neuron", "Layer", "MLP", "BatchNorm", "Residual", "ACTIVATIONS", "activation_fn"]

_DOT_CONST = PRIMITIVES["dot_const"]
_DOT_CONST_RULE = _DOT_CONST.rule
_make_node = _engine._node  # the engine's node constructor (respects no_grad)

#: activation name -> f(z) on a Value. ``prelu`` is special: it uses the
#: neuron's learnable slope ``alpha``.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,          # negative slope 0.01
    "prelu": None,                           # x if x > 0 else alpha * x, alpha learnable (0.25)
    "elu": Value.elu,                        # alpha 1.0
    "softplus": Value.softplus,
    "swish": Value.swish,                    # beta 1.0
    "gelu": Value.gelu,                      # exact, x * Φ(x)
    "linear": None,                          # identity: no node
}

#: initial slope of a PReLU neuron (as in He et al. 2015 and PyTorch)
PRELU_INIT = 0.25


def activation_fn(activation: str | Callable[[Value], Value]) -> str | Callable[[Value], Value]:
    """Validate an activation given by name or as a callable."""
    if callable(activation):
        return activation
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; use a callable or one of: "
                         f"{', '.join(ACTIVATIONS)}")
    return activation


def _check_size(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def layer_parameters(who: str, kind: str, nin: Any, nout: Any, init: Any, seed: Any,
                     weights: Any, biases: Any, residual: bool) -> tuple[int, int, np.ndarray, np.ndarray]:
    """A layer's checked sizes and its (nout, nin) weights and (nout,) biases:
    the ones given, or drawn with ``init``/``seed``. Shared by the scalar
    :class:`Layer` and the Tensor ``nn.Linear`` (``who`` names the class in
    messages, ``kind`` the layer in the residual one)."""
    nin = _check_size(nin, f"{who} nin")
    nout = _check_size(nout, f"{who} nout")
    if residual and nin != nout:
        raise ValueError(f"a residual {kind} needs nin == nout, got {nin} and {nout}")
    if weights is None or biases is None:
        (W, b), = _init.draw(init, [nin, nout], _init.make_rng(seed))
        weights = W if weights is None else weights
        biases = b if biases is None else biases
    weights = np.asarray(weights, dtype=float)
    biases = np.asarray(biases, dtype=float).reshape(-1)
    if weights.shape != (nout, nin) or biases.shape != (nout,):
        raise ValueError(f"{who}({nin}, {nout}) needs weights of shape ({nout}, {nin}) and "
                         f"{nout} biases, got {weights.shape} and {biases.shape}")
    return nin, nout, weights, biases


def _as_inputs(x: Any, n: int, who: str) -> tuple[tuple[Any, ...], bool]:
    """(inputs as a tuple, all plain floats?); ValueError naming both sizes."""
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            x = list(x.ravel())
        else:
            if x.dtype.kind not in "iuf":
                raise TypeError(f"{who}: input array must be numeric, not dtype {x.dtype}")
            if x.size != n or (x.ndim > 1 and max(x.shape) != x.size):
                raise ValueError(f"{who} expects {n} inputs, got an array of shape {x.shape}")
            return tuple(x.astype(float, copy=False).ravel().tolist()), True
    elif isinstance(x, (Value, int, float, np.number)) and not isinstance(x, bool):
        x = [x]
    elif not isinstance(x, (list, tuple)):
        raise TypeError(f"{who}: input must be a sequence of numbers or Values, not {type(x).__name__}")
    if len(x) != n:
        raise ValueError(f"{who} expects {n} inputs, got {len(x)}")
    xs = tuple(x)
    for v in xs:
        if type(v) is not float:
            break
    else:
        return xs, True
    out = []
    any_value = False
    for i, v in enumerate(xs):
        if isinstance(v, Value):
            any_value = True
            out.append(v)
        elif isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)):
            out.append(float(v))
        else:
            raise TypeError(f"{who}: input {i} must be a number or a Value, not {type(v).__name__}")
    return tuple(out), not any_value


# ------------------------------------------------------------------ Neuron

class Neuron(Module):
    """One neuron: ``f(w·x + b)``.

    ``Neuron(nin, activation="sigmoid", init="nielsen", seed=None)``; or give
    ``weights`` (nin numbers) and ``bias`` explicitly. Parameters: ``w.0 ..
    w.{nin-1}``, ``b``, and ``alpha`` for ``activation="prelu"``."""

    _weight_names = ("w",)

    def __init__(self, nin: int, activation: str | Callable[[Value], Value] = "sigmoid",
                 init: _init.InitScheme = "nielsen", seed: Any = None, *,
                 weights: Sequence[float] | None = None, bias: float | None = None) -> None:
        nin = _check_size(nin, "Neuron nin")
        self.activation = activation_fn(activation)
        if weights is None or bias is None:
            (W, b), = _init.draw(init, [nin, 1], _init.make_rng(seed))
            weights = W[0] if weights is None else weights
            bias = b[0] if bias is None else bias
        if len(weights) != nin:
            raise ValueError(f"Neuron has {nin} inputs but {len(weights)} weights were given")
        self.nin = nin
        self.w = [Value(float(v)) for v in weights]
        self.b = Value(float(bias))
        if self.activation == "prelu":
            self.alpha = Value(PRELU_INIT)
        self._assign_paths()

    def _assign_paths(self, prefix: str = "") -> None:
        super()._assign_paths(prefix)
        self._wb = tuple(self.w) + (self.b,)
        self._z_label = prefix + "z"
        self._out_label = prefix + "out"
        act = self.activation
        self._act = (None if act == "linear" else act if callable(act)
                     else self._prelu if act == "prelu" else ACTIVATIONS[act])

    def _prelu(self, z: Value) -> Value:
        return ag.prelu(z, self.alpha)

    # the two halves, used by Layer (BatchNorm sits between them)
    def _z(self, xs: tuple[Any, ...], const: bool, xs1: tuple[float, ...] | None = None) -> Value:
        if const:
            consts = xs1 if xs1 is not None else xs + (1.0,)
            # one dot_const node: w·x + b·1, value and derivatives from the primitives table
            out, local = _DOT_CONST_RULE(*[p._data for p in self._wb], consts)
            z = _make_node(out, self._wb, local, _DOT_CONST, consts)
        else:
            z = ag.dot(self.w, xs) + self.b
        z.label = self._z_label
        return z

    def _activate(self, z: Value) -> Value:
        f = self._act
        if f is None:
            z.label = self._out_label
            return z
        a = f(z)
        if not isinstance(a, Value):
            raise TypeError(f"activation {self.activation!r} must return a Value, not {type(a).__name__}")
        a.label = self._out_label
        return a

    def __call__(self, x: Any) -> Value:
        xs, const = _as_inputs(x, self.nin, "Neuron")
        return self._activate(self._z(xs, const))

    def config(self) -> dict[str, Any]:
        if callable(self.activation):
            raise TypeError("a Neuron with a callable activation cannot be saved with its "
                            "architecture; save state_dict() instead")
        return {"nin": self.nin, "activation": self.activation, "init": "zeros"}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={_act_name(self.activation)!r})"


def _act_name(a: Any) -> str:
    return a if isinstance(a, str) else getattr(a, "__name__", repr(a))


# ------------------------------------------------------------------ Layer

class Layer(Module):
    """``nout`` neurons on the same ``nin`` inputs; ``layer(x)`` is a list of
    ``nout`` Values.

    ``weights`` (nout × nin, row j = neuron j) and ``biases`` (nout) may be
    given. ``batchnorm=True`` inserts a :class:`BatchNorm` (``bn``) between the
    weighted sums and the activations; ``residual=True`` (needs nin == nout)
    returns ``x + f(z)``."""

    def __init__(self, nin: int, nout: int, activation: str | Callable[[Value], Value] = "sigmoid",
                 init: _init.InitScheme = "nielsen", seed: Any = None, *,
                 weights: Sequence[Sequence[float]] | None = None,
                 biases: Sequence[float] | None = None,
                 batchnorm: bool = False, residual: bool = False) -> None:
        nin, nout, weights, biases = layer_parameters("Layer", "Layer", nin, nout, init, seed,
                                                      weights, biases, residual)
        activation = activation_fn(activation)
        self.nin, self.nout = nin, nout
        self.activation = activation
        self.residual = bool(residual)
        Wl, bl = weights.tolist(), biases.tolist()
        self.neurons = [Neuron(nin, activation, weights=Wl[j], bias=bl[j]) for j in range(nout)]
        if batchnorm:
            self.bn = BatchNorm(nout)
        self._assign_paths()

    def _who(self) -> str:
        path = getattr(self, "_path", "")
        return f"Layer {path[:-1]}" if path else "Layer"

    @property
    def batchnorm(self) -> bool:
        return "bn" in vars(self)

    def _finish(self, xs: tuple[Any, ...], zs: list[Value]) -> list[Value]:
        outs = [n._activate(z) for n, z in zip(self.neurons, zs)]
        if self.residual:
            outs = [x + a for x, a in zip(xs, outs)]
        return outs

    def _zs(self, xs: tuple[Any, ...], const: bool) -> list[Value]:
        xs1 = xs + (1.0,) if const else None
        return [n._z(xs, const, xs1) for n in self.neurons]

    def __call__(self, x: Any) -> list[Value]:
        if self.batchnorm:
            return self.forward_batch([x])[0]
        xs, const = _as_inputs(x, self.nin, self._who())
        return self._finish(xs, self._zs(xs, const))

    def forward_batch(self, X: Sequence[Any]) -> list[list[Value]]:
        if not self.batchnorm:
            return [self(x) for x in X]
        who = self._who()
        ins = [_as_inputs(x, self.nin, who) for x in X]
        Z = [self._zs(xs, const) for xs, const in ins]
        Z = self.bn.forward_batch(Z)
        return [self._finish(xs, zs) for (xs, _), zs in zip(ins, Z)]

    def config(self) -> dict[str, Any]:
        if callable(self.activation):
            raise TypeError("a Layer with a callable activation cannot be saved with its "
                            "architecture; save state_dict() instead")
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation, "init": "zeros",
                "batchnorm": self.batchnorm, "residual": self.residual}

    def __repr__(self) -> str:
        extra = (", batchnorm=True" if self.batchnorm else "") + (", residual=True" if self.residual else "")
        return f"Layer({self.nin}, {self.nout}, activation={_act_name(self.activation)!r}{extra})"


# ------------------------------------------------------------------ MLP

class MLP(Module):
    """A multi-layer perceptron: ``MLP(784, [30, 10])`` has layers 784→30→10.

    ``activation`` is used on the hidden layers, ``output_activation`` on the
    last one (``None``: the same as ``activation``). With ``seed`` the weights
    are reproducible; ``init="nielsen", seed=s`` draws exactly as Nielsen's
    network2 after ``np.random.seed(s)`` (see :mod:`nn.init`).
    ``batchnorm``/``residual`` apply to the hidden layers (residual only where
    a layer's input and output sizes are equal)."""

    def __new__(cls, *args: Any, backend: str = "scalar", **kwargs: Any) -> MLP:
        # backend="tensor": the same network on Tensors (nn.tensor_layers.TensorMLP);
        # a subclass of the asked backend's class (TensorMLP for "scalar" too) is kept
        if backend not in MLP_BACKENDS:
            raise ValueError(f"MLP backend must be {' or '.join(map(repr, MLP_BACKENDS))}, not {backend!r}")
        target = MLP_BACKENDS[backend]
        return object.__new__(cls if issubclass(cls, target) else target)

    def __init__(self, nin: int, nouts: Sequence[int], activation: str | Callable[[Value], Value] = "sigmoid",
                 output_activation: str | Callable[[Value], Value] | None = None,
                 init: _init.InitScheme = "nielsen", seed: Any = None, *,
                 batchnorm: bool = False, residual: bool = False, backend: str = "scalar") -> None:
        nin = _check_size(nin, "MLP nin")
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        nouts = [_check_size(n, "MLP layer size") for n in nouts]
        activation = self._activation(activation)
        output_activation = activation if output_activation is None else self._activation(output_activation)
        sizes = [nin] + nouts
        params = _init.draw(init, sizes, _init.make_rng(seed))
        self.sizes = sizes
        self.activation, self.output_activation = activation, output_activation
        last = len(nouts) - 1
        self.layers = [
            self._make_layer(sizes[i], sizes[i + 1], activation if i < last else output_activation,
                             W, b, batchnorm and i < last,
                             residual and i < last and sizes[i] == sizes[i + 1])
            for i, (W, b) in enumerate(params)]
        self._assign_paths()

    # the two things the Tensor backend (nn.tensor_layers.TensorMLP) does differently
    _activation = staticmethod(activation_fn)

    def _make_layer(self, nin: int, nout: int, activation: Any, W: Any, b: Any,
                    batchnorm: bool, residual: bool) -> Module:
        return Layer(nin, nout, activation, weights=W, biases=b, batchnorm=batchnorm,
                     residual=residual)

    def __call__(self, x: Any) -> list[Value]:
        if any(layer.batchnorm for layer in self.layers):
            return self.forward_batch([x])[0]
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_batch(self, X: Sequence[Any]) -> list[list[Value]]:
        out = list(X)
        for layer in self.layers:
            out = layer.forward_batch(out)
        return out

    def config(self) -> dict[str, Any]:
        for a in (self.activation, self.output_activation):
            if callable(a):
                raise TypeError("an MLP with a callable activation cannot be saved with its "
                                "architecture; save state_dict() instead")
        return {"nin": self.sizes[0], "nouts": self.sizes[1:], "activation": self.activation,
                "output_activation": self.output_activation, "init": "zeros",
                "batchnorm": any(layer.batchnorm for layer in self.layers),
                "residual": any(layer.residual for layer in self.layers)}

    def __repr__(self) -> str:
        return (f"MLP({self.sizes[0]}, {self.sizes[1:]}, activation={_act_name(self.activation)!r}, "
                f"output_activation={_act_name(self.output_activation)!r})")


# ------------------------------------------------------------------ BatchNorm

class BatchNorm(Module):
    """Batch normalisation of ``n`` features over a mini-batch of scalar Values.

    Training mode, for each feature over the B samples of the batch::

        μ = (1/B) Σ x_i     σ² = (1/B) Σ (x_i − μ)²     x̂_i = (x_i − μ) / √(σ² + eps)
        y_i = γ x̂_i + β

    with gradients flowing through μ and σ² (they are nodes of the graph), and
    the running averages updated as ``r ← (1 − momentum) r + momentum · stat``
    (the running variance uses the unbiased batch variance σ² · B/(B − 1), as
    PyTorch does). Eval mode uses the running averages as constants.
    Parameters ``gamma.j`` (1.0) and ``beta.j`` (0.0); buffers
    ``running_mean.j`` (0.0) and ``running_var.j`` (1.0)."""

    _buffer_names = ("running_mean", "running_var")

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        n = _check_size(n, "BatchNorm n")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"BatchNorm eps must be a positive number, got {eps!r}")
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm momentum must be in [0, 1], got {momentum!r}")
        self.n = n
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.gamma = [Value(1.0) for _ in range(n)]
        self.beta = [Value(0.0) for _ in range(n)]
        self.running_mean = [0.0] * n
        self.running_var = [1.0] * n
        self._assign_paths()

    def __call__(self, x: Any) -> list[Value]:
        return self.forward_batch([x])[0]

    def forward_batch(self, X: Sequence[Any]) -> list[list[Value]]:
        rows = [_as_inputs(x, self.n, "BatchNorm")[0] for x in X]
        B = len(rows)
        if B == 0:
            return []
        out: list[list[Any]] = [[None] * self.n for _ in range(B)]
        if not self.training:
            for j in range(self.n):
                scale = 1.0 / math.sqrt(self.running_var[j] + self.eps)
                m, g, b = self.running_mean[j], self.gamma[j], self.beta[j]
                for i in range(B):
                    out[i][j] = (rows[i][j] - m) * scale * g + b
            return out
        if B < 2:
            raise ValueError("BatchNorm in training mode needs a mini-batch of at least 2 samples "
                             "(got 1); use forward_batch on a batch, or eval() for single samples")
        inv_b = 1.0 / B
        for j in range(self.n):
            col = [rows[i][j] for i in range(B)]
            col_v = [c if isinstance(c, Value) else Value(c) for c in col]
            mu = ag.sum(col_v) * inv_b
            d = [c - mu for c in col_v]
            var = ag.dot(d, d) * inv_b
            inv_std = (var + self.eps) ** -0.5
            g, b = self.gamma[j], self.beta[j]
            for i in range(B):
                out[i][j] = d[i] * inv_std * g + b
            m = self.momentum
            self.running_mean[j] = (1.0 - m) * self.running_mean[j] + m * mu.data
            self.running_var[j] = (1.0 - m) * self.running_var[j] + m * var.data * B / (B - 1)
        return out

    def config(self) -> dict[str, Any]:
        return {"n": self.n, "eps": self.eps, "momentum": self.momentum}

    def __repr__(self) -> str:
        return f"BatchNorm({self.n}, eps={self.eps}, momentum={self.momentum})"


# ------------------------------------------------------------------ Residual

class Residual(Module):
    """``x + block(x)`` element by element (the block must keep the size)."""

    def __init__(self, block: Module) -> None:
        if not isinstance(block, Module):
            raise TypeError(f"Residual needs a Module, not {type(block).__name__}")
        self.block = block
        self._assign_paths()

    @staticmethod
    def _add(x: Any, y: Any) -> list[Any]:
        xs = list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(xs) != len(ys):
            raise ValueError(f"Residual: the block maps {len(xs)} inputs to {len(ys)} outputs; "
                             "x + block(x) needs the same size")
        return [a + b if isinstance(a, Value) else b + a for a, b in zip(xs, ys)]

    def __call__(self, x: Any) -> list[Any]:
        return self._add(x, self.block(x))

    def forward_batch(self, X: Sequence[Any]) -> list[list[Any]]:
        Y = self.block.forward_batch(X)
        return [self._add(x, y) for x, y in zip(X, Y)]

    def config(self) -> dict[str, Any]:
        return {"block": {"class": type(self.block).__name__, "config": self.block.config()}}


MODEL_CLASSES.update(Neuron=Neuron, Layer=Layer, MLP=MLP, BatchNorm=BatchNorm, Residual=Residual)
MLP_BACKENDS["scalar"] = MLP
