"""Graphviz pictures of computation graphs, annotated with values and gradients.

:func:`draw_graph` turns the graph behind a :class:`~autograd_core.Value` into a
:class:`graphviz.Digraph`:

* one box per Value with its name (its label, or ``h1, h2, ...`` as
  ``explain`` numbers them), its data and its gradient;
* the operation as its own small oval feeding the result;
* one edge per operand *use* (``x*x`` has two edges from ``x``), labelled with
  the local derivative recorded in the forward pass;
* with ``color="grad"`` the fill colour maps ``|grad|`` on a log scale (legend
  included), so vanishing and exploding gradients stand out;
* inputs, parameters, constants and the output drawn in distinct styles;
* dotted module labels (``layers.0.neurons.3.w.12``, as the ``nn`` library
  writes them) grouped into clusters (``group_by="module"``) or collapsed into
  one box per neuron or layer (``collapse=True``).

The traversal is iterative (:func:`autograd_core.topological_order`), so any
depth works; ``max_nodes`` refuses to draw pictures nobody could read.
:func:`render` writes svg, png or pdf; it needs Graphviz's ``dot`` program,
while ``draw_graph(...).source`` (the DOT text) does not.

Node kinds (how each leaf is styled):

* **output**: the root you draw (double border);
* **parameter**: a leaf whose label is a module path (it has a dotted prefix
  naming a module, e.g. ``layers.0.neurons.3.w.12`` or ``fc.b``), or any leaf in
  the ``parameters=`` collection when that is given;
* **input**: any other labelled leaf (``x``, ``x.0``);
* **constant**: an unlabelled leaf (a number that became a node);
* **intermediate**: everything computed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz

from autograd_core._io import write_atomic  # noqa: F401  (re-exported for stepper/plots)
from autograd_core._markup import dot_string, html_text

from autograd_core.core.engine import Value, topological_order
from autograd_core.core.naming import node_names

__all__ = [
    "Overlay", "trace_root", "trace_gradients", "draw_graph", "render", "fmt_number", "grad_color", "module_levels",
    "GraphvizNotFoundError", "install_hint", "pipe", "mimebundle", "GRAD_BINS", "FONT",
]

FONT = "Helvetica,Arial,sans-serif"

# ------------------------------------------------------------------ numbers


def fmt_number(x: Any) -> str:
    """A number in at most 4 significant digits; scientific notation for tiny
    or huge magnitudes (below 1e-4, from 1e4 on), with a short exponent.

    >>> fmt_number(0.25), fmt_number(1/3), fmt_number(12345.0), fmt_number(-2.5e-7)
    ('0.25', '0.3333', '1.234e4', '-2.5e-7')
    """
    if isinstance(x, Value):
        x = x._data
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"  # also for -0.0: the sign of zero only confuses a picture
    s = f"{x:.4g}"
    if "e" in s:
        mant, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        s = f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return s


def _as_float(g: Any) -> float:
    if isinstance(g, Value):
        return g._data
    try:
        return float(g)
    except (TypeError, ValueError):
        return math.nan


# ------------------------------------------------------------------ colours

#: The |grad| colour scale: (upper bound, exclusive; fill; font colour; legend text).
#: Zero and non-finite gradients have colours of their own (first and last entries).
GRAD_BINS: tuple[tuple[float, str, str, str], ...] = (
    (0.0, "#ffffff", "black", "0"),
    (1e-6, "#313695", "white", "< 1e-6"),
    (1e-4, "#4575b4", "white", "1e-6 … 1e-4"),
    (1e-2, "#91bfdb", "black", "1e-4 … 0.01"),
    (1e-1, "#e0f3f8", "black", "0.01 … 0.1"),
    (1e1, "#ffffbf", "black", "0.1 … 10"),
    (1e2, "#fee090", "black", "10 … 100"),
    (1e4, "#fc8d59", "black", "100 … 1e4"),
    (math.inf, "#d73027", "white", "≥ 1e4"),
    (math.nan, "#9e9e9e", "black", "nan / inf"),
)


def grad_color(g: Any) -> tuple[str, str]:
    """(fill colour, font colour) for a gradient on the log-scale map."""
    a = abs(_as_float(g))
    if a != a or a == math.inf:
        return GRAD_BINS[-1][1], GRAD_BINS[-1][2]
    if a == 0.0:
        return GRAD_BINS[0][1], GRAD_BINS[0][2]
    for bound, fill, font, _ in GRAD_BINS[1:-1]:
        if a < bound:
            return fill, font
    return GRAD_BINS[-2][1], GRAD_BINS[-2][2]  # pragma: no cover - inf handled above


_KIND_STYLE: dict[str, dict[str, str]] = {
    "input": {"shape": "box", "style": "filled,bold", "color": "#1565c0", "penwidth": "2"},
    "parameter": {"shape": "box", "style": "filled,rounded,bold", "color": "#2e7d32",
                  "penwidth": "2"},
    "constant": {"shape": "ellipse", "style": "filled,dashed", "color": "#757575",
                 "fontsize": "10", "margin": "0.04,0.02", "height": "0.3"},
    "intermediate": {"shape": "box", "style": "filled", "color": "#424242"},
    "output": {"shape": "box", "style": "filled,bold", "color": "#b71c1c", "penwidth": "2",
               "peripheries": "2"},
    "module": {"shape": "box3d", "style": "filled", "color": "#4a148c", "penwidth": "1.5",
               "margin": "0.06,0.02"},
}
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#eceff1", "color": "#90a4ae",
             "fontsize": "10", "margin": "0.03,0.01", "height": "0.25", "width": "0.3"}


class _Html(str):
    """An HTML-like label this module built (its text already passed through
    :func:`html_text`): written as it is. Every other value is a DOT string."""


_ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _q(v: Any) -> str:
    """A DOT attribute value: a label built here as HTML-like markup, else
    any value (user text included) as an escaped DOT string."""
    return f"<{v}>" if isinstance(v, _Html) else dot_string(v)


def _attr_str(attrs: dict[str, Any]) -> str:
    for k in attrs:
        if not _ATTR_NAME.fullmatch(k):
            raise ValueError(f"not a Graphviz attribute name: {k!r}")
    return " ".join(f"{k}={_q(v)}" for k, v in attrs.items())


_KIND_ATTRS: dict[str, str] = {}  # filled below, once _KIND_STYLE exists
_OP_ATTRS = _attr_str(_OP_STYLE)
_KIND_FILL = {"input": "#e3f2fd", "parameter": "#e8f5e9", "constant": "#f5f5f5",
              "intermediate": "#ffffff", "output": "#ffebee", "module": "#f3e5f5"}
_KIND_ATTRS.update({k: _attr_str(v) for k, v in _KIND_STYLE.items()})
_KIND_ORDER = ("input", "parameter", "constant", "intermediate", "output", "module")

# ------------------------------------------------------------------ op labels

_INFIX = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^"}
_CONST_LEFT = {"rsub_const", "rdiv_const", "rpow_const"}  # c − x, c ÷ x, c ^ x


def op_label(v: Value) -> str:
    """How the operation that made ``v`` is written in its oval."""
    prim = v._prim
    if prim is None:
        return ""
    name, p = prim.name, v._param
    if name == "neg":
        return "neg"
    if name == "dot_const":
        return f"dot ({len(p)} const)"
    if p is not None and prim.infix:
        sym = _INFIX[prim.symbol]
        c = fmt_number(p)
        return f"{c} {sym} ·" if name in _CONST_LEFT else f"{sym} {c}"
    if prim.infix:
        return _INFIX[prim.symbol]
    if p is not None:
        return f"{prim.symbol}({fmt_number(p) if isinstance(p, (int, float)) else p})"
    return prim.symbol or name


# ------------------------------------------------------------------ modules


def module_levels(label: str) -> list[str]:
    """The module paths a dotted label lives in, outermost first.

    The trailing name (``w``, ``b``, ``out``) and its indices are dropped, and
    each name is kept together with the index after it:
    ``"layers.0.neurons.3.w.12"`` -> ``["layers.0", "layers.0.neurons.3"]``;
    ``"encoder.fc.b"`` -> ``["encoder", "encoder.fc"]``; ``"x.3"`` and ``"w"`` -> ``[]``.
    """
    if not label or "." not in label:
        return []
    parts = label.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    if parts:
        parts.pop()  # the member's own name
    levels: list[str] = []
    i = 0
    while i < len(parts):
        j = i + 1
        while j < len(parts) and parts[j].isdigit():
            j += 1
        levels.append(".".join(parts[:j]))
        i = j
    return levels


def _assign_modules(order: list[Value]) -> dict[Value, list[str]]:
    """Module levels of every node: from its own dotted label, or, for an
    unlabelled node, from the labelled module output it feeds (found by walking
    back from each labelled computed node through unlabelled ones)."""
    mods: dict[Value, list[str]] = {}
    for v in order:
        if v.label:
            lv = module_levels(v.label)
            if lv:
                mods[v] = lv
    for v in order:
        lv = mods.get(v)
        if lv is None or not v._parents:
            continue
        stack = list(v._parents)
        while stack:
            p = stack.pop()
            if p.label or p in mods:
                continue
            mods[p] = lv
            stack.extend(p._parents)
    return mods


# ------------------------------------------------------------------ drawing


def _html_rows(rows: list[str]) -> str:
    """A DOT label value: a one-column table of ``rows`` (markup made of
    :func:`html_text` pieces)."""
    body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return _q(_Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>'))


def _kind(v: Value, root: Value, params: set[Value] | None, mods: dict[Value, list[str]] | None) -> str:
    if v is root:
        return "output"
    if v._parents:
        return "intermediate"
    if params is not None:
        return "parameter" if v in params else ("input" if v.label else "constant")
    if not v.label:
        return "constant"
    if mods is not None:
        return "parameter" if mods.get(v) else "input"
    return "parameter" if module_levels(v.label) else "input"


class Overlay:
    """Per-node hooks that change what :func:`draw_graph` shows (the stepper
    and Trace pictures use them). The defaults draw ``Value.grad``."""

    def grad(self, v: Value) -> Any:
        """The gradient to show and colour by; None for "not known yet" (drawn ``?``)."""
        return v.grad

    def grad_text(self, v: Value) -> str | None:
        """The text of the grad row; None for the formatted :meth:`grad`."""
        return None

    def node(self, v: Value) -> dict[str, str] | None:
        """Attribute overrides of ``v``'s box."""
        return None

    def op(self, v: Value) -> dict[str, str] | None:
        """Attribute overrides of the op oval that made ``v``."""
        return None

    def edge(self, v: Value, k: int) -> dict[str, str] | None:
        """Attribute overrides of the edge for ``v``'s operand number ``k``."""
        return None

    def out_edge(self, v: Value) -> dict[str, str] | None:
        """Attribute overrides of the edge from ``v``'s op oval to ``v``."""
        return None


class _AdjointOverlay(Overlay):
    """Gradients from a Trace (which touches no ``.grad``)."""

    def __init__(self, adjoint: dict[Value, float]) -> None:
        self.adjoint = adjoint

    def grad(self, v: Value) -> Any:
        return self.adjoint.get(v, 0.0)


HIGHLIGHT_COLOR = "#d50000"


def _highlighted(items: Iterable[Any], order: list[Value]) -> set[Value]:
    """The nodes of ``order`` that ``highlight`` names (Values, or culprits with a
    ``node``: the same node, or one with the same primitive, operands and parameter)."""
    if isinstance(items, Value) or hasattr(items, "node"):
        items = [items]
    keys = {}
    chosen: set[Value] = set()
    for it in items:
        node = getattr(it, "node", it)
        if not isinstance(node, Value):
            raise TypeError(f"highlight takes Values or gradcheck culprits, not {type(it).__name__}")
        chosen.add(node)
        if node._parents:
            keys[(node.op, tuple(p._data for p in node._parents), repr(node._param))] = True
    for v in order:
        if v._parents and (v.op, tuple(p._data for p in v._parents), repr(v._param)) in keys:
            chosen.add(v)
    return chosen


class _HighlightOverlay(Overlay):
    """Another overlay (or the default one) with some nodes marked in red."""

    def __init__(self, base: Overlay | None, nodes: set[Value]) -> None:
        self.base = base if base is not None else Overlay()
        self.nodes = nodes

    def grad(self, v: Value) -> Any:
        return self.base.grad(v)

    def grad_text(self, v: Value) -> str | None:
        return self.base.grad_text(v)

    def node(self, v: Value) -> dict[str, str] | None:
        got = self.base.node(v)
        if v not in self.nodes:
            return got
        return dict(got or {}, color=HIGHLIGHT_COLOR, penwidth="3")

    def op(self, v: Value) -> dict[str, str] | None:
        got = self.base.op(v)
        if v not in self.nodes:
            return got
        return dict(got or {}, color=HIGHLIGHT_COLOR, fillcolor="#ffcdd2", penwidth="3",
                    fontcolor=HIGHLIGHT_COLOR)

    def edge(self, v: Value, k: int) -> dict[str, str] | None:
        return self.base.edge(v, k)

    def out_edge(self, v: Value) -> dict[str, str] | None:
        return self.base.out_edge(v)


def trace_root(obj: Any) -> Value | None:
    """The output Value of a :class:`autograd_core.stepthrough.trace.Trace`, else None."""
    if not hasattr(obj, "backward_steps"):
        return None
    for attr in ("output", "_root"):
        root = getattr(obj, attr, None)
        if isinstance(root, Value):
            return root
    return None


def trace_gradients(trace: Any) -> dict[Value, float]:
    """∂output/∂node for every node a Trace's backward steps reach (the
    output itself: 1), read from the steps' accumulated gradients."""
    root = trace_root(trace)
    if root is None:
        raise TypeError(f"expected a Trace, got {type(trace).__name__}")
    by_name = {n: v for v, n in node_names(root).items()}
    acc: dict[Value, float] = {root: 1.0}
    for s in trace.backward_steps:
        for c in s.contributions:
            acc[by_name[c.parent]] = c.accumulated
    return acc


def _check_options(root: Any, color: Any, rankdir: Any, max_nodes: Any, group_by: Any,
                   collapse: Any) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs a Value (or a Trace), got {type(root).__name__}")
    if color not in ("grad", "kind", None, "none"):
        raise ValueError(f"color must be 'grad', 'kind' or None, got {color!r}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    if type(max_nodes) is not int or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    if group_by not in (None, "module"):
        raise ValueError(f"group_by must be None or 'module', got {group_by!r}")
    if not (collapse is False or collapse is True or collapse in ("neuron", "layer")
            or (type(collapse) is int and collapse >= 1)):
        raise ValueError("collapse must be False, True (one box per neuron), 'neuron', "
                         f"'layer' or a module depth >= 1, got {collapse!r}")
    return root


def _too_many(n: int, max_nodes: int, what: str) -> ValueError:
    return ValueError(
        f"the graph has {n} {what}, more than max_nodes={max_nodes}: nobody can read that "
        "picture. Draw a summary with collapse=True (one box per labelled neuron; "
        "collapse='layer' for one per layer) and group_by='module' (clusters per module), "
        "or raise max_nodes")


def draw_graph(root: Value, *, grads: bool = True, local_grads: bool = True,
               color: str | None = "grad", rankdir: str = "LR", max_nodes: int = 2000,
               group_by: str | None = None, collapse: bool | int | str = False,
               parameters: Iterable[Value] | None = None, legend: bool = True,
               symbolic: bool = False, highlight: Iterable[Any] | None = None,
               _overlay: Any = None) -> graphviz.Digraph:
    """The computation graph behind ``root`` as a :class:`graphviz.Digraph`.

    ``grads``: show each node's gradient. ``local_grads``: label each operand
    edge with its local derivative (``symbolic=True`` adds the formula, e.g.
    ``exp(h3) = 1``, when :mod:`autograd_core.stepthrough.symbolic` is available).
    ``color``: ``"grad"`` (|grad| on a log scale, with a legend), ``"kind"``
    (by node kind) or ``None``. ``rankdir``: ``"LR"``, ``"TB"``, ...
    ``max_nodes``: refuse (ValueError) to draw more Value nodes than this.
    ``group_by="module"``: a cluster per module of dotted labels.
    ``collapse``: ``True``/``"neuron"`` one box per innermost module,
    ``"layer"`` (or a depth ``k``) per outer module, showing the norm of the
    gradients of its parameters. ``parameters``: the leaves to style as
    parameters (default: leaves with module-path labels). ``root`` may also
    be a Trace (its output is drawn). ``highlight``: nodes to mark in red —
    Values, or gradcheck culprits (``report.culprits``; a culprit also marks
    the nodes of this graph with the same primitive and operands).
    """
    if type(root).__name__ in ("Tensor", "TensorTrace"):  # array nodes: shape and ‖grad‖
        from autograd_core.tensor.view import draw_tensor_graph
        return draw_tensor_graph(getattr(root, "output", root), rankdir=rankdir,
                                 max_nodes=max_nodes, highlight=highlight)
    troot = trace_root(root)
    if troot is not None:  # a Trace: its output's graph, with the trace's gradients
        if _overlay is None:
            _overlay = _AdjointOverlay(trace_gradients(root))
        root = troot
    root = _check_options(root, color, rankdir, max_nodes, group_by, collapse)
    order = topological_order(root)
    if not collapse and len(order) > max_nodes:
        raise _too_many(len(order), max_nodes, "nodes")
    params = None if parameters is None else set(parameters)
    use_mods = group_by == "module" or bool(collapse)
    mods = _assign_modules(order) if use_mods else None
    names = node_names(root, order)
    index = {v: i for i, v in enumerate(order)}
    sym = _symbolic_locals(order, names) if (symbolic and local_grads) else None

    # ---- which drawn entity each node belongs to (itself, or a collapsed box)
    box_of: dict[Value, str] = {}
    if collapse:
        depth = None if collapse in (True, "neuron") else (1 if collapse == "layer" else collapse)
        for v, lv in mods.items():  # type: ignore[union-attr]
            box_of[v] = lv[-1] if depth is None else lv[min(depth, len(lv)) - 1]
        # boxes in module order (layers.0.neurons.0, .1, ..., .10, layers.1...), not the
        # evaluation order of the graph walk
        boxes = sorted(dict.fromkeys(box_of[v] for v in order if v in box_of), key=_natural)
        box_id = {p: f"m{j}" for j, p in enumerate(boxes)}
        n_entities = len(order) - len(box_of) + len(boxes)
        if n_entities > max_nodes:
            raise _too_many(n_entities, max_nodes, "nodes after collapsing")
    else:
        boxes, box_id = [], {}

    def ent(v: Value) -> str:
        b = box_of.get(v)
        return box_id[b] if b is not None else f"v{index[v]}"

    g = graphviz.Digraph("computation_graph")
    g.attr(rankdir=rankdir, fontname=FONT, nodesep="0.25", ranksep="0.35")
    g.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
    g.attr("edge", fontname=FONT, fontsize="9", fontcolor="#37474f", color="#546e7a",
           arrowsize="0.7")

    clusters: dict[str, graphviz.Digraph] = {}
    cluster_parent: dict[str, str | None] = {}

    def container(levels: list[str]) -> graphviz.Digraph:
        if group_by != "module" or not levels:
            return g
        for k, path in enumerate(levels):
            if path not in clusters:
                c = graphviz.Digraph(f"cluster_{len(clusters)}")
                c.body.append(f"\tlabel={dot_string(path)}\n")  # user text: our own escaping
                c.attr(style="rounded,dashed", color="#7e57c2", fontcolor="#4a148c",
                       fontname=FONT, fontsize="10", labeljust="l")
                clusters[path] = c
                cluster_parent[path] = levels[k - 1] if k else None
        return clusters[levels[-1]]

    def fill(kind: str, grad: Any) -> tuple[str, str]:
        if color == "grad":
            return grad_color(grad)
        if color == "kind":
            return _KIND_FILL[kind], "black"
        return "#ffffff", "black"

    kinds_seen: set[str] = set()
    if highlight is not None:
        _overlay = _HighlightOverlay(_overlay, _highlighted(highlight, order))
    ov = _overlay

    # ---- value nodes (and their op ovals): raw DOT lines, fast for big graphs
    for i, v in enumerate(order):
        if v in box_of:
            continue
        kind = _kind(v, root, params, mods)
        kinds_seen.add(kind)
        lv = mods.get(v, []) if mods is not None else []
        body = container(lv).body
        name = names[v]
        if group_by == "module" and lv and name.startswith(lv[-1] + "."):
            name = name[len(lv[-1]) + 1:]
        if ov is None:
            grad, gtext, extra = v.grad, None, None
        else:
            grad, gtext, extra = ov.grad(v), ov.grad_text(v), ov.node(v)
        fc, font = fill(kind, grad) if grad is not None else ("#ffffff", "black")
        if gtext is None:
            gtext = fmt_number(grad) if grad is not None else "?"
        if kind == "constant":
            text = fmt_number(v._data) if not v.label else name
            if grads and (ov is not None or grad != 0.0):
                label = dot_string(text, f"grad {gtext}")
            else:
                label = dot_string(text)
        else:
            rows = [f"<B>{html_text(name)}</B>", f"data {html_text(fmt_number(v._data))}"]
            if grads:
                rows.append("grad " + html_text(gtext))
            label = _html_rows(rows)
        if extra:
            attrs = dict(_KIND_STYLE[kind], fillcolor=fc, fontcolor=font)
            attrs.update(extra)
            body.append(f"\tv{i} [label={label} {_attr_str(attrs)}]\n")
        else:
            body.append(f'\tv{i} [label={label} {_KIND_ATTRS[kind]} fillcolor="{fc}" '
                        f'fontcolor="{font}"]\n')
        if v._parents:
            extra = ov.op(v) if ov is not None else None
            if extra:
                body.append(f"\to{i} [label={_q(op_label(v))} "
                            f"{_attr_str(dict(_OP_STYLE, **extra))}]\n")
            else:
                body.append(f"\to{i} [label={_q(op_label(v))} {_OP_ATTRS}]\n")

    # ---- collapsed boxes
    if boxes:
        members: dict[str, list[Value]] = {p: [] for p in boxes}
        for v in order:
            b = box_of.get(v)
            if b is not None:
                members[b].append(v)
        for p in boxes:
            vs = members[p]
            ps = [v for v in vs if not v._parents and v.label and
                  (params is None or v in params)]
            gof = (lambda v: v.grad) if ov is None else ov.grad
            norm = math.sqrt(math.fsum(_as_float(gof(v) or 0.0) ** 2 for v in ps)) if ps else 0.0
            outs = _box_output(p, vs)
            lv = module_levels(p + ".x")  # the box's own levels
            where = container(lv[:-1])
            rows = [f"<B>{html_text(p)}</B>",
                    f"{len(ps)} parameter{'s' if len(ps) != 1 else ''}, {len(vs)} nodes"]
            if grads:
                rows.append(f"‖∇params‖ {html_text(fmt_number(norm))}")
            if len(outs) == 1:
                o = outs[0]
                rows.append(f"{html_text(o.label[len(p) + 1:] or o.label)} "
                            f"{html_text(fmt_number(o._data))}"
                            + (f", grad {html_text(fmt_number(gof(o)) if gof(o) is not None else '?')}" if grads else ""))
            kind = "output" if root in vs else "module"
            kinds_seen.add("module")
            fc, font = fill("module", norm if ps else 0.0)
            attrs = dict(_KIND_STYLE["module"], fillcolor=fc, fontcolor=font)
            if kind == "output":
                attrs.update(peripheries="2", color=_KIND_STYLE["output"]["color"])
            where.node(box_id[p], _html_rows(rows), **attrs)  # markup built of html_text pieces

    layer_of, box_groups = (_rank_boxes(g, boxes, box_id, clusters if group_by == "module" else None)
                            if boxes else ({}, {}))

    # ---- nest clusters, deepest first (subgraph() copies the body when called)
    for path in sorted(clusters, key=lambda s: -len(module_levels(s + ".x"))):
        parent = cluster_parent[path]
        (clusters[parent] if parent is not None else g).subgraph(clusters[path])

    # ---- edges: one per operand use; op oval -> result
    dedup: dict[tuple[str, str], int] = {}
    edges = g.body
    multi = False  # an operand used twice by one node (x*x): its edges must stay apart
    for i, v in enumerate(order):
        if not v._parents:
            continue
        dst_box = box_of.get(v)
        if dst_box is not None:
            d = box_id[dst_box]
            for p in v._parents:
                s = ent(p)
                if s != d:
                    dedup[(s, d)] = dedup.get((s, d), 0) + 1
            continue
        if not multi and len(v._parents) > 1 and len(set(map(id, v._parents))) < len(v._parents):
            multi = True
        for k, (p, loc) in enumerate(zip(v._parents, v._local)):
            extra = ov.edge(v, k) if ov is not None else None
            if local_grads or extra:
                attrs = {}
                if local_grads:
                    text = fmt_number(loc)
                    if sym is not None and sym.get((v, k)) is not None:
                        s_text = sym[(v, k)]
                        if s_text != text:
                            text = f"{s_text} = {text}"
                    attrs["label"] = text
                if extra:
                    attrs.update(extra)
                edges.append(f"\t{ent(p)} -> o{i} [{_attr_str(attrs)}]\n")
            else:
                edges.append(f"\t{ent(p)} -> o{i}\n")
        extra = ov.out_edge(v) if ov is not None else None
        edges.append(f"\to{i} -> v{i} [{_attr_str(extra)}]\n" if extra else f"\to{i} -> v{i}\n")
    if boxes:
        _merge_box_edges(g, layer_of, box_groups, dedup)
        g.attr(nodesep="0.08", ranksep="0.5")  # compact columns of neurons
    for (s, d), n in dedup.items():
        edges.append(f'\t{s} -> {d} [label="×{n}"]\n' if n > 1 else f"\t{s} -> {d}\n")
    if group_by == "module":
        g.attr(newrank="true")  # rank across clusters: tidier layered pictures
    if boxes and not multi:
        g.attr(concentrate="true")  # bundle the many module-to-module edges

    if not boxes and rankdir in ("LR", "RL"):
        _wrap_wide(g, order, index)
    if legend:
        _legend(g, color, kinds_seen, local_grads and not boxes)
    return g


#: a left-to-right picture more than this many ranks wide (a value box and an
#: op oval are one rank each) is wrapped into rows of at most WRAP_WIDTH ranks,
#: so a long chain fits the page width (None: never wrap)
WRAP_RANKS: int | None = 24
WRAP_WIDTH = 16
#: wider pictures than WRAP_WIDTH × WRAP_MAX_ROWS ranks are left as they are
#: (no page fits them anyway)
WRAP_MAX_ROWS = 8

def _wrap_wide(g: graphviz.Digraph, order: list[Value], index: dict[Value, int]) -> None:
    """Wrap a wide left-to-right graph into rows: each value box and op oval
    gets its rank (an op one after its operands, a result one after its op,
    a leaf just before its first use); rank k goes to row k // W and column
    k % W, every column is one ``rank=same`` group with its rows stacked in
    order, and the edges into a later row do not constrain the ranks."""
    if WRAP_RANKS is None:
        return
    if len(order) > 2 * WRAP_WIDTH * WRAP_MAX_ROWS * 4:
        return  # too big to wrap onto a page (and the longest path is long): as it is
    rank: dict[str, int] = {}
    first_use: dict[Value, int] = {}
    for v in order:
        if v._parents:
            i = index[v]
            r = 1 + max((rank[f"v{index[p]}"] for p in v._parents if p._parents), default=0)
            rank[f"o{i}"] = r
            rank[f"v{i}"] = r + 1
            for p in v._parents:
                if not p._parents:
                    first_use[p] = min(first_use.get(p, r), r)
    for v in order:
        if not v._parents:
            rank[f"v{index[v]}"] = max(first_use[v] - 1, 0) if v in first_use else 0
    width = max(rank.values(), default=0) + 1
    if width <= WRAP_RANKS:
        return
    rows = -(-width // WRAP_WIDTH)
    if rows > WRAP_MAX_ROWS:
        return
    w = -(-width // rows)
    row = {e: r // w for e, r in rank.items()}
    columns: dict[int, list[str]] = {}
    for e, r in sorted(rank.items(), key=lambda er: (er[1] // w, int(er[0][1:]), er[0])):
        columns.setdefault(r % w, []).append(e)
    import re
    edge = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?\n$")
    for k, line in enumerate(g.body):
        m = edge.match(line)
        if m and m.group(1) in row and m.group(2) in row and row[m.group(2)] > row[m.group(1)]:
            attrs = (m.group(3) + " " if m.group(3) else "") + "constraint=false"
            g.body[k] = f"\t{m.group(1)} -> {m.group(2)} [{attrs}]\n"
    for c in sorted(columns):
        ids = columns[c]
        g.body.append("\t{rank=same; " + " ".join(ids) + "}\n")
        g.body.extend(f"\t{a} -> {b} [style=invis]\n" for a, b in zip(ids, ids[1:])
                      if row[b] > row[a])



def _natural(path: str) -> list[Any]:
    """Sort key: ``layers.2.neurons.10`` after ``layers.2.neurons.9``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in path.split(".")]


def _box_output(path: str, members: list[Value]) -> list[Value]:
    """The node whose value and gradient a collapsed box shows: its module's
    ``out`` (``layers.0.neurons.3.out``), else its last labelled computed node."""
    outs = [v for v in members if v._parents and v.label]
    named = [v for v in outs if v.label == path + ".out"]
    return named or outs[-1:]


#: a layer-to-layer bundle of at least this many edges (every neuron of one
#: layer to every neuron of the next) is drawn through one junction point
MERGE_EDGES = 4


def _rank_boxes(g: graphviz.Digraph, boxes: list[str], box_id: dict[str, str],
                clusters: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The collapsed neuron picture: the neurons of one layer in one rank (a
    column for ``rankdir="LR"``), in order, top to bottom (invisible edges
    between neighbours). Returns (box id -> its layer, layer -> box ids in order)."""
    layer_of: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for p in boxes:
        lv = module_levels(p + ".x")
        layer = lv[-2] if len(lv) > 1 else ""
        layer_of[box_id[p]] = layer
        groups.setdefault(layer, []).append(box_id[p])
    for layer, ids in groups.items():
        if len(ids) < 2 or not layer:  # top-level boxes (collapse="layer"): no common rank
            continue
        body = clusters[layer].body if clusters is not None and layer in clusters else g.body
        body.append("\t{rank=same; " + " ".join(ids) + "}\n")
        # flat edges fix the order within the rank; dot (2.43) puts a flat edge's tail
        # above its head in a left-to-right layout, but below it inside a cluster: the
        # edges run so that neuron 0 is at the top either way (the SVG is tested)
        inside = body is not g.body
        body.extend(f"\t{b} -> {a} [style=invis]\n" if inside else f"\t{a} -> {b} [style=invis]\n"
                    for a, b in zip(ids, ids[1:]))
    return layer_of, groups


def _merge_box_edges(g: graphviz.Digraph, layer_of: dict[str, str], groups: dict[str, list[str]],
                     dedup: dict[tuple[str, str], int]) -> None:
    """The edges between two layers that connect every neuron of one to every
    neuron of the other, merged through one junction point (n + m edges
    instead of n × m). Edits ``dedup`` (the box-to-box edges) in place."""
    pairs: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for (s, d), n in dedup.items():
        if n == 1 and s in layer_of and d in layer_of and layer_of[s] != layer_of[d] \
                and layer_of[s] and layer_of[d]:
            pairs.setdefault((layer_of[s], layer_of[d]), set()).add((s, d))
    for j, ((ls, ld), es) in enumerate(pairs.items()):
        src, dst = groups[ls], groups[ld]
        if len(src) < 2 or len(dst) < 2 or len(es) != len(src) * len(dst) or len(es) < MERGE_EDGES:
            continue
        jid = f"j{j}"
        g.body.append(f'\t{jid} [label="" shape=point width=0.08 color="#546e7a" '
                      f'tooltip="{len(src)} × {len(dst)} connections"]\n')
        for e in es:
            del dedup[e]
        g.body.extend(f"\t{s} -> {jid} [arrowhead=none]\n" for s in src)
        g.body.extend(f"\t{jid} -> {d}\n" for d in dst)


_KIND_LEGEND_BORDER = {"input": ("#1565c0", "2"), "parameter": ("#2e7d32", "2"),
                       "constant": ("#757575", "1"), "intermediate": ("#424242", "1"),
                       "output": ("#b71c1c", "3"), "module": ("#4a148c", "2")}


def _legend(g: graphviz.Digraph, color: str | None, kinds: set[str], local_grads: bool) -> None:
    """The legend, as the graph's own label (bottom right), so it takes no rank."""
    rows = []
    if color == "grad":
        cells = "".join(
            f'<TD BGCOLOR="{fill}"><FONT COLOR="{font}">{html_text(text)}</FONT></TD>'
            for _, fill, font, text in GRAD_BINS)
        rows.append(f'<TR><TD BORDER="0" ALIGN="RIGHT"><B>fill: |grad|, log scale</B></TD>{cells}</TR>')
    kcells = []
    for kind in _KIND_ORDER:
        if kind in kinds:
            col, width = _KIND_LEGEND_BORDER[kind]
            bg = f' BGCOLOR="{_KIND_FILL[kind]}"' if color == "kind" else ""
            text = "collapsed module" if kind == "module" else kind
            kcells.append(f'<TD BORDER="{width}" COLOR="{col}"{bg}>{text}</TD>')
    if kcells:
        rows.append('<TR><TD BORDER="0" ALIGN="RIGHT"><B>border: node kind</B></TD>'
                    + "".join(kcells) + "</TR>")
    if local_grads:
        rows.append('<TR><TD BORDER="0" ALIGN="RIGHT"><B>edge label</B></TD>'
                    '<TD BORDER="0" ALIGN="LEFT" COLSPAN="9">local derivative ∂result/∂operand</TD></TR>')
    if not rows:
        return
    g.attr(label='<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2">'
           + "".join(rows) + "</TABLE>>", labelloc="b", labeljust="r", fontsize="9")


def _symbolic_locals(order: list[Value], names: dict[Value, str]) -> dict[tuple[Value, int], str] | None:
    """Local derivatives as formulas, ``(node, operand index) -> text``: each
    node's primitive rule evaluated on :class:`autograd_core.stepthrough.symbolic.Sym`
    symbols named after its parents (the rule is the only derivative
    formula). None where the symbolic module is not available."""
    try:
        from autograd_core.stepthrough.symbolic import Sym
    except ImportError:  # pragma: no cover - symbolic ships with the package
        return None
    out: dict[tuple[Value, int], str] = {}
    for v in order:
        prim = v._prim
        if prim is None or len(v._parents) > 16:  # n-ary dot/sum: numbers only, formulas unreadable
            continue
        try:
            syms = [Sym(names[p], p._data) for p in v._parents]
            extra = (v._param,) if prim.has_param else ()
            locs = prim.rule(*syms, *extra)[1]
        except Exception:  # a formula is a nicety; the number is always drawn
            continue
        for k, loc in enumerate(locs):
            if isinstance(loc, Sym):
                out[(v, k)] = loc.text
    return out


# ------------------------------------------------------------------ rendering

_FORMATS = ("svg", "png", "pdf")


class GraphvizNotFoundError(FileNotFoundError):
    """Graphviz's ``dot`` program is not installed (or not on PATH)."""


def install_hint(what: str = "render pictures") -> str:
    return (f"Graphviz's `dot` program was not found on PATH; it is needed to {what}. "
            "Install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
            "`brew install graphviz` (macOS), `dnf install graphviz` (Fedora), "
            "`conda install graphviz` or https://graphviz.org/download/. "
            "The DOT text, draw_graph(...).source, works without it.")


def pipe(graph: graphviz.Digraph | graphviz.Source, fmt: str) -> bytes:
    """``graph`` laid out by ``dot`` in format ``fmt`` (svg, png, pdf)."""
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(install_hint(f"render {fmt}"))
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(install_hint(f"render {fmt}")) from None
    except graphviz.CalledProcessError as e:  # never a raw traceback of the dot process
        err = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"Graphviz's dot could not lay out the graph as {fmt}: "
                         f"{err[0] if err else f'exit status {e.returncode}'}") from None


def render(root: Any, path: str | os.PathLike[str], **options: Any) -> Path:
    """Draw ``root`` (a Value, a Trace or a ready Digraph) and write it to
    ``path``: svg, png or pdf chosen by the file's extension. ``options`` go
    to :func:`draw_graph`. Returns the path.

    Raises :class:`GraphvizNotFoundError` (with install instructions) when
    Graphviz's ``dot`` is missing, ValueError for an unknown extension."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"cannot tell the picture format of {str(path)!r}: "
                         f"use a file name ending in {', '.join('.' + f for f in _FORMATS)}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (for {str(path)!r})")
    if isinstance(root, graphviz.Digraph):
        if options:
            raise TypeError("drawing options cannot be applied to a ready Digraph")
        graph = root
    else:
        graph = draw_graph(root, **options)
    write_atomic(path, pipe(graph, fmt))
    return path


def mimebundle(obj: Any, **options: Any) -> dict[str, str]:
    """What Jupyter shows for a Value or a Trace: its graph as SVG, or plain
    text (with the reason) when it cannot be drawn."""
    try:
        svg = pipe(draw_graph(obj, **options), "svg").decode("utf-8")
    except (GraphvizNotFoundError, ValueError) as exc:
        return {"text/plain": f"{obj!r}\n({exc})"}
    return {"image/svg+xml": svg, "text/plain": repr(obj)}
