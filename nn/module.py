"""``Module``: the base class of every model part, and ``Sequential``.

A module holds parameters (leaf :class:`~autograd_core.Value` objects) and
child modules in ordinary attributes. They are found by walking the public
attributes in the order they were set:

* a ``Value`` attribute ``b`` is the parameter ``b``;
* a list of Values ``w`` gives the parameters ``w.0, w.1, ...``;
* a ``Module`` attribute or a list of modules gives child paths
  ``layers.0.neurons.3``.

So a parameter's name is its module path, e.g. ``layers.0.neurons.3.w.12``,
and every parameter's ``label`` is set to that path, so graphs can be grouped
by module. Buffers (numbers that are state but not trained, like BatchNorm's
running averages) are listed in a class's ``_buffer_names``; they are lists of
floats and appear in ``state_dict()`` as ``running_mean.0`` and so on.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

from autograd_core import Value
from autograd_core._io import write_json_atomic

__all__ = ["Module", "Sequential", "load", "FORMAT"]

#: The ``format`` field of a saved model file.
FORMAT = "autograd-core-nn"
_VERSION = 1


class Module:
    """Base class: parameters, children, train/eval mode, state dicts, saving.

    Subclasses implement ``__call__(x)`` for one sample and may override
    ``forward_batch(X)`` (the default maps ``__call__`` over the samples;
    :class:`~nn.BatchNorm` needs the whole batch)."""

    #: names of attributes whose parameters are *weights* (L2/L1 apply to them)
    _weight_names: tuple[str, ...] = ()
    #: names of attributes that are buffers (lists of floats, saved, not trained)
    _buffer_names: tuple[str, ...] = ()

    training: bool = True

    # ------------------------------------------------------------ traversal
    def _members(self) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if not name.startswith("_") and name != "training":
                yield name, value

    def named_children(self) -> list[tuple[str, Module]]:
        """Direct child modules with their names (``layers.0``, ``block``)."""
        out: list[tuple[str, Module]] = []
        for name, value in self._members():
            if isinstance(value, Module):
                out.append((name, value))
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value):
                out.extend((f"{name}.{i}", v) for i, v in enumerate(value))
        return out

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module (name ``prefix``, ``""`` at the root) and all descendants."""
        out = [(prefix, self)]
        for name, child in self.named_children():
            out.extend(child.named_modules(f"{prefix}{name}" if not prefix else f"{prefix}.{name}"))
        return out

    def _own_parameters(self) -> Iterator[tuple[str, Value, bool]]:
        """(name, parameter, is_weight) for parameters held directly."""
        for name, value in self._members():
            is_w = name in self._weight_names
            if isinstance(value, Value):
                yield name, value, is_w
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Value) for v in value):
                for i, v in enumerate(value):
                    yield f"{name}.{i}", v, is_w

    def _walk(self, prefix: str = "") -> Iterator[tuple[str, Value, bool]]:
        for name, p, is_w in self._own_parameters():
            yield prefix + name, p, is_w
        for name, child in self.named_children():
            yield from child._walk(f"{prefix}{name}.")

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(path, Value)`` for every parameter, in a fixed order."""
        return [(n, p) for n, p, _ in self._walk()]

    def parameters(self) -> list[Value]:
        """Every parameter (leaf Values updated by an optimizer)."""
        return [p for _, p, _ in self._walk()]

    def named_weights(self) -> list[tuple[str, Value]]:
        """Only the weights (what L2/L1 regularisation acts on; not biases,
        PReLU slopes or BatchNorm's scale and shift)."""
        return [(n, p) for n, p, w in self._walk() if w]

    def weights(self) -> list[Value]:
        return [p for _, p, w in self._walk() if w]

    def named_buffers(self) -> list[tuple[str, float]]:
        """``(path, float)`` for every buffer entry (e.g. BatchNorm running averages)."""
        out: list[tuple[str, float]] = []
        for prefix, mod in self.named_modules():
            pre = f"{prefix}." if prefix else ""
            for b in mod._buffer_names:
                out.extend((f"{pre}{b}.{i}", float(v)) for i, v in enumerate(getattr(mod, b)))
        return out

    def _assign_paths(self, prefix: str = "") -> None:
        """Label every parameter with its path and tell each module its path
        (``_path``, used to label output nodes). Called by constructors."""
        self._path = prefix
        for name, p, _ in self._own_parameters():
            p.label = prefix + name
        for name, child in self.named_children():
            child._assign_paths(f"{prefix}{name}.")

    # ------------------------------------------------------------ modes and grads
    def zero_grad(self) -> None:
        """Set ``.grad`` of every parameter to 0.0."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Training mode (BatchNorm uses batch statistics). Returns self."""
        for _, m in self.named_modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (BatchNorm uses its running averages). Returns self."""
        return self.train(False)

    # ------------------------------------------------------------ forward
    def __call__(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def forward_batch(self, X: Sequence[Any]) -> list[Any]:
        """Outputs for a mini-batch of samples (a list, one entry per sample)."""
        return [self(x) for x in X]

    def num_parameters(self) -> int:
        return len(self.parameters())

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, float]:
        """Every parameter and buffer by path, as plain floats."""
        d = {n: p.data for n, p in self.named_parameters()}
        d.update(self.named_buffers())
        return d

    def _check_state_keys(self, names: list[str], state: dict[str, Any], strict: bool) -> None:
        """With ``strict``, a ValueError listing missing and unexpected names."""
        expected = set(names)
        missing = [n for n in names if n not in state]
        unexpected = [n for n in state if n not in expected]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} key(s): {_preview(missing)}")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} key(s): {_preview(unexpected)}")
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(parts)
                             + f" (model has {len(expected)} entries, state has {len(state)})")

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Set parameters (with ``Value.assign``) and buffers from ``state``.

        With ``strict`` (the default) the names must match exactly; missing or
        unexpected names, or non-numbers, raise ValueError/TypeError listing
        them, and nothing is changed (no half-loaded model)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> float, not {type(state).__name__}")
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        self._check_state_keys(list(params) + list(buffers), state, strict)
        values: dict[str, float] = {}
        for n, v in state.items():
            if n not in params and n not in buffers:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"load_state_dict: {n!r} must be a number, not {type(v).__name__}")
            values[n] = float(v)
        for n, v in values.items():  # everything checked: now change
            if n in params:
                params[n].assign(v)
        if any(n in buffers for n in values):
            for prefix, mod in self.named_modules():
                pre = f"{prefix}." if prefix else ""
                for b in mod._buffer_names:
                    buf = getattr(mod, b)
                    for i in range(len(buf)):
                        key = f"{pre}{b}.{i}"
                        if key in values:
                            buf[i] = values[key]

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this module (for :func:`load`).
        Modules that cannot be rebuilt from JSON raise TypeError."""
        raise TypeError(f"{type(self).__name__} cannot be saved with its architecture; "
                        "save its state_dict() and load it into a model you build")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture and every parameter/buffer as JSON, atomically
        (a temporary file in the same folder, then ``os.replace``)."""
        doc = {"format": FORMAT, "version": _VERSION,
               "class": getattr(type(self), "_save_name", type(self).__name__),
               "config": self.config(), "state": self.state_dict()}
        for n, v in doc["state"].items():
            if not math.isfinite(v):
                raise ValueError(f"cannot save: {n} is {v} (JSON has no inf/nan)")
        write_json_atomic(os.fspath(path), doc)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_parameters()} parameters)"


def _preview(names: list[str], k: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f", ... ({len(names) - k} more)" if len(names) > k else "")


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Layer(2, 8), BatchNorm(8), Layer(8, 1))``.
    Children are ``layers.0``, ``layers.1``, ..."""

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential element {i} must be a Module, not {type(m).__name__}")
        if not modules:
            raise ValueError("Sequential needs at least one module")
        self.layers = list(modules)
        self._assign_paths()

    def __call__(self, x: Any) -> Any:
        for m in self.layers:
            x = m(x)
        return x

    def forward_batch(self, X: Sequence[Any]) -> list[Any]:
        out = list(X)
        for m in self.layers:
            out = m.forward_batch(out)
        return out

    def config(self) -> dict[str, Any]:
        return {"modules": [{"class": type(m).__name__, "config": m.config()} for m in self.layers]}


#: The classes a saved model may name, registered by the modules that define
#: them (nn.layers, nn.tensor_layers), so that this module imports neither.
MODEL_CLASSES: dict[str, type] = {}


def _build(cls_name: str, config: dict[str, Any]) -> Module:
    classes: dict[str, Any] = {**MODEL_CLASSES, "Sequential": Sequential}
    if cls_name not in classes:
        raise ValueError(f"unknown model class {cls_name!r}; known: {', '.join(sorted(classes))}")
    if not isinstance(config, dict):
        raise ValueError(f"config of {cls_name} must be an object")
    if cls_name == "Sequential":
        return Sequential(*[_build(m.get("class"), m.get("config")) for m in config.get("modules", [])])
    if cls_name == "Residual":
        inner = config.get("block", {})
        return classes["Residual"](_build(inner.get("class"), inner.get("config")))
    return classes[cls_name](**config)


def load(path: str | os.PathLike[str], model: Module | None = None) -> Module:
    """Read a file written by :meth:`Module.save`.

    Without ``model`` the architecture is rebuilt from the file; with one, the
    state is loaded into it (strictly). Errors name the file and the problem."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such model file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{p}: not a saved model (invalid JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{p}: not a saved model (format field is not {FORMAT!r})")
    if doc.get("version") != _VERSION:
        raise ValueError(f"{p}: unsupported model file version {doc.get('version')!r}")
    state = doc.get("state")
    if not isinstance(state, dict):
        raise ValueError(f"{p}: the 'state' field is missing or not an object")
    try:
        if model is None:
            model = _build(doc.get("class"), doc.get("config"))
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{p}: {e}") from None
    return model
