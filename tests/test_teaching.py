"""Issue 17: the textbook's remaining worked examples (exploding window, the
two-layer linear chain, ...), checked against the chapter's own numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from autograd_core.cli import main
from nn import experiments as ex


# ------------------------------------------------------------------ formula (3)

def _formula3(w):
    a = abs(w)
    return 2 / a * math.log(a * (1 + math.sqrt(1 - 4 / a)) / 2 - 1)


@pytest.mark.parametrize("w", list(np.linspace(4.01, 100.0, 37)) + [-6.894, -100.0, 4.0 + 1e-6])
@pytest.mark.parametrize("b", [0.0, 1.7])
def test_exploding_window_measured_with_the_engine_matches_formula_3(w, b):
    row = ex.exploding_window(float(w), b=b)
    assert abs(row.width - _formula3(w)) < 1e-9
    assert row.formula == pytest.approx(_formula3(w), rel=1e-14)
    # the edges are where |w σ'(w x + b)| = 1: just inside >= 1, just outside < 1
    for x in (row.left, row.right):
        s = 1 / (1 + math.exp(-(w * x + b)))
        assert abs(w) * s * (1 - s) == pytest.approx(1.0, abs=1e-9)
    assert (row.left + row.right) / 2 == pytest.approx(-b / w, abs=1e-12)


def test_exploding_window_none_for_small_weights_and_the_maximum():
    for w in (4.0, -3.0, 0.5, 0.0):
        row = ex.exploding_window(w)
        assert row.formula == 0.0 and math.isnan(row.width)
    r = ex.exploding_window()
    assert [row.w for row in r.rows] == list(ex.WINDOW_WEIGHTS)
    assert round(r.max_width, 4) == 0.4477 and round(r.max_w, 3) == 6.894
    assert round(r.formula_max_width, 4) == 0.4477 and round(r.formula_max_w, 3) == 6.894
    text = r.to_text()
    assert "maximum width 0.4477 at |w| = 6.894" in text
    with pytest.raises(ValueError, match="w must be"):
        ex.exploding_window(float("inf"))
    with pytest.raises(ValueError, match="b must be"):
        ex.exploding_window(5.0, b="x")


def test_cli_exploding_window_table_and_plot(capsys, tmp_path):
    png = tmp_path / "w.png"
    assert main(["experiment", "exploding-window", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "maximum width 0.4477 at |w| = 6.894" in out and "formula (3)" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["experiment", "exploding-window", "--weights", "5,-8", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["w"] for r in doc["rows"]] == [5.0, -8.0]
    assert all(abs(r["difference"]) < 1e-9 for r in doc["rows"])
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["experiment", "exploding-window", "--weights", "5,x"]))
    assert e.value.code == 2 and "--weights" in capsys.readouterr().err


def test_plot_exploding_window_lines_are_the_numbers():
    from visualize.plots import plot_exploding_window
    r = ex.exploding_window((5.0, 10.0, 50.0))
    fig = plot_exploding_window(r)
    formula, measured, peak = fig.axes[0].lines
    assert list(measured.get_xdata()) == [5.0, 10.0, 50.0]
    assert list(measured.get_ydata()) == [row.width for row in r.rows]
    xs, ys = formula.get_xdata(), formula.get_ydata()
    assert ys[len(xs) // 2] == pytest.approx(_formula3(xs[len(xs) // 2]), rel=1e-12)
    assert list(peak.get_ydata()) == [r.max_width]
