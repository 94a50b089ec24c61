"""Hostile labels, names, module paths and formulas through every drawing
path: the DOT parses, the SVG/HTML holds no link, no script and no event
attribute made of user text, and the text itself is still shown (escaped).

``HOSTILE_LABELS`` is counted in the closing note of issue 15."""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import autograd_core as ac
from autograd_core import Value, explain
from autograd_core._markup import MAX_TEXT, dot_string, html_text, visible
from autograd_core.primitives import Primitive
from visualize.graph import draw_graph, pipe, render

HOSTILE_LABELS = [
    'x"',
    'x\\"',
    'C:\\Users\\ana\\"data\\"',
    "x\\",
    "trailing\\\\",
    'x\\" URL=<javascript:alert(3)>]; //',
    '" URL="javascript:alert(3)" target="_blank',
    '<<TABLE HREF="javascript:alert(4)"><TR><TD>pwn</TD></TR></TABLE>>',
    "<B>bold</B>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '" onmouseover="alert(5)',
    "' onload='alert(7)",
    "javascript:alert(8)",
    "&#106;avascript:alert(9)",
    "a&b &amp; &lt;tag&gt;",
    "]; evil -> v0 [URL=\"javascript:alert(6)\"]; x [label=\"",
    "} digraph { a",
    "{[(;,=)]}",
    "line1\nline2",
    "cr\rlf\r\n",
    "tab\there",
    "nul\x00byte",
    "bell\x07\x1b[31mred",
    "\\N \\G \\L \\l \\n",
    "bidi \u202eevil\u202c",
    "sep\u2028para\u2029",
    "ünïcødé λ∂σ 计算图 🙂",
    "a" * 5000,
    "",
    " ",
]

#: a dotted module path made of hostile pieces (group_by="module", collapse)
HOSTILE_MODULES = [
    '<<TABLE HREF="javascript:alert(4)">…>>',
    'x\\" URL=<javascript:alert(3)>]; //',
    "<script>alert(1)</script>",
    'mod"ule',
    "nul\x00",
    "line\nbreak",
]


# ---------------------------------------------------------------- the escapers

@pytest.mark.parametrize("text", HOSTILE_LABELS)
def test_escapers(text):
    v = visible(text)
    assert v.isprintable() and len(v) <= MAX_TEXT * 12
    d = dot_string(text)
    assert d.startswith('"') and d.endswith('"')
    inner = d[1:-1]
    i = 0  # every quote inside is escaped, the string ends where it should
    while i < len(inner):
        if inner[i] == "\\":
            i += 2
            continue
        assert inner[i] != '"'
        i += 1
    h = html_text(text)
    assert "<" not in h and ">" not in h and '"' not in h and "'" not in h


# ---------------------------------------------------------------- graphs

def _graph(label: str) -> Value:
    """Inputs, an intermediate and an output labelled ``label``; module
    parameters whose paths hold it."""
    x = Value(0.5, label)
    w = Value(-1.5, f"layers.{label}.w")
    b = Value(0.25, "layers.0.neurons.0.b")
    z = x * w + b
    z.label = f"{label}.out" if label else "z"
    y = (z.tanh() * 2.0 + z.exp() + 3.0).log()
    y.label = label or "y"
    y.backward()
    return y


def _module_graph(mod: str) -> Value:
    w0 = Value(0.5, f"{mod}.neurons.0.w.0")
    w1 = Value(-0.5, f"{mod}.neurons.0.w.1")
    b = Value(0.1, f"{mod}.neurons.0.b")
    x = Value(2.0, "x")
    z = w0 * x + w1 * x + b
    z.label = f"{mod}.neurons.0.out"
    out = z.sigmoid()
    out.label = f"{mod}.out"
    out.backward()
    return out


DRAWINGS = {
    "plain": {},
    "symbolic": {"symbolic": True},
    "module": {"group_by": "module"},
    "collapse": {"group_by": "module", "collapse": True},
    "layer": {"collapse": "layer"},
    "kind": {"color": "kind", "grads": False},
}


def _check_dot_attributes(source: str) -> None:
    """Graphviz reads the DOT back (as JSON): no URL/href/target/id attribute
    anywhere, so nothing can become a link."""
    r = subprocess.run(["dot", "-Tjson0"], input=source.encode("utf-8"), capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    doc = json.loads(r.stdout)
    for item in [doc, *doc.get("objects", []), *doc.get("edges", [])]:
        for key in item:
            assert key.lower() not in ("url", "href", "target", "tooltip", "id", "edgeurl",
                                       "headurl", "tailurl", "labelurl"), (key, item[key])


_EVENTS_OR_LINKS = ("href", "{http://www.w3.org/1999/xlink}href", "url", "target")


def _check_svg(svg: bytes) -> list[str]:
    """No link, script, foreignObject or event attribute; returns the texts."""
    root = ET.fromstring(svg)
    texts = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        assert tag not in ("a", "script", "foreignObject", "iframe", "object", "embed"), tag
        for k in el.attrib:
            name = k.rsplit("}", 1)[-1].lower()
            assert name not in _EVENTS_OR_LINKS and not name.startswith("on"), (k, el.attrib[k])
        if el.text:
            texts.append(el.text)
    return texts


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


@needs_dot
@pytest.mark.parametrize("kind", list(DRAWINGS))
def test_hostile_labels_through_every_drawing_option(kind):
    handled = 0
    for label in HOSTILE_LABELS:
        y = _graph(label)
        roots = (y, explain(y)) if kind in ("plain", "symbolic") else (y,)  # a Value, a Trace
        for root in roots:
            g = draw_graph(root, **DRAWINGS[kind])
            _check_dot_attributes(g.source)
            texts = _check_svg(pipe(g, "svg"))
            shown = visible(label)
            if kind in ("plain", "symbolic", "kind") and shown.strip():
                # Graphviz writes runs of spaces as one; the text is there, as text
                assert any(" ".join(shown.split()) in " ".join(t.split()) for t in texts), \
                    (label, texts[:8])
        handled += 1
    assert handled == len(HOSTILE_LABELS)


@needs_dot
@pytest.mark.parametrize("mod", HOSTILE_MODULES)
def test_hostile_module_paths_in_clusters_and_collapsed_boxes(mod):
    out = _module_graph(mod)
    for opts in ({"group_by": "module"}, {"group_by": "module", "collapse": True},
                 {"collapse": "layer"}, {}):
        g = draw_graph(out, **opts)
        _check_dot_attributes(g.source)
        texts = _check_svg(pipe(g, "svg"))
        if opts.get("group_by"):
            assert any(visible(mod) in t for t in texts), (mod, opts, texts[:6])


@needs_dot
def test_render_to_svg_file_with_hostile_labels(tmp_path):
    for i, label in enumerate(HOSTILE_LABELS):
        p = render(_graph(label), tmp_path / f"g{i}.svg", symbolic=True, group_by="module")
        _check_svg(p.read_bytes())


@needs_dot
def test_hostile_primitive_symbol_in_the_op_oval():
    for text in HOSTILE_LABELS[:12]:
        prim = Primitive(name=text or "p", rule=lambda a: (2.0 * a, (2.0,)), symbol=text)
        y = ac.apply(prim, Value(1.0, "x")) * 3.0
        g = draw_graph(y, symbolic=True)
        _check_dot_attributes(g.source)
        _check_svg(pipe(g, "svg"))


@needs_dot
def test_hostile_tensor_names():
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    for label in HOSTILE_LABELS[:20]:
        t = Tensor(np.ones((2, 2)), label=label)
        out = (t * 2.0).sum()
        g = draw_graph(out)
        _check_dot_attributes(g.source)
        _check_svg(pipe(g, "svg"))


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _page_tags(text: str) -> list[tuple[str, list]]:
    p = _Tags()
    p.feed(text)
    return p.tags


@needs_dot
def test_write_stepper_page_with_hostile_labels(tmp_path):
    from visualize.stepper import write_stepper
    write_stepper(_graph("x"), tmp_path / "benign.html")
    benign = _page_tags((tmp_path / "benign.html").read_text(encoding="utf-8"))
    scripts = sum(1 for t, _ in benign if t == "script")
    for i, label in enumerate(HOSTILE_LABELS):
        p = write_stepper(_graph(label), tmp_path / f"s{i}.html", title=label or None)
        tags = _page_tags(p.read_text(encoding="utf-8"))
        assert sum(1 for t, _ in tags if t == "script") == scripts, label
        assert not any(t in ("iframe", "object", "embed", "img", "a") for t, _ in tags), label
        for tag, attrs in tags:
            for k, v in attrs:
                assert not (k.startswith("on") and k not in {a for t2, at in benign if t2 == tag
                                                               for a, _ in at}), (tag, k, v)
                assert "javascript:" not in (v or "").lower(), (tag, k, v)


@needs_dot
def test_dot_failure_is_a_value_error_not_a_raw_process_error():
    import graphviz
    with pytest.raises(ValueError, match="Graphviz's dot could not lay out"):
        pipe(graphviz.Source("digraph { a -> }"), "svg")
