"""explain's notes (kinks, NaN/inf with the first cause) in every format, and
culprits marked in pictures."""

from __future__ import annotations

import json
import shutil

import pytest

from autograd_core import Value, explain, gradcheck
from autograd_core import math as am
from autograd_core.primitives import PRIMITIVES, primitive


def test_kink_notes_say_which_convention_was_used():
    x, w = Value(0.0, "x"), Value(2.0, "w")
    y = (x * w).relu() + abs(x) + x.leaky_relu(0.1) + x.elu(0.5)
    t = explain(y)
    notes = t.annotations
    assert notes["h2"] == ("on a kink: relu'(0) taken as 0 (relu'(0) = 0); the one-sided "
                           "derivatives are 0 and 1",)
    assert notes["h3"][0].startswith("on a kink: abs'(0) taken as 0") and "are -1 and 1" in notes["h3"][0]
    assert "leaky_relu'(0) taken as 0.1" in notes["h5"][0] and "are 0.1 and 1" in notes["h5"][0]
    assert "elu'(0) taken as 0.5" in notes["h7"][0] and "are 0.5 and 1" in notes["h7"][0]
    text = t.to_text()
    assert "\nNotes\nh2: on a kink: relu'(0) taken as 0" in text
    assert "### Notes" in t.to_markdown() and "- h2: on a kink: relu'(0)" in t.to_markdown()
    assert json.loads(json.dumps(t.to_dict()))["annotations"]["h2"] == list(notes["h2"])
    # off the kink: no note
    assert explain(Value(0.5, "x").relu()).annotations == {}


def test_nan_and_inf_values_and_gradients_are_annotated_with_the_first_cause():
    z = Value(710.0, "z")
    u = z.exp() * 0.0 + z
    notes = explain(u).annotations
    assert notes["h1"] == ("value inf from finite operands (exp of 710): the first cause",)
    assert notes["h2"] == ("value nan, first caused by h1 (exp = inf)",)
    assert notes["h3"] == ("value nan, first caused by h1 (exp = inf)",)
    assert notes["z"] == ("gradient ∂h3/∂z = nan; first cause: ∂h1/∂z = inf (exp(z)) times 0 at h1",)
    q = Value(0.0, "q")
    t = explain(q.sqrt() * 2.0)
    assert t.annotations == {"q": ("gradient ∂h2/∂q = inf; first cause: ∂h1/∂q = inf "
                                   "(0.5/sqrt(q)) times 2 at h1",)}
    assert t.to_dict()["annotations"]["q"][0].startswith("gradient ∂h2/∂q = inf")


def test_the_stepper_page_shows_the_notes_and_draw_graph_highlights_culprits(tmp_path):
    pytest.importorskip("graphviz")
    from visualize.graph import draw_graph
    wrong = primitive("wrong_sin_pic", validate=False)(lambda x: (am.sin(x), (-am.cos(x),)))
    try:
        def f(a, b):
            return wrong(a) * b + a
        report = gradcheck(f, [0.7, 1.3])
        assert not report and report.graph is not None
        dot = draw_graph(report.graph, highlight=report.culprits).source
        assert dot.count(' color="#d50000"') == 2  # the culprit's box and its op oval
        mine = f(Value(0.7, "a"), Value(1.3, "b"))  # the user's own graph: matched by op and operands
        assert draw_graph(mine, highlight=report.culprits).source.count("#d50000") >= 2
        assert "#d50000" not in draw_graph(mine).source
        from visualize.stepper import step_frames
        frames = step_frames(explain(mine), highlight=report.culprits)  # the stepper marks them too
        assert frames and all(fr.source.count(' color="#d50000"') == 2 for fr in frames)
        with pytest.raises(TypeError, match="highlight takes Values or gradcheck culprits"):
            draw_graph(mine, highlight=["h1"])
        if shutil.which("dot"):
            from visualize.stepper import write_stepper
            x = Value(0.0, "x")
            page = write_stepper(explain((x * 2.0).relu()), tmp_path / "s.html").read_text()
            assert "<p class='note'>" in page and "relu&#x27;(0) taken as 0" in page
    finally:
        del PRIMITIVES["wrong_sin_pic"]
