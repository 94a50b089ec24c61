"""Move an ``nn`` model to PyTorch and back: :func:`to_torch`, :func:`from_torch`,
:func:`to_torch_optimizer` (``pip install autograd-core[export]``).

``to_torch(model)`` builds the same network from ``torch.nn``'s own modules
(``Linear``, ``BatchNorm1d``, ``Sigmoid``, ``PReLU``, ...; a small
``Residual`` for ``x + block(x)``), float64 by default, with the model's
weights, BatchNorm running averages and train/eval mode, so training goes on
in PyTorch where it stopped here. It takes a batch ``(B, nin)`` and returns
``(B, nout)`` (a lone :class:`~nn.Neuron` returns ``(B,)``). Both backends
(scalar and ``backend="tensor"``) give the same torch module.

Name map: every torch parameter/buffer element corresponds to one
``state_dict`` name of the model (``layers.0.neurons.3.w.12`` is
``0.linear.weight[3, 12]``), which is how weights move both ways.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from autograd_core import Tensor

from .layers import ACTIVATIONS, MLP, BatchNorm, Layer, Neuron, Residual
from .module import Module, Sequential
from .optim import SGD, AdaGrad, Adam, Optimizer, RMSProp
from .tensor_layers import TENSOR_ACTIVATIONS, Linear, TensorBatchNorm

__all__ = ["to_torch", "from_torch", "to_torch_optimizer"]

_MAP_ATTR = "_autograd_core_names"


def _torch() -> Any:
    from autograd_core.export import require
    return require("torch")


def _act_name(act: Any) -> str:
    if isinstance(act, str):
        return act
    for table in (ACTIVATIONS, TENSOR_ACTIVATIONS):
        for name, f in table.items():
            if f is not None and f is act:
                return name
    raise TypeError(f"to_torch: the activation {getattr(act, '__name__', act)!r} is a custom "
                    "callable; only the named activations have a torch equivalent "
                    f"({', '.join(ACTIVATIONS)})")


def _activation(torch: Any, act: Any, n: int, dtype: Any) -> Any:
    name = _act_name(act)
    tnn = torch.nn
    if name == "linear":
        return None
    if name == "prelu":
        return tnn.PReLU(num_parameters=n, init=0.25, dtype=dtype)
    if name == "softplus":
        # torch switches to x past `threshold`; in float64 log1p(exp(-x)) < ulp(x)/2 only past ~37
        return tnn.Softplus(beta=1.0, threshold=40.0 if dtype == torch.float64 else 20.0)
    return {"sigmoid": tnn.Sigmoid, "tanh": tnn.Tanh, "relu": tnn.ReLU,
            "leaky_relu": lambda: tnn.LeakyReLU(0.01), "elu": lambda: tnn.ELU(1.0),
            "swish": tnn.SiLU, "gelu": tnn.GELU}[name]()


def _names(fmt: str, *shape: int) -> np.ndarray:
    a = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        a[idx] = fmt.format(*idx)
    return a


class _Conv:
    """One conversion: the torch module, and per torch key the array of scalar names
    (plus, for Tensor-backed models, Tensor label -> torch key)."""

    def __init__(self, torch: Any, dtype: Any) -> None:
        self.torch, self.dtype = torch, dtype
        self.names: dict[str, np.ndarray] = {}
        self.tensors: dict[str, str] = {}

    def _bn(self, n: int, eps: float, momentum: float, key: str, pre: str, t: Any) -> Any:
        self.names[key + "weight"] = _names(pre + "gamma.{}", n)
        self.names[key + "bias"] = _names(pre + "beta.{}", n)
        self.names[key + "running_mean"] = _names(pre + "running_mean.{}", n)
        self.names[key + "running_var"] = _names(pre + "running_var.{}", n)
        if t is not None:
            self.tensors[t.gamma.label] = key + "weight"
            self.tensors[t.beta.label] = key + "bias"
        return self.torch.nn.BatchNorm1d(n, eps=eps, momentum=momentum, dtype=self.dtype)

    def _layer(self, m: Layer | Linear, key: str, pre: str) -> Any:
        tnn = self.torch.nn
        inner = key + ("block." if m.residual else "")
        parts: OrderedDict[str, Any] = OrderedDict()
        parts["linear"] = tnn.Linear(m.nin, m.nout, dtype=self.dtype)
        self.names[inner + "linear.weight"] = _names(pre + "neurons.{}.w.{}", m.nout, m.nin)
        self.names[inner + "linear.bias"] = _names(pre + "neurons.{}.b", m.nout)
        tensor = isinstance(m, Linear)
        if tensor:
            self.tensors[m.weight.label] = inner + "linear.weight"
            self.tensors[m.bias.label] = inner + "linear.bias"
        if m.batchnorm:
            bn = m.bn
            parts["bn"] = self._bn(bn.n, bn.eps, bn.momentum, inner + "bn.", pre + "bn.",
                                   bn if tensor else None)
        act = _activation(self.torch, m.activation, m.nout, self.dtype)
        if act is not None:
            parts["act"] = act
            if _act_name(m.activation) == "prelu":
                self.names[inner + "act.weight"] = _names(pre + "neurons.{}.alpha", m.nout)
                if tensor:
                    self.tensors[m.alpha.label] = inner + "act.weight"
        seq = tnn.Sequential(parts)
        if m.residual:
            from ._torch_modules import Residual as TorchResidual
            return TorchResidual(seq)
        return seq

    def convert(self, m: Module, key: str = "", pre: str = "") -> Any:
        tnn = self.torch.nn
        if isinstance(m, (Layer, Linear)):
            return self._layer(m, key, pre)
        if isinstance(m, (MLP, Sequential)):  # TensorMLP is an MLP
            return tnn.Sequential(*[self.convert(c, f"{key}{i}.", f"{pre}layers.{i}.")
                                    for i, c in enumerate(m.layers)])
        if isinstance(m, (BatchNorm, TensorBatchNorm)):
            return self._bn(m.n, m.eps, m.momentum, key, pre,
                            m if isinstance(m, TensorBatchNorm) else None)
        if isinstance(m, Residual):
            from ._torch_modules import Residual as TorchResidual
            return TorchResidual(self.convert(m.block, key + "block.", pre + "block."))
        if isinstance(m, Neuron):
            from ._torch_modules import Squeeze
            parts: OrderedDict[str, Any] = OrderedDict()
            parts["linear"] = tnn.Linear(m.nin, 1, dtype=self.dtype)
            self.names[key + "linear.weight"] = _names(pre + "w.{1}", 1, m.nin)
            self.names[key + "linear.bias"] = np.array([pre + "b"], dtype=object)
            act = _activation(self.torch, m.activation, 1, self.dtype)
            if act is not None:
                parts["act"] = act
                if _act_name(m.activation) == "prelu":
                    self.names[key + "act.weight"] = np.array([pre + "alpha"], dtype=object)
            parts["squeeze"] = Squeeze()
            return tnn.Sequential(parts)
        raise TypeError(f"to_torch: no PyTorch equivalent for {type(m).__name__} "
                        "(Neuron, Layer, MLP, Linear, BatchNorm, Residual and Sequential have one)")


def _convert(model: Any, dtype: Any) -> tuple[Any, _Conv]:
    if not isinstance(model, Module):
        raise TypeError(f"to_torch needs an nn Module, not {type(model).__name__}")
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, not {dtype!r}")
    conv = _Conv(torch, dtype)
    return conv.convert(model), conv


def to_torch(model: Module, dtype: Any = None) -> Any:
    """A ``torch.nn.Module`` computing what ``model`` computes (float64 unless
    ``dtype=torch.float32``), holding its weights and BatchNorm running
    averages, in the same train/eval mode. Input: a batch ``(B, nin)``."""
    module, conv = _convert(model, dtype)
    torch = conv.torch
    state = model.state_dict()
    sd = module.state_dict()
    for key, names in conv.names.items():
        flat = [state[n] for n in names.ravel()]
        sd[key] = torch.tensor(flat, dtype=conv.dtype).reshape(names.shape)
    module.load_state_dict(sd)
    module.train(bool(getattr(model, "training", True)))
    object.__setattr__(module, _MAP_ATTR, (dict(conv.names), dict(conv.tensors)))
    return module


def from_torch(module: Any, like: Module) -> Module:
    """Load the weights (and BatchNorm running averages) of ``module``, a torch
    module of ``like``'s architecture (as :func:`to_torch` makes it), into
    ``like``; returns ``like``. Checked first: a missing key or a wrong shape
    raises ValueError naming it, and nothing is changed."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, not {type(module).__name__}")
    _, conv = _convert(like, torch.float64)
    sd = module.state_dict()
    state: dict[str, float] = {}
    for key, names in conv.names.items():
        if key not in sd:
            raise ValueError(f"from_torch: the torch module has no {key!r} (the architecture "
                             f"of {type(like).__name__} needs it)")
        t = sd[key]
        if tuple(t.shape) != names.shape:
            raise ValueError(f"from_torch: {key!r} has shape {tuple(t.shape)}, "
                             f"{type(like).__name__} needs {names.shape}")
        vals = t.detach().to("cpu", torch.float64).numpy().ravel().tolist()
        state.update(zip(names.ravel().tolist(), vals))
    like.load_state_dict(state)
    return like


def _torch_param_map(module: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    got = getattr(module, _MAP_ATTR, None)
    if got is None:
        raise ValueError("to_torch_optimizer needs the torch module made by nn.to_torch(model)")
    return got


def to_torch_optimizer(opt: Optimizer, module: Any, *, exact: bool = True) -> Any:
    """The ``torch.optim`` optimizer with ``opt``'s hyper-parameters over the
    parameters of ``module`` (made by :func:`to_torch`) that ``opt`` trains,
    with ``opt``'s state (momentum, squared-gradient averages, step count), so
    the next steps in PyTorch are the ones ``opt`` would take.

    ``RMSProp``'s δ sits inside the square root here (√(δ + r)) and outside in
    torch (√r + δ): with ``eps != 0`` that raises ValueError unless
    ``exact=False`` (then torch's form is used with the same eps)."""
    torch = _torch()
    if not isinstance(opt, Optimizer):
        raise TypeError(f"to_torch_optimizer needs an nn.optim optimizer, not {type(opt).__name__}")
    names, tensors = _torch_param_map(module)
    params = dict(module.named_parameters())
    where: dict[str, tuple[str, tuple]] = {}
    for key, arr in names.items():
        for idx in np.ndindex(*arr.shape):
            where[arr[idx]] = (key, idx)
    # which torch parameter (and element) each optimizer parameter is
    slots: list[tuple[str, Any]] = []
    for i, p in enumerate(opt.params):
        label = p.label
        if isinstance(p, Tensor):
            if label not in tensors:
                raise ValueError(f"to_torch_optimizer: parameter {i} ({label!r}) is not a "
                                 "parameter of this torch module")
            slots.append((tensors[label], None))
        else:
            if label not in where or where[label][0] not in params:
                raise ValueError(f"to_torch_optimizer: parameter {i} ({label!r}) is not a "
                                 "parameter of this torch module")
            slots.append(where[label])
    keys = list(dict.fromkeys(k for k, _ in slots))
    covered: dict[str, int] = {}
    for k, _ in slots:
        covered[k] = covered.get(k, 0) + 1
    for k in keys:
        need = 1 if any(idx is None for kk, idx in slots if kk == k) else names[k].size
        if covered[k] != need:
            raise ValueError(f"to_torch_optimizer: the optimizer trains only part of {k!r} "
                             f"({covered[k]} of {names[k].size} elements); torch optimizes "
                             "whole tensors")
    tparams = [params[k] for k in keys]
    lr, wd = opt.lr, opt.weight_decay
    if isinstance(opt, SGD):
        topt = torch.optim.SGD(tparams, lr=lr, momentum=opt.momentum, nesterov=opt.nesterov,
                               weight_decay=wd)
    elif isinstance(opt, AdaGrad):
        topt = torch.optim.Adagrad(tparams, lr=lr, eps=opt.eps, weight_decay=wd)
    elif isinstance(opt, RMSProp):
        if opt.eps != 0.0 and exact:
            raise ValueError("nn.RMSProp divides by √(eps + r), torch.optim.RMSprop by √r + eps: "
                             f"with eps={opt.eps} their steps differ; use eps=0 for identical "
                             "steps or pass exact=False to accept torch's form")
        topt = torch.optim.RMSprop(tparams, lr=lr, alpha=opt.rho, eps=opt.eps, weight_decay=wd)
    elif isinstance(opt, Adam):
        topt = torch.optim.Adam(tparams, lr=lr, betas=(opt.rho1, opt.rho2), eps=opt.eps,
                                weight_decay=wd)
    else:
        raise TypeError(f"to_torch_optimizer: no torch.optim equivalent for {type(opt).__name__}")
    if opt.t == 0:
        return topt

    def gather(buf: str) -> dict[str, Any]:
        out = {k: np.zeros(tuple(params[k].shape)) for k in keys}
        for (k, idx), b in zip(slots, getattr(opt, buf)):
            if idx is None:
                out[k] = np.array(b, dtype=float).reshape(out[k].shape)
            else:
                out[k][idx] = float(b)
        return {k: torch.tensor(v, dtype=params[k].dtype) for k, v in out.items()}

    step = {k: torch.tensor(float(opt.t)) for k in keys}
    if isinstance(opt, SGD):
        if opt.momentum:
            v = gather("v")  # ours: v ← αv − εg, θ ← θ + v; torch: b ← αb + g, θ ← θ − εb
            for k in keys:
                topt.state[params[k]] = {"momentum_buffer": -v[k] / lr}
    elif isinstance(opt, AdaGrad):
        r = gather("r")
        for k in keys:
            topt.state[params[k]] = {"step": step[k], "sum": r[k]}
    elif isinstance(opt, RMSProp):
        r = gather("r")
        for k in keys:
            topt.state[params[k]] = {"step": step[k], "square_avg": r[k]}
    else:
        s, r = gather("s"), gather("r")
        for k in keys:
            topt.state[params[k]] = {"step": step[k], "exp_avg": s[k], "exp_avg_sq": r[k]}
    return topt
