"""The flat form every exporter reads: inputs, constants and primitive nodes.

Built from a captured :class:`~autograd_core.StaticGraph` or from a Value or
Tensor graph with named inputs. Every operation node names its primitive;
its exported form is looked up in :data:`autograd_core.core.primitives.EXPORTS`
(the one place per primitive), and a primitive without one is refused here,
by name, before anything is written.
"""

from __future__ import annotations

import importlib
import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.engine import Node, Value, topological_order
from ..core.primitives import EXPORTS
from ..static import StaticGraph

EXTRA_HINT = "pip install autograd-core[export]"


def require(module: str) -> Any:
    """Import ``module`` (torch, onnx, onnxruntime, jax) or raise an ImportError
    naming the ``[export]`` extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"exporting needs the optional package {module!r}, which is not "
                          f"installed: {EXTRA_HINT}  ({exc})") from None


__all__ = ["ExportError", "IRNode", "IRGraph", "build", "check_identifier"]


class ExportError(ValueError):
    """The graph uses something an exporter cannot write (a primitive with no
    exported form, a data-dependent branch, ...)."""


@dataclass(frozen=True)
class IRNode:
    kind: str            # "input", "param", "const" or "op"
    name: str            # a readable name: the label, the input's name, or "<prim>_<i>"
    prim: str = ""       # the primitive's name (op nodes)
    operands: tuple[int, ...] = ()
    param: Any = None    # the primitive's parameter (op nodes with one)
    has_param: bool = False
    value: Any = None    # a constant's or parameter's number/array
    slot: int | None = None
    shape: tuple[int, ...] | None = None  # a Tensor node's shape


@dataclass(frozen=True)
class IRGraph:
    nodes: tuple[IRNode, ...]
    inputs: tuple[int, ...]     # node index of each input (in order)
    input_names: tuple[str, ...]
    params: tuple[int, ...]     # node index of each parameter (static graphs)
    param_names: tuple[str, ...]
    output: int
    shapes: tuple[tuple[int, ...] | None, ...]  # per input: a Tensor's shape, None for scalars
    out_shape: list[int]  # the output's shape ([] for a scalar)


def check_identifier(name: Any, what: str) -> str:
    """``name`` if it is a Python identifier that is not a keyword, else ValueError."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) \
            or not name.isascii():
        raise ValueError(f"{what} {name!r} is not a valid name (letters, digits and _, "
                         "not starting with a digit, not a Python keyword)")
    return name


def _need_export(prim: Any, where: str) -> None:
    if prim.name not in EXPORTS:
        raise ExportError(f"primitive {prim.name!r} has no exported form ({where}); "
                          f"register one with export_as() next to its rule")


def _from_static(g: StaticGraph) -> IRGraph:
    if g.comparisons:
        raise ExportError(f"this static graph re-checks {len(g.comparisons)} comparison(s) of "
                          "Values (data-dependent branches); an exported graph cannot re-check "
                          "them, so it would be silently wrong for other inputs")
    nodes = []
    recs = g.nodes[:g.num_nodes]
    prims = g._prims
    input_names = list(g.input_labels)
    used: set[str] = set()
    for r in recs:
        if r.kind == "op":
            prim = prims[r.index]
            _need_export(prim, f"node {r.index} of the static graph")
            nodes.append(IRNode("op", f"{r.op}_{r.index}", r.op, r.operands, r.param,
                                prim.has_param))
        elif r.kind == "input":
            nodes.append(IRNode("input", input_names[r.slot], slot=r.slot))
        elif r.kind == "param":
            nodes.append(IRNode("param", r.label or f"param_{r.slot}", slot=r.slot,
                                value=float(g.params[r.slot].data)))
        else:
            nodes.append(IRNode("const", f"const_{r.index}", value=float(r.data)))
    for n in nodes:
        if n.kind in ("input", "param"):
            if n.name in used:
                raise ExportError(f"two inputs/parameters are both called {n.name!r}")
            used.add(n.name)
    index = {n.slot: i for i, n in enumerate(nodes) if n.kind == "input"}
    pindex = {n.slot: i for i, n in enumerate(nodes) if n.kind == "param"}
    inputs, params = [], []
    for k in range(g.num_inputs):
        if k not in index:  # an input the output does not depend on: still an input
            index[k] = len(nodes)
            nodes.append(IRNode("input", input_names[k], slot=k))
        inputs.append(index[k])
    for k in range(len(g.params)):
        if k not in pindex:
            continue
        params.append(pindex[k])
    return IRGraph(tuple(nodes), tuple(inputs), tuple(input_names), tuple(params),
                   tuple(nodes[i].name for i in params), g.num_nodes - 1,
                   (None,) * len(inputs), [])


def _from_nodes(out: Node, inputs: Mapping[str, Node]) -> IRGraph:
    if not isinstance(inputs, Mapping) or not inputs:
        raise TypeError("inputs must be a dict of name -> leaf Value/Tensor (the graph's inputs)")
    by_id: dict[int, str] = {}
    for name, v in inputs.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"input names must be non-empty strings, got {name!r}")
        if not isinstance(v, Node):
            raise TypeError(f"input {name!r} must be a Value or Tensor, not {type(v).__name__}")
        if v._parents:
            raise ValueError(f"input {name!r} is not a leaf (it was computed by {v.op!r})")
        if id(v) in by_id:
            raise ValueError(f"inputs {by_id[id(v)]!r} and {name!r} are the same node")
        by_id[id(v)] = name
    order = topological_order(out)
    idx: dict[int, int] = {}
    nodes: list[IRNode] = []
    slots = {id(v): k for k, v in enumerate(inputs.values())}
    for n in order:
        i = len(nodes)
        idx[id(n)] = i
        if n._parents:
            prim = n._prim
            if prim is None:
                raise ExportError(f"node {n.label or i} has no primitive")
            _need_export(prim, f"node {n.label or n.op!r}")
            nodes.append(IRNode("op", f"{prim.name}_{i}", prim.name,
                                tuple(idx[id(p)] for p in n._parents), n._param,
                                prim.param is not None,
                                shape=None if isinstance(n, Value) else tuple(n.shape)))
        elif id(n) in by_id:
            nodes.append(IRNode("input", by_id[id(n)], slot=slots[id(n)]))
        else:
            data = n._data
            nodes.append(IRNode("const", f"const_{i}",
                                value=float(data) if isinstance(n, Value) else np.array(data)))
    ins = []
    for name, v in inputs.items():
        if id(v) not in idx:
            idx[id(v)] = len(nodes)
            nodes.append(IRNode("input", name, slot=slots[id(v)]))
        ins.append(idx[id(v)])
    shapes = tuple(None if isinstance(v, Value) else tuple(v.shape) for v in inputs.values())
    return IRGraph(tuple(nodes), tuple(ins), tuple(inputs), (), (), idx[id(out)], shapes,
                   [] if isinstance(out, Value) else list(out.shape))


def build(g: Any, inputs: Mapping[str, Node] | None = None) -> IRGraph:
    """The flat form of ``g``: a StaticGraph, or a Value/Tensor output with ``inputs``."""
    if isinstance(g, StaticGraph):
        if inputs is not None:
            raise TypeError("a static graph names its own inputs; do not pass inputs=")
        return _from_static(g)
    if isinstance(g, Node):
        if inputs is None:
            raise TypeError("exporting a Value/Tensor graph needs inputs={name: leaf, ...} "
                            "(which leaves are the inputs; every other leaf is a constant)")
        return _from_nodes(g, inputs)
    raise TypeError(f"can export a StaticGraph or a Value/Tensor output, not {type(g).__name__}")
