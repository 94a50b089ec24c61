"""``visualize.Playground(formula, **values)``: the playground as a Jupyter
widget (anywidget), with a slider per variable.

The kernel does the work (parse, explain, draw); the view shows the graph,
the value, the gradients and the sliders. In a notebook read without a
kernel (a static page) its HTML output still shows the graph and the numbers
of the last state. Needs ``anywidget`` (the ``playground`` extra), imported
when a Playground is first made.
"""

from __future__ import annotations

import html
import math
import shutil
from typing import Any

__all__ = ["Playground"]

_ESM = r"""
function fmt(x) { return typeof x === 'string' ? x : (x === 0 ? '0' : String(Number(x.toPrecision(6)))); }
function render({ model, el }) {
  const box = document.createElement('div');
  box.className = 'agp';
  el.appendChild(box);
  function draw() {
    const doc = model.get('doc'), values = model.get('values'), err = model.get('error');
    box.replaceChildren();
    const head = document.createElement('div');
    head.className = 'agp-head';
    head.textContent = 'f = ' + model.get('formula');
    box.appendChild(head);
    Object.keys(values).forEach((name) => {
      const row = document.createElement('label');
      row.className = 'agp-var';
      const r = model.get('ranges')[name] || [-2, 2];
      const s = document.createElement('input');
      Object.assign(s, { type: 'range', min: r[0], max: r[1], step: 'any', value: values[name] });
      const out = document.createElement('span');
      out.textContent = name + ' = ' + fmt(values[name]);
      s.addEventListener('input', () => {
        out.textContent = name + ' = ' + fmt(parseFloat(s.value));
        model.set('values', Object.assign({}, model.get('values'), { [name]: parseFloat(s.value) }));
        model.save_changes();
      });
      row.append(out, s);
      box.appendChild(row);
    });
    if (err) {
      const e = document.createElement('div');
      e.className = 'agp-error';
      e.textContent = err;
      box.appendChild(e);
    }
    if (doc && doc.output) {
      const g = document.createElement('pre');
      g.textContent = doc.output + ' = ' + fmt(doc.value) + '\n' + Object.keys(doc.gradients).map(
        (n) => '∂' + doc.output + '/∂' + n + ' = ' + fmt(doc.gradients[n])).join('\n');
      box.appendChild(g);
    }
    const pic = document.createElement('div');
    pic.className = 'agp-graph';
    pic.innerHTML = model.get('svg');   // SVG made by Graphviz in the kernel (labels escaped there)
    box.appendChild(pic);
  }
  model.on('change:doc', draw);
  model.on('change:svg', draw);
  model.on('change:error', draw);
  draw();
}
export default { render };
"""

_CSS = """
.agp { font-family: Helvetica, Arial, sans-serif; font-size: 13px; }
.agp-head { font-family: monospace; font-size: 14px; margin-bottom: 4px; }
.agp-var { display: flex; gap: 8px; align-items: center; font-family: monospace; }
.agp-var span { min-width: 110px; }
.agp-error { color: #b71c1c; }
.agp-graph svg { max-width: 100%; height: auto; }
"""


def _widget_class() -> type:
    try:
        import anywidget
        import traitlets
    except ImportError as exc:
        raise ImportError("visualize.Playground needs anywidget: pip install anywidget "
                          "(or pip install 'autograd-core[playground]')") from exc

    class Playground(anywidget.AnyWidget):  # type: ignore[misc, valid-type]
        """The playground in a notebook: ``Playground("1/(exp(-(x*w+b))+1)", x=1, w=0, b=0)``.

        Move a slider (or set ``.values``) and the graph, the value and the
        gradients follow. ``.doc`` is the explain JSON (``Trace.to_dict()``);
        ``.error`` the one-line message when the values are outside the
        formula's domain. A bad formula raises ValueError at once."""

        _esm = _ESM
        _css = _CSS
        formula = traitlets.Unicode("").tag(sync=True)
        values = traitlets.Dict().tag(sync=True)
        ranges = traitlets.Dict().tag(sync=True)
        doc = traitlets.Dict().tag(sync=True)
        svg = traitlets.Unicode("").tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)

        def __init__(self, formula: str, **values: float) -> None:
            from autograd_core.stepthrough.parser import parse
            if not isinstance(formula, str):
                raise TypeError(f"formula must be a str, not {type(formula).__name__}")
            vals = {k: float(v) for k, v in values.items()}
            _, inputs = parse(formula, **vals)  # ValueError (with the column) at once
            vals = {n: vals.get(n, 1.0) for n in inputs}
            span = {n: max(2.0, abs(v) * 2) for n, v in vals.items()}
            super().__init__(formula=formula, values=vals,
                             ranges={n: [min(-span[n], v), max(span[n], v)] for n, v in vals.items()})
            self._update()

        @traitlets.observe("values", "formula")
        def _changed(self, change: dict[str, Any]) -> None:
            self._update()

        def _update(self) -> None:
            from autograd_core.stepthrough.parser import parse
            from autograd_core.stepthrough.trace import explain
            try:
                vals = {k: float(v) for k, v in self.values.items()}
                if not all(math.isfinite(v) for v in vals.values()):
                    raise ValueError("values must be finite numbers")
                out, _ = parse(self.formula, **vals)
                trace = explain(out)
            except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
                self.error = " ".join(str(exc).split())
                return
            self.error = ""
            self.doc = trace.to_dict()
            self.svg = _svg(trace)

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if isinstance(data, dict):  # a page without a kernel shows this
                data["text/html"] = _static_html(self)
            return bundle

    return Playground


def _svg(trace: Any) -> str:
    from .graph import draw_graph, pipe
    if shutil.which("dot") is None:
        return ""
    try:
        svg = pipe(draw_graph(trace, symbolic=True), "svg").decode("utf-8")
    except Exception:  # noqa: BLE001 - the numbers are shown anyway
        return ""
    return svg[svg.find("<svg"):]


def _static_html(w: Any) -> str:
    from autograd_core.stepthrough.trace import num  # the numbers as explain and the page print them
    e = html.escape
    doc = w.doc or {}
    if not doc:
        return f"<div><p><code>f = {e(w.formula)}</code></p><p>{e(w.error)}</p></div>"
    lines = [f"{e(doc['output'])} = {num(doc['value'])}"]
    lines += [f"∂{e(doc['output'])}/∂{e(n)} = {num(g)}" for n, g in doc["gradients"].items()]
    vals = ", ".join(f"{e(k)} = {v:g}" for k, v in w.values.items())
    return (f"<div><p><code>f = {e(w.formula)}</code> at {vals}</p><pre>{chr(10).join(lines)}</pre>"
            f"{w.svg}</div>")


_CLASS: type | None = None


def Playground(formula: str, **values: float) -> Any:  # noqa: N802 - the issue's public name
    """The playground as a notebook widget (see the module docstring)."""
    global _CLASS
    if _CLASS is None:
        _CLASS = _widget_class()
    return _CLASS(formula, **values)
