"""Write the teaching notebooks from the cells below (run: python3 notebooks/build_notebooks.py).

The notebooks are generated so that they can be reviewed as code: edit the
cells here, run this script with ``--execute``, and commit the .ipynb files it
writes. With ``--execute`` each notebook is run top to bottom (nbclient, the
python3 kernel, in this folder) and written with its outputs, so that it reads
like a page on GitHub and in the docs site, and the hash of its cells is
recorded in its metadata (``autograd_core.cells_sha256``):
tests/test_notebooks.py checks that the committed notebooks are these cells
and that their outputs come from running exactly these cells.
"""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str) -> tuple[str, str]:
    return "md", textwrap.dedent(text).strip("\n")


def code(text: str) -> tuple[str, str]:
    return "code", textwrap.dedent(text).strip("\n")


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in cells:
        nb.cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    # stable cell ids, so that rebuilding gives the same file
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


# ====================================================================== 01 chain rule

NB01 = [
    md(r"""
    # 1. The chain rule on a computation graph (计算图, 链式法则)

    The textbook chapter (Qiu Xipeng, 《神经网络与深度学习》, chapter 4) differentiates a single logistic neuron

    $$f(x; w, b) = \frac{1}{\exp(-(w x + b)) + 1} = \sigma(w x + b)$$

    at $x = 1,\ w = 0,\ b = 0$ by hand: it splits $f$ into six elementary steps $h_1 \dots h_6$,
    writes down the local derivative of each step, and multiplies them along the path from $w$
    to the output (the chain rule). This notebook does the same with `autograd_core` and checks
    every number of the textbook chapter's table.
    """),
    code("""
    import math
    from autograd_core import Value, explain, parse, jvp, gradients
    """),
    md(r"""
    ## Building the graph

    Every operation on a `Value` records a node of the computation graph: its value, its operands
    (parents) and its local derivatives $\partial\,\text{node} / \partial\,\text{parent}$, computed
    during the forward pass from the primitive's rule.
    """),
    code("""
    x, w, b = Value(1.0, "x"), Value(0.0, "w"), Value(0.0, "b")
    f = 1 / ((-(x * w + b)).exp() + 1)
    print("f =", f.data)
    f.backward()
    print("df/dx =", x.grad, " df/dw =", w.grad, " df/db =", b.grad)
    """),
    md(r"""
    The gradient matches the closed form $\partial f / \partial w = \sigma(z)(1 - \sigma(z))\,x$
    with $z = 0$: $\tfrac12 \cdot \tfrac12 \cdot 1 = 0.25$, and $\partial f/\partial x =
    \sigma'(z)\, w = 0$.
    """),
    code("""
    s = 1 / (1 + math.exp(-(0.0 * 1.0 + 0.0)))
    assert w.grad == s * (1 - s) * 1.0 == 0.25
    assert b.grad == 0.25 and x.grad == 0.0
    """),
    md(r"""
    ## The textbook chapter's table $h_1 \dots h_6$

    | function | derivative | |
    |---|---|---|
    | $h_1 = x \times w$ | $\partial h_1/\partial w = x$ | $\partial h_1/\partial x = w$ |
    | $h_2 = h_1 + b$ | $\partial h_2/\partial h_1 = 1$ | $\partial h_2/\partial b = 1$ |
    | $h_3 = h_2 \times -1$ | $\partial h_3/\partial h_2 = -1$ | |
    | $h_4 = \exp(h_3)$ | $\partial h_4/\partial h_3 = \exp(h_3)$ | |
    | $h_5 = h_4 + 1$ | $\partial h_5/\partial h_4 = 1$ | |
    | $h_6 = 1/h_5$ | $\partial h_6/\partial h_5 = -1/h_5^2$ | |

    `explain` prints the engine's version of this table: the nodes are named $h_1, h_2, \dots$ in
    evaluation order, and each local derivative is shown both as a formula (obtained by running the
    primitive's own rule on symbols) and as the number the forward pass recorded.
    """),
    code("""
    trace = explain(f)
    print(trace.to_text())
    """),
    code("""
    # the textbook chapter's table, row by row: formula and value of every local derivative
    rows = {r.name: r for r in trace.forward_rows if not r.is_leaf}
    assert [r.expression for r in rows.values()] == ["x·w", "h1 + b", "-h2", "exp(h3)", "h4 + 1", "1/h5"]
    assert [(d.symbolic, d.value) for d in rows["h6"].derivatives] == [("-1/h5^2", -0.25)]
    assert [(d.symbolic, d.value) for d in rows["h4"].derivatives] == [("exp(h3)", 1.0)]
    assert {d.parent: d.symbolic for d in rows["h1"].derivatives} == {"x": "w", "w": "x"}
    trace.gradients
    """),
    md(r"""
    ## The path product

    The textbook chapter writes

    $$\frac{\partial f}{\partial w}\Big|_{x=1, w=0, b=0}
      = \frac{\partial f}{\partial h_6}\frac{\partial h_6}{\partial h_5}\frac{\partial h_5}{\partial h_4}
        \frac{\partial h_4}{\partial h_3}\frac{\partial h_3}{\partial h_2}\frac{\partial h_2}{\partial h_1}
        \frac{\partial h_1}{\partial w}
      = 1 \times -0.25 \times 1 \times 1 \times -1 \times 1 \times 1 = 0.25 .$$

    `Trace.paths` lists every path from an input to the output with its factors (here there is one
    path; when a variable is used twice the gradient is the **sum** over paths):
    """),
    code("""
    ps = trace.paths("w")
    print(ps.to_text())
    assert ps.paths[0].product() == "1 × (-0.25) × 1 × 1 × (-1) × 1 × 1 = 0.25"
    """),
    code("""
    # two paths: y = x·x + x  has dy/dx = x + x + 1 (one path through each operand use)
    t = Value(3.0, "t")
    y = t * t + t
    print(explain(y).paths("t").to_text())
    """),
    md(r"""
    ## Forward mode and reverse mode (前向模式 / 反向模式)

    Both modes read the same local derivatives. **Forward mode** pushes a tangent
    $\dot h = \partial h / \partial w$ from one input to the output in evaluation order:
    $\dot h_k = \sum_j \frac{\partial h_k}{\partial h_j} \dot h_j$. **Reverse mode**
    (backpropagation) pulls the adjoint $\bar h = \partial f / \partial h$ back from the output:
    $\bar h_j = \sum_k \bar h_k \frac{\partial h_k}{\partial h_j}$.
    Forward mode needs one pass per input; reverse mode one pass for all inputs.
    """),
    code("""
    print(trace.forward_mode("w").to_text())
    """),
    code("""
    print(trace.compare_modes())
    """),
    code("""
    # jvp: forward mode as a function (value, directional derivative)
    sigma = lambda x, w, b: 1 / ((-(x * w + b)).exp() + 1)
    assert jvp(sigma, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]) == (0.5, 0.25)   # along w
    assert jvp(sigma, [1.0, 0.0, 0.0], [0.0, 1.0, 1.0]) == (0.5, 0.5)    # along w + b
    """),
    md(r"""
    ## The picture (needs Graphviz)

    `visualize.draw_graph` draws one box per Value (its data and gradient, filled by $|\text{grad}|$
    on a log scale) and one edge per operand use, labelled with the local derivative.
    """),
    code("""
    from visualize import draw_graph, step_frames, write_stepper
    draw_graph(f, symbolic=True, parameters=[w, b])
    """),
    md(r"""
    ## Stepping through the backward pass

    `step_frames` gives one picture per backward step (the node handing back its gradient is
    orange, gradients not known yet are shown as `?`); `write_stepper` puts them all in one
    self-contained HTML page with Prev/Next buttons. Here is step 3 ($h_4$), then the whole viewer
    embedded below.
    """),
    code("""
    frames = step_frames(trace)
    print(len(frames), "steps")
    frames[2]
    """),
    code("""
    import html, tempfile
    from pathlib import Path
    from IPython.display import HTML

    page = write_stepper(trace, Path(tempfile.mkdtemp()) / "seed_steps.html")
    print("also written to", page, "(open it in a browser)")
    HTML('<iframe style="width:100%;height:720px;border:1px solid #ccc" srcdoc="'
         + html.escape(page.read_text(encoding="utf-8")) + '"></iframe>')
    """),
    md(r"""
    ## The playground, live

    `visualize.Playground` is the playground page as a notebook widget: move a slider and the
    graph, the value and the gradients follow (the kernel recomputes them). Read without a kernel,
    the cell still shows the last state. The full page, with practice mode, is
    `autograd-core playground "1/(exp(-(x*w+b))+1)" x=1 w=0 b=0`.
    """),
    code("""
    try:
        from visualize import Playground
        live = Playground("1/(exp(-(x*w+b))+1)", x=1, w=0, b=0)
        assert live.doc["gradients"]["w"] == 0.25
    except ImportError as exc:  # anywidget not installed: pip install 'autograd-core[playground]'
        live = exc
    live
    """),
    md(r"""
    ## Try it

    * Change the inputs to $x = 1.5,\ w = 0.8,\ b = 0.2$ and check $\partial f/\partial w =
      \sigma'(1.4) \cdot 1.5$.
    * From the shell: `autograd-core explain "1/(exp(-(x*w+b))+1)" x=1 w=0 b=0 --mode both --paths`.
    """),
    code("""
    f2, leaves = parse("1/(exp(-(x*w+b))+1)", x=1.5, w=0.8, b=0.2)
    g = explain(f2).gradients
    s = 1 / (1 + math.exp(-1.4))
    assert math.isclose(g["w"], s * (1 - s) * 1.5, rel_tol=1e-15)
    g
    """),
]


# ====================================================================== 02 gradient checking

NB02 = [
    md(r"""
    # 2. Checking gradients with finite differences (数值梯度, 梯度检验)

    A derivative computed by an engine (or by hand) is only as good as its rules. The independent
    witness is the definition of the derivative itself: evaluate $f$ near $x$ and take a difference
    quotient. This notebook compares three difference formulas, shows why the step size matters
    (the V shape), and uses `gradcheck` to catch a wrong derivative.
    """),
    code("""
    import dataclasses, math
    import numpy as np
    import matplotlib.pyplot as plt
    from autograd_core import PRIMITIVES, Value, apply, gradcheck, numerical_grad
    from autograd_core.testing import assert_gradients_match
    %matplotlib inline
    """),
    md(r"""
    ## Three difference quotients

    * forward: $\displaystyle \frac{f(x+h) - f(x)}{h} = f'(x) + \frac h2 f''(x) + O(h^2)$, error $O(h)$;
    * central: $\displaystyle \frac{f(x+h) - f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + O(h^4)$,
      error $O(h^2)$;
    * Richardson: central differences $D(h), D(h/2), D(h/4), \dots$ combined to cancel the
      $h^2, h^4, \dots$ terms, e.g. $\frac{4 D(h/2) - D(h)}{3} = f'(x) + O(h^4)$.

    `numerical_grad(f, inputs, method=...)` computes them (it only calls `f` on numbers).
    """),
    code("""
    f = lambda x: math.sin(x) * math.exp(x)
    exact = lambda x: (math.cos(x) + math.sin(x)) * math.exp(x)
    x0 = 1.0
    for method in ("forward", "central", "richardson"):
        (d,) = numerical_grad(f, [x0], method=method)
        print(f"{method:10s} {d:.16f}  error {abs(d - exact(x0)):.1e}")
    """),
    md(r"""
    ## Truncation versus round-off: the V shape

    The truncation error shrinks with $h$ ($\propto h$ or $h^2$), but $f(x+h) - f(x)$ loses digits
    when $h$ is tiny: with machine epsilon $\varepsilon \approx 2.2 \times 10^{-16}$ the round-off
    error is about $\varepsilon |f| / h$. The total error is smallest near
    $h \approx \sqrt{\varepsilon} \approx 10^{-8}$ (forward) and $h \approx \sqrt[3]{\varepsilon}
    \approx 6 \times 10^{-6}$ (central): a V on a log-log plot.
    """),
    code("""
    hs = np.logspace(-15, 0, 61)
    err = {}
    for method in ("forward", "central"):
        err[method] = [abs(numerical_grad(f, [x0], method=method, eps=h)[0] - exact(x0)) for h in hs]
    (rich,) = numerical_grad(f, [x0])
    eps = np.finfo(float).eps

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, style in (("forward", "o-"), ("central", "s-")):
        ax.loglog(hs, np.maximum(err[method], 1e-18), style, ms=3, label=method)
    ax.axvline(math.sqrt(eps), color="C0", ls=":", label=r"$\\sqrt{\\varepsilon}$")
    ax.axvline(eps ** (1 / 3), color="C1", ls=":", label=r"$\\sqrt[3]{\\varepsilon}$")
    ax.axhline(max(abs(rich - exact(x0)), 1e-18), color="C2", ls="--", label="Richardson (default)")
    ax.set_xlabel("step h"); ax.set_ylabel("|error|"); ax.legend(); ax.grid(alpha=0.3)
    ax.set_title("f(x) = sin(x)·exp(x) at x = 1");
    """),
    code("""
    # where is the bottom of each V?
    best = {m: hs[int(np.argmin(e))] for m, e in err.items()}
    print({m: f"{h:.0e}" for m, h in best.items()})
    assert 1e-10 < best["forward"] < 1e-6 and 1e-7 < best["central"] < 1e-3
    assert min(err["central"]) < min(err["forward"]) and abs(rich - exact(x0)) < 1e-12
    """),
    md(r"""
    Left of the bottom the error grows like $1/h$ (round-off), right of it like $h$ (forward,
    slope 1) or $h^2$ (central, slope 2): **smaller steps are not better**.

    ## `gradcheck` on a user function

    `gradcheck(f, inputs)` evaluates `f` on Values, takes every partial derivative in reverse mode
    and in forward mode (and with `order=2` every second derivative), and compares each with a
    Richardson estimate: a row passes when $|a - n| \le \text{atol} + \text{rtol}\,|n|$.
    """),
    code("""
    def loss(w, b):
        # a one-neuron regression loss on two samples
        return ((w * 1.5 + b).tanh() - 0.8) ** 2 + ((w * -0.5 + b).tanh() + 0.3) ** 2

    report = gradcheck(loss, [Value(0.8, "w"), Value(0.2, "b")], order=2)
    print(report)
    assert report.ok
    """),
    md(r"""
    ## Your own operation, and a wrong derivative caught

    Suppose you add your own primitive, softsign $s(x) = \dfrac{x}{1 + |x|}$ with
    $s'(x) = \dfrac{1}{(1 + |x|)^2}$. `@primitive(name)` turns a rule returning the value and the
    local derivatives into an operation of the engine. The rule is written with arithmetic and
    `autograd_core.math` (never `math.*`), so that it also runs on Values (second derivatives) and
    on symbols (`explain`). When it is defined it is validated: run on floats, Values and symbols,
    and its first and second derivatives compared with finite differences. (The table has its own
    `softsign`; names are unique, so this exercise calls its re-derivation `my_softsign`.)
    """),
    code("""
    from autograd_core import primitive, math as am

    @primitive("my_softsign")
    def softsign(x):
        \"\"\"x / (1 + |x|)\"\"\"
        a = 1.0 + abs(x)
        return am.div(x, a), (am.div(1.0, a * a),)

    def softsign_rule_wrong(x):
        a = 1.0 + abs(x)
        return am.div(x, a), (am.div(1.0, a),)     # the square is missing

    try:
        primitive("softsign_wrong")(softsign_rule_wrong)
    except ValueError as e:
        print(str(e).splitlines()[0])
    else:
        raise RuntimeError("the wrong rule was accepted")
    """),
    md(r"""
    A rule that calls `math.exp` (or `float()`) would silently lose its second derivative: the
    check refuses it and names the call.
    """),
    code("""
    def softplus_math(x):
        e = math.exp(x)
        return am.log1p(am.exp(x)), (e / (1.0 + e),)

    try:
        primitive("softplus_math")(softplus_math)
    except TypeError as e:
        print(e)
    """),
    md(r"""
    Defined without validation (`validate=False`), the wrong rule is still caught by `gradcheck`
    of any function that uses it, and the report names the **culprit node**: the primitive, its
    operands, expected versus got, and the line that made it.
    """),
    code("""
    SOFTSIGN_WRONG = primitive("softsign_wrong", validate=False)(softsign_rule_wrong)

    def neuron(w, b, prim=softsign):
        return (prim(w * 1.5 + b) - 0.8) ** 2

    good = gradcheck(neuron, [Value(0.8, "w"), Value(0.2, "b")])
    bad = gradcheck(lambda w, b: neuron(w, b, SOFTSIGN_WRONG), [Value(0.8, "w"), Value(0.2, "b")])
    print(good, "\\n")
    print(bad)
    assert good.ok and not bad.ok and len(bad.failures) == 4
    assert bad.culprits[0].primitive == "softsign_wrong"
    """),
    md(r"""
    The failing rows show the analytic value off by the factor $1 + |z| = 2.4$ at
    $z = 0.8 \cdot 1.5 + 0.2 = 1.4$: exactly the missing factor. How small an error is caught? With
    the default tolerances a relative error of $10^{-5}$ in one partial derivative:
    """),
    code("""
    for k, rel in enumerate((1e-2, 1e-4, 1e-5, 1e-7)):
        def rule(x, rel=rel):
            a = 1.0 + abs(x)
            return am.div(x, a), (am.div(1.0 + rel, a * a),)
        p = primitive(f"softsign_off_{k}", validate=False)(rule)
        r = gradcheck(lambda w, b: neuron(w, b, p), [0.8, 0.2])
        print(f"derivative off by {rel:.0e}: {'caught' if not r.ok else 'passes'}")
    """),
    md(r"""
    ## Checks that check nothing

    A check passes vacuously when `f` does not use its arguments, e.g. a loss that reads the
    model's own parameters instead of the Values gradcheck passes in. The report lists such
    inputs, and `assert_gradients_match` fails on them (unless `allow_unused=True`).
    """),
    code("""
    w, b = Value(0.8, "w"), Value(0.2, "b")
    model_loss = lambda: neuron(w, b)
    print(gradcheck(lambda *params: model_loss(), [w, b]))
    try:
        assert_gradients_match(lambda *params: model_loss(), [w, b])
    except AssertionError as e:
        print("\\n" + str(e).splitlines()[0])
    """),
    md(r"""
    ## Hand-written numpy gradients, and many points at once

    `testing.check_grad(f, grad_f, x)` checks the gradient function people write for numpy models;
    `testing.gradients_match_everywhere(f, domain)` runs `gradcheck` at sampled points (hypothesis
    when installed, seeded numpy otherwise) and reports the worst one.
    """),
    code("""
    from autograd_core.testing import check_grad, gradients_match_everywhere

    A = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.2]]); t = np.array([1.0, 0.0, -1.0])
    f_np = lambda v: 0.5 * float(np.sum((A @ v - t) ** 2))
    grad_np = lambda v: A.T @ (A @ v - t)
    print(check_grad(f_np, grad_np, np.array([0.3, -0.4])))
    print(gradients_match_everywhere(lambda w, b: neuron(w, b), (-2, 2), examples=20).sample)
    """),
    md(r"""
    ## Where does the NaN come from? Anomaly mode

    Inside `with detect_anomaly():` the first operation that makes NaN or $\pm\infty$ from finite
    operands raises, naming the primitive, the operands and the line; in backward the first node
    whose gradient becomes NaN/inf does (here $\sqrt{x}$ at 0, whose derivative is infinite).
    """),
    code("""
    from autograd_core import detect_anomaly, AnomalyError

    x = Value(0.0, "x")
    for make in (lambda: (x + 710.0).exp(), lambda: (x * x).sqrt().backward()):
        try:
            with detect_anomaly():
                make()
        except AnomalyError as e:
            print(e)
    """),
    md(r"""
    ## Kinks

    At a point where the function is not differentiable (ReLU at 0) the one-sided derivatives
    disagree; `gradcheck` reports the row as a kink instead of a failure (a derivative outside
    the one-sided ones, say relu'(0) = 2, would still fail).
    """),
    code("""
    print(gradcheck(lambda x: x.relu(), [0.0], modes="rev"))
    """),
    md(r"""
    ## In your own pytest suite

    `assert_gradients_match(f, inputs, **kwargs)` runs `gradcheck` and raises `AssertionError`
    with the report as its message (the pytest plugin's `gradcheck` fixture does the same). Put
    it in a test file:
    """),
    code('''
    import subprocess, sys, tempfile, textwrap
    from pathlib import Path

    test_file = Path(tempfile.mkdtemp()) / "test_my_model.py"
    test_file.write_text(textwrap.dedent("""
        from autograd_core.testing import assert_gradients_match

        def my_loss(w, b):
            return ((w * 2.0 + b).tanh() - 0.5) ** 2

        def test_my_loss_derivatives():
            assert_gradients_match(my_loss, [0.3, -0.1], order=2)
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", str(test_file)],
                         capture_output=True, text=True, cwd=test_file.parent)
    print(run.stdout[-400:])
    assert run.returncode == 0
    '''),
    code("""
    # and the wrong rule fails with the report as the message
    try:
        assert_gradients_match(lambda w, b: neuron(w, b, SOFTSIGN_WRONG), [0.8, 0.2])
    except AssertionError as e:
        print(str(e).splitlines()[0])
    else:
        raise RuntimeError("the wrong derivative was not caught")
    """),
]


# ====================================================================== 03 neural nets

NB03 = [
    md(r"""
    # 3. Neural networks on the engine (神经网络)

    The textbook chapter builds a feed-forward network from neurons $a = f(\mathbf w^\top \mathbf x + b)$
    with a nonlinear activation $f$ (激活函数), trains it by gradient descent (梯度下降) on a loss
    (损失函数), and obtains the gradient with backpropagation (反向传播). Everything below is
    computed with scalar `Value`s: the `nn` library only organises them.
    """),
    code("""
    import math
    import numpy as np
    import matplotlib.pyplot as plt
    import autograd_core as ag
    from autograd_core import Value, hessian
    import nn
    from visualize.training_plots import plot_decision_boundary, plot_loss_curve
    %matplotlib inline
    """),
    md(r"""
    ## The nine activation functions and their derivatives

    | name | $f(x)$ | $f'(x)$ |
    |---|---|---|
    | logistic (sigmoid) | $\sigma(x) = \frac{1}{1 + e^{-x}}$ | $f(x)(1 - f(x))$ |
    | tanh | $\frac{e^x - e^{-x}}{e^x + e^{-x}}$ | $1 - f(x)^2$ |
    | ReLU | $\max(0, x)$ | $I(x > 0)$ |
    | LeakyReLU | $x$ if $x > 0$ else $\gamma x$ ($\gamma = 0.01$) | $1$ or $\gamma$ |
    | PReLU | $x$ if $x > 0$ else $\gamma_i x$ ($\gamma_i$ learnable) | $1$ or $\gamma_i$ |
    | ELU | $\max(0, x) + \min(0, \gamma(e^x - 1))$ | $I(x > 0) + I(x \le 0)\,\gamma e^x$ |
    | softplus | $\log(1 + e^x)$ | $\sigma(x)$ |
    | swish | $x\,\sigma(\beta x)$ | $\sigma(\beta x) + \beta x\,\sigma(\beta x)(1 - \sigma(\beta x))$ |
    | GELU | $x\,\Phi(x) = x\,P(X \le x)$, $X \sim N(0, 1)$ | $\Phi(x) + x\,\varphi(x)$ |

    The derivatives below are not typed in: each comes from `backward()` on the engine's primitive.
    """),
    code("""
    alpha = Value(0.25, "alpha")          # PReLU's slope, a parameter
    ACTS = {
        "sigmoid": Value.sigmoid, "tanh": Value.tanh, "relu": Value.relu,
        "leaky_relu": lambda v: v.leaky_relu(0.01), "prelu": lambda v: ag.prelu(v, alpha),
        "elu": Value.elu, "softplus": Value.softplus, "swish": Value.swish, "gelu": Value.gelu,
    }
    xs = np.linspace(-4, 4, 161)

    def value_and_slope(act, x):
        v = Value(float(x))
        y = act(v)
        y.backward()
        return y.data, v.grad

    curves = {name: np.array([value_and_slope(a, x) for x in xs]) for name, a in ACTS.items()}
    fig, axes = plt.subplots(3, 3, figsize=(11, 8), sharex=True)
    for ax, (name, c) in zip(axes.flat, curves.items()):
        ax.plot(xs, c[:, 0], label="f(x)")
        ax.plot(xs, c[:, 1], "--", label="f'(x)")
        ax.set_title(name); ax.grid(alpha=0.3); ax.axhline(0, color="k", lw=0.5)
    axes[0, 0].legend()
    fig.tight_layout()
    """),
    code("""
    # the textbook chapter's table of derivatives, checked against the engine on the whole grid
    s = 1 / (1 + np.exp(-xs))
    assert np.allclose(curves["sigmoid"][:, 1], s * (1 - s))
    assert np.allclose(curves["tanh"][:, 1], 1 - np.tanh(xs) ** 2)
    assert np.array_equal(curves["relu"][:, 1], (xs > 0).astype(float))
    assert np.allclose(curves["elu"][:, 1], np.where(xs > 0, 1.0, np.exp(xs)))
    assert np.allclose(curves["softplus"][:, 1], s)
    print("max slope of sigmoid:", curves["sigmoid"][:, 1].max(), "(1/4 at 0: the root of vanishing gradients)")
    """),
    md(r"""
    ## The textbook chapter's linear regression by gradient descent

    Three samples $(x_i, y_i)$ and the loss
    $$L(w, b) = \frac12 \sum_{i=1}^{3} \big(y_i - (w x_i + b)\big)^2,\qquad
      \frac{\partial L}{\partial w} = -\sum_i x_i\,e_i,\quad \frac{\partial L}{\partial b} = -\sum_i e_i,$$
    with $e_i = y_i - (w x_i + b)$. Gradient descent: $w \leftarrow w - \alpha\,\partial L/\partial w$,
    $b \leftarrow b - \alpha\,\partial L/\partial b$. It must reach the least-squares line.
    """),
    code("""
    X3 = [0.5, 1.5, 2.5]
    Y3 = [0.6, 1.4, 1.9]
    w, b = Value(0.8, "w"), Value(0.2, "b")       # the textbook chapter's starting point
    lr, path = 0.1, []
    for step in range(300):
        L = 0.5 * ag.sum([(y - (w * x + b)) ** 2 for x, y in zip(X3, Y3)])
        w.grad = b.grad = 0.0
        L.backward()
        if step == 0:   # the hand-derived gradient
            e = [y - (w.data * x + b.data) for x, y in zip(X3, Y3)]
            assert math.isclose(w.grad, -sum(x * ei for x, ei in zip(X3, e)))
            assert math.isclose(b.grad, -sum(e))
        path.append((w.data, b.data, L.data))
        w.assign(w.data - lr * w.grad)
        b.assign(b.data - lr * b.grad)
    w_ls, b_ls = np.polyfit(X3, Y3, 1)
    print(f"gradient descent: w = {w.data:.6f}, b = {b.data:.6f}, L = {L.data:.6f}")
    print(f"least squares:    w = {w_ls:.6f}, b = {b_ls:.6f}")
    assert abs(w.data - w_ls) < 1e-6 and abs(b.data - b_ls) < 1e-6
    """),
    code("""
    P = np.array(path)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.scatter(X3, Y3, color="k", zorder=3)
    for k in (0, 3, 10, 299):
        a1.plot([0, 3], [P[k, 1], P[k, 0] * 3 + P[k, 1]], label=f"step {k}")
    a1.legend(); a1.set_title("the fitted line"); a1.grid(alpha=0.3)
    a2.semilogy(P[:, 2]); a2.set_xlabel("step"); a2.set_ylabel("L"); a2.set_title("loss"); a2.grid(alpha=0.3)
    fig.tight_layout()
    """),
    md(r"""
    ## Universal approximation (通用近似定理)

    $F(x) = \sum_{i=1}^{m} v_i\,\varphi(w_i x + b_i)$: one hidden layer of $m$ squashing units and
    a linear output can approximate any continuous function on a closed interval as closely as we
    like, given enough units. We fit $\sin(2x)$ on $[-\pi, \pi]$ with $m = 1, 2, 4, 8, 16$ tanh units
    and watch the error fall.
    """),
    code("""
    Xu = np.linspace(-np.pi, np.pi, 60).reshape(-1, 1)
    yu = np.sin(2 * Xu[:, 0])
    widths, mse, fits = [1, 2, 4, 8, 16], [], {}
    for m in widths:
        net = nn.MLP(1, [m, 1], activation="tanh", output_activation="linear", seed=0)
        nn.fit(net, Xu, yu, loss="quadratic", optimizer=nn.Adam(net.parameters(), lr=0.05),
               epochs=500, batch_size=60, progress=False, seed=0)
        fits[m] = nn.predict(net, Xu)[:, 0]
        mse.append(float(np.mean((fits[m] - yu) ** 2)))
        print(f"m = {m:2d}: mean squared error {mse[-1]:.2e}")
    assert all(a > b for a, b in zip(mse, mse[1:])) and mse[-1] < 0.05 * mse[0]
    """),
    code("""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    a1.plot(Xu, yu, "k", lw=3, alpha=0.3, label="sin(2x)")
    for m in widths:
        a1.plot(Xu, fits[m], label=f"m = {m}")
    a1.legend(fontsize=8); a1.set_title("one hidden layer, m tanh units")
    a2.semilogy(widths, mse, "o-"); a2.set_xscale("log", base=2)
    a2.set_xlabel("hidden units m"); a2.set_ylabel("mean squared error"); a2.grid(alpha=0.3)
    fig.tight_layout()
    """),
    md(r"""
    ## A non-convex loss surface (the textbook chapter's figure 4.9)

    Even the tiny network $y = \sigma(w_2\,\sigma(w_1 x))$ has a non-convex loss. With one sample
    $(x, y) = (1, 0.6)$ and $L = (y - \sigma(w_2 \sigma(w_1 x)))^2$ the surface has flat plateaus
    and a curved valley. The engine's `hessian` finds points where the Hessian has a negative
    eigenvalue, which a convex function never has.
    """),
    code("""
    def net_loss(w1, w2, x=1.0, y=0.6):
        return (y - (w2 * (w1 * x).sigmoid()).sigmoid()) ** 2

    g = np.linspace(-10, 10, 61)
    W1, W2 = np.meshgrid(g, g)
    Lgrid = np.vectorize(lambda a, c: net_loss(Value(a), Value(c)).data)(W1, W2)

    fig = plt.figure(figsize=(11, 4.5))
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    ax.plot_surface(W1, W2, Lgrid, cmap="viridis", linewidth=0)
    ax.set_xlabel("w1"); ax.set_ylabel("w2"); ax.set_title("L(w1, w2)")
    ax2 = fig.add_subplot(1, 2, 2)
    cs = ax2.contourf(W1, W2, Lgrid, levels=30, cmap="viridis"); fig.colorbar(cs, ax=ax2)
    ax2.set_xlabel("w1"); ax2.set_ylabel("w2")

    neg = [(a, c) for a in np.linspace(-8, 8, 9) for c in np.linspace(-8, 8, 9)
           if np.linalg.eigvalsh(hessian(net_loss, [a, c])).min() < -1e-6]
    ax2.plot(*zip(*neg), "r.", label="Hessian not positive semi-definite")
    ax2.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    print(len(neg), "of 81 probe points have a negative Hessian eigenvalue: not convex")
    assert neg
    """),
    md(r"""
    ## An MLP on `make_moons`

    Two interleaving half-circles; a network with two hidden layers of 16 tanh units and a sigmoid
    output, binary cross-entropy, Adam.
    """),
    code("""
    X, y = nn.make_moons(200, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, X, y, loss="binary_cross_entropy",
                     optimizer=nn.Adam(model.parameters(), lr=0.01),
                     epochs=25, batch_size=20, progress=False, seed=0)
    loss, acc = nn.evaluate(model, X, y, "binary_cross_entropy")
    print(f"{len(model.parameters())} parameters; training accuracy {acc:.1%}")
    assert acc >= 0.97
    plot_loss_curve(history, title="MLP(2, [16, 16, 1]) on make_moons")
    """),
    code("""
    plot_decision_boundary(model, X, y, resolution=60, title=f"decision boundary, accuracy {acc:.1%}")
    """),
    md(r"""
    ## The five optimizers on a 2-D surface

    On the elongated bowl $f(\theta_1, \theta_2) = 0.1\,\theta_1^2 + 2\,\theta_2^2$ the textbook chapter's update rules
    behave very differently:

    * SGD: $\theta \leftarrow \theta - \varepsilon g$;
    * momentum: $v \leftarrow \alpha v - \varepsilon g,\ \theta \leftarrow \theta + v$;
    * AdaGrad: $r \leftarrow r + g^2,\ \theta \leftarrow \theta - \frac{\varepsilon}{\delta + \sqrt r} g$;
    * RMSProp: $r \leftarrow \rho r + (1 - \rho) g^2,\ \theta \leftarrow \theta - \frac{\varepsilon}{\sqrt{\delta + r}} g$;
    * Adam: $s \leftarrow \rho_1 s + (1 - \rho_1) g,\ r \leftarrow \rho_2 r + (1 - \rho_2) g^2,\
      \hat s = \frac{s}{1 - \rho_1^t},\ \hat r = \frac{r}{1 - \rho_2^t},\
      \theta \leftarrow \theta - \frac{\varepsilon\,\hat s}{\sqrt{\hat r} + \delta}$.
    """),
    code("""
    def bowl(p, q):
        return 0.1 * p * p + 2 * q * q

    OPTIMIZERS = {
        "SGD (lr 0.4)": lambda ps: nn.SGD(ps, lr=0.4),
        "momentum (lr 0.05, α 0.9)": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9),
        "AdaGrad (lr 1.0)": lambda ps: nn.AdaGrad(ps, lr=1.0),
        "RMSProp (lr 0.1)": lambda ps: nn.RMSProp(ps, lr=0.1),
        "Adam (lr 0.3)": lambda ps: nn.Adam(ps, lr=0.3),
    }
    runs = {}
    for name, make in OPTIMIZERS.items():
        p, q = Value(-4.5, "p"), Value(2.0, "q")
        opt = make([p, q])
        traj, losses = [(p.data, q.data)], []
        for _ in range(60):
            opt.zero_grad()
            f = bowl(p, q)
            f.backward()
            losses.append(f.data)
            opt.step()
            traj.append((p.data, q.data))
        runs[name] = (np.array(traj), losses)

    gp, gq = np.meshgrid(np.linspace(-5, 5, 101), np.linspace(-2.5, 2.5, 101))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.5))
    a1.contour(gp, gq, bowl(gp, gq), levels=20, cmap="Greys")
    for name, (traj, _) in runs.items():
        a1.plot(traj[:, 0], traj[:, 1], ".-", ms=3, label=name)
    a1.plot(0, 0, "k*", ms=12); a1.legend(fontsize=8); a1.set_title("trajectories from (-4.5, 2)")
    for name, (_, losses) in runs.items():
        a2.semilogy(losses, label=name)
    a2.set_xlabel("step"); a2.set_ylabel("f"); a2.set_title("loss curves"); a2.grid(alpha=0.3)
    a2.legend(fontsize=8)
    fig.tight_layout()
    """),
    md(r"""
    ## L2 regularisation (正则化) and gradient clipping

    The textbook chapter's structural risk adds $\frac{\lambda}{2N}\|W\|_F^2$ to the mean loss (`nn.fit(..., l2=λ)`,
    weights only): it pulls the weights towards 0 and smooths the decision boundary.
    """),
    code("""
    def weight_norm(m):
        return math.sqrt(sum(p.data ** 2 for n, p in m.named_parameters() if ".w." in n or n.endswith(".w")))

    norms = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, lam in zip(axes, (0.0, 3.0)):
        m = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
        nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.Adam(m.parameters(), lr=0.01),
               epochs=25, batch_size=20, l2=lam, progress=False, seed=0)
        norms[lam] = weight_norm(m)
        plot_decision_boundary(m, X, y, resolution=40, ax=ax,
                               title=f"λ = {lam}: weight norm ‖W‖ = {norms[lam]:.1f}")
    fig.tight_layout()
    assert norms[3.0] < norms[0.0]
    print({lam: round(v, 2) for lam, v in norms.items()})
    """),
    md(r"""
    Gradient clipping rescales the whole gradient when its norm exceeds a threshold:
    $g \leftarrow g \cdot \min(1, c / \|g\|)$. `nn.clip_grad_norm(params, c)` returns the norm before
    clipping. On a steep cliff $f(\theta) = 50\,\theta^2$ plain SGD with $\varepsilon = 0.05$ diverges;
    with clipping at 1 it walks down steadily.
    """),
    code("""
    for clip in (None, 1.0):
        th = Value(3.0, "theta")
        opt = nn.SGD([th], lr=0.05)
        values = []
        for _ in range(8):
            opt.zero_grad()
            f = 50 * th * th
            f.backward()
            if clip is not None:
                g = th.grad
                assert nn.clip_grad_norm([th], clip) == abs(g)   # the norm before clipping
                assert math.isclose(abs(th.grad), min(abs(g), clip))
            opt.step()
            values.append(th.data)
        print(f"clip={clip}: theta =", [round(v, 3) for v in values])
    """),
]


# ====================================================================== 04 vanishing / exploding

NB04 = [
    md(r"""
    # 4. Vanishing and exploding gradients (梯度消失 / 梯度爆炸)

    Nielsen's chapter 5 (in the textbook chapter's material, `shared/seeds/000_*.txt`): add hidden layers to a sigmoid network and the accuracy
    hardly improves, because **the early layers learn much more slowly than the late ones**. The
    reason is the chain rule. For a chain of single neurons $a_j = \sigma(z_j)$,
    $z_j = w_j a_{j-1} + b_j$, the gradient of the first bias is a product of one factor per layer:

    $$\frac{\partial C}{\partial b_1} = \sigma'(z_1)\, w_2 \sigma'(z_2)\, w_3 \sigma'(z_3)\,
      w_4 \sigma'(z_4)\, \frac{\partial C}{\partial a_4}.$$

    Since $\sigma'(z) \le \tfrac14$, with the usual small weights $|w_j \sigma'(z_j)| < \tfrac14$
    and the product shrinks with depth (vanishing); with large weights and $z_j \approx 0$ each
    factor can exceed 1 and the product grows (exploding). Everything below is measured with the
    engine's gradients, on real MNIST when it is available.
    """),
    code("""
    import numpy as np
    import matplotlib.pyplot as plt
    import nn
    from nn import diagnostics, experiments
    from visualize import draw_graph
    from visualize.plots import plot_learning_speeds, plot_training_speed
    %matplotlib inline
    """),
    md(r"""
    ## The data

    `experiments.load_images(n)` returns the first $n$ images of the MNIST test set (pixels / 255)
    from `../shared/data/mnist` (relative to the repository), else Fashion-MNIST from the Debian
    package `dataset-fashion-mnist`, else a seeded synthetic stand-in; `DataInfo` says which. To keep
    this notebook fast we use 500 images (the book uses 1000).
    """),
    code("""
    X, y, info = experiments.load_images(500)
    print(info.describe())
    print(info.message or "real MNIST found")
    fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
    for ax, img, label in zip(axes, X, y):
        ax.imshow(img.reshape(28, 28), cmap="gray_r"); ax.set_title(int(label)); ax.axis("off")
    """),
    md(r"""
    ## The speed of learning at initialisation

    Nielsen measures the *speed of learning* of a hidden layer $l$ as $\|\partial C/\partial
    \mathbf b^{(l)}\|$, the norm of the gradient over the layer's biases, with the cross-entropy
    cost $C$ averaged over the images. The network is `nn.MLP(784, [30, 30, 30, 10],
    activation="sigmoid", output_activation="sigmoid", init="nielsen")`: weights
    $N(0, 1)/\sqrt{n_{in}}$ and biases $N(0, 1)$, drawn exactly as network2 draws them after
    `np.random.seed(s)`. The book reports 0.012, 0.060, 0.283 for one seed.
    """),
    code("""
    res = experiments.vanishing([784, 30, 30, 30, 10], images=500, seeds=[0, 1, 2])
    print(res.to_text(per_seed=True))
    assert all(res.increasing)        # every seed: the later the layer, the faster it learns
    plot_learning_speeds(res, title="[784, 30, 30, 30, 10], sigmoid, 500 images")
    """),
    md(r"""
    **The verdict.** The textbook defines the vanishing gradient as *the layers near the input
    learning much more slowly than those near the output*. `diagnostics.verdict` makes "much"
    a number: with $r$ = speed of the first hidden layer / speed of the last, `vanishing` when
    $r < 0.1$ (more than 10× slower), `exploding` when $r > 10$, `balanced` otherwise. Every
    experiment prints the rule under its table.
    """),
    code("""
    print(diagnostics.VERDICT_RULE)
    print("first/last:", round(diagnostics.speed_ratio(res.mean), 4), "->", res.verdict)
    assert res.verdict == "vanishing" and res.verdicts == ["vanishing"] * 3
    """),
    code("""
    # one more hidden layer: the first layer is now about 100 times slower than the last
    deep = experiments.vanishing([784, 30, 30, 30, 30, 10], images=500, seeds=[0])
    print(deep.to_text())
    assert deep.ratios[0] > 50
    plot_learning_speeds(deep, log=True, title="[784, 30, 30, 30, 30, 10] (log scale)")
    """),
    md(r"""
    ### Neuron by neuron, as in the book's picture

    The book draws a bar per neuron for the first six neurons of each hidden layer: the length of
    the bar is $|\partial C / \partial b|$ of that neuron. `diagnostics.bias_gradients` gives them.
    """),
    code("""
    model = nn.MLP(784, [30, 30, 30, 10], activation="sigmoid", output_activation="sigmoid",
                   init="nielsen", seed=0)
    grads = diagnostics.bias_gradients(model, X, y, "binary_cross_entropy")
    fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), sharex=True, sharey=True)   # one scale
    for l, ax in enumerate(axes):
        g = np.abs(grads[l][:6])
        ax.barh(range(6), g, color=f"C{l}"); ax.invert_yaxis()
        ax.set_title(f"hidden layer {l + 1}"); ax.set_xlabel("|∂C/∂b|")
    axes[0].set_ylabel("neuron")
    fig.tight_layout()
    speeds = diagnostics.learning_speeds(model, X, y, "binary_cross_entropy")
    assert np.allclose([np.linalg.norm(g) for g in grads[:3]], speeds)
    """),
    md(r"""
    ## During training

    Nielsen's script trains on the same images with one full-batch gradient step per epoch
    ($\eta = 0.1$, $\lambda = 5.0$) and measures the speeds before each step. The gap between the
    layers stays: the first layer keeps learning about 20 times more slowly than the third.
    (200 images and 10 epochs here; `autograd-core experiment training-speed` runs the full
    version.)
    """),
    code("""
    ts = experiments.training_speed([784, 30, 30, 30, 10], epochs=10, images=200)
    print(ts.to_text())
    plot_training_speed(ts, title="speed of learning during training (200 images)")
    """),
    md(r"""
    ## The exploding chain

    The textbook chapter's construction: four sigmoid neurons in a chain, every $w_j = 100$, and the biases
    chosen so that every $z_j = 0$ (so $\sigma'(z_j) = \tfrac14$). Each factor is
    $w_j \sigma'(z_j) = 25$, so $\partial C/\partial b_1 = 25^3\, \partial C/\partial b_4 = 15625\,
    \partial C/\partial b_4$. `experiments.exploding` builds it, reads every number from the graph
    and lists the factors with `explain(C).paths("b1", through="a4")`.
    """),
    code("""
    big = experiments.exploding(100.0)
    print(big.to_text())
    assert big.factors == [25.0, 25.0, 25.0] and big.ratio == 15625.0
    """),
    code("""
    # the gradient colouring: red = large |gradient|, at the input end of the chain
    draw_graph(big.output, parameters=big.parameters)
    """),
    code("""
    small = experiments.exploding(1.0)      # w = 1: each factor is 1/4, the gradient vanishes
    print(small.to_text().split("\\n\\n")[0])
    assert small.ratio == 1 / 64
    draw_graph(small.output, parameters=small.parameters)
    """),
    md(r"""
    ## Why exploding is rare with sigmoid: formula (3)

    A factor $|w\,\sigma'(wx + b)|$ exceeds 1 only when $|w| > 4$, and then only for inputs $x$
    in a narrow window. Its width is formula (3) of the chapter,

    $$\frac{2}{|w|} \ln\left(\frac{|w|\left(1 + \sqrt{1 - 4/|w|}\right)}{2} - 1\right).$$

    `experiments.exploding_window` finds the window's edges by bisection on the engine's derivative
    $\partial\sigma(wx+b)/\partial x$ (no formula used) and puts the formula beside it. The width is
    never more than about 0.45.
    """),
    code("""
    from visualize.plots import plot_exploding_window
    win = experiments.exploding_window()
    print(win.to_text())
    assert all(abs(r.width - r.formula) < 1e-9 for r in win.rows)
    assert round(win.max_width, 4) == 0.4477 and round(win.max_w, 3) == 6.894
    plot_exploding_window(win)
    """),
    md(r"""
    ## The chapter's two-layer linear example, in the textbook's order

    $x = 1.5$, $w = 0.8$, $b = 0.2$, $y_{gt} = 0.8$: $y_1 = w_1 x + b_1 = 0.8 \times 1.5 + 0.2 = 1.4$,
    $y_2 = w_2 y_1 + b_2$, $L = \tfrac12 (y_2 - y_{gt})^2$. The chain is taken in the textbook's
    order: $\partial L/\partial y_2$ first, then $w_2$, $b_2$, $y_1$, $w_1$, $b_1$ — each factor a
    local derivative read from the graph, each product equal to what `backward()` computes.
    """),
    code("""
    two = experiments.two_layer_chain()
    print(two.to_text())
    assert [s.name for s in two.steps] == ["∂L/∂y2", "∂L/∂w2", "∂L/∂b2", "∂L/∂y1", "∂L/∂w1", "∂L/∂b1"]
    assert all(s.value == s.engine for s in two.steps)
    """),
    md(r"""
    ## The textbook's `Matmul` layer

    The chapter writes a matrix-product layer by hand: `forward` keeps $x$ and $W$, `backward`
    returns $\text{grad}_x = \text{grad}_y W^\top$ and $\text{grad}_W = x^\top \text{grad}_y$.
    In the denominator layout each gradient has the shape of its variable. On a Tensor graph
    `explain` prints exactly these formulas, with the shapes; below, the two formulas are checked
    against the engine.
    """),
    code("""
    from autograd_core import Tensor, explain
    from autograd_core import tensor as T

    class Matmul:                      # the textbook's layer, in plain numpy
        def __init__(self):
            self.mem = {}
        def forward(self, x, W):
            self.mem = {"x": x, "W": W}
            return x @ W
        def backward(self, grad_y):
            x, W = self.mem["x"], self.mem["W"]
            return grad_y @ W.T, x.T @ grad_y

    rng = np.random.RandomState(0)
    xv, Wv, G = rng.randn(2, 3), rng.randn(3, 4), rng.randn(2, 4)
    layer = Matmul()
    layer.forward(xv, Wv)
    gx_book, gW_book = layer.backward(G)

    x, W = Tensor(xv, label="x"), Tensor(Wv, label="W")
    h = x @ W
    h.label = "h"
    L = (h * Tensor(G)).sum()          # so that ∂L/∂h = G
    print("\\n".join(explain(L).matrix_lines()))
    gx, gW = T.gradients(L, [x, W])
    assert np.allclose(gx, gx_book) and np.allclose(gW, gW_book)
    assert gx.shape == xv.shape and gW.shape == Wv.shape
    """),
    md(r"""
    ## Remedies

    * activations whose derivative is not squashed: ReLU ($\text{ReLU}'(z) = 1$ for $z > 0$), ELU;
    * initialisation scaled to the layer (He: $w \sim N(0, 2/n_{in})$);
    * BatchNorm, which keeps each layer's $z$ in the region where $\sigma'$ is large;
    * residual connections $x + f(x)$, whose derivative $1 + f'(x)$ carries the gradient past the layer;
    * gradient clipping against explosions: rescale $g$ when $\|g\|$ exceeds a threshold.

    `experiments.remedies` measures the speeds at initialisation for each configuration (first/last
    near 1 means every layer learns at a similar speed), then again after a few epochs of training
    with the held-out accuracy (`epochs=`), and clips the exploding chain's gradient. BatchNorm and
    residual connections act during training: look at the "after" columns.
    """),
    code("""
    rem = experiments.remedies([784, 30, 30, 30, 10], images=300, seeds=[0], epochs=2, test_images=200)
    print(rem.to_text())
    """),
    code("""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for row in rem.rows:
        ax.plot(range(1, 4), row.mean, "o-", label=row.name)
    ax.set_yscale("log"); ax.set_xticks([1, 2, 3], ["hidden 1", "hidden 2", "hidden 3"])
    ax.set_ylabel("speed ‖∂C/∂b‖"); ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2); ax.set_title("speed per layer at initialisation")
    fig.tight_layout()
    sig = next(r for r in rem.rows if r.name == "sigmoid, Nielsen init")
    res_ = next(r for r in rem.rows if r.name == "sigmoid + residual")
    assert res_.ratio > 10 * sig.ratio     # residual connections even out the speeds
    """),
    md(r"""
    Clipping by norm keeps the direction of the gradient (the ratio $\partial C/\partial b_1 \,/\,
    \partial C/\partial b_4$ stays 15625) but bounds its length; clipping by value caps each component
    separately and so changes the direction.

    ## Layer-wise pre-training, then fine-tuning (remedy 3.1)

    Hinton's 2006 remedy: train one hidden layer at a time, unsupervised, as an autoencoder of the
    previous layer's output, then train the whole network. `experiments.pretraining` measures it
    against plain training of the same network for the same epochs on the same images.
    """),
    code("""
    pre = experiments.pretraining([784, 30, 30, 30, 10], images=300, seeds=[0], pre_epochs=2,
                                  epochs=2, test_images=200)
    print(pre.to_text())
    """),
    md(r"""
    ## Try it

    * `autograd-core experiment vanishing --sizes 784,30,30,30,10 --images 1000 --seeds 0-9 --plot speeds.png`
      reproduces the book's numbers (about 4.6 s per seed on an idle 2-core machine).
    * Replace `"sigmoid"` by `"relu"` above, or add `batchnorm=True` to the `nn.MLP`.
    """),
]


NOTEBOOKS = {
    "01_chain_rule.ipynb": NB01,
    "02_gradient_checking.ipynb": NB02,
    "03_neural_nets.ipynb": NB03,
    "04_vanishing_exploding.ipynb": NB04,
}


def cells_sha256(nb: nbformat.NotebookNode) -> str:
    """The hash of a notebook's cells (kind and source), not of its outputs."""
    h = hashlib.sha256()
    for cell in nb.cells:
        h.update(json.dumps([cell["cell_type"], cell["source"]], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def execute(nb: nbformat.NotebookNode, timeout: int = 300) -> nbformat.NotebookNode:
    """Run the notebook top to bottom in this folder; record the hash of the cells it ran."""
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata.setdefault("autograd_core", {})["cells_sha256"] = cells_sha256(nb)
    return nb


def build(out_dir: Path = HERE, *, run: bool = False) -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = notebook(cells)
        nbformat.validate(nb)
        if run:
            nb = execute(nb)
            nbformat.validate(nb)
        path = out_dir / name
        nbformat.write(nb, str(path))
        written.append(path)
    return written


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--execute"]
    for p in build(Path(args[0]) if args else HERE, run="--execute" in sys.argv[1:]):
        print("wrote", p)
