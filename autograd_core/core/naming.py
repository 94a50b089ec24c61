"""Names for the nodes of a graph, shared by ``explain``, drawing and the stepper.

A node is called by its label when it has one; unlabelled intermediates are
``h1, h2, ...`` numbered in evaluation order (the topological order, first
operand first), as in the textbook chapter's table; unlabelled leaves are the
number they hold (a constant) or ``v1, v2, ...`` when two would collide.
"""

from __future__ import annotations

from .engine import Value, topological_order


def _number(x: float) -> str:
    if type(x) is not float:  # a Tensor's array: its shape (one element: its number)
        size = getattr(x, "size", 1)
        if size == 1:
            return f"{float(x.reshape(())) if hasattr(x, 'reshape') else float(x):.6g}"
        return "[" + "×".join(map(str, getattr(x, "shape", ()))) + "]"
    return f"{x:.6g}"


def node_names(root: Value, order: list[Value] | None = None) -> dict[Value, str]:
    """A unique display name for every node reachable from ``root``."""
    if order is None:
        order = topological_order(root)
    names: dict[Value, str] = {}
    used: set[str] = set()
    h = 0
    anon = 0
    for n in order:
        if n.label and n.label not in used:
            name = n.label
        elif n._parents:
            h += 1
            name = f"h{h}"
            while name in used:
                h += 1
                name = f"h{h}"
        else:
            name = n.label or _number(n._data)
            if name in used:
                anon += 1
                name = f"{name}#{anon}"
        names[n] = name
        used.add(name)
    return names
