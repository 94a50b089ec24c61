"""visualize.draw_graph / render: values, gradients, local derivatives, styles,
grouping, the depth and size guards, rendering and the missing-`dot` message."""

from __future__ import annotations

import math
import re
import shutil
import sys

import graphviz
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _dotparse import parse
from autograd_core import Value
from visualize import GraphvizNotFoundError, draw_graph, fmt_number, render
from visualize.graph import GRAD_BINS, grad_color, mimebundle, module_levels

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def seed():
    """The seed chapter's f(x; w, b) = 1 / (exp(-(w x + b)) + 1) at x=1, w=0, b=0."""
    x, w, b = Value(1.0, "x"), Value(0.0, "w"), Value(0.0, "b")
    f = 1 / ((-(x * w + b)).exp() + 1)
    f.backward()
    return f, x, w, b


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("x, text", [
    (0.25, "0.25"), (-0.25, "-0.25"), (1.0, "1"), (0.5, "0.5"), (1 / 3, "0.3333"),
    (2 / 3, "0.6667"), (0.1 + 0.2, "0.3"), (1234.5678, "1235"), (12345.0, "1.234e4"),
    (1e20, "1e20"), (-2.5e-7, "-2.5e-7"), (1e-4, "0.0001"), (9.99e-5, "9.99e-5"),
    (0.0, "0"), (-0.0, "0"), (math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"),
    (Value(0.125), "0.125"), (7, "7"),
])
def test_fmt_number(x, text):
    assert fmt_number(x) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_fmt_number_keeps_four_significant_digits(x):
    s = fmt_number(x)
    assert len(s.replace("-", "").replace(".", "").split("e")[0].lstrip("0")) <= 4
    if x != 0 and abs(x) < 1.7975e308:  # above, the 4-digit rounding is past the float range
        assert math.isclose(float(s), x, rel_tol=5.01e-4)


# ------------------------------------------------------------------ the seed example

def test_seed_dot_has_values_grads_and_local_derivatives():
    f, x, w, b = seed()
    dot = parse(draw_graph(f).source)
    # values and gradients of every node, as in the seed's table (h3 = -0 drawn as 0)
    expected = {"x": ("1", "0"), "w": ("0", "0.25"), "b": ("0", "0.25"),
                "h1": ("0", "0.25"), "h2": ("0", "0.25"), "h3": ("0", "-0.25"),
                "h4": ("1", "-0.25"), "h5": ("2", "-0.25"), "h6": ("0.5", "1")}
    drawn = {n.name: (n.row("data"), n.row("grad")) for n in dot.nodes.values() if n.name}
    assert drawn == expected
    # the op ovals, and one labelled edge per operand: the seed's derivative table
    ops = {dot.nodes[n.id[0:0] + "o" + dot.by_name(r).id[1:]].label
           for r in ("h1", "h2", "h3", "h4", "h5", "h6") for n in [dot.by_name(r)]}
    assert ops == {"×", "+", "neg", "exp", "+ 1", "1 ÷ ·"}
    name = {n.id: n.name for n in dot.nodes.values()}
    locals_ = {r: sorted((name[s], a["label"]) for s, a in dot.operand_edges(dot.by_name(r).id))
               for r in ("h1", "h2", "h3", "h4", "h5", "h6")}
    assert locals_ == {
        "h1": [("w", "1"), ("x", "0")],       # ∂h1/∂x = w = 0, ∂h1/∂w = x = 1
        "h2": [("b", "1"), ("h1", "1")],
        "h3": [("h2", "-1")],
        "h4": [("h3", "1")],                  # exp(h3) = 1
        "h5": [("h4", "1")],
        "h6": [("h5", "-0.25")],              # -1/h5² = -0.25
    }
    # each op oval feeds its result
    for r in ("h1", "h6"):
        i = dot.by_name(r).id
        assert ("o" + i[1:], i, {}) in dot.edges


def test_seed_symbolic_local_derivatives():
    f, *_ = seed()
    labels = {a.get("label") for _, _, a in parse(draw_graph(f, symbolic=True).source).edges}
    assert {"w = 0", "x = 1", "exp(h3) = 1", "-1/h5^2 = -0.25", "-1", "1"} <= labels


def test_one_edge_per_operand_use():
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    dot = parse(draw_graph(y).source)
    xs = dot.by_name("x")
    edges = dot.operand_edges(dot.by_name("h1").id)
    assert [(s, a["label"]) for s, a in edges] == [(xs.id, "3"), (xs.id, "3")]
    assert xs.row("grad") == "6"


def test_switches_grads_local_grads_rankdir():
    f, *_ = seed()
    src = draw_graph(f, grads=False, local_grads=False, rankdir="TB", color=None).source
    dot = parse(src)
    assert all(n.row("grad") is None for n in dot.nodes.values() if n.name)
    assert all("label" not in a for _, _, a in dot.edges)
    assert "rankdir=TB" in src
    assert "fill: |grad|" not in src  # no colour scale in the legend without colour


# ------------------------------------------------------------------ colours and kinds

def test_grad_colour_log_scale_and_legend():
    a = Value(1.0, "a")
    tiny, huge, mid, nan_ = a * 1e-8, a * 1e5, a * 0.5, a * math.nan
    for v, g in ((tiny, 1e-7), (huge, 3e5), (mid, 0.5), (nan_, math.nan)):
        v.grad = g
    root = Value(0.0)  # a graph with all four as parents
    from autograd_core import sum as vsum
    root = vsum([tiny, huge, mid, nan_])
    root.grad = 1.0
    dot = parse(draw_graph(root).source)
    fills = {n.name: n.attrs["fillcolor"] for n in dot.nodes.values() if n.name}
    names = {tiny: "h1", huge: "h2", mid: "h3", nan_: "h4"}
    assert fills[names[tiny]] == "#313695"      # < 1e-6: vanishing, dark blue
    assert fills[names[huge]] == "#d73027"      # >= 1e4: exploding, red
    assert fills[names[mid]] == "#ffffbf"       # 0.1 .. 10: healthy
    assert fills[names[nan_]] == GRAD_BINS[-1][1]
    assert fills["a"] == "#ffffff"              # grad 0
    src = draw_graph(root).source
    for _, fill, _, text in GRAD_BINS:
        assert fill in src and text.replace("<", "&lt;") in src


@given(st.floats(min_value=1e-300, max_value=1e300), st.floats(min_value=1.0, max_value=1e6))
def test_grad_colour_is_monotonic_on_the_log_scale(g, factor):
    order = [b[1] for b in GRAD_BINS]
    assert order.index(grad_color(g)[0]) <= order.index(grad_color(g * factor)[0])
    assert grad_color(-g) == grad_color(g)


def test_node_kinds_are_styled_distinctly():
    x = Value(2.0, "x")                      # input
    w = Value(0.5, "fc.w.0")                 # parameter (module path)
    c = Value(3.0)                           # constant (unlabelled leaf)
    out = (x * w) + c
    out.backward()
    dot = parse(draw_graph(out).source)
    xs, ws, hs = dot.by_name("x"), dot.by_name("fc.w.0"), dot.by_name("h2")
    const = next(n for n in dot.nodes.values() if n.label.startswith("3"))
    styles = {k: (n.attrs["shape"], n.attrs["style"], n.attrs["color"], n.attrs.get("peripheries"))
              for k, n in (("input", xs), ("parameter", ws), ("constant", const), ("output", hs))}
    assert len(set(styles.values())) == 4
    assert styles["output"][3] == "2" and styles["constant"][0] == "ellipse"
    assert "dashed" in styles["constant"][1] and "rounded" in styles["parameter"][1]
    # parameters= overrides the rule: x becomes a parameter, fc.w.0 an input
    dot2 = parse(draw_graph(out, parameters=[x]).source)
    assert dot2.by_name("x").attrs["color"] == ws.attrs["color"]
    assert dot2.by_name("fc.w.0").attrs["color"] == xs.attrs["color"]


def test_module_levels():
    assert module_levels("layers.0.neurons.3.w.12") == ["layers.0", "layers.0.neurons.3"]
    assert module_levels("layers.0.neurons.3.b") == ["layers.0", "layers.0.neurons.3"]
    assert module_levels("layers.1.neurons.0.out") == ["layers.1", "layers.1.neurons.0"]
    assert module_levels("encoder.fc.b") == ["encoder", "encoder.fc"]
    assert module_levels("x.3") == [] and module_levels("w") == [] and module_levels("") == []


# ------------------------------------------------------------------ depth and size

def test_deep_chain_draws_without_recursion_and_is_refused_by_max_nodes():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.5, "x")
    y = x
    for i in range(100_000):
        y = y + 0.001 if i % 2 else y * 1.0000001
    y.backward()
    with pytest.raises(ValueError) as err:
        draw_graph(y)
    msg = str(err.value)
    assert "100001 nodes" in msg and "max_nodes=2000" in msg
    assert "group_by" in msg and "collapse" in msg
    g = draw_graph(y, max_nodes=100_001)
    src = g.source
    assert len(re.findall(r"\n\tv\d+ \[", src)) == 100_001 and src.count(" -> ") == 200_000
    with pytest.raises(ValueError, match="max_nodes=100000"):
        draw_graph(y, max_nodes=100_000)


# ------------------------------------------------------------------ modules

def hand_mlp():
    """A 2-3-1 tanh MLP labelled as the nn library labels it."""
    xs = [Value(1.0, "x.0"), Value(-2.0, "x.1")]
    inputs, params = xs, []
    for li, n in enumerate((3, 1)):
        outs = []
        for ni in range(n):
            pre = f"layers.{li}.neurons.{ni}"
            ws = [Value(0.1 * (ni + 1) * (-1) ** k, f"{pre}.w.{k}") for k in range(len(inputs))]
            b = Value(0.05 * ni, f"{pre}.b")
            params += ws + [b]
            act = sum((w * x for w, x in zip(ws, inputs)), b).tanh()
            act.label = f"{pre}.out"
            outs.append(act)
        inputs = outs
    loss = (inputs[0] - 0.5) ** 2
    loss.backward()
    return loss, params, xs


def test_group_by_module_clusters_per_neuron_and_layer():
    loss, params, xs = hand_mlp()
    dot = parse(draw_graph(loss, group_by="module").source)
    value_nodes = [n for n in dot.nodes.values() if n.id.startswith("v")]
    where = {}
    for n in value_nodes:
        where.setdefault(n.cluster, []).append(n)
    assert set(where) == {(), ("layers.0", "layers.0.neurons.0"), ("layers.0", "layers.0.neurons.1"),
                          ("layers.0", "layers.0.neurons.2"), ("layers.1", "layers.1.neurons.0")}
    # inside a cluster names are relative: w.0, w.1, b, out and the neuron's own h nodes
    for cl in ("layers.0.neurons.0", "layers.0.neurons.2"):
        names = sorted(n.name for n in where[("layers.0", cl)])
        assert [s for s in names if not s.startswith("h")] == ["b", "out", "w.0", "w.1"]
        assert len(names) == 4 + 4  # 2 products, 2 sums, and nothing else
    assert len(where[("layers.1", "layers.1.neurons.0")]) == 5 + 6
    # inputs and the loss computation stay outside the modules
    assert sorted(n.name for n in where[()]) == ["h19", "h20", "x.0", "x.1"]
    # op ovals sit with their results
    for n in value_nodes:
        if ("o" + n.id[1:]) in dot.nodes:
            assert dot.nodes["o" + n.id[1:]].cluster == n.cluster


def test_collapse_one_box_per_neuron_with_gradient_norms():
    loss, params, xs = hand_mlp()
    dot = parse(draw_graph(loss, collapse=True, group_by="module").source)
    boxes = {n.name: n for n in dot.nodes.values() if n.id.startswith("m")}
    assert sorted(boxes) == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2",
                             "layers.1.neurons.0"]
    for path, box in boxes.items():
        ps = [p for p in params if p.label.startswith(path + ".")]
        norm = math.sqrt(sum(p.grad ** 2 for p in ps))
        assert f"‖∇params‖ {fmt_number(norm)}" in box.label
        assert f"{len(ps)} parameters" in box.label
        assert box.cluster == (path.rsplit(".neurons", 1)[0],)  # boxes inside their layer's cluster
        assert box.attrs["shape"] == "box3d"
    ids = {p: b.id for p, b in boxes.items()}
    x0 = dot.by_name("x.0").id
    pairs = {(s, d) for s, d, _ in dot.edges}
    for i in range(3):
        assert (x0, ids[f"layers.0.neurons.{i}"]) in pairs
        assert (ids[f"layers.0.neurons.{i}"], ids["layers.1.neurons.0"]) in pairs
    # the loss computation is still drawn node by node, with local derivatives
    assert ("o" + dot.by_name("h19").id[1:]) in dot.nodes
    assert sum(1 for n in dot.nodes.values() if n.id.startswith("v")) == 4  # x.0 x.1 h19 h20


def test_collapse_per_layer_and_max_nodes_counts_the_summary():
    loss, params, xs = hand_mlp()
    dot = parse(draw_graph(loss, collapse="layer").source)
    boxes = {n.name: n for n in dot.nodes.values() if n.id.startswith("m")}
    assert sorted(boxes) == ["layers.0", "layers.1"]
    norm0 = math.sqrt(sum(p.grad ** 2 for p in params if p.label.startswith("layers.0.")))
    assert f"‖∇params‖ {fmt_number(norm0)}" in boxes["layers.0"].label
    # three neurons feed layer 1: one edge, counted
    assert [a.get("label") for s, d, a in dot.edges
            if (s, d) == (boxes["layers.0"].id, boxes["layers.1"].id)] == ["×3"]
    with pytest.raises(ValueError, match="collapse"):
        draw_graph(loss, max_nodes=10)
    draw_graph(loss, max_nodes=10, collapse=True)  # 4 boxes + 4 nodes fit


def test_collapsed_edges_are_bundled_but_operand_uses_stay_apart():
    loss, params, xs = hand_mlp()
    assert "concentrate=true" in draw_graph(loss, collapse=True).source
    d = loss.parents[0]               # out - 0.5
    sq = d * d                        # the same operand twice: two edges, never merged
    sq.backward()
    src = draw_graph(sq, collapse=True).source
    assert "concentrate" not in src
    dot = parse(src)
    root = next(n for n in dot.nodes.values() if n.attrs.get("peripheries") == "2")
    assert len(dot.operand_edges(root.id)) == 2


@pytest.mark.parametrize("kwargs, exc", [
    ({"color": "rainbow"}, ValueError), ({"rankdir": "up"}, ValueError),
    ({"max_nodes": 0}, ValueError), ({"max_nodes": 2.5}, ValueError),
    ({"group_by": "layer"}, ValueError), ({"collapse": "everything"}, ValueError),
    ({"collapse": 0}, ValueError),
])
def test_bad_options(kwargs, exc):
    f, *_ = seed()
    with pytest.raises(exc):
        draw_graph(f, **kwargs)


def test_bad_root():
    with pytest.raises(TypeError, match="draw_graph needs a Value"):
        draw_graph(1.5)


# ------------------------------------------------------------------ rendering

@needs_dot
@pytest.mark.parametrize("ext, magic", [("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n"),
                                        ("pdf", b"%PDF")])
def test_render_formats(tmp_path, ext, magic):
    f, *_ = seed()
    out = render(f, tmp_path / f"seed.{ext}")
    data = out.read_bytes()
    assert data.startswith(magic) and len(data) > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"seed.{ext}"]  # no stray files
    if ext == "svg":
        text = data.decode()
        assert "<svg" in text and "grad 0.25" in text and "h6" in text


def test_render_bad_extension_and_directory(tmp_path):
    f, *_ = seed()
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf"):
        render(f, tmp_path / "seed.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render(f, tmp_path / "nope" / "seed.svg")


def test_missing_dot_gives_install_instructions(tmp_path, monkeypatch):
    f, *_ = seed()
    monkeypatch.setenv("PATH", "")
    assert shutil.which("dot") is None
    with pytest.raises(GraphvizNotFoundError) as err:
        render(f, tmp_path / "seed.svg")
    assert "apt-get install graphviz" in str(err.value)
    assert "draw_graph(...).source" in str(err.value)
    assert not list(tmp_path.iterdir())
    assert "digraph" in draw_graph(f).source       # the DOT text needs no dot
    assert mimebundle(f) == {"text/plain": f"{f!r}\n({err.value})"}


def test_graphviz_executable_not_found_is_translated(tmp_path, monkeypatch):
    """Even when `dot` is on PATH but cannot run, the install message is given."""
    f, *_ = seed()

    def boom(*a, **k):
        raise graphviz.ExecutableNotFound(("dot",))
    monkeypatch.setattr(graphviz.Digraph, "pipe", boom)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        render(f, tmp_path / "seed.png")


@needs_dot
def test_jupyter_display_of_a_value():
    from IPython.core.formatters import DisplayFormatter
    f, *_ = seed()
    data, _ = DisplayFormatter().format(f)
    assert "<svg" in data["image/svg+xml"] and "grad 0.25" in data["image/svg+xml"]
    assert data["text/plain"] == repr(f)
