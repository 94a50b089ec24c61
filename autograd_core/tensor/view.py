"""Explain rows and drawings for Tensor graphs (shapes and norms instead of numbers).

``tensor_rows(root)`` lists every node of a Tensor graph in evaluation order
(the engine's topological order, names from :func:`naming.node_names`) with
its operation, operands, shape, the norm of its data and of its gradient, and
what its local derivatives are (an elementwise array, a number, or a linear
map such as ``MatmulLeft``). ``format_rows`` prints them as a table;
``draw_tensor_graph`` returns a Graphviz digraph whose nodes show name,
operation, shape and gradient norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.engine import LocalMap, topological_order
from ..core.naming import node_names
from . import Tensor, describe

__all__ = ["tensor_rows", "format_rows", "draw_tensor_graph", "TensorTrace"]


def _norm(a: Any) -> float:
    if isinstance(a, Tensor):
        a = a.data
    return float(np.linalg.norm(np.ravel(a)))


def _local_kind(l: Any) -> str:
    if isinstance(l, LocalMap):
        return type(l).__name__
    if isinstance(l, np.ndarray):
        return "elementwise"
    if isinstance(l, Tensor):
        return "elementwise (Tensor)"
    return f"{float(l):g}"


def _shape(s: Any) -> str:
    return "(" + "×".join(map(str, tuple(s))) + ")"


def matrix_derivative(node: Any, k: int, names: dict[Any, str]) -> str | None:
    """Operand ``k``'s local derivative of a matrix product, as the textbook's
    ``Matmul`` layer writes its backward pass, with the shapes in denominator
    layout (each gradient has its variable's shape): for h = x·W,
    ``grad_x = grad_h·Wᵀ  (2×3) = (2×4)·(3×4)ᵀ`` and
    ``grad_W = xᵀ·grad_h  (3×4) = (2×3)ᵀ·(2×4)``; for a dense layer
    h = x·Wᵀ + b, ``grad_W = grad_hᵀ·x``. None for other derivatives."""
    from . import LinearWeight, MatmulLeft, MatmulRight
    loc = node._local[k]
    h = names[node]
    hs = _shape(node.shape)
    ps = node._parents
    me = names[ps[k]]
    if isinstance(loc, MatmulLeft):
        if node.op == "linear":
            w = names[ps[1]]
            return f"grad_{me} = grad_{h}·{w}  {_shape(loc.ashape)} = {hs}·{_shape(ps[1].shape)}"
        other = names[ps[1]] if len(ps) > 1 and k == 0 else "C"
        return (f"grad_{me} = grad_{h}·{other}ᵀ  {_shape(loc.ashape)} = {hs}·"
                f"{_shape(np.shape(loc.b))}ᵀ")
    if isinstance(loc, MatmulRight):
        other = names[ps[0]] if len(ps) > 1 and k == 1 else "C"
        return (f"grad_{me} = {other}ᵀ·grad_{h}  {_shape(loc.bshape)} = "
                f"{_shape(np.shape(loc.a))}ᵀ·{hs}")
    if isinstance(loc, LinearWeight):
        x = np.shape(loc.x)
        xname = names[ps[0]] if node.op == "linear" else "x"
        return (f"grad_{me} = grad_{h}ᵀ·{xname}  {_shape(ps[k].shape)} = {hs}ᵀ·{_shape(x)}")
    return None


def tensor_rows(root: Tensor, order: list[Any] | None = None,
                names: dict[Any, str] | None = None) -> list[dict[str, Any]]:
    """One dict per node: name, op, parents, shape, dtype, norm, grad_norm, local."""
    if not isinstance(root, Tensor):
        raise TypeError(f"tensor_rows needs a Tensor, got {type(root).__name__}")
    if order is None:
        order = topological_order(root)
    if names is None:
        names = node_names(root, order)
    rows = []
    for n in order:
        rows.append({"name": names[n], "op": n.op or ("leaf" if n.label else "const"),
                     "parents": [names[p] for p in n.parents], "shape": tuple(n.shape),
                     "dtype": n.dtype.name, "norm": _norm(n.data),
                     "grad_norm": None if n._grad is None else _norm(n._grad),
                     "local": [_local_kind(l) for l in n.local_grads],
                     "matrix": [matrix_derivative(n, k, names) for k in range(len(n._parents))]})
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table."""
    head = ["node", "op", "operands", "shape", "‖value‖", "‖grad‖", "local derivatives"]
    body = [[r["name"], r["op"], ", ".join(r["parents"]), "×".join(map(str, r["shape"])) or "()",
             f"{r['norm']:.4g}", "" if r["grad_norm"] is None else f"{r['grad_norm']:.4g}",
             ", ".join(r["local"])] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def draw_tensor_graph(root: Tensor, *, rankdir: str = "LR", max_nodes: int = 2000,
                      highlight: Any = None) -> Any:
    """A ``graphviz.Digraph``: one box per node with name, op, shape and ‖grad‖.
    ``highlight``: nodes to mark in red -- Tensors, or Tensor gradcheck
    culprits (``report.culprits``, whose ``node`` is in ``report.graph``)."""
    import graphviz

    from .._markup import dot_string

    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}")
    marked: set[int] = set()
    if highlight is not None:
        items = [highlight] if isinstance(highlight, Tensor) or hasattr(highlight, "node") \
            else list(highlight)
        for it in items:
            node = getattr(it, "node", it)
            if not isinstance(node, Tensor):
                raise TypeError("highlight takes Tensors or Tensor gradcheck culprits, not "
                                f"{type(it).__name__}")
            marked.add(id(node))
    names = node_names(root, order)
    g = graphviz.Digraph("tensor_graph", graph_attr={"rankdir": rankdir},
                         node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"})
    ids = {n: f"n{i}" for i, n in enumerate(order)}
    for n in order:
        lines = [names[n]]
        if n.op:
            lines.append(n.op)
        lines.append(describe(n))
        if n._grad is not None:
            lines.append("grad " + describe(n, grad=True).split(" ", 1)[1])
        style = "filled" if not n.parents else '""'
        red = ' color="#d50000" penwidth="3" fontcolor="#d50000"' if id(n) in marked else ""
        g.body.append(f'\t{ids[n]} [label={dot_string(*lines)} style={style} '
                      f'fillcolor="#eef5ff"{red}]\n')
        for p in n.parents:
            g.edge(ids[p], ids[n])
    return g


class TensorTrace:
    """What :func:`autograd_core.explain` returns for a Tensor output: the
    forward rows (shapes and norms instead of numbers) and the backward steps
    (norms of the upstream gradient, of each contribution ``local × upstream``
    and of the parent's gradient so far), in reverse topological order.

    The contributions are the same ``l * g`` products the engine's backward
    driver forms (linear maps apply their transpose). Touches no ``.grad``."""

    def __init__(self, output: Tensor, wrt: Any = None) -> None:
        if not isinstance(output, Tensor):
            raise TypeError(f"TensorTrace needs a Tensor, got {type(output).__name__}")
        self.output = output
        order = topological_order(output)
        self.names = node_names(output, order)
        self.forward_rows = tensor_rows(output, order, self.names)
        adj: dict[Any, Any] = {output: np.ones_like(np.asarray(output.data))}
        steps = []
        for n in reversed(order):
            if not n._parents or n not in adj:
                continue
            g = adj[n]
            parts = []
            for p, l in zip(n._parents, n._local):
                c = l * g
                adj[p] = c if p not in adj else adj[p] + c
                parts.append({"parent": self.names[p], "local": _local_kind(l),
                              "contribution_norm": _norm(c), "grad_so_far_norm": _norm(adj[p])})
            steps.append({"node": self.names[n], "op": n.op, "upstream_norm": _norm(g),
                          "parents": parts})
        self.backward_steps = steps
        leaves = [n for n in order if not n._parents]
        if wrt is not None:
            wanted = set(wrt if isinstance(wrt, (list, tuple, set)) else [wrt])
            leaves = [n for n in leaves if n in wanted or self.names[n] in wanted]
        self.gradients = {self.names[n]: adj.get(n, 0.0 * np.asarray(n.data)) for n in leaves}

    def matrix_lines(self) -> list[str]:
        """The matrix products' local derivatives as backward formulas with
        shapes (the textbook's Matmul layer; see :func:`matrix_derivative`)."""
        return [f"  {r['name']} = {' @ '.join(r['parents'])}: {m}" if r["op"] == "matmul"
                else f"  {r['name']} ({r['op']}): {m}"
                for r in self.forward_rows for m in r.get("matrix", []) if m]

    def to_text(self) -> str:
        """Forward table, the matrix local derivatives, then one line per
        backward contribution."""
        lines = [format_rows(self.forward_rows)]
        mats = self.matrix_lines()
        if mats:
            lines += ["", "matrix local derivatives (denominator layout: a gradient has its "
                          "variable's shape)", *mats]
        lines += ["", "backward (norms)"]
        for st in self.backward_steps:
            for part in st["parents"]:
                lines.append(f"  {st['node']:>6} -> {part['parent']:<8} ‖upstream‖ {st['upstream_norm']:.4g}"
                             f"  local {part['local']:<18} ‖contribution‖ {part['contribution_norm']:.4g}"
                             f"  ‖grad so far‖ {part['grad_so_far_norm']:.4g}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        head = "| node | op | operands | shape | ‖value‖ | ‖grad‖ | local derivatives |\n|---|---|---|---|---|---|---|"
        body = [f"| {r['name']} | {r['op']} | {', '.join(r['parents'])} | {'×'.join(map(str, r['shape'])) or '()'} "
                f"| {r['norm']:.4g} | {'' if r['grad_norm'] is None else format(r['grad_norm'], '.4g')} "
                f"| {', '.join(r['local'])} |" for r in self.forward_rows]
        return "\n".join([head, *body])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (gradients as nested lists)."""
        return {"output": self.names[self.output],
                "forward_rows": [dict(r, shape=list(r["shape"])) for r in self.forward_rows],
                "backward_steps": self.backward_steps,
                "gradients": {k: np.asarray(v).tolist() for k, v in self.gradients.items()}}

    def __str__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.to_text()}
