"""Read back the DOT text that visualize writes (for the visualize tests only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NODE = re.compile(r'^\s*(\w+) \[label=(<<TABLE.*?</TABLE>>|"(?:[^"\\]|\\.)*"|\w+)(.*)\]$')
_EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[(.*)\])?$')
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ \]]+)')


@dataclass
class Node:
    id: str
    label: str
    attrs: dict[str, str]
    cluster: tuple[str, ...]  # labels of the enclosing clusters, outermost first

    @property
    def name(self) -> str | None:
        m = re.search(r"<B>(.*?)</B>", self.label)
        return m.group(1) if m else None

    def row(self, key: str) -> str | None:
        m = re.search(rf">{key} ([^<]*)<", self.label)
        return m.group(1) if m else None


@dataclass
class Dot:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def by_name(self, name: str) -> Node:
        hits = [n for n in self.nodes.values() if n.name == name]
        assert len(hits) == 1, f"{len(hits)} nodes named {name!r}"
        return hits[0]

    def operand_edges(self, result_id: str) -> list[tuple[str, dict[str, str]]]:
        """(source id, attrs) of the edges into the op oval of value node ``result_id``."""
        op = "o" + result_id[1:]
        return [(s, a) for s, d, a in self.edges if d == op]


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for k, v in _ATTR.findall(text or ""):
        out[k] = v[1:-1] if v.startswith('"') else v
    return out


def parse(source: str) -> Dot:
    dot = Dot()
    stack: list[str] = []
    pending_label: list[str | None] = []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph "):
            pending_label.append(None)
            stack.append("")
            continue
        if s == "}":
            if stack:
                stack.pop()
                pending_label.pop()
            continue
        if stack and s.startswith(("color=", "label=", "fontcolor=")) and "label=" in s:
            m = re.search(r'label=("(?:[^"\\]|\\.)*"|[^ ]+)', s)
            if m:
                lab = m.group(1).strip('"')
                stack[-1] = lab
            continue
        m = _EDGE.match(line)
        if m:
            dot.edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m:
            lab = m.group(2)
            if lab.startswith('"'):
                lab = lab[1:-1]
            dot.nodes[m.group(1)] = Node(m.group(1), lab, _attrs(m.group(3)),
                                         tuple(x for x in stack if x))
    return dot
