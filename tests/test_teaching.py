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


def _chapter_width(w):
    """Formula (3) of the chapter for |w| > 4 (|w·σ'| > 1 needs |w| > 4); no window, width 0, else."""
    return _formula3(w) if abs(w) > 4 else 0.0


@pytest.mark.parametrize("w", [0.0, 1.0, -1.0, 4.0, -4.0, 4.0 + 1e-9, -(4.0 + 1e-9), 4.5])
def test_exploding_window_width_is_the_chapter_formula_including_no_window(w):
    row = ex.exploding_window(w)
    assert row.formula == _chapter_width(w) and ex.window_formula(w) == _chapter_width(w)
    assert not math.isnan(row.width)
    assert abs(row.width - _chapter_width(w)) < 1e-9
    if abs(w) <= 4:
        assert row.width == 0.0 and not row.has_window and row.left is None and row.right is None
        d = row.to_dict()
        assert d["width"] == 0.0 and d["difference"] == 0.0 and "no window" in d["note"]
    else:
        assert row.has_window and row.width > 0 and "note" not in row.to_dict()
    assert ex.exploding_window(w, b=1.7).width == pytest.approx(row.width, abs=1e-9)


def test_cli_exploding_window_rows_without_a_window_say_so(capsys):
    ws = [0.0, 1.0, -1.0, 4.0, -4.0, 4.0 + 1e-9, 4.5]
    arg = ",".join(repr(w) for w in ws)
    assert main(["experiment", "exploding-window", "--weights", arg]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower()
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln[:1] in "-0123456789" and ln.strip()}
    for w in ("0", "1", "-1", "4", "-4"):
        assert "0 (no window: |w| ≤ 4)" in lines[w] and "none" in lines[w]
    # 4 + 1e-9 is printed with every digit (it has a window; 4 has none)
    assert "no window" not in lines["4.000000001"] and "0.000015811" in lines["4.000000001"]
    assert "no window" not in lines["4.5"]
    assert main(["experiment", "exploding-window", "--weights", arg, "--format", "json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text
    rows = json.loads(text)["rows"]
    for r in rows:
        if abs(r["w"]) <= 4:
            assert r["width"] == 0.0 and r["left"] is None and "no window" in r["note"]
        else:
            assert r["width"] > 0 and "note" not in r
    assert main(["experiment", "exploding-window", "--weights", arg, "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.count("0 (no window: \\|w\\| ≤ 4)") == 5


def _strict_json(text):
    def refuse(const):
        raise AssertionError(f"not standard JSON: {const}")
    return json.loads(text, parse_constant=refuse)


def test_cli_experiment_json_is_standard_json_when_numbers_overflow(capsys):
    """w = 1e200 overflows ∂C/∂b1 to inf: --format json printed the non-JSON token Infinity;
    now the string "inf", as explain --format json prints it."""
    assert main(["experiment", "exploding", "--weight", "1e200", "--format", "json"]) == 0
    chain = _strict_json(capsys.readouterr().out)["chains"][0]
    assert chain["bias_grads"][:2] == ["inf", "inf"] and chain["ratio"] == "inf"
    assert chain["bias_grads"][3] == 0.125 and chain["verdict"] == "exploding"
    from autograd_core.cli import json_safe
    assert json_safe({"a": [float("nan"), -float("inf"), 1.5, (2.0, "x")], "b": None}) == \
        {"a": ["nan", "-inf", 1.5, [2.0, "x"]], "b": None}


def test_exploding_window_none_for_small_weights_and_the_maximum():
    for w in (4.0, -3.0, 0.5, 0.0):
        row = ex.exploding_window(w)
        assert row.formula == 0.0 and row.width == 0.0 and not row.has_window
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


# ------------------------------------------------------------------ two-layer linear chain

def test_two_layer_chain_textbook_numbers_and_order():
    from fractions import Fraction as F
    r = ex.two_layer_chain()
    # the chapter: 0.8 × 1.5 + 0.2 = 1.4 (exact rationals; the engine's floats to 1 ulp)
    x, w, b, gt = F(3, 2), F(4, 5), F(1, 5), F(4, 5)
    y1 = w * x + b
    y2 = w * y1 + b
    assert y1 == F(7, 5) and abs(r.y1 - 1.4) <= 2.3e-16 and f"{r.y1:g}" == "1.4"
    assert r.y2 == pytest.approx(float(y2), rel=1e-15) and y2 == F(33, 25)
    g2 = y2 - gt
    assert r.loss == pytest.approx(float(g2 * g2 / 2), rel=1e-15)
    want = {"∂L/∂y2": g2, "∂L/∂w2": g2 * y1, "∂L/∂b2": g2, "∂L/∂y1": g2 * w,
            "∂L/∂w1": g2 * w * x, "∂L/∂b1": g2 * w}
    assert [s.name for s in r.steps] == ["∂L/∂y2", "∂L/∂w2", "∂L/∂b2", "∂L/∂y1", "∂L/∂w1", "∂L/∂b1"]
    for st in r.steps:
        assert st.value == pytest.approx(float(want[st.name]), rel=1e-14), st.name
        assert st.value == st.engine  # the chained local derivatives ARE reverse mode
    w1 = r.steps[4]
    assert w1.chain == "∂L/∂y2 · ∂y2/∂y1 · ∂y1/∂w1"
    assert [s for s, _ in w1.factors] == ["∂L/∂y2", "∂y2/∂y1", "∂y1/∂w1"]
    assert [v for _, v in w1.factors] == pytest.approx([0.52, 0.8, 1.5], rel=1e-14)
    text = r.to_text()
    assert "y1 = 0.8 × 1.5 + 0.2 = 1.4" in text and "0.52 × 0.8 × 1.5" in text
    assert text.index("∂L/∂y2  ") < text.index("∂L/∂w2  ") < text.index("∂L/∂b2  ") \
        < text.index("∂L/∂y1  ") < text.index("∂L/∂w1  ") < text.index("∂L/∂b1  ")


def test_cli_two_layer(capsys):
    assert main(["experiment", "two-layer"]) == 0
    out = capsys.readouterr().out
    assert "0.52 × 0.8 × 1.5" in out and "0.624" in out
    assert main(["experiment", "two-layer", "--x", "2", "--y-gt", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["y1"] == pytest.approx(1.8) and doc["steps"][4]["name"] == "∂L/∂w1"
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["experiment", "two-layer", "--x", "nan"]))
    assert e.value.code == 2


# ------------------------------------------------------------------ depth-accuracy without Fashion-MNIST

def test_depth_accuracy_runs_what_is_available_and_says_what_was_skipped(capsys, tmp_path):
    from nn import depth_accuracy as da
    mnist = "/work/shared/data/mnist"
    import os
    if not os.path.isdir(mnist):
        mnist = da.find_mnist()
    if mnist is None:
        pytest.skip("no MNIST files here")
    missing = str(tmp_path / "no-fashion")
    r = da.run(("mnist", "fashion"), [0], depths=da.DEPTHS[:1], epochs=1, limit=40,
               mnist_dir=mnist, fashion_dir=missing, skip_missing=True)
    assert [k["dataset"] for k in r["skipped"]] == ["fashion"]
    assert [row["dataset"] for row in r["summary"]] == ["mnist"]
    with pytest.raises(FileNotFoundError):
        da.run(("fashion",), [0], fashion_dir=missing, skip_missing=True)
    with pytest.raises(FileNotFoundError):
        da.run(("mnist", "fashion"), [0], depths=da.DEPTHS[:1], epochs=1, limit=40,
               mnist_dir=mnist, fashion_dir=missing)
    # the CLI's default --dataset both: exit 0, the skip said on stdout
    assert main(["experiment", "depth-accuracy", "--seeds", "1", "--epochs", "1", "--limit", "40",
                 "--mnist", mnist, "--fashion", missing, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "skipped fashion:" in out and "[784,30,30,30,10]" in out
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["experiment", "depth-accuracy", "--dataset", "fashion", "--seeds", "1",
                               "--epochs", "1", "--fashion", missing, "--quiet"]))
    assert e.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


# ------------------------------------------------------------------ explain: names, formulas, plurals

import autograd_core as ag  # noqa: E402
from autograd_core import Value  # noqa: E402
from autograd_core.parser import parse  # noqa: E402
from autograd_core.symbolic import Expr, expr_scope  # noqa: E402
from autograd_core.trace import plural  # noqa: E402


def _trace(expr, **values):
    out, _ = parse(expr, **values)
    return ag.explain(out)


@pytest.mark.parametrize("expr, values, want", [
    ("sqrt(x^2+y^2)", dict(x=3.0, y=4.0), {"x": "x/sqrt(x^2 + y^2)", "y": "y/sqrt(x^2 + y^2)"}),
    ("x*x*y", dict(x=3.0, y=2.0), {"x": "2·x·y", "y": "x^2"}),
    ("x*w+x*w", dict(x=3.0, w=2.0), {"x": "2·w", "w": "2·x"}),
    ("1/(exp(-(x*w+b))+1)", dict(x=1.0, w=0.0, b=0.0),
     {"w": "x·exp(-x·w - b)/(exp(-x·w - b) + 1)^2"}),
    ("sigmoid(w*x+b)", dict(w=0.5, x=1.0, b=0.1), {"b": "σ(w·x + b)·(1 - σ(w·x + b))"}),
    ("(x-y)^2/2", dict(x=3.0, y=1.0), {"x": "x - y", "y": "y - x"}),
    ("x/y", dict(x=3.0, y=2.0), {"x": "1/y", "y": "-x/y^2"}),
])
def test_gradient_formulas_are_simplified_and_equal_the_numbers(expr, values, want):
    t = _trace(expr, **values)
    for name, text in want.items():
        assert t.formulas[name] == text
    # every formula, read back by the project's parser at the point, is the engine's gradient
    for name, text in t.formulas.items():
        used = {k: v for k, v in values.items() if k in text}
        got, _ = parse(text.replace("·", "*").replace("σ", "sigmoid"), **used)
        assert got.data == pytest.approx(t.gradients[name], rel=1e-12)
    assert f"∂f/∂{name} = {t.formulas[name]} = " in t.to_text()


def test_expr_canonical_form():
    with expr_scope():
        x, y = Expr.symbol("x", 3.0), Expr.symbol("y", 4.0)
        assert (2 * x * 0.5 * (x ** 2 + y ** 2) ** -0.5).text == "x/sqrt(x^2 + y^2)"
        assert (x * x * x / x).text == "x^2" and (x - x).text == "0" and (x + 1 - 1).text == "x"
        assert ((x + y) * (x + y)).text == "(x + y)^2"
        assert (1 / (x * y)).text == "1/(x·y)" and (-x + 2).text == "2 - x"
        v = (x ** 2 + y ** 2).sqrt()
        assert v.value == 5.0 and v > 4 and not v < 5


def test_big_graphs_get_no_formula_instead_of_hanging():
    x = Value(0.5, "x")
    h = x
    for _ in range(60):   # each h appears twice in the next: exponential text
        h = h + h * h * 0.1
    t = ag.explain(h)
    assert t.formulas == {"x": None}
    assert t.to_text().rstrip().endswith(f"∂{t.output_name}/∂x = {ag.trace.num(t.gradients['x'])}")


def test_output_named_f_or_its_label_and_plural_forms():
    t = _trace("x*y", x=3.0, y=4.0)
    assert t.output_name == "f" and t.output_node == "h1"
    assert t.to_text().startswith("Forward pass (evaluation order): f = h1 = 12")
    assert "∂f/∂x = y = 4" in t.to_text()
    assert t.paths("x").formula() == "∂f/∂x = y"
    x, f = Value(2.0, "x"), None
    f = x * x
    f.label = "loss"
    t = ag.explain(f)
    assert t.output_name == t.output_node == "loss"
    f2 = Value(1.0, "f") * Value(2.0, "g")     # a variable is called f: the output is F
    assert ag.explain(f2).output_name == "F"
    assert plural(1, "multiplication") == "1 multiplication"
    assert plural(3, "multiplication") == "3 multiplications" and plural(2, "pass") == "2 passes"
    side = _trace("x*y", x=3.0, y=4.0).forward_mode("x").to_text()
    assert "forward mode: 1 multiplication (local × tangent)" in side


# ------------------------------------------------------------------ parser: constants, did-you-mean

def test_constants_e_and_pi():
    out, inputs = parse("e^x", x=0.5)
    assert out.data == pytest.approx(math.exp(0.5), rel=1e-15) and list(inputs) == ["x"]
    out, _ = parse("sin(pi*x)", x=0.5)
    assert out.data == pytest.approx(1.0, rel=1e-15)
    assert parse("π")[0].data == math.pi and parse("2*e")[0].data == 2 * math.e
    with pytest.raises(ValueError, match="e is a constant; name your variable differently"):
        parse("e*x", e=2.0, x=3.0)                # a value may not replace a constant
    t = _trace("e^x", x=0.5)
    assert t.formulas["x"] == "e^x" and "e^x" in t.to_text()
    assert _trace("sin(pi*x)", x=0.5).formulas["x"] == "pi·cos(pi·x)"


@pytest.mark.parametrize("expr, values, hint", [
    ("sigmod(x)", {"x": 1.0}, "did you mean 'sigmoid'?"),
    ("Exp(x)", {"x": 1.0}, "did you mean 'exp'?"),
    ("tanhh(x)", {"x": 1.0}, "did you mean 'tanh'?"),
    ("x*wieght", {"x": 1.0, "weight": 2.0}, "did you mean 'weight'?"),
    ("x + pii", {"x": 1.0}, "did you mean 'pi'?"),
])
def test_did_you_mean(expr, values, hint):
    with pytest.raises(ValueError, match="column") as e:
        parse(expr, **values)
    assert hint in str(e.value)


def test_no_suggestion_for_far_names(capsys):
    with pytest.raises(ValueError) as e:
        parse("zzz(x)", x=1.0)
    assert "did you mean" not in str(e.value)
    assert main(["explain", "sigmod(x)", "x=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'sigmoid'?" in err[0]


# ------------------------------------------------------------------ explain --format latex

def _balanced(tex):
    depth = 0
    for i, ch in enumerate(tex):
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
            assert depth >= 0
    return depth == 0


def test_latex_seed_derivation_symbols_and_numbers_side_by_side():
    t = _trace("1/(exp(-(x*w+b))+1)", x=1.0, w=0.0, b=0.0)
    tex = t.to_latex(paths=[t.paths("w")])
    assert _balanced(tex)
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == 4
    assert r"h_{6} &= 1/h_{5} = 0.5" in tex
    assert r"\frac{\partial h_{6}}{\partial h_{5}} &= -1/h_{5}^{2} = -0.25" in tex
    assert (r"\frac{\partial f}{\partial h_{5}} &= \frac{\partial h_{6}}{\partial h_{5}}\,"
            r"\frac{\partial f}{\partial h_{6}} = \underbrace{-1/h_{5}^{2}}_{-0.25} \times 1 = -0.25") in tex
    # the chapter's product, factor by factor
    assert r"= 1 \times (-0.25) \times 1 \times 1 \times (-1) \times 1 \times 1 = 0.25" in tex
    assert (r"\frac{\partial f}{\partial w} &= x \cdot \exp\left(-x \cdot w-b\right)/"
            r"\left(\exp\left(-x \cdot w-b\right)+1\right)^{2} = 0.25") in tex


def test_latex_escapes_labels_and_accumulates():
    a = Value(2.0, "a_b#%")
    c = Value(3.0, "w2")
    f = a * c + a
    tex = ag.explain(f).to_latex()
    assert _balanced(tex)
    assert r"\mathrm{a\_b\#\%}" in tex and "w_{2}" in tex and "a_b#%" not in tex
    assert r"\mathrel{+}=" in tex            # a is used twice: its gradient accumulates
    from autograd_core.trace import latex_formula
    assert latex_formula("0.5/sqrt(h3)") == r"0.5/\sqrt{h_{3}}"
    assert latex_formula("σ'(z1)·w2") == r"\sigma'\left(z_{1}\right) \cdot w_{2}"
    assert latex_formula("x^(y - 1)") == "x^{y-1}"


def test_cli_explain_format_latex(capsys):
    assert main(["explain", "sqrt(x^2+y^2)", "x=3", "y=4", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"\frac{\partial f}{\partial x} &= x/\sqrt{x^{2}+y^{2}} = 0.6" in out and _balanced(out)
    assert main(["explain", "x*y", "x=3", "y=4", "--format", "latex", "--mode", "both"]) == 2
    assert "--format latex" in capsys.readouterr().err


# ------------------------------------------------------------------ the textbook's Matmul layer

def test_explain_tensor_matmul_shows_the_textbooks_backward_with_shapes():
    from autograd_core import Tensor
    from autograd_core import tensor as T
    rng = np.random.RandomState(0)
    x = Tensor(rng.randn(2, 3), label="x")
    W = Tensor(rng.randn(3, 4), label="W")
    h = x @ W
    h.label = "h"
    G = rng.randn(2, 4)                 # an upstream gradient grad_h
    L = (h * Tensor(G)).sum()           # ∂L/∂h = G
    t = ag.explain(L)
    text = t.to_text()
    assert "h = x @ W: grad_x = grad_h·Wᵀ  (2×3) = (2×4)·(3×4)ᵀ" in text
    assert "h = x @ W: grad_W = xᵀ·grad_h  (3×4) = (2×3)ᵀ·(2×4)" in text
    # the formulas are what the engine computes: grad_x = G·Wᵀ, grad_W = xᵀ·G (denominator layout)
    gx, gW = T.gradients(L, [x, W])
    np.testing.assert_allclose(gx, G @ W.data.T, rtol=1e-13)
    np.testing.assert_allclose(gW, x.data.T @ G, rtol=1e-13)
    assert np.shape(gx) == x.shape and np.shape(gW) == W.shape
    np.testing.assert_allclose(t.gradients["W"], x.data.T @ G, rtol=1e-13)


def test_explain_tensor_dense_layer_weight_derivative():
    from autograd_core import Tensor
    from autograd_core import tensor as T
    rng = np.random.RandomState(1)
    x = Tensor(rng.randn(5, 3), label="x")
    W = Tensor(rng.randn(2, 3), label="W")
    b = Tensor(rng.randn(2), label="b")
    h = T.linear(x, W, b)
    h.label = "h"
    t = ag.explain(h.sum())
    lines = t.matrix_lines()
    assert "  h (linear): grad_x = grad_h·W  (5×3) = (5×2)·(2×3)" in lines
    assert "  h (linear): grad_W = grad_hᵀ·x  (2×3) = (5×2)ᵀ·(5×3)" in lines
    gW, = T.gradients(h.sum(), [W])
    np.testing.assert_allclose(gW, np.ones((5, 2)).T @ x.data, rtol=1e-13)


# ------------------------------------------------------------------ layer-wise pre-training (remedy 3.1)

def test_pretraining_against_plain_training_on_the_same_data(monkeypatch):
    import nn
    from nn import diagnostics as diag
    monkeypatch.setattr(ex, "find_data", lambda: None)      # the seeded stand-in, small
    r = ex.pretraining([784, 8, 8, 10], images=60, seeds=[0, 1], pre_epochs=1, epochs=2,
                       test_images=30, batch_size=10)
    X, y = ex.synthetic_digits(90, 0)
    Xtr, ytr, Xte, yte = X[:60], y[:60], X[60:], y[60:]
    for i, s in enumerate([0, 1]):
        plain = nn.MLP(784, [8, 8, 10], seed=s, backend="tensor")
        assert r.plain_start[i] == diag.learning_speeds(plain, Xtr, ytr, "binary_cross_entropy")
        nn.fit(plain, Xtr, ytr, loss="binary_cross_entropy", optimizer=nn.SGD(plain.parameters(), lr=0.1),
               epochs=2, batch_size=10, l2=5.0, progress=False, seed=s)
        assert r.plain_end[i] == diag.learning_speeds(plain, Xtr, ytr, "binary_cross_entropy")
        assert r.plain_accuracy[i] == nn.evaluate(plain, Xte, yte, "binary_cross_entropy")[1]
        # pre-training moved the hidden layers before the supervised start
        assert r.pre_start[i] != r.plain_start[i]
        assert len(r.reconstruction[i]) == 2 and all(v > 0 for v in r.reconstruction[i])
    text = r.to_text()
    assert "pre-training + fine-tuning" in text and "plain training" in text
    assert json.loads(json.dumps(r.to_dict()))["pre_accuracy"] == r.pre_accuracy
    with pytest.raises(ValueError, match="epochs"):
        ex.pretraining([784, 8, 10], images=10, epochs=0)


def test_pretrain_layers_trains_each_layer_as_an_autoencoder():
    import nn
    X, _ = ex.synthetic_digits(50, 3, size=16)
    model = nn.MLP(16, [6, 4, 3], seed=2, backend="tensor")
    w0 = model.layers[0].weight.data.copy()
    w2 = model.layers[2].weight.data.copy()
    rec = ex._pretrain_layers(model, X, 3, 0.5, 10, 2)
    assert len(rec) == 2
    assert not np.array_equal(model.layers[0].weight.data, w0)   # hidden layers pre-trained
    assert np.array_equal(model.layers[2].weight.data, w2)       # the output layer untouched


def test_cli_pretraining(capsys, monkeypatch):
    monkeypatch.setattr(ex, "find_data", lambda: None)
    assert main(["experiment", "pretraining", "--sizes", "784,6,6,10", "--images", "30",
                 "--test-images", "10", "--pre-epochs", "1", "--epochs", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["experiment"] == "pretraining" and len(doc["pre_accuracy"]) == 1
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["experiment", "pretraining", "--epochs", "0"]))
    assert e.value.code == 2


def test_cli_explain_html_title_has_the_formula(tmp_path, capsys):
    import html as _html
    page = tmp_path / "s.html"
    assert main(["explain", "x*y", "x=3", "y=4", "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<title>Backpropagation step by step: f = x*y = 12</title>" in text
    assert main(["explain", "x/sqrt(x^2+y^2)", "x=3", "y=4", "--html", str(page)]) == 0
    assert _html.escape("f = x/sqrt(x^2+y^2) = 0.6") in page.read_text(encoding="utf-8")


def test_vanishing_verdict_on_the_stand_in_data(monkeypatch):
    monkeypatch.setattr(ex, "find_data", lambda: None)
    v = ex.vanishing([784, 30, 30, 30, 10], images=200, seeds=[0, 1])
    assert v.verdict == "vanishing" and "verdict: vanishing" in v.to_text()
    relu = ex.vanishing([784, 30, 30, 30, 10], images=200, seeds=[0], activation="relu",
                        init="he_normal")
    assert relu.verdict == "balanced"
    scalar = ex.vanishing([784, 8, 8, 10], images=20, seeds=[0], backend="scalar")
    tensor = ex.vanishing([784, 8, 8, 10], images=20, seeds=[0])
    assert np.allclose(scalar.speeds, tensor.speeds, rtol=1e-10)


# ------------------------------------------------------------------ the three verdicts and the unit notes

def test_exploding_chain_verdicts():
    big, small = ex.exploding(100.0), ex.exploding(1.0)
    assert big.verdict == "exploding" and "verdict: exploding" in big.to_text()   # b1/b4 = 15625
    assert small.verdict == "vanishing" and "verdict: vanishing" in small.to_text()  # 1/64
    assert ex.exploding(4.0).verdict == "balanced"                                # factors 1


def test_saturated_and_dead_units_are_reported():
    import nn
    from nn import diagnostics as diag
    X, _ = ex.synthetic_digits(40, 1, size=16)
    sat = nn.MLP(16, [8, 8, 3], seed=0, backend="tensor")
    sat.layers[0].weight.assign(sat.layers[0].weight.data * 40.0)    # |z| >> 4: σ' ≈ 0
    acts = diag.activation_stats(sat, X)
    assert acts[0].saturated > 0.5
    assert diag.activity_notes([a.saturated for a in acts], [a.dead for a in acts])[0] \
        .startswith("saturated: hidden 1")
    dead = nn.MLP(16, [8, 8, 3], activation="relu", seed=0, backend="tensor")
    dead.layers[1].bias.assign(np.full(8, -100.0))                    # every z < 0: all dead
    acts = diag.activation_stats(dead, X)
    assert acts[1].dead == 1.0
    assert "dead units: hidden 2" in diag.activity_notes([a.saturated for a in acts],
                                                         [a.dead for a in acts])


def test_monitor_on_a_tensor_model_records_activity_like_the_scalar_model():
    import nn
    from nn import diagnostics as diag
    X, y = ex.synthetic_digits(30, 0, size=16, classes=3)
    recs = []
    for backend in ("scalar", "tensor"):
        m = nn.MLP(16, [5, 5, 3], seed=0, backend=backend)
        mon = diag.GradientMonitor(probe=(X, y), loss="binary_cross_entropy", saturation=0.5)
        nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(m.parameters(), lr=0.1),
               epochs=2, batch_size=10, progress=False, callbacks=[mon], seed=0)
        recs.append(mon.records)
    for rs, rt in zip(*recs):
        assert rs.verdict == rt.verdict and rs.activity == rt.activity
        assert rt.saturated == pytest.approx(rs.saturated, abs=1e-12)
        assert rt.speeds == pytest.approx(rs.speeds, rel=1e-9)
