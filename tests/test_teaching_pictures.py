"""Issue 17: pictures a class can read — the collapsed neuron-level MLP picture
(neurons in order, layers in ranks, merged edges, output value and gradient in
each box) and wide chains that fit the page (read back from DOT and SVG)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import nn
from visualize import draw_graph, fmt_number
from visualize.graph import pipe

from _dotparse import parse

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _mlp_loss(sizes=(6, [12, 11, 3]), seed=0):
    X = [0.1 * (k + 1) for k in range(sizes[0])]
    model = nn.MLP(sizes[0], sizes[1], activation="sigmoid", output_activation="sigmoid", seed=seed)
    loss = nn.losses.binary_cross_entropy(model(X), 1)
    loss.backward()
    return model, loss


def _boxes(dot):
    return {n.name: n for n in dot.nodes.values() if n.id.startswith("m")}


@pytest.mark.parametrize("group_by", [None, "module"])
def test_collapsed_neurons_in_order_layers_in_ranks(group_by):
    model, loss = _mlp_loss()
    src = draw_graph(loss, collapse=True, group_by=group_by).source
    dot = parse(src)
    boxes = _boxes(dot)
    # ids follow the module order, 10 after 9 (not the graph walk's 0, 9, 17, ...)
    names = [boxes_name for boxes_name, _ in sorted(boxes.items(), key=lambda kv: int(kv[1].id[1:]))]
    want = [f"layers.{i}.neurons.{j}" for i, n in enumerate([12, 11, 3]) for j in range(n)]
    assert names == want
    # one rank per layer, listing its neurons in order, chained by invisible edges
    ranks = re.findall(r"\{rank=same; ([^}]*)\}", src)
    ids = {name: b.id for name, b in boxes.items()}
    for i, n in enumerate([12, 11, 3]):
        layer = [ids[f"layers.{i}.neurons.{j}"] for j in range(n)]
        assert " ".join(layer) in ranks
        invis = {frozenset((s, d)) for s, d, a in dot.edges if a.get("style") == "invis" and s in layer}
        assert invis == {frozenset(p) for p in zip(layer, layer[1:])}   # neighbours chained


def test_collapsed_edges_between_layers_merged_through_a_junction():
    model, loss = _mlp_loss()
    dot = parse(draw_graph(loss, collapse=True).source)
    ids = {name: b.id for name, b in _boxes(dot).items()}
    junctions = [n.id for n in dot.nodes.values() if n.attrs.get("shape") == "point"]
    assert len(junctions) == 2          # layer 0 -> 1 and layer 1 -> 2
    l0 = [ids[f"layers.0.neurons.{j}"] for j in range(12)]
    l1 = [ids[f"layers.1.neurons.{j}"] for j in range(11)]
    box_pairs = {(s, d) for s, d, a in dot.edges if a.get("style") != "invis"}
    assert not any((s, d) in box_pairs for s in l0 for d in l1)   # no 12 × 11 tangle
    j = next(j for j in junctions if (l0[0], j) in box_pairs)
    assert {s for s, d in box_pairs if d == j} == set(l0)
    assert {d for s, d in box_pairs if s == j} == set(l1)
    assert sum(1 for s, d in box_pairs if j in (s, d)) == 12 + 11


def test_collapsed_boxes_show_output_value_and_gradient():
    model, loss = _mlp_loss()
    dot = parse(draw_graph(loss, collapse=True).source)
    boxes = _boxes(dot)
    outs = {}
    stack = [loss]
    seen = set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.label.endswith(".out"):
            outs[v.label[:-4]] = v
        stack.extend(v.parents)
    assert len(outs) == 26
    for name, box in boxes.items():
        o = outs[name]
        assert f"out {fmt_number(o.data)}, grad {fmt_number(o.grad)}" in box.label


@needs_dot
@pytest.mark.parametrize("group_by", [None, "module"])
def test_collapsed_svg_layers_are_columns_in_order(group_by):
    model, loss = _mlp_loss()
    svg = pipe(draw_graph(loss, collapse=True, group_by=group_by), "svg").decode()
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    pos = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") != "node":
            continue
        texts = g.findall("s:text", ns)
        if texts and texts[0].text and texts[0].text.startswith("layers."):
            pos[texts[0].text] = (float(texts[0].get("x")), float(texts[0].get("y")))
    for i, n in enumerate([12, 11, 3]):
        col = [pos[f"layers.{i}.neurons.{j}"] for j in range(n)]
        xs = [x for x, _ in col]
        assert max(xs) - min(xs) < 10                              # one column per layer
        assert [y for _, y in col] == sorted(y for _, y in col)    # neurons top to bottom in order
    assert pos["layers.0.neurons.0"][0] < pos["layers.1.neurons.0"][0] < pos["layers.2.neurons.0"][0]


# ------------------------------------------------------------------ wide chains wrap

def test_wide_chain_wraps_into_rows_of_columns():
    from nn import experiments as ex
    from visualize import graph as vg
    r = ex.exploding()
    src = draw_graph(r.output, color="grad", parameters=r.parameters).source
    dot = parse(src)
    groups = [g.split() for g in re.findall(r"\{rank=same; ([^}]*)\}", src)]
    assert 1 < len(groups) <= vg.WRAP_WIDTH
    placed = [e for g in groups for e in g]
    drawn = [i for i in dot.nodes if i[0] in "vo"]
    assert sorted(placed) == sorted(drawn) and len(set(placed)) == len(placed)  # each once
    ids = {n.name: n.id for n in dot.nodes.values() if n.name}
    col = {e: k for k, g in enumerate(groups) for e in g}
    # b1 and b4 both on the page, in different rows: b4's column is not after b1's by 4 neurons
    assert col[ids["b4"]] - col[ids["b1"]] < vg.WRAP_WIDTH
    # edges into a later row do not constrain the ranks
    assert any(a.get("constraint") == "false" for _, _, a in dot.edges)


def test_short_graphs_are_not_wrapped():
    from autograd_core.parser import parse as parse_expr
    f, _ = parse_expr("1/(exp(-(x*w+b))+1)", x=1.0, w=0.0, b=0.0)
    f.backward()
    src = draw_graph(f).source
    assert "rank=same" not in src and "constraint=false" not in src


@needs_dot
def test_wide_chain_svg_fits_the_page(monkeypatch):
    from nn import experiments as ex
    from visualize import graph as vg
    r = ex.exploding()

    def width(svg: bytes) -> float:
        return float(re.search(rb'<svg width="([\d.]+)pt"', svg).group(1))
    wrapped = width(pipe(draw_graph(r.output, legend=False), "svg"))
    monkeypatch.setattr(vg, "WRAP_RANKS", None)
    flat = width(pipe(draw_graph(r.output, legend=False), "svg"))
    assert wrapped < 0.6 * flat and wrapped < 1300   # pt: about a slide's width at 100%
