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

from .engine import LocalMap, topological_order
from .naming import node_names
from .tensor import Tensor, describe

__all__ = ["tensor_rows", "format_rows", "draw_tensor_graph"]


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


def tensor_rows(root: Tensor) -> list[dict[str, Any]]:
    """One dict per node: name, op, parents, shape, dtype, norm, grad_norm, local."""
    if not isinstance(root, Tensor):
        raise TypeError(f"tensor_rows needs a Tensor, got {type(root).__name__}")
    order = topological_order(root)
    names = node_names(root, order)
    rows = []
    for n in order:
        rows.append({"name": names[n], "op": n.op or ("leaf" if n.label else "const"),
                     "parents": [names[p] for p in n.parents], "shape": tuple(n.shape),
                     "dtype": n.dtype.name, "norm": _norm(n.data),
                     "grad_norm": None if n._grad is None else _norm(n._grad),
                     "local": [_local_kind(l) for l in n.local_grads]})
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


def draw_tensor_graph(root: Tensor) -> Any:
    """A ``graphviz.Digraph``: one box per node with name, op, shape and ‖grad‖."""
    import graphviz

    order = topological_order(root)
    names = node_names(root, order)
    g = graphviz.Digraph("tensor_graph", graph_attr={"rankdir": "LR"},
                         node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"})
    ids = {n: f"n{i}" for i, n in enumerate(order)}
    for n in order:
        lines = [names[n]]
        if n.op:
            lines.append(n.op)
        lines.append(describe(n))
        if n._grad is not None:
            lines.append("grad " + describe(n, grad=True).split(" ", 1)[1])
        g.node(ids[n], "\n".join(lines), style="filled" if not n.parents else "",
               fillcolor="#eef5ff")
        for p in n.parents:
            g.edge(ids[p], ids[n])
    return g
