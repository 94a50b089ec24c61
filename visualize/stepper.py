"""Step through backpropagation, one picture per backward step.

:func:`step_frames` turns a :class:`~autograd_core.stepthrough.trace.Trace` (from
``autograd_core.explain(output)``) into one :class:`graphviz.Digraph` per
backward step: the node whose gradient is handed back is highlighted, the
edges used in the step are marked, gradients known so far are shown (partial
sums marked "so far") and the rest of the graph is greyed.

:func:`write_stepper` writes ONE self-contained HTML file (nothing fetched
from anywhere) with Prev/Next buttons, a slider, the left/right arrow keys and
a panel with the step's chain-rule arithmetic, upstream × local = contribution.
The graph is laid out once (by ``dot``, or in the browser by Graphviz compiled
to WebAssembly when there is no ``dot``) and each step restyles that picture
from a few numbers (:class:`_FrameStyles`), so hundreds of steps take a second.
``practice=True`` adds the practice mode (the playground's ``practice.js``).

Every number shown comes from the Trace (which reads the local derivatives
recorded in the forward pass); nothing here knows a derivative formula.
:func:`step_frames` frames share one layout (node sizes are fixed from a
probe layout), so nothing jumps when stepping.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from autograd_core._markup import inline_script as _inline_script
from autograd_core._markup import json_script as _json_script
from autograd_core.core.engine import Value, topological_order
from autograd_core.core.naming import node_names
from autograd_core.stepthrough.trace import num as _num  # the tables' numbers: 6 significant digits

from .graph import (
    _KIND_FILL, _KIND_STYLE, _OP_STYLE, FONT, GraphvizNotFoundError, Overlay, _assign_modules, _kind,
    draw_graph, fmt_number, grad_color, install_hint, pipe, trace_root, write_atomic,
)

__all__ = ["step_frames", "write_stepper"]

HIGHLIGHT = "#ff6f00"   # the current node and the edges used in this step
GREY_FILL, GREY_LINE, GREY_TEXT = "#f5f5f5", "#cfd8dc", "#9e9e9e"


def _as_trace(trace: Any) -> Any:
    if isinstance(trace, Value):
        from autograd_core.stepthrough.trace import explain
        return explain(trace)
    if trace_root(trace) is None:
        raise TypeError("expected a Trace from autograd_core.explain(output) (or a Value), "
                        f"got {type(trace).__name__}")
    return trace


class _Plan:
    """When each node's gradient becomes known, and its value after each step."""

    def __init__(self, trace: Any) -> None:
        self.trace = trace
        self.root: Value = trace_root(trace)  # type: ignore[assignment]
        self.order = topological_order(self.root)
        self.names = node_names(self.root, self.order)  # the names the trace uses
        by_name = {n: v for v, n in self.names.items()}
        self.output = self.names[self.root]
        self.steps = trace.backward_steps
        self.step_node = [by_name[s.node] for s in self.steps]
        self.step_of = {v: i for i, v in enumerate(self.step_node)}
        self.first_use: dict[Value, int] = {}
        self.last_use: dict[Value, int] = {}
        for i, s in enumerate(self.steps):
            for c in s.contributions:
                p = by_name[c.parent]
                self.first_use.setdefault(p, i)
                self.last_use[p] = i
        # the accumulated gradient of each node after each step, from the trace
        self.acc: list[dict[Value, float]] = []
        cur: dict[Value, float] = {self.root: 1.0}
        for s in self.steps:
            cur = dict(cur)
            for c in s.contributions:
                cur[by_name[c.parent]] = c.accumulated
            self.acc.append(cur)

    def status(self, v: Value, k: int) -> str:
        """unknown / partial / final / current, at frame ``k``."""
        if self.step_of.get(v) == k:
            return "current"
        if v is self.root:
            return "final"
        first = self.first_use.get(v)
        if first is None or first > k:
            return "unknown"
        return "final" if self.last_use[v] <= k else "partial"

    def grad_texts(self, v: Value) -> list[str]:
        """Every grad text ``v`` shows in some frame (to size its box once)."""
        out = {"?"}
        for k in range(len(self.steps)):
            st = self.status(v, k)
            if st != "unknown":
                out.add(self.text(v, k, st))
        return sorted(out, key=lambda t: (len(t), t))  # deterministic among equal widths

    def text(self, v: Value, k: int, st: str) -> str:
        g = self.acc[k].get(v, 0.0)
        return f"{fmt_number(g)} (so far)" if st == "partial" else fmt_number(g)


class _FrameOverlay(Overlay):
    def __init__(self, plan: _Plan, k: int, sizes: dict[Value, tuple[str, str]] | None) -> None:
        self.plan, self.k, self.sizes = plan, k, sizes
        self.current = plan.step_node[k]
        self.receiving = set(self.current._parents)

    def grad(self, v: Value) -> Any:
        st = self.plan.status(v, self.k)
        return None if st == "unknown" else self.plan.acc[self.k].get(v, 0.0)

    def grad_text(self, v: Value) -> str | None:
        st = self.plan.status(v, self.k)
        return "?" if st == "unknown" else self.plan.text(v, self.k, st)

    def node(self, v: Value) -> dict[str, str]:
        st = self.plan.status(v, self.k)
        attrs: dict[str, str] = {}
        if self.sizes is not None and v in self.sizes:
            w, h = self.sizes[v]
            attrs.update(width=w, height=h, fixedsize="true")
        if st == "current":
            attrs.update(color=HIGHLIGHT, penwidth="4", **{"class": "current"})
        elif v in self.receiving:
            attrs.update(color=HIGHLIGHT, penwidth="2.5", **{"class": "updated"})
        elif st == "unknown":
            attrs.update(fillcolor=GREY_FILL, fontcolor=GREY_TEXT, color=GREY_LINE,
                         **{"class": "unknown"})
        return attrs

    def _done(self, v: Value) -> bool:
        return self.plan.step_of.get(v, -1) < self.k

    def op(self, v: Value) -> dict[str, str] | None:
        if v is self.current:
            return {"fillcolor": "#ffe0b2", "color": HIGHLIGHT, "penwidth": "2"}
        if not self._done(v):
            return {"fillcolor": GREY_FILL, "fontcolor": GREY_TEXT, "color": GREY_LINE}
        return None

    def edge(self, v: Value, k: int) -> dict[str, str] | None:
        if v is self.current:
            return {"color": HIGHLIGHT, "penwidth": "3", "fontcolor": HIGHLIGHT,
                    "class": "active"}
        if not self._done(v):
            return {"color": GREY_LINE, "fontcolor": GREY_TEXT}
        return None

    def out_edge(self, v: Value) -> dict[str, str] | None:
        if v is self.current:
            return {"color": HIGHLIGHT, "penwidth": "3", "class": "active"}
        if not self._done(v):
            return {"color": GREY_LINE}
        return None


class _ProbeOverlay(Overlay):
    """The widest grad text of every node, to size boxes for all frames."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan

    def grad(self, v: Value) -> Any:
        return self.plan.acc[-1].get(v, 0.0) if self.plan.acc else 0.0

    def grad_text(self, v: Value) -> str | None:
        return self.plan.grad_texts(v)[-1]


def _frame_options(options: dict[str, Any]) -> dict[str, Any]:
    bad = {"collapse", "_overlay"} & set(options)
    if bad:
        raise TypeError(f"step_frames does not take {', '.join(sorted(bad))}: a step is one node")
    return options


def _probe_sizes(trace: Any, plan: _Plan, options: dict[str, Any]) -> dict[Value, tuple[str, str]] | None:
    """Box sizes from one layout with each node's widest text, or None without ``dot``."""
    probe = draw_graph(trace, _overlay=_ProbeOverlay(plan), **options)
    try:
        plain = pipe(probe, "plain").decode("utf-8", "replace")
    except GraphvizNotFoundError:
        return None
    by_id = {f"v{i}": v for i, v in enumerate(plan.order)}
    sizes: dict[Value, tuple[str, str]] = {}
    for line in plain.splitlines():
        if line.startswith("node "):
            parts = line.split(" ", 6)
            v = by_id.get(parts[1].strip('"'))
            if v is not None:
                sizes[v] = (f"{float(parts[4]) * 1.03:.4f}", parts[5])
    return sizes


def step_frames(trace: Any, **options: Any) -> list[graphviz.Digraph]:
    """One Digraph per backward step of ``trace`` (a Trace from
    ``autograd_core.explain``, or a Value, which is explained first).

    In frame k the node of step k is highlighted (class ``current``), its
    operand edges are marked (class ``active``) and its parents drawn as
    receiving (class ``updated``); every gradient known after the step is
    shown, partial sums marked "(so far)", unknown ones as ``?`` on grey.
    ``options`` go to :func:`~visualize.draw_graph` (not ``collapse``)."""
    trace = _as_trace(trace)
    options = _frame_options(dict(options))
    plan = _Plan(trace)
    if not plan.steps:
        return []
    sizes = _probe_sizes(trace, plan, options)
    return [draw_graph(trace, _overlay=_FrameOverlay(plan, k, sizes), **options)
            for k in range(len(plan.steps))]


# ------------------------------------------------------------------ HTML

def _paren(x: float) -> str:
    s = _num(x)
    return f"({s})" if s.startswith("-") else s


def _panel(trace: Any, out: str, k: int) -> str:
    """The chain-rule arithmetic of step ``k`` as HTML (``out``: the output's name)."""
    s = trace.backward_steps[k]
    e = html.escape
    d = lambda a, b: f"∂{e(a)}/∂{e(b)}"  # noqa: E731
    up = f"{d(out, s.node)} = {_num(s.upstream)}" if s.node != out else f"{d(out, out)} = 1 (the starting gradient)"
    rows = []
    lines = []
    for c in s.contributions:
        local = e(c.symbolic) if c.symbolic == _num(c.local) else f"{e(c.symbolic)} = {_num(c.local)}"
        rows.append(
            f"<tr><td class='name'>{e(c.parent)}</td><td>{local}</td><td>× {_paren(c.upstream)}</td>"
            f"<td class='contrib'>= {_num(c.contribution)}</td><td>{_num(c.accumulated)}</td></tr>")
        lines.append(
            f"<li>{d(out, c.parent)} += {d(s.node, c.parent)} × {d(out, s.node)} = "
            f"{_paren(c.local)} × {_paren(c.upstream)} = <b>{_num(c.contribution)}</b>"
            f" &nbsp;→&nbsp; {d(out, c.parent)} = {_num(c.accumulated)}</li>")
    html_ = [
        f"<h2>Step {k + 1} of {len(trace.backward_steps)}: node <span class='name'>{e(s.node)}</span></h2>",
        f"<p class='upstream'>upstream gradient {up}: complete, every use of "
        f"{e(s.node)} has been counted. Each parent gets local × upstream:</p>",
        "<table><thead><tr><th>parent</th>"
        f"<th>local {d(s.node, 'parent')}</th><th>× upstream</th><th>= contribution</th>"
        f"<th>{d(out, 'parent')} so far</th></tr></thead><tbody>",
        *rows, "</tbody></table>", "<ul class='chain'>", *lines, "</ul>",
    ]
    html_.extend(_note_paragraphs(trace, [s.node, *(c.parent for c in s.contributions)]))
    if k == len(trace.backward_steps) - 1 and trace.gradients:
        grads = ", ".join(f"{d(out, n)} = {_num(g)}" for n, g in trace.gradients.items())
        html_.append(f"<p class='done'>Done. Gradients: {grads}</p>")
    return "\n".join(html_)


def _note_paragraphs(trace: Any, names: list[str]) -> list[str]:
    """The trace's annotations (kinks, NaN/inf with the first cause) of these nodes."""
    notes = getattr(trace, "annotations", {})
    out = []
    for nm in dict.fromkeys(names):
        out.extend(f"<p class='note'><span class='name'>{html.escape(nm)}</span>: "
                   f"{html.escape(note)}</p>" for note in notes.get(nm, ()))
    return out


_CSS = """
:root { color-scheme: light; }
body { font-family: %(font)s; margin: 0; color: #212121; background: #fafafa; }
body { font-family: Helvetica, Arial, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
header { padding: 10px 16px; background: #fff; border-bottom: 1px solid #e0e0e0;
  display: flex; flex-wrap: wrap; gap: 12px; align-items: center; position: sticky; top: 0; }
header h1 { font-size: 17px; margin: 0 12px 0 0; }
button { font: inherit; padding: 4px 14px; border: 1px solid #90a4ae; border-radius: 4px;
  background: #eceff1; cursor: pointer; }
button:disabled { opacity: 0.4; cursor: default; }
input[type=range] { width: 260px; }
#counter { min-width: 110px; font-variant-numeric: tabular-nums; }
.keys { color: #757575; font-size: 13px; }
main { display: flex; flex-direction: column; gap: 12px; padding: 12px 16px; }
#stage { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px;
  padding: 8px; overflow: auto; max-height: 75vh; }
#stage svg { max-width: 100%%; height: auto; display: block; margin: auto; }
#panel { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px;
  padding: 4px 14px 12px; font-size: 14px; }
#panel h2 { font-size: 16px; }
#panel table { border-collapse: collapse; margin: 6px 0; }
#panel th, #panel td { border-bottom: 1px solid #eeeeee; padding: 3px 8px; text-align: left; }
#panel th { font-size: 12px; color: #616161; font-weight: normal; }
.name { font-weight: bold; color: %(hl)s; }
.contrib { font-weight: bold; }
ul.chain { padding-left: 18px; font-family: monospace; font-size: 13px; }
.done { background: #e8f5e9; padding: 6px 8px; border-radius: 4px; }
.note { background: #fff3e0; padding: 6px 8px; border-radius: 4px; }
.legend { font-size: 12px; color: #616161; }
.legend b { color: %(hl)s; }
#practice-box { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; padding: 4px 14px 12px; font-size: 14px; }
.ag-prompt { font-weight: bold; }
.ag-form { display: flex; gap: 6px; }
#ag-answer { font: 14px monospace; width: 140px; }
.ag-right { color: #2e7d32; }
.ag-wrong, .ag-unreadable { color: #c62828; }
.ag-done { font-size: 12px; font-family: monospace; color: #424242; }
li.ag-revealed { color: #9e9e9e; }
body:not(.practising) #solution { display: none; }
body.practising #stage g.node:not([data-given]) text + text, body.practising #stage text.ag-grad,
body.practising #stage g.edge text,
body.practising #panel, body.practising header .stepping { visibility: hidden; }
"""

_JS = """
'use strict';
(function () {
  var n = %(n)d, k = 0;
  var data = JSON.parse(document.getElementById('ag-frames').textContent);
  var stage = document.getElementById('stage');
  var panel = document.getElementById('panel');
  var slider = document.getElementById('slider');
  var counter = document.getElementById('counter');
  var prev = document.getElementById('prev');
  var next = document.getElementById('next');
  var els = [], gradText = [], shown = [];
  // one layout; each frame restyles it: class, fill, font colour, line colour and width, grad text
  function setup(svg) {
    data.elements.forEach(function (id, i) {
      var g = svg.getElementById ? svg.getElementById(id) : svg.querySelector('#' + id);
      els.push(g);
      shown.push(-1);
      var t = null;
      if (g) {
        g.querySelectorAll('text').forEach(function (x) {
          if ((x.textContent || '').indexOf('grad ') === 0) { t = x; }
        });
      }
      if (t && t.getAttribute('text-anchor') === 'start') {   // keep the text centred as it changes
        var x0 = parseFloat(t.getAttribute('x')) + t.getComputedTextLength() / 2;
        t.setAttribute('x', String(x0));
        t.setAttribute('text-anchor', 'middle');
      }
      gradText.push(t);
    });
  }
  function restyle(i, s) {
    var g = els[i];
    if (!g) { return; }
    var base = (g.getAttribute('class') || '').split(' ')[0];
    g.setAttribute('class', s[0] ? base + ' ' + s[0] : base);
    var edge = base === 'edge';
    g.querySelectorAll('polygon, ellipse, path').forEach(function (sh) {
      sh.setAttribute('stroke', s[3]);
      sh.setAttribute('stroke-width', s[4]);
      if (edge) {
        if (sh.tagName.toLowerCase() !== 'path') { sh.setAttribute('fill', s[3]); }
      } else if (sh.getAttribute('fill') !== 'none') {
        sh.setAttribute('fill', s[1]);
      }
    });
    g.querySelectorAll('text').forEach(function (x) { x.setAttribute('fill', s[2]); });
    if (s[5] !== null && gradText[i]) { gradText[i].textContent = 'grad ' + s[5]; }
  }
  function stateAt(f) {
    var st = data.first.slice();
    for (var j = 0; j < f; j++) {
      var d = data.changes[j];
      for (var m = 0; m < d.length; m += 2) { st[d[m]] = d[m + 1]; }
    }
    return st;
  }
  function show(i) {
    k = Math.max(0, Math.min(n - 1, i));
    var st = stateAt(k);
    for (var j = 0; j < st.length; j++) {
      if (st[j] !== shown[j]) { restyle(j, data.styles[st[j]]); shown[j] = st[j]; }
    }
    panel.replaceChildren(document.getElementById('panel-' + k).content.cloneNode(true));
    slider.value = String(k + 1);
    counter.textContent = 'step ' + (k + 1) + ' / ' + n;
    prev.disabled = k === 0;
    next.disabled = k === n - 1;
    document.body.dataset.step = String(k + 1);
  }
  prev.addEventListener('click', function () { show(k - 1); });
  next.addEventListener('click', function () { show(k + 1); });
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10) - 1); });
  document.addEventListener('keydown', function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === 'ArrowLeft') { show(k - 1); e.preventDefault(); }
    else if (e.key === 'ArrowRight') { show(k + 1); e.preventDefault(); }
    else if (e.key === 'Home') { show(0); e.preventDefault(); }
    else if (e.key === 'End') { show(n - 1); e.preventDefault(); }
  });
  function practise() {
    var practice = document.getElementById('ag-practice-doc');
    if (!practice) { return; }
    var pdoc = JSON.parse(practice.textContent);
    pdoc.forward.forEach(function (r, i) {   // inputs and constants are given: their values stay shown
      var g = document.getElementById('ag_v' + i);
      if (g && !r.inputs.length) { g.setAttribute('data-given', '1'); }
    });
    gradText.forEach(function (t) { if (t) { t.classList.add('ag-grad'); } });
    document.body.classList.add('practising');
    AutogradPractice.start(document.getElementById('practice'), pdoc, {
      onDone: function () { document.body.classList.remove('practising'); },
      onStep: show});   // the picture follows the backward step asked about
    document.getElementById('solution').addEventListener('click', function () {
      document.body.classList.remove('practising');
    });
  }
  function start(svg) {
    setup(svg);
    show(0);
    practise();
    document.body.dataset.ready = 'true';
  }
  var dotSource = document.getElementById('ag-dot');
  if (dotSource) {   // drawn here, by Graphviz compiled to WebAssembly (no `dot` where it was made)
    Viz.instance().then(function (viz) {
      var svg = viz.renderSVGElement(JSON.parse(dotSource.textContent));
      stage.replaceChildren(svg);
      start(svg);
    }).catch(function (err) { stage.textContent = 'could not draw the graph: ' + err; });
  } else {
    start(stage.querySelector('svg'));
  }
})();
"""


# ------------------------------------------------------------------ one layout, derived frames

class _LayoutOverlay(_ProbeOverlay):
    """The one layout of the page: every node sized for its widest grad text,
    every element with an ``id`` the page's script restyles per frame."""

    def __init__(self, plan: _Plan) -> None:
        super().__init__(plan)
        self.index = {v: i for i, v in enumerate(plan.order)}

    def node(self, v: Value) -> dict[str, str]:
        return {"id": f"ag_v{self.index[v]}"}

    def op(self, v: Value) -> dict[str, str]:
        return {"id": f"ag_o{self.index[v]}"}

    def edge(self, v: Value, k: int) -> dict[str, str]:
        return {"id": f"ag_e{self.index[v]}_{k}"}

    def out_edge(self, v: Value) -> dict[str, str]:
        return {"id": f"ag_r{self.index[v]}"}


#: how one element looks in one frame: class, fill, font colour, line colour, line width, grad text
_Style = tuple[str, str, str, str, str, str | None]
_EDGE_DEFAULT = {"color": "#546e7a", "fontcolor": "#37474f"}


def _width(attrs: dict[str, str]) -> str:
    return str(attrs.get("penwidth") or ("2" if "bold" in attrs.get("style", "") else "1"))


class _FrameStyles:
    """Every element's look in every frame, from :class:`_FrameOverlay` (the
    one place that says how a step is shown), as the page's script needs it:
    the elements, a table of distinct styles, frame 0 in full and then only
    what changes from one frame to the next."""

    def __init__(self, plan: _Plan, options: dict[str, Any]) -> None:
        self.plan = plan
        color = options.get("color", "grad")
        params = options.get("parameters")
        params = None if params is None else set(params)
        mods = _assign_modules(plan.order) if options.get("group_by") == "module" else None
        self.color = color
        self.kind = {v: _kind(v, plan.root, params, mods) for v in plan.order}
        self.elements: list[str] = []
        self.slot: dict[tuple[str, Value, int], int] = {}
        for i, v in enumerate(plan.order):
            self._add(f"ag_v{i}", ("v", v, 0))
            if v._parents:
                self._add(f"ag_o{i}", ("o", v, 0))
                self._add(f"ag_r{i}", ("r", v, 0))
                for k in range(len(v._parents)):
                    self._add(f"ag_e{i}_{k}", ("e", v, k))
        self.styles: list[_Style] = []
        self._style_index: dict[_Style, int] = {}

    def _add(self, eid: str, key: tuple[str, Value, int]) -> None:
        self.slot[key] = len(self.elements)
        self.elements.append(eid)

    def _sid(self, style: _Style) -> int:
        i = self._style_index.get(style)
        if i is None:
            i = self._style_index[style] = len(self.styles)
            self.styles.append(style)
        return i

    def _fill(self, kind: str, grad: Any) -> tuple[str, str]:
        if grad is None:
            return "#ffffff", "black"
        if self.color == "grad":
            return grad_color(grad)
        if self.color == "kind":
            return _KIND_FILL[kind], "black"
        return "#ffffff", "black"

    def style(self, ov: _FrameOverlay, key: tuple[str, Value, int]) -> _Style:
        what, v, k = key
        if what == "v":
            kind = self.kind[v]
            fc, font = self._fill(kind, ov.grad(v))
            attrs = dict(_KIND_STYLE[kind], fillcolor=fc, fontcolor=font)
            attrs.update(ov.node(v))
            return (attrs.get("class", ""), attrs["fillcolor"], attrs["fontcolor"], attrs["color"],
                    _width(attrs), ov.grad_text(v))
        if what == "o":
            attrs = dict(_OP_STYLE, **(ov.op(v) or {}))
            return ("", attrs["fillcolor"], attrs.get("fontcolor", "black"), attrs["color"],
                    _width(attrs), None)
        extra = ov.edge(v, k) if what == "e" else ov.out_edge(v)
        attrs = dict(_EDGE_DEFAULT, **(extra or {}))
        return (attrs.get("class", ""), attrs["color"], attrs["fontcolor"], attrs["color"],
                _width(attrs), None)

    def _touched(self, k: int) -> list[tuple[str, Value, int]]:
        """The elements whose look can differ between frames k-1 and k."""
        plan = self.plan
        # insertion-ordered (dicts, not sets): the same page on every run
        nodes: dict[Value, None] = {}
        computed: dict[Value, None] = {}
        for j in (k - 1, k):
            cur = plan.step_node[j]
            computed[cur] = None
            nodes[cur] = None
            nodes.update(dict.fromkeys(cur._parents))
        nodes.update(dict.fromkeys(self.plan_parents[k]))
        keys: list[tuple[str, Value, int]] = [("v", v, 0) for v in nodes]
        for v in computed:
            keys += [("o", v, 0), ("r", v, 0)] + [("e", v, j) for j in range(len(v._parents))]
        return keys

    def frames(self) -> tuple[list[int], list[list[int]]]:
        """Frame 0 as one style number per element; each later frame as
        ``[element, style, element, style, ...]`` changes from the frame before."""
        plan = self.plan
        by_name = {n: v for v, n in plan.names.items()}
        self.plan_parents = [[by_name[c.parent] for c in s.contributions] for s in plan.steps]
        ov0 = _FrameOverlay(plan, 0, None)
        first = [0] * len(self.elements)
        for key, slot in self.slot.items():
            first[slot] = self._sid(self.style(ov0, key))
        state = list(first)
        changes: list[list[int]] = []
        for k in range(1, len(plan.steps)):
            ov = _FrameOverlay(plan, k, None)
            diff: list[int] = []
            for key in self._touched(k):
                slot = self.slot[key]
                sid = self._sid(self.style(ov, key))
                if state[slot] != sid:
                    state[slot] = sid
                    diff += [slot, sid]
            changes.append(diff)
        return first, changes


def _dot_svg(source: str) -> str:
    """``source`` laid out by Graphviz's ``dot`` as SVG (input and output
    exchanged by ``communicate``, so no pipe can fill up and block)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(install_hint("lay out the step-through page"))
    proc = subprocess.run([exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                          check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = msg[-1] if msg else f"exit status {proc.returncode}"
        raise ValueError(f"Graphviz's dot could not lay out the step-through graph: {why}")
    svg = proc.stdout.decode("utf-8")
    return svg[svg.index("<svg"):].strip()


def _count_steps(root: Value) -> int:
    """How many backward steps explaining ``root`` would take (its computed
    nodes), counted without explaining it."""
    return sum(1 for v in topological_order(root) if v._parents)


def _asset(name: str) -> str:
    from .assets import asset
    return asset(name)


def write_stepper(trace: Any, path: str | os.PathLike[str], *, title: str | None = None,
                  max_frames: int = 400, practice: bool = False, **options: Any) -> Path:
    """Write the step-through viewer of ``trace`` (a Trace, or a Value to
    explain) to ``path``: one self-contained HTML file.

    The graph is laid out ONCE and every step is derived from that picture by
    restyling it (a few numbers per step), so a 400-step page takes seconds.
    With Graphviz's ``dot`` on PATH the picture is laid out here; without it
    the page carries the DOT text and Graphviz compiled to WebAssembly
    (viz-js, about 1.3 MB) and lays it out in the browser.

    ``practice=True`` adds practice mode: the numbers are hidden and the
    learner computes each forward value, then in backward order each upstream
    gradient and local derivative, checked within 0.1% (±0.001 below 1),
    with a hint from the rule after a wrong answer, and a score. ``max_frames`` refuses graphs with more backward
    steps than that, before anything is explained or drawn. ``options`` go to
    :func:`~visualize.draw_graph`. Returns the path."""
    path = Path(path)
    if type(max_frames) is not int or max_frames < 1:
        raise ValueError(f"max_frames must be a positive int, got {max_frames!r}")
    if not isinstance(practice, bool):
        raise TypeError(f"practice must be True or False, got {practice!r}")
    root = trace if isinstance(trace, Value) else trace_root(trace)
    if root is None:
        raise TypeError("expected a Trace from autograd_core.explain(output) (or a Value), "
                        f"got {type(trace).__name__}")
    n_steps = _count_steps(root) if isinstance(trace, Value) else len(trace.backward_steps)
    if n_steps > max_frames:
        raise ValueError(f"the trace has {n_steps} backward steps, more than max_frames="
                         f"{max_frames}: step through a smaller graph (or raise max_frames); "
                         "for a big graph draw one picture with visualize.render(..., collapse=True)")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (for {str(path)!r})")
    options = _frame_options(dict(options))
    trace = _as_trace(trace)
    plan = _Plan(trace)
    out_name = plan.output
    if plan.steps:
        graph = draw_graph(trace, _overlay=_LayoutOverlay(plan), **options)
        styles = _FrameStyles(plan, options)
        first, changes = styles.frames()
        frames = {"elements": styles.elements, "styles": styles.styles, "first": first,
                  "changes": changes}
        panels = [_panel(trace, out_name, k) for k in range(len(plan.steps))]
    else:  # the output is a leaf: one picture, nothing to propagate
        graph = draw_graph(trace, **options)
        frames = {"elements": [], "styles": [], "first": [], "changes": []}
        panels = [f"<h2>{html.escape(out_name)} is a leaf</h2><p>Nothing to propagate: "
                  "the gradient of the output with respect to itself is 1.</p>"]
    scripts = []
    if shutil.which("dot") is not None:
        svg = _dot_svg(graph.source)
    else:  # no Graphviz here: the page lays the graph out itself (viz-js, Graphviz in WebAssembly)
        svg = ""
        scripts.append(_json_script("ag-dot", graph.source))
        scripts.append(_inline_script(_asset("viz-global.js")))
    practice_box = ""
    if practice:
        doc_ = trace.to_dict()
        scripts.append(_json_script("ag-practice-doc", doc_))
        scripts.append(_inline_script(_asset("common.js")))
        scripts.append(_inline_script(_asset("practice.js")))
        practice_box = ('<section id="practice-box"><h2>Practice: compute the chain rule yourself</h2>'
                        '<div id="practice"></div><p><button id="solution" type="button">'
                        'Stop and show the solution</button></p></section>')
    value = trace_root(trace)._data  # type: ignore[union-attr]
    page_title = title or f"Backpropagation step by step: {out_name} = {_num(value)}"
    e = html.escape
    templates = "\n".join(f'<template id="panel-{k}">{p}</template>' for k, p in enumerate(panels))
    n = len(panels)
    data = json.dumps(frames, separators=(",", ":")).replace("<", "\\u003c")
    doc = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="autograd-core visualize.write_stepper">
<title>{e(page_title)}</title>
<style>{_CSS % {"font": FONT, "hl": HIGHLIGHT}}</style>
</head>
<body data-steps="{n}">
<header>
<h1>{e(page_title)}</h1>
<span class="stepping">
<button id="prev" type="button" title="previous step (←)">◀ Prev</button>
<input id="slider" type="range" min="1" max="{n}" value="1" step="1" aria-label="step">
<button id="next" type="button" title="next step (→)">Next ▶</button>
<span id="counter"></span>
<span class="keys">keys: ← →</span>
</span>
<span class="legend"><b>orange</b>: this step's node and the edges it uses; orange outline:
parents receiving a contribution; grey “?”: gradient not known yet; “(so far)”: partial sum</span>
</header>
<main>
<div id="stage" aria-live="polite">{svg}</div>
{practice_box}
<section id="panel" aria-live="polite"></section>
</main>
{templates}
<script type="application/json" id="ag-frames">{data}</script>
{"".join(scripts)}
<script>{_JS % {"n": n}}</script>
</body>
</html>
"""
    write_atomic(path, doc.encode("utf-8"))
    return path
