"""Traces: the seed table, backward steps, forward mode, paths, symbols."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings

from autograd_core import PRIMITIVES, Trace, Value, apply, explain, gradients, parse
from autograd_core import sum as vsum
from autograd_core.symbolic import Sym, fmt_number, literal
from expr_strategies import ENVS, EXPRESSIONS, reference

SEED = "1/(exp(-(x*w+b))+1)"


@pytest.fixture
def seed() -> Trace:
    out, _ = parse(SEED, x=1, w=0, b=0)
    return explain(out)


# ------------------------------------------------------------------ the seed table

def test_seed_table_row_by_row(seed):
    rows = [r for r in seed.forward_rows if not r.is_leaf]
    got = [(r.name, r.op, r.inputs, r.expression, r.value,
            [(d.parent, d.symbolic, d.value) for d in r.derivatives]) for r in rows]
    assert got == [
        ("h1", "mul", ("x", "w"), "x·w", 0.0, [("x", "w", 0.0), ("w", "x", 1.0)]),
        ("h2", "add", ("h1", "b"), "h1 + b", 0.0, [("h1", "1", 1.0), ("b", "1", 1.0)]),
        ("h3", "neg", ("h2",), "-h2", -0.0, [("h2", "-1", -1.0)]),
        ("h4", "exp", ("h3",), "exp(h3)", 1.0, [("h3", "exp(h3)", 1.0)]),
        ("h5", "add_const", ("h4",), "h4 + 1", 2.0, [("h4", "1", 1.0)]),
        ("h6", "rdiv_const", ("h5",), "1/h5", 0.5, [("h5", "-1/h5^2", -0.25)]),
    ]
    leaves = [(r.name, r.op, r.value) for r in seed.forward_rows if r.is_leaf]
    assert leaves == [("x", "input", 1.0), ("w", "input", 0.0), ("b", "input", 0.0)]
    # the textbook's f(x; w, b): the output is called f, its row keeps its number h6
    assert seed.output_name == "f" and seed.output_node == "h6" and seed.value == 0.5 and seed.output.data == 0.5


def test_seed_table_at_other_values_still_reads_the_same_formulas():
    out, _ = parse(SEED, x=1.5, w=0.8, b=0.2)  # the seed's other worked numbers: 0.8·1.5 + 0.2
    t = explain(out)
    h2 = next(r for r in t.forward_rows if r.name == "h2")
    assert h2.value == pytest.approx(1.4)
    h6 = next(r for r in t.forward_rows if r.name == "h6")
    h5 = math.exp(-1.4) + 1
    assert h6.derivatives[0].symbolic == "-1/h5^2"
    assert h6.derivatives[0].value == pytest.approx(-1 / h5 ** 2, rel=1e-15)


def test_seed_backward_steps(seed):
    steps = [(s.node, s.upstream, [(c.parent, c.symbolic, c.local, c.contribution, c.accumulated)
                                   for c in s.contributions]) for s in seed.backward_steps]
    assert steps == [
        ("h6", 1.0, [("h5", "-1/h5^2", -0.25, -0.25, -0.25)]),
        ("h5", -0.25, [("h4", "1", 1.0, -0.25, -0.25)]),
        ("h4", -0.25, [("h3", "exp(h3)", 1.0, -0.25, -0.25)]),
        ("h3", -0.25, [("h2", "-1", -1.0, 0.25, 0.25)]),
        ("h2", 0.25, [("h1", "1", 1.0, 0.25, 0.25), ("b", "1", 1.0, 0.25, 0.25)]),
        ("h1", 0.25, [("x", "w", 0.0, 0.0, 0.0), ("w", "x", 1.0, 0.25, 0.25)]),
    ]
    assert seed.gradients == {"x": 0.0, "w": 0.25, "b": 0.25}


def test_seed_path_product_for_w(seed):
    ps = seed.paths("w")
    assert len(ps.paths) == 1
    p = ps.paths[0]
    assert p.nodes == ("w", "h1", "h2", "h3", "h4", "h5", "h6")
    assert p.product() == "1 × (-0.25) × 1 × 1 × (-1) × 1 × 1 = 0.25"
    assert [f.notation for f in p.factors] == ["∂f/∂h6", "∂h6/∂h5", "∂h5/∂h4", "∂h4/∂h3",
                                               "∂h3/∂h2", "∂h2/∂h1", "∂h1/∂w"]
    assert ps.total == 0.25 == ps.gradient
    assert ps.formula() == "∂f/∂w = x·(-1)·exp(h3)·(-1/h5^2)"
    assert seed.paths("b").paths[0].product() == "1 × (-0.25) × 1 × 1 × (-1) × 1 = 0.25"
    assert seed.paths("x").total == 0.0


def test_explain_touches_no_grad_and_trace_outputs(seed):
    x = Value(2.0, "x")
    y = x * x + x.exp()
    explain(y)
    assert x.grad == 0.0 and y.grad == 0.0
    text = seed.to_text()
    assert "h6    rdiv_const  1/h5      0.5    ∂h6/∂h5           -1/h5^2   -0.25" in text
    assert text.rstrip().endswith("∂f/∂x = w·exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0\n"
                                  "∂f/∂w = x·exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0.25\n"
                                  "∂f/∂b = exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0.25")
    md = seed.to_markdown()
    assert "| h4 | exp | exp(h3) | 1 | ∂h4/∂h3 | exp(h3) | 1 |" in md
    d = json.loads(json.dumps(seed.to_dict(), allow_nan=False))
    assert d["gradients"] == {"x": 0.0, "w": 0.25, "b": 0.25}
    assert d["forward"][-1]["derivatives"] == [{"parent": "h5", "symbolic": "-1/h5^2", "value": -0.25}]


def test_to_dict_is_json_even_with_infinities():
    x = Value(0.0, "x")
    y = x.sqrt()  # derivative inf at 0
    d = explain(y).to_dict()
    s = json.dumps(d, allow_nan=False)
    assert '"inf"' in s


# ------------------------------------------------------------------ the four-neuron chain

def _sigmoid_chain(ws, bs, a0, target):
    a = Value(a0, "a0")
    params = {}
    for j, (wj, bj) in enumerate(zip(ws, bs), 1):
        w = Value(wj, f"w{j}")
        b = Value(bj, f"b{j}")
        params[w.label], params[b.label] = w, b
        z = w * a + b
        z.label = f"z{j}"
        a = z.sigmoid()
        a.label = f"a{j}"
    c = (a - target) ** 2 * 0.5
    c.label = "C"
    return c, params


def test_four_neuron_chain_paths_multiply_to_the_gradient():
    rng = random.Random(4)
    ws = [rng.gauss(0, 1) for _ in range(4)]
    bs = [rng.gauss(0, 1) for _ in range(4)]
    c, params = _sigmoid_chain(ws, bs, 0.7, 0.1)
    t = explain(c)
    ps = t.paths("b1", through="a4")
    assert ps.formula() == "∂C/∂b1 = σ'(z1)·w2·σ'(z2)·w3·σ'(z3)·w4·σ'(z4)·∂C/∂a4"
    (p,) = ps.paths
    grad = gradients(c, [params["b1"]])[0]
    product = 1.0
    for f in p.factors:
        product *= f.value
    assert product == pytest.approx(grad, rel=1e-12)
    assert ps.total == pytest.approx(grad, rel=1e-12) and ps.gradient == grad
    # every factor has its own value: σ'(zj) = σ(zj)(1 - σ(zj)), wj, ∂C/∂a4 = a4 - y
    by = {f.short: f.value for f in p.factors}
    names = t._by_name  # noqa: SLF001 - the test checks values independently
    for j in range(1, 5):
        s = 1 / (1 + math.exp(-names[f"z{j}"].data))
        assert by[f"σ'(z{j})"] == pytest.approx(s * (1 - s), rel=1e-12)
    for j in range(2, 5):
        assert by[f"w{j}"] == ws[j - 1]
    assert by["∂C/∂a4"] == pytest.approx(names["a4"].data - 0.1, rel=1e-12)
    # the same paths without "through": the cost's own factors instead of ∂C/∂a4
    full = t.paths("b1")
    assert full.total == pytest.approx(grad, rel=1e-12)
    assert len(full.paths[0].factors) > len(p.factors)


def test_four_neuron_chain_exploding_example_from_the_seed():
    # w = 100 and biases making every z = 0: each w·σ'(z) = 25
    a0 = 0.5
    ws = [100.0] * 4
    bs = [-100 * a0] + [-100 * 0.5] * 3
    c, params = _sigmoid_chain(ws, bs, a0, 0.0)
    ps = explain(c).paths("b1", through="a4")
    vals = [f.value for f in reversed(ps.paths[0].factors) if f.short != "1"]
    assert vals[:7] == [0.25, 100.0, 0.25, 100.0, 0.25, 100.0, 0.25]
    assert ps.total == pytest.approx(0.25 * 25 ** 3 * 0.5)


def test_paths_sum_over_every_use_and_guard_exponential_counts():
    x = Value(0.3, "x")
    y = x * x + x.sin()
    ps = explain(y).paths("x")
    assert len(ps.paths) == 2  # x*x is one step (both operands): no duplicate path
    assert ps.total == pytest.approx(2 * 0.3 + math.cos(0.3), rel=1e-15)
    assert ps.formula() == "∂f/∂x = (x + x) + cos(x)"
    z = x
    for _ in range(60):
        z = z.sin() + z.cos()  # 2**60 paths from x
    t = explain(z)
    with pytest.raises(ValueError, match="1152921504606846976 paths"):
        t.paths("x")
    with pytest.raises(ValueError, match="limit"):
        explain(x * x * x).paths("x", limit=1)  # 2 paths: x → h1 → h2 and x → h2


def test_paths_through_a_node_that_is_not_on_every_path_is_refused():
    x = Value(1.0, "x")
    a = x.exp()
    a.label = "a"
    y = a + x
    with pytest.raises(ValueError, match="do not pass through a"):
        explain(y).paths("x", through="a")


# ------------------------------------------------------------------ forward mode

def test_forward_mode_table_for_the_seed(seed):
    fm = seed.forward_mode("w")
    assert [(r.name, r.tangent) for r in fm.rows] == [
        ("x", 0.0), ("w", 1.0), ("h1", 1.0), ("b", 0.0), ("h2", 1.0), ("h3", -1.0), ("h4", -1.0),
        ("h5", -1.0), ("h6", 0.25)]
    assert fm.gradient == 0.25
    assert fm.counts == {"forward_multiplications": 6, "forward_passes_for_all": 3,
                         "forward_multiplications_for_all": 17, "reverse_passes": 1,
                         "reverse_multiplications": 8}
    h1 = fm.rows[2]
    assert [(t.parent, t.local, t.tangent, t.product) for t in h1.terms] == [
        ("x", 0.0, 0.0, 0.0), ("w", 1.0, 1.0, 1.0)]
    side = seed.compare_modes()
    assert "h6    0.5    0                 0.25              0.25              1" in side
    assert "forward mode: 3 passes (one per input), 17 multiplications" in side


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, ENVS)
def test_forward_mode_agrees_with_reverse_mode(expr, env):
    text, f = expr
    assume(reference(f, env)[0] == "ok")
    try:
        out, inputs = parse(text, **env)
    except ValueError:
        assume(False)
    t = explain(out, list(inputs.values()))
    for name in t.wrt:
        fm = t.forward_mode(name)
        rev = t.gradients[name]
        assume(math.isfinite(rev) and math.isfinite(fm.gradient))
        assert fm.gradient == pytest.approx(rev, rel=1e-9, abs=1e-12), (text, name)
        # the narrated backward steps end where the engine does
        assert t.adjoints.get(name, 0.0) == pytest.approx(rev, rel=1e-12, abs=1e-300)


# ------------------------------------------------------------------ symbols from the rules

def test_sym_simplifies_the_obvious():
    x, y = Sym("x", 2.0), Sym("y", 3.0)
    cases = [(1 * x, "x"), (x * 1, "x"), (x ** 1, "x"), (0 + x, "x"), (x - 0, "x"),
             (-1 * x, "-x"), (x * -1.0, "-x"), (-(-x), "x"), (0 - x, "-x"), (x + -2, "x - 2"),
             (x - -2, "x + 2"), (x + (-y), "x - y"), (x * x, "x^2"), (2 * x * 3, "6·x"), (2 * (y * x), "2·y·x"),
             (x / 1, "x"), (1 / x, "1/x"), (-1 / x ** 2, "-1/x^2"), (x / (x * y), "x/(x·y)"),
             ((x + y) * 2, "2·(x + y)"), (-(x + y), "-(x + y)"), (x ** (y - 1), "x^(y - 1)"),
             ((-x) ** 2, "(-x)^2"), (Sym.number(2) * Sym.number(0.125), "0.25"),
             (x.sigmoid(), "σ(x)"), (1 - x.tanh() ** 2, "1 - tanh(x)^2")]
    for s, text in cases:
        assert s.text == text
    assert (x / (x * y)).value == pytest.approx(1 / 3)
    with literal():
        assert (x * 1).text == "x·1" and (x + 0).text == "x + 0"
    assert [fmt_number(v) for v in (1.0, -1.0, 0.25, 0.0, -0.0, 1e-10, math.inf, math.nan)] == [
        "1", "-1", "0.25", "0", "0", "1e-10", "inf", "nan"]


def test_sym_comparisons_pick_the_kink_branch():
    relu = PRIMITIVES["relu"].rule
    assert relu(Sym("z", -1.0))[1] == (0.0,) and relu(Sym("z", 2.0))[1] == (1.0,)
    v, (d,) = PRIMITIVES["leaky_relu"].rule(Sym("z", 0.0), 0.2)
    assert d == 0.2  # the x <= 0 branch at the kink, as the engine does
    assert Sym("a", 1.0) < 2 and Sym("a", 1.0) >= Sym("b", 1.0)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_symbolic_derivatives_evaluate_to_the_recorded_local_grads(name):
    """For every primitive: the Sym version of the rule has the value the
    forward pass recorded (one rule, two evaluations)."""
    prim = PRIMITIVES[name]
    rng = random.Random(name)
    for _ in range(5):
        if prim.arity is None:
            k = 3
            args = [Value(rng.uniform(0.2, 2.0), f"v{i}") for i in range(2 * k if name == "dot" else k)]
            param = tuple(rng.uniform(-1, 1) for _ in range(k)) if prim.has_param else None
        else:
            def draw():
                if name in ("arcsin", "arccos", "arctanh"):
                    return rng.uniform(-0.9, 0.9)
                if name == "arccosh":
                    return rng.uniform(1.2, 3.0)
                if name in ("log", "sqrt", "log1p", "pow", "pow_const", "rpow_const", "log2",
                            "log10"):
                    return rng.uniform(0.2, 2.0)
                return rng.uniform(0.2, 2.0) * rng.choice((1, -1))
            args = [Value(draw(), f"v{i}") for i in range(prim.arity)]
            param = rng.uniform(0.5, 2.0) if prim.has_param else None
            if prim.param == "bounds":  # clip, hardtanh: (lo, hi)
                param = (-param / 2, param / 2)
        node = apply(prim, *args, param=param)
        t = explain(node)
        row = t.forward_rows[-1]
        assert row.op == name
        for d, loc in zip(row.derivatives, node.local_grads):
            assert isinstance(d.symbolic, str) and d.symbolic
            assert d.value == loc
        extra = (param,) if prim.has_param else ()
        syms = [Sym(a.label, a.data) for a in args]
        _, locs = prim.rule(*syms, *extra)
        for s, loc in zip(locs, node.local_grads):
            got = s.value if isinstance(s, Sym) else float(s)
            assert got == pytest.approx(loc, rel=1e-12, abs=1e-15)


def test_node_names_follow_labels_and_evaluation_order():
    a = Value(1.0, "a")
    b = Value(2.0)
    y = vsum([a * b, a.exp(), b])
    y.label = "out"
    t = explain(y)
    assert [r.name for r in t.forward_rows] == ["a", "2", "h1", "h2", "out"]
    assert t.forward_rows[-1].expression == "h1 + h2 + 2"
    assert t.forward_rows[1].op == "constant"


def test_wrt_by_name_value_and_errors(seed):
    out, inputs = parse("x*y", x=2, y=3, z=1)
    t = explain(out, "y")
    assert t.gradients == {"y": 2.0}
    t = explain(out, [inputs["x"], "h1", inputs["z"]])
    assert t.gradients == {"x": 3.0, "h1": 1.0, "z": 0.0}  # z is not in the graph: 0
    with pytest.raises(ValueError, match="no node named 'q'"):
        explain(out, "q")
    with pytest.raises(TypeError):
        explain(out, [1.5])
    with pytest.raises(TypeError):
        explain(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in the graph"):
        explain(out).paths(Value(1.0, "z"))


def test_leaf_output_has_no_steps():
    x = Value(3.0, "x")
    t = explain(x)
    assert t.backward_steps == [] and t.gradients == {"x": 1.0}
    assert "nothing to propagate" in t.to_text()


def test_forward_table_terms_of_parents_that_do_not_depend_on_the_input():
    # sqrt(y) at y = 0 has an infinite local derivative, but f's tangent along x
    # does not go through it: the term is 0 by structure, and the row is 2
    f, _ = parse("sqrt(y) + x*2", x=0.0, y=0.0)
    fm = explain(f).forward_mode("x")
    last = fm.rows[-1]
    assert last.tangent == 2.0
    assert sum(t.product for t in last.terms) == 2.0
    assert [t.product for t in last.terms if t.tangent == 0.0] == [0.0]
    # sqrt(y) does not depend on x: its row has no terms (no "inf × 0") and tangent 0
    (root,) = [r for r in fm.rows if r.name == "h1"]
    assert root.terms == () and root.tangent == 0.0
    # a node that depends on x through one parent only keeps both terms
    f2, _ = parse("sqrt(y) * x", x=0.0, y=0.0)
    last2 = explain(f2).forward_mode("x").rows[-1]
    assert [(t.parent, t.tangent, t.product) for t in last2.terms] == [("h1", 0.0, 0.0), ("x", 1.0, 0.0)]


@pytest.mark.parametrize("label", ["pi", "e", "exp", "lambda"])
def test_a_value_labelled_like_a_constant_or_function_gets_a_note(label):
    # parse refuses such names; a graph built by hand may still use them as labels:
    # the formulas then read ambiguously (pi·cos(pi·x)), and explain says so
    from autograd_core import Value
    v, x = Value(2.0, label), Value(0.5, "x")
    f = (v * x).cos() * v
    text = explain(f).to_text()
    assert f"a variable labelled {label!r}" in text
    assert "do not parse back" in text
    plain = explain((Value(2.0, "k") * x).cos()).to_text()
    assert "a variable labelled" not in plain
