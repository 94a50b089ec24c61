"""Tensor-backed layers: ``nn.Linear`` and ``nn.MLP(..., backend="tensor")``.

The same network as the scalar :class:`nn.MLP`, held in arrays: a layer's
weights are one :class:`~autograd_core.Tensor` ``weight`` of shape
(n_out, n_in) (row j = neuron j's weights, as ``nn.init`` draws them) and a
``bias`` of shape (n_out,), and a mini-batch goes through the layer in one
``linear`` node (``X @ Wᵀ + b``), one activation node, and so on.

Same initialisers (the same draws: ``init="nielsen", seed=s`` equals the
scalar MLP and network2), activations, BatchNorm (batch statistics, running
averages), residual connections, and the same ``state_dict`` names
(``layers.0.neurons.3.w.12``, ``layers.0.neurons.3.b``,
``layers.0.bn.gamma.3``, ...), so a state dict moves between the scalar and
the Tensor versions of the same MLP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd_core import Tensor, Value
from autograd_core import tensor as T

from . import init as _init
from .layers import ACTIVATIONS, MLP, MLP_BACKENDS, PRELU_INIT, _check_size, activation_fn, layer_parameters
from .module import MODEL_CLASSES, Module, state_number

__all__ = ["TensorModule", "Linear", "TensorBatchNorm", "TensorMLP", "tensor_activation"]

#: activation name -> f(z) on a Tensor (prelu uses the layer's alpha)
TENSOR_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor] | None] = {
    "sigmoid": Tensor.sigmoid, "tanh": Tensor.tanh, "relu": Tensor.relu,
    "leaky_relu": Tensor.leaky_relu, "prelu": None, "elu": Tensor.elu,
    "softplus": Tensor.softplus, "swish": Tensor.swish, "gelu": Tensor.gelu, "linear": None,
}
_BY_VALUE_METHOD = {f: name for name, f in ACTIVATIONS.items() if f is not None}


def tensor_activation(activation: Any) -> Any:
    """A scalar activation (name or ``Value`` method) as its Tensor version;
    other callables are used as they are (they must accept Tensors)."""
    if callable(activation):
        return _BY_VALUE_METHOD.get(activation, activation)
    return activation_fn(activation)


class TensorModule(Module):
    """Base of Tensor-backed modules: parameters are Tensors; ``state_dict``
    lists every element under the scalar module's name."""

    backend = "tensor"  # nn.backends.tensor runs these models
    _tensor_backend = True  # older spelling of backend == "tensor", kept for callers that test it

    def _own_parameters(self) -> Iterator[tuple[str, Any, bool]]:
        for name, value in self._members():
            if isinstance(value, Tensor):
                yield name, value, name in self._weight_names

    def _scalar_entries(self) -> Iterator[tuple[str, Tensor, Any]]:
        """(scalar name relative to this module, Tensor, element index)."""
        return iter(())

    def _scalar_buffers(self) -> Iterator[tuple[str, np.ndarray, Any]]:
        return iter(())

    def _entries(self, buffers: bool) -> list[tuple[str, Any, Any]]:
        out = []
        for prefix, mod in self.named_modules():
            if not isinstance(mod, TensorModule):
                continue
            pre = f"{prefix}." if prefix else ""
            it = mod._scalar_buffers() if buffers else mod._scalar_entries()
            out.extend((pre + n, t, i) for n, t, i in it)
        return out

    def state_dict(self) -> dict[str, float]:
        """Every parameter element and buffer entry by its scalar path."""
        d = {n: float(t._data[i]) for n, t, i in self._entries(False)}
        d.update((n, float(a[i])) for n, a, i in self._entries(True))
        return d

    def scalar_grads(self) -> dict[str, float]:
        """Every parameter element's gradient under its scalar name (compare
        with ``{n: p.grad for n, p in scalar_model.named_parameters()}``)."""
        out = {}
        for n, t, i in self._entries(False):
            g = t.grad
            out[n] = float((g.data if isinstance(g, Tensor) else g)[i])
        return out

    def named_buffers(self) -> list[tuple[str, float]]:
        return [(n, float(a[i])) for n, a, i in self._entries(True)]

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Set parameters and buffers from a state dict with scalar names
        (strict by default; nothing changes when a check fails)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> float, not {type(state).__name__}")
        params = self._entries(False)
        bufs = self._entries(True)
        names = [n for n, _, _ in params] + [n for n, _, _ in bufs]
        self._check_state_keys(names, state, strict)
        values = {n: state_number(n, state[n], "load_state_dict") for n in names if n in state}
        new: dict[int, np.ndarray] = {}
        for n, t, i in params:
            if n in state:
                a = new.setdefault(id(t), t._data.copy())
                a[i] = values[n]
        for n, t, i in params:
            if id(t) in new:
                t.assign(new.pop(id(t)))
        for n, a, i in bufs:
            if n in state:
                a[i] = values[n]

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None


def _as_batch(x: Any, nin: int, who: str, dtype: Any) -> tuple[Any, bool]:
    """(input as a Tensor or a float array of shape (B, nin), was one sample?)."""
    if isinstance(x, Tensor):
        a = x
        shape = x.shape
    else:
        if isinstance(x, Value) or (isinstance(x, (list, tuple)) and any(isinstance(v, Value) for v in x)):
            raise TypeError(f"{who}: the tensor backend takes arrays or Tensors, not Values")
        a = np.asarray(x)
        if a.dtype.kind not in "iuf":
            raise TypeError(f"{who}: input must be numeric, not dtype {a.dtype}")
        a = a.astype(dtype, copy=False)
        shape = a.shape
    if len(shape) == 1:
        if shape[0] != nin:
            raise ValueError(f"{who} expects {nin} inputs, got shape {shape}")
        return (a.reshape(1, nin) if isinstance(a, Tensor) else a.reshape(1, nin)), True
    if len(shape) != 2 or shape[1] != nin:
        raise ValueError(f"{who} expects a batch of shape (B, {nin}), got shape {tuple(shape)}")
    return a, False


class TensorBatchNorm(TensorModule):
    """BatchNorm over a mini-batch Tensor (B, n): the scalar
    :class:`nn.BatchNorm`'s formulas per feature, vectorised. Parameters
    ``gamma``/``beta`` (n,), buffers ``running_mean``/``running_var``."""

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1, dtype: Any = None) -> None:
        n = _check_size(n, "BatchNorm n")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"BatchNorm eps must be a positive number, got {eps!r}")
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm momentum must be in [0, 1], got {momentum!r}")
        self.n, self.eps, self.momentum = n, float(eps), float(momentum)
        dt = T._dtype(dtype)
        self.gamma = Tensor(np.ones(n), dtype=dt)
        self.beta = Tensor(np.zeros(n), dtype=dt)
        self._running_mean = np.zeros(n)
        self._running_var = np.ones(n)
        self._assign_paths()

    def _assign_paths(self, prefix: str = "") -> None:
        self._path = prefix
        self.gamma.label = prefix + "gamma"
        self.beta.label = prefix + "beta"

    @property
    def running_mean(self) -> np.ndarray:
        return self._running_mean

    @property
    def running_var(self) -> np.ndarray:
        return self._running_var

    def _scalar_entries(self) -> Iterator[tuple[str, Tensor, Any]]:
        for j in range(self.n):
            yield f"gamma.{j}", self.gamma, j
        for j in range(self.n):
            yield f"beta.{j}", self.beta, j

    def _scalar_buffers(self) -> Iterator[tuple[str, np.ndarray, Any]]:
        for j in range(self.n):
            yield f"running_mean.{j}", self._running_mean, j
        for j in range(self.n):
            yield f"running_var.{j}", self._running_var, j

    def __call__(self, z: Any) -> Tensor:
        z, _ = _as_batch(z, self.n, "BatchNorm", self.gamma.dtype)
        if not isinstance(z, Tensor):
            z = Tensor(z, dtype=self.gamma.dtype)
        if not self.training:
            scale = 1.0 / np.sqrt(self._running_var + self.eps)
            return (z - self._running_mean) * scale * self.gamma + self.beta
        B = z.shape[0]
        if B < 2:
            raise ValueError("BatchNorm in training mode needs a mini-batch of at least 2 samples "
                             "(got 1); use eval() for single samples")
        inv_b = 1.0 / B
        mu = z.sum(axis=0) * inv_b
        d = z - mu
        var = (d * d).sum(axis=0) * inv_b
        inv_std = (var + self.eps) ** -0.5
        m = self.momentum
        self._running_mean[:] = (1.0 - m) * self._running_mean + m * mu.data
        self._running_var[:] = (1.0 - m) * self._running_var + m * var.data * B / (B - 1)
        return d * inv_std * self.gamma + self.beta

    forward_batch = __call__

    def config(self) -> dict[str, Any]:
        return {"n": self.n, "eps": self.eps, "momentum": self.momentum}


class Linear(TensorModule):
    """A dense layer on Tensors: ``f(X @ Wᵀ + b)`` for a batch X (B, nin)
    (or one sample (nin,)).

    ``Linear(nin, nout, activation="linear", init="nielsen", seed=None, *,
    weights=None, biases=None, batchnorm=False, residual=False, dtype=None)``:
    the scalar :class:`nn.Layer` with its weights in one Tensor ``weight``
    (nout, nin) and ``bias`` (nout,), ``alpha`` (nout,) for PReLU, and
    ``bn`` for batchnorm. State-dict names are the scalar layer's
    (``neurons.j.w.k``, ``neurons.j.b``, ``neurons.j.alpha``, ``bn.gamma.j``)."""

    _weight_names = ("weight",)

    def __init__(self, nin: int, nout: int, activation: Any = "linear",
                 init: _init.InitScheme = "nielsen", seed: Any = None, *,
                 weights: Any = None, biases: Any = None, batchnorm: bool = False,
                 residual: bool = False, dtype: Any = None) -> None:
        nin, nout, weights, biases = layer_parameters("Linear", "Linear layer", nin, nout, init,
                                                      seed, weights, biases, residual)
        self.activation = tensor_activation(activation)
        dt = T._dtype(dtype)
        self.nin, self.nout = nin, nout
        self.residual = bool(residual)
        self.weight = Tensor(weights, dtype=dt)
        self.bias = Tensor(biases, dtype=dt)
        if self.activation == "prelu":
            self.alpha = Tensor(np.full(nout, PRELU_INIT), dtype=dt)
        if batchnorm:
            self.bn = TensorBatchNorm(nout, dtype=dt)
        self._assign_paths()

    @property
    def batchnorm(self) -> bool:
        return "bn" in vars(self)

    def _assign_paths(self, prefix: str = "") -> None:
        super()._assign_paths(prefix)
        self._z_label = prefix + "z"
        self._out_label = prefix + "out"

    def _scalar_entries(self) -> Iterator[tuple[str, Tensor, Any]]:
        has_alpha = "alpha" in vars(self)
        for j in range(self.nout):
            for k in range(self.nin):
                yield f"neurons.{j}.w.{k}", self.weight, (j, k)
            yield f"neurons.{j}.b", self.bias, j
            if has_alpha:
                yield f"neurons.{j}.alpha", self.alpha, j

    def state_dict(self) -> dict[str, float]:
        # fast path for the common case (no BatchNorm): whole rows at once
        if self.batchnorm:
            return super().state_dict()
        d: dict[str, float] = {}
        W = self.weight._data.tolist()
        b = self.bias._data.tolist()
        a = self.alpha._data.tolist() if "alpha" in vars(self) else None
        pre = ""
        for j, row in enumerate(W):
            d.update((f"{pre}neurons.{j}.w.{k}", v) for k, v in enumerate(row))
            d[f"{pre}neurons.{j}.b"] = b[j]
            if a is not None:
                d[f"{pre}neurons.{j}.alpha"] = a[j]
        return d

    def _activate(self, z: Tensor) -> Tensor:
        act = self.activation
        if act == "linear":
            return z
        if act == "prelu":
            return T.prelu(z, self.alpha)
        f = TENSOR_ACTIVATIONS[act] if isinstance(act, str) else act
        a = f(z)
        if not isinstance(a, Tensor):
            raise TypeError(f"activation {act!r} must return a Tensor, not {type(a).__name__}")
        return a

    def __call__(self, x: Any) -> Tensor:
        if type(x) is Tensor and x.ndim == 2 and x.shape[1] == self.nin:  # fast path
            X, one = x, False
        else:
            X, one = _as_batch(x, self.nin, self._who(), self.weight.dtype)
        a = self._forward(X, T.linear)
        return a[0] if one else a

    def _forward(self, X: Any, linear: Callable[..., Tensor] = T._linear_unchecked) -> Tensor:
        """The layer on a batch ``X`` (B, nin) (``__call__`` after its checks;
        ``nn.fit`` calls it directly on inputs it checked once)."""
        z = linear(X, self.weight, self.bias)
        z.label = self._z_label
        if self.batchnorm:
            z = self.bn(z)
        a = self._activate(z)
        if self.residual:
            a = a + X
        if a is not z:
            a.label = self._out_label
        return a

    def forward_batch(self, X: Any) -> Tensor:
        return self(X)

    def _who(self) -> str:
        path = getattr(self, "_path", "")
        return f"Linear {path[:-1]}" if path else "Linear"

    def config(self) -> dict[str, Any]:
        if callable(self.activation):
            raise TypeError("a layer with a callable activation cannot be saved with its "
                            "architecture; save state_dict() instead")
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation, "init": "zeros",
                "batchnorm": self.batchnorm, "residual": self.residual}

    def __repr__(self) -> str:
        extra = (", batchnorm=True" if self.batchnorm else "") + (", residual=True" if self.residual else "")
        act = self.activation if isinstance(self.activation, str) else getattr(
            self.activation, "__name__", repr(self.activation))
        return f"Linear({self.nin}, {self.nout}, activation={act!r}{extra})"


class TensorMLP(TensorModule, MLP):
    """``nn.MLP(..., backend="tensor")``: the MLP with Tensor layers
    (:class:`Linear`). Same constructor arguments and draws as the scalar
    MLP; calling it on a batch (B, nin) returns a Tensor (B, nout)."""

    _save_name = "MLP"  # saved as an MLP whose config says backend="tensor"

    def __init__(self, nin: int, nouts: Sequence[int], activation: Any = "sigmoid",
                 output_activation: Any = None, init: _init.InitScheme = "nielsen",
                 seed: Any = None, *, batchnorm: bool = False, residual: bool = False,
                 backend: str = "tensor", dtype: Any = None) -> None:
        self._layer_dtype = dtype
        MLP.__init__(self, nin, nouts, activation, output_activation, init, seed,
                     batchnorm=batchnorm, residual=residual, backend=backend)

    _activation = staticmethod(tensor_activation)

    def _make_layer(self, nin: int, nout: int, activation: Any, W: Any, b: Any,
                    batchnorm: bool, residual: bool) -> Linear:
        return Linear(nin, nout, activation, weights=W, biases=b, batchnorm=batchnorm,
                      residual=residual, dtype=self._layer_dtype)

    def state_dict(self) -> dict[str, float]:
        d: dict[str, float] = {}
        for i, layer in enumerate(self.layers):
            d.update((f"layers.{i}.{k}", v) for k, v in layer.state_dict().items())
        d.update(self.named_buffers())
        return d

    def __call__(self, x: Any) -> Tensor:
        X, one = _as_batch(x, self.sizes[0], "MLP", self.layers[0].weight.dtype)
        out = X
        for layer in self.layers:
            out = layer(out)
        return out[0] if one else out

    def forward_batch(self, X: Any) -> Tensor:
        return self(np.asarray(X) if isinstance(X, list) else X)

    def logits(self, X: Any) -> Tensor:
        """The last layer's pre-activation z (what logit-based losses use)."""
        X, _ = _as_batch(X, self.sizes[0], "MLP", self.layers[0].weight.dtype)
        out = X
        for layer in self.layers[:-1]:
            out = layer(out)
        last = self.layers[-1]
        z = T.linear(out, last.weight, last.bias)
        z.label = last._z_label
        return z

    def _checked_for(self, dtype: Any) -> bool:
        """Whether :meth:`_forward` may run on arrays (B, nin) of ``dtype``:
        plain ``Linear`` layers of that dtype whose shapes chain (``nn.fit``
        checks this once, then skips the per-call checks)."""
        if type(self).__call__ is not TensorMLP.__call__ or type(self).logits is not TensorMLP.logits:
            return False
        nin = self.sizes[0]
        for layer in self.layers:
            if type(layer) is not Linear or type(layer.weight) is not Tensor or \
                    type(layer.bias) is not Tensor:
                return False
            w, b = layer.weight, layer.bias
            if w.dtype != dtype or b.dtype != dtype or w.shape != (layer.nout, nin) or \
                    b.shape != (layer.nout,) or layer.nin != nin:
                return False
            nin = layer.nout
        return True

    def _forward(self, X: np.ndarray, logits: bool = False) -> Tensor:
        """``self(X)`` (or ``self.logits(X)``) of a batch X that passed
        :meth:`_checked_for`, without the per-call checks."""
        out: Any = X
        layers = self.layers
        for layer in layers[:-1]:
            out = layer._forward(out)
        last = layers[-1]
        if not logits:
            return last._forward(out)
        z = T._linear_unchecked(out, last.weight, last.bias)
        z.label = last._z_label
        return z

    def config(self) -> dict[str, Any]:
        c = MLP.config(self)
        c["backend"] = "tensor"
        return c

    def __repr__(self) -> str:
        return MLP.__repr__(self)[:-1] + ", backend='tensor')"


MODEL_CLASSES["Linear"] = Linear
MLP_BACKENDS["tensor"] = TensorMLP
