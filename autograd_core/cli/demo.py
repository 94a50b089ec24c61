"""The main job in one call: a report that shows what autograd-core is for.

:func:`build_demo` runs on built-in defaults (no network) and writes into one
directory an ``index.html`` plus the pictures and pages it links to, with
relative links only:

1. the textbook chapter's chain-rule example σ(w·x + b) at x = 1, w = b = 0:
   forward table, backward steps, gradients, the path product, the graph
   picture with gradients and the step-through viewer;
2. forward versus reverse mode on the same expression;
3. gradcheck on a user-style function with a user-defined primitive, and the
   same primitive with a deliberately wrong derivative, caught;
4. an MLP trained on ``make_moons``: loss curve and decision boundary;
5. the vanishing-gradient measurement (real MNIST when found, else the
   synthetic stand-in, and the page says which) with the per-layer bar chart;
6. the exploding chain of four sigmoid neurons.

The graph pictures are SVG files drawn by Graphviz's ``dot``; without ``dot``
the page carries each graph's DOT text and lays it out in the browser with
Graphviz compiled to WebAssembly (viz-js, copied next to the page as
``viz-global.js``), as the step-through viewer does.

Library code: nothing is printed; progress messages go to the ``progress``
callback. The command ``autograd-core demo`` prints them.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._markup import json_script
from ..core.engine import Value, apply
from ..derivatives.gradcheck import gradcheck
from ..stepthrough.parser import parse
from ..core.primitives import PRIMITIVES, Primitive
from ..stepthrough.trace import explain

__all__ = ["build_demo", "DemoResult", "SEED_EXPRESSION", "softsign", "softsign_wrong",
           "SOFTSIGN", "SOFTSIGN_WRONG", "neuron_loss", "neuron_loss_wrong"]

#: the textbook chapter's example f(x; w, b) = σ(w·x + b), written as the chapter writes it
SEED_EXPRESSION = "1/(exp(-(x*w+b))+1)"
SEED_VALUES = {"x": 1.0, "w": 0.0, "b": 0.0}

Progress = Callable[[str], None]


@dataclass
class DemoResult:
    """What :func:`build_demo` wrote. ``files`` are every file written (index
    last); ``data_source`` says which data the vanishing-gradient measurement
    used; ``notes`` are warnings shown on the page too;
    ``figures`` the headline numbers (gradients, gradcheck verdicts, accuracy,
    speeds, the exploding ratio)."""

    out_dir: Path
    index: Path
    files: list[Path] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    data_source: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- the user-style primitive

def _softsign_rule(x: Any) -> tuple[Any, tuple[Any, ...]]:
    """softsign(x) = x / (1 + |x|), derivative 1 / (1 + |x|)²."""
    a = 1 + (x if x >= 0 else -x)
    return x / a, (1 / (a * a),)


def _softsign_rule_wrong(x: Any) -> tuple[Any, tuple[Any, ...]]:
    """The same value, but the derivative forgets the square: 1 / (1 + |x|)."""
    a = 1 + (x if x >= 0 else -x)
    return x / a, (1 / a,)


# Built from an existing Primitive with dataclasses.replace: a user's own
# operation. Neither is registered in PRIMITIVES (nothing global changes).
SOFTSIGN: Primitive = dataclasses.replace(PRIMITIVES["tanh"], name="softsign", symbol="softsign",
                                          rule=_softsign_rule, doc="x / (1 + |x|)")
SOFTSIGN_WRONG: Primitive = dataclasses.replace(SOFTSIGN, name="softsign_wrong",
                                                rule=_softsign_rule_wrong)


def softsign(x: Value) -> Value:
    """softsign(x) = x / (1 + |x|), a user-defined primitive (correct rule)."""
    return apply(SOFTSIGN, x)


def softsign_wrong(x: Value) -> Value:
    """softsign with a deliberately wrong derivative (the square forgotten)."""
    return apply(SOFTSIGN_WRONG, x)


def neuron_loss(w: Value, b: Value) -> Value:
    """Squared error of one softsign neuron on the textbook chapter's sample x = 1.5, y = 0.8."""
    return (softsign(w * 1.5 + b) - 0.8) ** 2


def neuron_loss_wrong(w: Value, b: Value) -> Value:
    """The same loss through the softsign with the wrong derivative."""
    return (softsign_wrong(w * 1.5 + b) - 0.8) ** 2


# ---------------------------------------------------------------- HTML helpers

def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Escape, then render **bold** and `code` of the Markdown the traces write."""
    out = _e(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return out


def _md_to_html(md: str, heading: int = 4) -> str:
    """The small Markdown subset that ``to_markdown`` methods write (headings,
    pipe tables, bullet lists, paragraphs) as escaped HTML."""
    lines = md.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
            continue
        m = re.match(r"^(#+)\s+(.*)$", line)
        if m:
            level = min(6, heading + len(m.group(1)) - 3)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i].rstrip())
                i += 1
            out.append(_table_html(rows))
            continue
        if line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\||- )", lines[i]):
            para.append(lines[i].strip())
            i += 1
        out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)


def _cells(row: str) -> list[str]:
    body = row.strip()[1:-1] if row.strip().endswith("|") else row.strip()[1:]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _table_html(rows: list[str]) -> str:
    head = _cells(rows[0])
    body = [_cells(r) for r in rows[2:]] if len(rows) > 1 and set(rows[1]) <= set("|-: ") else \
        [_cells(r) for r in rows[1:]]
    parts = ["<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead><tbody>"]
    for r in body:
        parts.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _simple_table(headers: list[str], rows: list[list[Any]]) -> str:
    parts = ["<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead><tbody>"]
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _pre(text: str, cls: str = "") -> str:
    c = f' class="{_e(cls)}"' if cls else ""
    return f"<pre{c}>{_e(text)}</pre>"


def _figure(content: str, alt: str, cls: str = "") -> str:
    fc = ' class="scroll"' if cls == "wide" else ""
    return f'<figure{fc}>{content}<figcaption>{_e(alt)}</figcaption></figure>'


def _img(name: str, alt: str, cls: str = "") -> str:
    c = f' class="{_e(cls)}"' if cls else ""
    return _figure(f'<img src="{_e(name)}" alt="{_e(alt)}"{c}>', alt, cls)


def _p(text: str) -> str:
    return f"<p>{_inline(text)}</p>"


def _atomic_write_text(path: Path, text: str) -> None:
    from visualize.graph import write_atomic
    write_atomic(path, text.encode("utf-8"))


def _fmt(x: float, digits: int = 4) -> str:
    if x == 0:
        return "0"
    ax = abs(x)
    if ax < 1e-3 or ax >= 1e5:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


# ---------------------------------------------------------------- the builder

class _Builder:
    def __init__(self, out_dir: Path, quick: bool, progress: Progress | None) -> None:
        self.out = out_dir
        self.quick = quick
        self.progress = progress
        self.files: list[Path] = []
        self.notes: list[str] = []
        self.sections: list[tuple[str, str, str]] = []  # (id, title, html)
        self.data_source = ""
        self.figures: dict[str, Any] = {}
        self.browser_graphs = 0

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def wrote(self, path: Path) -> str:
        path = Path(path)
        if path not in self.files:
            self.files.append(path)
        return path.name

    def picture(self, name: str, alt: str, cls: str, root: Any, **options: Any) -> str:
        """The graph of ``root`` (``options`` go to ``draw_graph``): an SVG file
        drawn by ``dot``; without ``dot``, its DOT text on the page, laid out
        in the browser by viz-js (written once next to the page)."""
        from visualize import draw_graph, render
        if shutil.which("dot") is not None:
            return _img(self.wrote(render(root, self.out / name, **options)), alt, cls)
        if not self.browser_graphs:
            from visualize.assets import asset
            viz = self.out / "viz-global.js"
            _atomic_write_text(viz, asset("viz-global.js"))
            self.wrote(viz)
        self.browser_graphs += 1
        gid = f"graph-{self.browser_graphs}"
        dot = json_script(gid + "-dot", draw_graph(root, **options).source)
        return _figure(f'<div class="ag-graph {_e(cls)}" id="{gid}" role="img" '
                       f'aria-label="{_e(alt)}"></div>{dot}', alt, cls)

    # -------------------------------------------------------- 1. chain rule
    def chain_rule(self) -> None:
        from visualize import write_stepper
        self.say("chain rule: σ(w·x + b) at x = 1, w = 0, b = 0 (forward table, backward steps)")
        f, inputs = parse(SEED_EXPRESSION, **SEED_VALUES)
        trace = explain(f)
        self.trace = trace
        self.figures["seed_value"] = trace.value
        self.figures["seed_gradients"] = dict(trace.gradients)
        graph = self.picture("seed_graph.svg", "The computation graph with values, gradients and "
                             "the local derivative on every edge (fill colour = |gradient|)", "graph",
                             trace, parameters=[inputs["w"], inputs["b"]], symbolic=True)
        self.say("chain rule: graph picture and step-through viewer")
        steps = self.wrote(write_stepper(
            trace, self.out / "seed_steps.html",
            title="Step through the chain rule: σ(w·x + b) at x = 1, w = 0, b = 0"))
        path_sum = trace.paths("w")
        parts = [
            _p("The textbook chapter's example (计算图, 链式法则): f(x; w, b) = 1 / (exp(−(w·x + b)) + 1) "
               "= σ(w·x + b), evaluated at x = 1, w = 0, b = 0. Every operation on a `Value` records "
               "a node with its local derivatives (the forward pass); `backward()` then walks the "
               "graph from the output and multiplies each upstream gradient by the local "
               "derivatives (the chain rule)."),
            _pre("from autograd_core import parse, explain\n"
                 f'f, inputs = parse("{SEED_EXPRESSION}", x=1, w=0, b=0)\n'
                 "trace = explain(f)\nprint(trace.to_text())"),
        ]
        parts.append(graph)
        parts.append(_md_to_html(trace.to_markdown()))
        parts.append("<h4>The path product for ∂f/∂w</h4>")
        parts.append(_p("Reverse mode multiplies the local derivatives along the path from the "
                        "output back to w, exactly the textbook chapter's line "
                        "1 × −0.25 × 1 × 1 × −1 × 1 × 1 = 0.25:"))
        parts.append(_pre(f"{path_sum.paths[0].product()}\n{path_sum.formula()}"))
        parts.append(f'<h4>Step through it</h4><p>The viewer below (also on its own page: '
                     f'<a href="{_e(steps)}">{_e(steps)}</a>) shows one backward step at a time: '
                     f'the node handing back its gradient, the local derivatives used and the '
                     f'gradients known so far. Use Prev/Next, the slider or the arrow keys.</p>'
                     f'<iframe src="{_e(steps)}" title="step-through viewer" '
                     f'class="stepper"></iframe>')
        self.sections.append(("chain-rule", "1. The chain rule on the textbook chapter's computation graph",
                              "\n".join(parts)))

    # -------------------------------------------------------- 2. forward vs reverse
    def modes(self) -> None:
        self.say("forward vs reverse mode on the same expression")
        trace = self.trace
        parts = [
            _p("Forward mode (前向模式) pushes a tangent ∂node/∂input from one input towards the "
               "output, in evaluation order: one pass per input. Reverse mode (反向模式, "
               "backpropagation) pulls ∂output/∂node back from the output: one pass gives the "
               "gradient with respect to every input. Both read the same recorded local "
               "derivatives and agree to the last bit."),
            _md_to_html(trace.forward_mode("w").to_markdown()),
            _md_to_html(trace.compare_modes("markdown")),
            _p("With n inputs and one output (a loss), reverse mode is n times cheaper; with one "
               "input and many outputs forward mode wins. Command line: "
               "`autograd-core explain \"1/(exp(-(x*w+b))+1)\" x=1 w=0 b=0 --mode both`."),
        ]
        self.sections.append(("modes", "2. Forward mode versus reverse mode", "\n".join(parts)))

    # -------------------------------------------------------- 3. gradcheck
    def gradcheck(self) -> None:
        self.say("gradcheck: a user-defined primitive, then one with a wrong derivative")
        good = gradcheck(neuron_loss, [Value(0.8, "w"), Value(0.2, "b")], order=2)
        bad = gradcheck(neuron_loss_wrong, [Value(0.8, "w"), Value(0.2, "b")])
        self.figures["gradcheck_correct_ok"] = good.ok
        self.figures["gradcheck_wrong_failures"] = len(bad.failures)
        self.figures["gradcheck_wrong_rows"] = len(bad.rows)
        src = "\n".join(inspect.getsource(obj) for obj in (
            _softsign_rule, _softsign_rule_wrong)).strip()
        code = (
            "import dataclasses\n"
            "from autograd_core import PRIMITIVES, Value, apply, gradcheck\n\n"
            f"{src}\n\n"
            "# a user's own operation, made from an existing Primitive (not registered globally)\n"
            "SOFTSIGN = dataclasses.replace(PRIMITIVES[\"tanh\"], name=\"softsign\", symbol=\"softsign\",\n"
            "                               rule=_softsign_rule)\n"
            "SOFTSIGN_WRONG = dataclasses.replace(SOFTSIGN, name=\"softsign_wrong\", rule=_softsign_rule_wrong)\n\n"
            "def neuron_loss(w, b):            # the textbook chapter's sample: x = 1.5, y = 0.8\n"
            "    return (apply(SOFTSIGN, w * 1.5 + b) - 0.8) ** 2\n\n"
            "gradcheck(neuron_loss, [Value(0.8, \"w\"), Value(0.2, \"b\")], order=2)\n"
            "gradcheck(neuron_loss_wrong, [Value(0.8, \"w\"), Value(0.2, \"b\")])   # same, SOFTSIGN_WRONG")
        verdict = (f"caught: {len(bad.failures)} of {len(bad.rows)} derivatives fail"
                   if not bad.ok else "NOT caught (this is a bug)")
        parts = [
            _p("`gradcheck` compares every derivative the engine computes (reverse mode and "
               "forward mode, and with `order=2` every second derivative) with a Richardson-"
               "extrapolated finite difference (数值梯度) computed from function values alone. "
               "Here a user adds an operation of their own, softsign(x) = x / (1 + |x|), and "
               "checks a one-neuron loss built with it:"),
            _pre(code, "code"),
            f'<h4>The correct rule: <span class="{"pass" if good.ok else "fail"}">'
            f'{"PASSED" if good.ok else "FAILED"}</span></h4>',
            _pre(str(good), "report"),
            f'<h4>The wrong rule (1/(1+|x|): the square forgotten): <span class="{"fail" if not bad.ok else "pass"}">'
            f'{_e(verdict)}</span></h4>',
            _pre(str(bad), "report"),
            _p("In a test suite, `autograd_core.testing.assert_gradients_match(neuron_loss, "
               "[0.8, 0.2])` raises an `AssertionError` whose message is this table."),
        ]
        self.sections.append(("gradcheck", "3. Checking derivatives: gradcheck catches a wrong rule",
                              "\n".join(parts)))

    # -------------------------------------------------------- 4. MLP on moons
    def moons(self) -> None:
        import nn
        from visualize.training_plots import plot_decision_boundary, plot_loss_curve
        epochs = 8 if self.quick else 25
        self.say(f"MLP on make_moons: training MLP(2, [16, 16, 1]) for {epochs} epochs")
        X, y = nn.make_moons(200, noise=0.1, seed=0)
        model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
        opt = nn.Adam(model.parameters(), lr=0.01)
        t0 = time.perf_counter()
        hist = nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=opt, epochs=epochs,
                      batch_size=20, progress=False, seed=0)
        secs = time.perf_counter() - t0
        loss, acc = nn.evaluate(model, X, y, "binary_cross_entropy")
        self.figures["moons_accuracy"] = acc
        self.figures["moons_loss"] = loss
        self.figures["moons_epochs"] = epochs
        self.say(f"MLP on make_moons: training accuracy {acc:.1%}; drawing the loss curve and "
                 "decision boundary")
        curve = self.wrote(_save(plot_loss_curve(hist, title="MLP(2, [16, 16, 1]) on make_moons"),
                                 self.out / "moons_loss.png"))
        # The picture needs the model's output at 4900 grid points: a Tensor twin with the same
        # weights gives them in milliseconds instead of a second of scalar graphs (outputs equal
        # to ~1e-15, the PNG byte for byte the same); everything trained and reported above is
        # the scalar model's.
        twin = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid",
                      backend="tensor")
        twin.load_state_dict(model.state_dict())
        boundary = self.wrote(_save(plot_decision_boundary(
            twin, X, y, resolution=40 if self.quick else 70,
            title=f"Decision boundary (training accuracy {acc:.1%})"),
            self.out / "moons_boundary.png"))
        n_params = len(model.parameters())
        parts = [
            _p(f"A multilayer perceptron with two hidden layers of 16 tanh units and a sigmoid "
               f"output ({n_params} parameters), built from the engine's Values by the `nn` "
               f"library, trained with Adam (lr 0.01, mini-batches of 20) on 200 points of "
               f"`nn.make_moons(200, noise=0.1, seed=0)` with binary cross-entropy "
               f"(损失函数). Every gradient comes from `backward()` on the scalar graph."),
            _pre("import nn\n"
                 "X, y = nn.make_moons(200, noise=0.1, seed=0)\n"
                 "model = nn.MLP(2, [16, 16, 1], activation=\"tanh\", output_activation=\"sigmoid\", seed=0)\n"
                 "history = nn.fit(model, X, y, loss=\"binary_cross_entropy\",\n"
                 "                 optimizer=nn.Adam(model.parameters(), lr=0.01),\n"
                 f"                 epochs={epochs}, batch_size=20, seed=0)"),
            _simple_table(["epochs", "final training loss", "training accuracy", "training time"],
                          [[epochs, _fmt(loss), f"{acc:.1%}", f"{secs:.1f} s"]]),
            '<div class="row">',
            _img(curve, "Loss (and training accuracy) per epoch"),
            _img(boundary, "Model output over the plane; the black line is the 0.5 contour"),
            "</div>",
        ]
        self.sections.append(("moons", "4. A neural network on make_moons", "\n".join(parts)))

    # -------------------------------------------------------- 5. vanishing gradients
    def vanishing(self) -> None:
        from nn import experiments
        from visualize.plots import plot_learning_speeds
        sizes = (784, 30, 30, 30, 10)
        images, seeds = (100, [0, 1]) if self.quick else (1000, list(range(10)))
        found = experiments.find_data()
        where = (f"{'MNIST' if found[0] == 'mnist' else 'Fashion-MNIST'} in {found[1]}" if found
                 else "no MNIST found: a synthetic stand-in")
        self.say(f"vanishing gradients: learning speeds of {list(sizes)} at initialisation, "
                 f"{images} images ({where}), seeds {seeds[0]}-{seeds[-1]} (Tensor backend), "
                 f"seed {seeds[0]} again on scalar Values")
        res = experiments.vanishing(sizes, images, seeds=seeds, backend="tensor")
        scalar = experiments.vanishing(sizes, images, seeds=seeds[:1])  # the scalar engine
        agree = max(abs(a - b) / abs(b) for a, b in zip(scalar.speeds[0], res.speeds[0]))
        info = res.data
        self.data_source = info.source
        if info.message:
            self.say(f"vanishing gradients: {info.message}")
        self.figures["vanishing_sizes"] = list(sizes)
        self.figures["vanishing_images"] = images
        self.figures["vanishing_seeds"] = list(seeds)
        self.figures["vanishing_mean"] = res.mean
        self.figures["vanishing_scalar_vs_tensor"] = agree
        ref = res.reference if info.source == "mnist" and images == 1000 else None
        chart = self.wrote(_save(plot_learning_speeds(
            res, reference=ref,
            title=f"Speed of learning per hidden layer, {list(sizes)}, sigmoid"),
            self.out / "vanishing_speeds.png"))
        if info.source == "mnist":
            data_line = (f"Data: the real MNIST test set, {info.describe()}.")
        else:
            data_line = (f"Data: {info.describe()}. {info.message or ''} The numbers will differ "
                         "from the book's.")
        parts = [
            _p("Nielsen's experiment (梯度消失): a sigmoid network [784, 30, 30, 30, 10] with "
               "network2's initialisation (weights N(0, 1)/√n_in, biases N(0, 1)) and its "
               "cross-entropy cost. The speed of learning of a hidden layer is ‖∂C/∂b‖ over its "
               "biases, with C averaged over the images. The earlier the layer, the slower it "
               "learns: ∂C/∂b1 is a product of factors w_j·σ'(z_j), and σ' ≤ 1/4."),
            f'<p class="data"><strong>{_e(data_line)}</strong></p>',
            _pre("from nn import experiments\n"
                 f"res = experiments.vanishing({list(sizes)}, images={images}, "
                 f"seeds=range({len(seeds)}), backend=\"tensor\")\n"
                 "print(res.to_text())"),
            _pre(res.to_text(per_seed=True)),
            _img(chart, "Speed of learning per hidden layer (bars: mean over seeds, whiskers: "
                        "min–max" + ("; diamonds: the 10-seed reference means" if ref else "") + ")"),
            _p(f"The ten networks were measured with the Tensor backend; seed {seeds[0]} measured "
               f"again on scalar Values (one graph node per neuron, every weight an edge) gives the "
               f"same speeds to a relative {agree:.1e}. Command line, on scalar Values: `autograd-core experiment vanishing --sizes "
               "784,30,30,30,10 --images 1000 --seeds 0-9 --plot speeds.png`."),
        ]
        self.sections.append(("vanishing", "5. Vanishing gradients: the early layers learn slowly",
                              "\n".join(parts)))

    # -------------------------------------------------------- 6. exploding chain
    def exploding(self) -> None:
        from nn import experiments
        self.say("exploding gradients: the chain of four sigmoid neurons with w = 100, and w = 1")
        big = experiments.exploding(100.0)
        small = experiments.exploding(1.0)
        self.figures["exploding_ratio"] = big.ratio
        self.figures["vanishing_chain_ratio"] = small.ratio
        parts = [
            _p("The textbook chapter's construction (梯度爆炸): four sigmoid neurons in a chain, "
               "a_j = σ(w_j·a_(j−1) + b_j), every w_j = 100 and the biases chosen so that every "
               "z_j = 0. Then each factor w_j·σ'(z_j) = 100 × 1/4 = 25, and the gradient of the "
               "first bias is 25³ = 15625 times that of the last. Every number below is read from "
               "the engine's graph; the factor list is `explain(C).paths(\"b1\", through=\"a4\")`."),
            _pre(big.to_text()),
        ]
        parts.append(self.picture("exploding_chain.svg", "w = 100: the gradients grow towards the "
                                  "input (red = large |gradient|)", "wide", big.output,
                                  parameters=big.parameters))
        parts += [
            _p(f"The same chain with w = 1: each factor is 1/4 and ∂C/∂b1 / ∂C/∂b4 = "
               f"{_fmt(small.ratio)} = 1/64: the gradient vanishes instead."),
            _pre(small.to_text().split("\n\n")[0]),
        ]
        parts.append(self.picture("vanishing_chain.svg", "w = 1: the gradients shrink towards "
                                  "the input (blue = small |gradient|)", "wide", small.output,
                                  parameters=small.parameters))
        parts.append(_p("Command line: `autograd-core experiment exploding`. Remedies (ReLU, He "
                        "initialisation, BatchNorm, residual connections, gradient clipping): "
                        "`autograd-core experiment remedies`."))
        self.sections.append(("exploding", "6. Exploding gradients: the chain of four neurons",
                              "\n".join(parts)))

    # -------------------------------------------------------- the page
    def page(self, seconds: float) -> str:
        toc = "".join(f'<li><a href="#{_e(sid)}">{_e(title)}</a></li>' for sid, title, _ in self.sections)
        body = "\n".join(f'<section id="{_e(sid)}"><h2>{_e(title)}</h2>\n{content}\n</section>'
                         for sid, title, content in self.sections)
        notes = "".join(f'<p class="note">{_e(n)}</p>' for n in self.notes)
        # without dot: the graphs' DOT texts laid out here by Graphviz in WebAssembly (viz-js)
        scripts = ('<script src="viz-global.js"></script>\n<script>' + _LAYOUT + '</script>'
                   if self.browser_graphs else "")
        from .. import __version__
        return _PAGE.format(
            version=_e(__version__), toc=toc, body=body, notes=notes, scripts=scripts,
            footer=_inline(f"Built by `autograd-core demo` (autograd-core {__version__}) in "
                      f"{seconds:.1f} s{' (quick mode)' if self.quick else ''}. "
                      "Everything on this page is in this folder; nothing is fetched."))


def _save(fig: Any, path: Path) -> Path:
    from visualize.training_plots import save_figure
    return save_figure(fig, path)


_LAYOUT = """
Viz.instance().then(function (viz) {
  document.querySelectorAll('div.ag-graph').forEach(function (box) {
    var dot = JSON.parse(document.getElementById(box.id + '-dot').textContent);
    box.replaceChildren(viz.renderSVGElement(dot));
  });
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autograd-core demo</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; margin: 0; color: #222;
       line-height: 1.45; background: #fafafa; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 1em 2em 3em; background: #fff; }}
h1 {{ margin-bottom: 0.2em; }}
h2 {{ border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }}
th {{ background: #f0f0f0; }}
tbody tr:nth-child(even) {{ background: #fafafa; }}
pre {{ background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.7em; overflow-x: auto;
       font-size: 0.85em; }}
code {{ background: #f0f0f0; padding: 0 0.2em; }}
figure {{ margin: 0.8em 0; }}
figure img {{ max-width: 100%; border: 1px solid #eee; }}
figcaption {{ font-size: 0.85em; color: #555; }}
figure.scroll {{ overflow-x: auto; }}
figure.scroll img.wide {{ max-width: none; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.row figure {{ flex: 1 1 420px; }}
.ag-graph svg {{ max-width: 100%; height: auto; border: 1px solid #eee; }}
figure.scroll .ag-graph.wide svg {{ max-width: none; }}
iframe.stepper {{ width: 100%; height: 760px; border: 1px solid #ccc; }}
.pass {{ color: #1a7f37; }}
.fail {{ color: #cf222e; }}
.note {{ background: #fff8c5; border-left: 4px solid #d4a72c; padding: 0.4em 0.8em; }}
footer {{ color: #666; font-size: 0.85em; margin-top: 3em; }}
</style>
</head>
<body>
<main>
<h1>autograd-core {version}: what it is for</h1>
<p>A scalar reverse-mode automatic-differentiation engine for learning, teaching and testing
derivatives. This page was built by one command, <code>autograd-core demo</code>, from the
engine's own output: every table, number and picture below was computed just now.</p>
{notes}
<nav><ol>{toc}</ol></nav>
{body}
<footer>{footer}</footer>
</main>
{scripts}
</body>
</html>
"""


def build_demo(out_dir: str | os.PathLike[str] = "autograd-demo", *, quick: bool = False,
               progress: Progress | None = None) -> DemoResult:
    """Build the demo report in ``out_dir`` (created if missing) and return
    what was written. ``quick`` shortens the training runs (for tests);
    ``progress`` receives one message per stage. Nothing is printed."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking a message, not {type(progress).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    b = _Builder(out, bool(quick), progress)
    t0 = time.perf_counter()
    b.chain_rule()
    b.modes()
    b.gradcheck()
    b.moons()
    b.vanishing()
    b.exploding()
    seconds = time.perf_counter() - t0
    index = out / "index.html"
    _atomic_write_text(index, b.page(seconds))
    b.wrote(index)
    b.say(f"wrote {index}")
    return DemoResult(out_dir=out, index=index, files=list(b.files),
                      sections=[t for _, t, _ in b.sections], data_source=b.data_source,
                      seconds=seconds, notes=list(b.notes), figures=dict(b.figures))
