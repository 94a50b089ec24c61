"""visualize.Playground: the playground as a Jupyter widget (anywidget)."""

from __future__ import annotations

import shutil
import sys

import pytest

import visualize


def test_missing_anywidget_is_a_clear_import_error(monkeypatch):
    import visualize.playground_widget as pw
    monkeypatch.setattr(pw, "_CLASS", None)
    monkeypatch.setitem(sys.modules, "anywidget", None)
    with pytest.raises(ImportError, match="pip install anywidget"):
        visualize.Playground("x*w", x=1, w=2)


def test_values_drive_the_numbers_and_the_picture():
    pytest.importorskip("anywidget")
    w = visualize.Playground("1/(exp(-(x*w+b))+1)", x=1, w=0, b=0)
    assert w.doc["value"] == 0.5 and w.doc["gradients"] == {"x": 0.0, "w": 0.25, "b": 0.25}
    assert w.values == {"x": 1.0, "w": 0.0, "b": 0.0} and w.error == ""
    w.values = {"x": 2.0, "w": 0.0, "b": 0.0}          # what a slider does
    assert w.doc["gradients"]["w"] == 0.5               # σ'(0) · x
    w.values = {"x": 1.0, "w": 0.0, "b": 0.0}
    if shutil.which("dot"):
        assert "<svg" in w.svg and "grad 0.25" in w.svg
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    # readable without a kernel: the output is called f (issue 17), numbers as explain prints them
    assert "<pre>f = 0.5\n∂f/∂x = 0\n∂f/∂w = 0.25\n∂f/∂b = 0.25</pre>" in data["text/html"]


def test_bad_input():
    pytest.importorskip("anywidget")
    with pytest.raises(ValueError, match="column"):
        visualize.Playground("x*+", x=1)
    w = visualize.Playground("log(x)", x=1)
    w.values = {"x": -1.0}                              # outside the domain: shown, not raised
    assert "log" in w.error and w.doc["value"] == 0.0
    w.values = {"x": 2.0}
    assert w.error == "" and abs(w.doc["gradients"]["x"] - 0.5) < 1e-15
