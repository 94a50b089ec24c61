"""Step through backpropagation, one picture per backward step.

:func:`step_frames` turns a :class:`~autograd_core.trace.Trace` (from
``autograd_core.explain(output)``) into one :class:`graphviz.Digraph` per
backward step: the node whose gradient is handed back is highlighted, the
edges used in the step are marked, gradients known so far are shown (partial
sums marked "so far") and the rest of the graph is greyed.

:func:`write_stepper` writes all frames into ONE self-contained HTML file
(SVG inlined, no scripts, fonts or styles from anywhere else) with Prev/Next
buttons, a slider, the left/right arrow keys and a panel with the step's
chain-rule arithmetic, upstream × local = contribution.

Every number shown comes from the Trace (which reads the local derivatives
recorded in the forward pass); nothing here knows a derivative formula.
All frames share one layout (node sizes are fixed from a probe layout), so
nothing jumps when stepping.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import graphviz

from autograd_core.engine import Value, topological_order
from autograd_core.naming import node_names

from .graph import (
    FONT, GraphvizNotFoundError, Overlay, draw_graph, fmt_number, pipe, trace_root, write_atomic,
)

__all__ = ["step_frames", "write_stepper"]

HIGHLIGHT = "#ff6f00"   # the current node and the edges used in this step
GREY_FILL, GREY_LINE, GREY_TEXT = "#f5f5f5", "#cfd8dc", "#9e9e9e"


def _as_trace(trace: Any) -> Any:
    if isinstance(trace, Value):
        from autograd_core.trace import explain
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
        return sorted(out, key=len)

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

def _num(x: float) -> str:
    """A number for the arithmetic panel: 6 significant digits, -0 as 0."""
    x = float(x)
    if x == 0.0:
        return "0"
    if x != x or math.isinf(x):
        return fmt_number(x)
    return f"{x:.6g}"


def _paren(x: float) -> str:
    s = _num(x)
    return f"({s})" if s.startswith("-") else s


def _panel(trace: Any, out: str, k: int) -> str:
    """The chain-rule arithmetic of step ``k`` as HTML (``out``: the output's name)."""
    s = trace.backward_steps[k]
    e = html.escape
    d = lambda a, b: f"∂{e(a)}/∂{e(b)}"  # noqa: E731
    up = f"{d(out, s.node)} = {_num(s.upstream)}" if s.node != out else f"{d(out, out)} = 1 (the seed)"
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
"""

_JS = """
'use strict';
(function () {
  var n = %(n)d, k = 0;
  var stage = document.getElementById('stage');
  var panel = document.getElementById('panel');
  var slider = document.getElementById('slider');
  var counter = document.getElementById('counter');
  var prev = document.getElementById('prev');
  var next = document.getElementById('next');
  function show(i) {
    k = Math.max(0, Math.min(n - 1, i));
    stage.replaceChildren(document.getElementById('frame-' + k).content.cloneNode(true));
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
  show(0);
})();
"""


def _svg_documents(frames: list[graphviz.Digraph]) -> list[str]:
    """All frames laid out by one run of ``dot``; each as an inline ``<svg>``."""
    source = "\n".join(f.source for f in frames)
    out = pipe(graphviz.Source(source), "svg").decode("utf-8")  # type: ignore[arg-type]
    docs = [d for d in out.split("<?xml") if "<svg" in d]
    if len(docs) != len(frames):
        raise RuntimeError(f"dot returned {len(docs)} pictures for {len(frames)} frames")
    return [d[d.index("<svg"):].strip() for d in docs]


def write_stepper(trace: Any, path: str | os.PathLike[str], *, title: str | None = None,
                  max_frames: int = 400, **options: Any) -> Path:
    """Write the step-through viewer of ``trace`` (a Trace, or a Value to
    explain) to ``path``: one self-contained HTML file.

    Needs Graphviz's ``dot`` (GraphvizNotFoundError with install instructions
    otherwise). ``max_frames`` refuses graphs with more backward steps than
    that (each step is one inlined picture). ``options`` go to
    :func:`~visualize.draw_graph`. Returns the path."""
    trace = _as_trace(trace)
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (for {str(path)!r})")
    if type(max_frames) is not int or max_frames < 1:
        raise ValueError(f"max_frames must be a positive int, got {max_frames!r}")
    n_steps = len(trace.backward_steps)
    if n_steps > max_frames:
        raise ValueError(f"the trace has {n_steps} backward steps, more than max_frames="
                         f"{max_frames}: step through a smaller graph (or raise max_frames); "
                         "for a big graph draw one picture with visualize.render(..., collapse=True)")
    frames = step_frames(trace, **options)
    out_name = node_names(trace_root(trace))[trace_root(trace)]  # type: ignore[index]
    if frames:
        panels = [_panel(trace, out_name, k) for k in range(len(frames))]
    else:  # the output is a leaf: one picture, nothing to propagate
        frames = [draw_graph(trace, **_frame_options(dict(options)))]
        panels = [f"<h2>{html.escape(out_name)} is a leaf</h2><p>Nothing to propagate: "
                  "the gradient of the output with respect to itself is 1.</p>"]
    svgs = _svg_documents(frames)
    value = trace_root(trace)._data  # type: ignore[union-attr]
    page_title = title or f"Backpropagation step by step: {out_name} = {_num(value)}"
    e = html.escape
    templates = "\n".join(
        f'<template id="frame-{k}">{svg}</template>\n<template id="panel-{k}">{panels[k]}</template>'
        for k, svg in enumerate(svgs))
    n = len(svgs)
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
<button id="prev" type="button" title="previous step (←)">◀ Prev</button>
<input id="slider" type="range" min="1" max="{n}" value="1" step="1" aria-label="step">
<button id="next" type="button" title="next step (→)">Next ▶</button>
<span id="counter"></span>
<span class="keys">keys: ← →</span>
<span class="legend"><b>orange</b>: this step's node and the edges it uses; orange outline:
parents receiving a contribution; grey “?”: gradient not known yet; “(so far)”: partial sum</span>
</header>
<main>
<div id="stage" aria-live="polite"></div>
<section id="panel" aria-live="polite"></section>
</main>
{templates}
<script>{_JS % {"n": n}}</script>
</body>
</html>
"""
    write_atomic(path, doc.encode("utf-8"))
    return path
