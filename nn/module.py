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

import inspect
import json
import math
import numbers
import os
import stat
from collections.abc import Iterator, Sequence
from typing import Any

from autograd_core import Value
from autograd_core._io import write_json_atomic

__all__ = ["Module", "Sequential", "load", "FORMAT", "MAX_PARAMETERS"]

#: The ``format`` field of a saved model file.
FORMAT = "autograd-core-nn"
_VERSION = 1

#: The largest model :func:`load` builds from a file (weights and biases its
#: config describes) unless given ``max_parameters=``; the file may be at most
#: ``_BYTES_PER_PARAMETER`` bytes per parameter (plus 1 MiB) long.
MAX_PARAMETERS = 1_000_000
_BYTES_PER_PARAMETER = 128
_MAX_NESTING = 32  # Sequential/Residual inside each other
_MAX_INT_DIGITS = 30  # longer integer literals in a model file are refused


def state_number(name: str, v: Any, where: str) -> float:
    """A state entry as a finite float: a real number (int, float, numpy real
    scalar; not bool), else TypeError; NaN, ±inf or too large: ValueError."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or type(v).__name__ == "bool_":
        raise TypeError(f"{where}: {name!r} must be a number, not {type(v).__name__}")
    try:
        f = float(v)
    except (OverflowError, ValueError):
        raise ValueError(f"{where}: {name!r} is too large for a float") from None
    if not math.isfinite(f):
        raise ValueError(f"{where}: {name!r} is {f} (state entries must be finite)")
    return f


class Module:
    """Base class: parameters, children, train/eval mode, state dicts, saving.

    Subclasses implement ``__call__(x)`` for one sample and may override
    ``forward_batch(X)`` (the default maps ``__call__`` over the samples;
    :class:`~nn.BatchNorm` needs the whole batch)."""

    #: the name of the backend (nn.backends) that fits, evaluates, optimizes and
    #: diagnoses this model: "scalar" (Values), "tensor" for Tensor modules
    backend: str = "scalar"

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
            values[n] = state_number(n, v, "load_state_dict")
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
    """The module a config checked by :func:`_plan` describes."""
    classes = _model_classes()
    if cls_name == "Sequential":
        return Sequential(*[_build(m.get("class"), m.get("config")) for m in config.get("modules", [])])
    if cls_name == "Residual":
        inner = config.get("block", {})
        return classes["Residual"](_build(inner.get("class"), inner.get("config")))
    return classes[cls_name](**config)


def _json_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"the number {text[:40]} does not fit in a float")
    return x


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"the integer {text[:20]}... has more than {_MAX_INT_DIGITS} digits")
    return int(text)


def _json_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a finite number (model files hold finite numbers only)")


def _read_model_json(p: str, max_bytes: int) -> Any:
    """The JSON document in ``p``: a regular file of at most ``max_bytes``,
    finite numbers only. ValueError (naming the file) for anything else."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such model file") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{p}: not a regular file (a model file is a JSON file)")
    if st.st_size > max_bytes:
        raise ValueError(f"{p}: the file is {st.st_size} bytes, more than the {max_bytes} a model "
                         "within max_parameters can take (pass a larger max_parameters= to load it)")
    chunks, n = [], 0
    with open(p, "rb") as f:  # in pieces: no buffer of max_bytes up front
        while n <= max_bytes:
            chunk = f.read(min(2 ** 20, max_bytes + 1 - n))
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
    if n > max_bytes:
        raise ValueError(f"{p}: the file is more than {max_bytes} bytes")
    raw = b"".join(chunks)
    try:
        return json.loads(raw.decode("utf-8"), parse_float=_json_float, parse_int=_json_int,
                          parse_constant=_json_constant)
    except UnicodeDecodeError as e:
        raise ValueError(f"{p}: not a saved model (not UTF-8 text: {e.reason})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not a saved model (invalid JSON: {e})") from None
    except RecursionError:
        raise ValueError(f"{p}: not a saved model (JSON nested too deeply)") from None
    except ValueError as e:
        raise ValueError(f"{p}: not a saved model ({e})") from None


def _model_classes() -> dict[str, Any]:
    """The classes a saved model may name (registered in MODEL_CLASSES by the
    modules that define them), and Sequential."""
    return {**MODEL_CLASSES, "Sequential": Sequential}


def _size(config: dict[str, Any], key: str, where: str, limit: int) -> int:
    v = config.get(key)
    if type(v) is not int or v < 1:
        raise ValueError(f"{where}.{key} must be a positive integer, got {_short(v)}")
    if v > limit:
        raise ValueError(f"{where}.{key} = {v} is more than max_parameters={limit}")
    return v


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _plan(cls_name: Any, config: Any, where: str, limit: int, depth: int = 0) -> int:
    """Check a model config without building anything; return the number of
    weights and biases it describes (ValueError naming the field otherwise)."""
    classes = _model_classes()
    if depth > _MAX_NESTING:
        raise ValueError(f"{where}: modules nested more than {_MAX_NESTING} deep")
    if not isinstance(cls_name, str) or cls_name not in classes:
        raise ValueError(f"{where}.class: unknown model class {_short(cls_name)}; "
                         f"known: {', '.join(sorted(classes))}")
    if not isinstance(config, dict):
        raise ValueError(f"{where}.config of {cls_name} must be an object, got {type(config).__name__}")
    where = f"{where}.config"
    allowed = set(inspect.signature(classes[cls_name].__init__).parameters) - {
        "self", "weights", "biases", "args", "kwargs", "modules", "block"}
    if cls_name == "Sequential":
        allowed = {"modules"}
    elif cls_name == "Residual":
        allowed = {"block"}
    for k, v in config.items():
        if k not in allowed:
            raise ValueError(f"{where}: unexpected field {_short(k)} for {cls_name}")
        if k not in ("modules", "block", "nouts") and not (v is None or isinstance(v, (str, bool, int, float))):
            raise ValueError(f"{where}.{k} must be a number, string, true/false or null, "
                             f"got {type(v).__name__}")
        if isinstance(v, str) and len(v) > 100:
            raise ValueError(f"{where}.{k} is a string of {len(v)} characters")
    if cls_name == "Sequential":
        mods = config.get("modules")
        if not isinstance(mods, list) or not mods:
            raise ValueError(f"{where}.modules must be a non-empty list")
        total = 0
        for i, m in enumerate(mods):
            if not isinstance(m, dict):
                raise ValueError(f"{where}.modules[{i}] must be an object")
            total += _plan(m.get("class"), m.get("config"), f"{where}.modules[{i}]", limit, depth + 1)
            if total > limit:
                break
        return total
    if cls_name == "Residual":
        b = config.get("block")
        if not isinstance(b, dict):
            raise ValueError(f"{where}.block must be an object")
        return _plan(b.get("class"), b.get("config"), f"{where}.block", limit, depth + 1)
    if cls_name == "Neuron":
        return _size(config, "nin", where, limit) + 1
    if cls_name in ("Layer", "Linear"):
        return _size(config, "nout", where, limit) * (_size(config, "nin", where, limit) + 1)
    if cls_name == "BatchNorm":
        return 2 * _size(config, "n", where, limit)
    # MLP
    nouts = config.get("nouts")
    if not isinstance(nouts, list) or not nouts or len(nouts) > limit:
        raise ValueError(f"{where}.nouts must be a non-empty list of layer sizes")
    sizes = [_size(config, "nin", where, limit)] + [
        _size({"nouts": n}, "nouts", f"{where}", limit) for n in nouts]
    total = 0
    for a, b in zip(sizes, sizes[1:]):
        total += b * (a + 1)
        if total > limit:
            break
    return total


def load(path: str | os.PathLike[str], model: Module | None = None, *,
         max_parameters: int = MAX_PARAMETERS) -> Module:
    """Read a file written by :meth:`Module.save`.

    Without ``model`` the architecture is rebuilt from the file; with one, the
    state is loaded into it (strictly). Everything is checked before anything
    is built: a config describing more than ``max_parameters`` weights and
    biases (default :data:`MAX_PARAMETERS`), or more than the file's state
    holds, is refused; so are files too big for that limit, FIFOs and devices,
    NaN/±inf/overflowing numbers and malformed fields. Errors are ValueError
    naming the file and the field (FileNotFoundError for a missing file)."""
    p = os.fspath(path)
    if type(max_parameters) is not int or max_parameters < 1:
        raise ValueError(f"max_parameters must be a positive int, got {max_parameters!r}")
    doc = _read_model_json(p, _BYTES_PER_PARAMETER * max_parameters + 2 ** 20)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{p}: not a saved model (format field is not {FORMAT!r})")
    if doc.get("version") != _VERSION:
        raise ValueError(f"{p}: unsupported model file version {_short(doc.get('version'))}")
    state = doc.get("state")
    if not isinstance(state, dict):
        raise ValueError(f"{p}: the 'state' field is missing or not an object")
    try:
        if model is None:
            n = _plan(doc.get("class"), doc.get("config"), "model", max_parameters)
            if n > max_parameters:
                raise ValueError(f"the config describes more than {max_parameters} parameters "
                                 f"(max_parameters={max_parameters}; pass a larger one to load it)")
            if n > len(state):
                raise ValueError(f"the config describes {n} parameters but the state holds "
                                 f"only {len(state)} entries")
            for k, v in state.items():  # numbers first: nothing is built for a bad file
                state_number(k, v, "state")
            model = _build(doc.get("class"), doc.get("config"))
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{p}: {e}") from None
    return model
