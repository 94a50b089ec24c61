"""Static graphs: replays equal the dynamic engine exactly (values and gradients,
bit for bit), training through a StaticGraph equals dynamic training, the
frozen-branch error and clear errors for bad calls."""

from __future__ import annotations

import io
import math
import re
import struct
import tokenize

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_core as ac
from autograd_core import Value, gradients, push_tangents, topological_order
from autograd_core.primitives import Primitive
from autograd_core.static import StaticGradient, StaticGraph, StaticGraphBranchError, static

#: Every name the code generator writes: keywords it uses, its own helpers and
#: the numbered temporaries (v3, l3_0, g3, c3, k3, q0, K1, R1, t3_0, t3_k0).
_GENERATED_NAME = re.compile(
    r"(def|return|if|is|not|raise|None|_replay|_domain|_branch|X|P|seed|e|_"
    r"|[vglckqKR]\d+(_\d+)?|t\d+_k?\d+)")


def assert_generated_only(src: str) -> None:
    """The generated source holds only names and literals the generator made:
    no comment, no string, no name taken from the graph (primitive names, labels)."""
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        assert tok.type not in (tokenize.COMMENT, tokenize.STRING), tok
        if tok.type == tokenize.NAME:
            assert _GENERATED_NAME.fullmatch(tok.string), tok


def same(a: float, b: float) -> bool:
    """Bit-identical floats (any NaN equals any NaN)."""
    if a != a and b != b:
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def same_all(xs, ys) -> bool:
    xs, ys = list(xs), list(ys)
    return len(xs) == len(ys) and all(same(a, b) for a, b in zip(xs, ys))


def dynamic(f, xs, params=()):
    """Value and gradients of f at xs by the dynamic engine (fresh input leaves)."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    grads = gradients(out, vs + list(params))
    return out.data, grads[:len(vs)], grads[len(vs):]


# ------------------------------------------------------------------ basics

def test_hand_example_value_gradients_and_source():
    def f(x, y):
        return x * y + x.exp()

    g = static(f, 1.0, 2.0)
    assert isinstance(g, StaticGraph)
    assert g(0.0, 3.0) == 1.0                      # 0*3 + e^0
    r = g.grad(0.0, 3.0)
    assert isinstance(r, StaticGradient)
    assert r == (1.0, (4.0, 0.0), ())              # d/dx = y + e^x = 4, d/dy = x = 0
    assert g.input_labels == ("x", "y") and g.num_inputs == 2
    assert g.num_nodes == len(topological_order(f(Value(1.0), Value(2.0))))
    assert "def _replay(X, P, seed):" in g.source
    assert re.search(r"= R\d+\(v0\)", g.source)          # exp is called (no name in the source)
    assert "Value" not in g.source and "exp" not in g.source  # the replay builds no Values
    assert_generated_only(g.source)


def test_output_that_is_an_input_or_a_constant():
    g = static(lambda x, y: x, 3.0, 4.0)
    assert g.grad(5.0, 6.0) == (5.0, (1.0, 0.0), ())
    assert g.grad(5.0, 6.0, grad=2.5) == (5.0, (2.5, 0.0), ())
    c = static(lambda x: Value(2.0) * 3.0, 1.0)
    assert c.grad(7.0) == (6.0, (0.0,), ())


def test_replay_builds_no_values():
    import sys
    from autograd_core import engine
    makers = {Value.__init__.__code__, engine._py_node.__code__, engine._init_node.__code__}
    made = []

    def prof(frame, event, arg):
        if event == "call" and frame.f_code in makers:
            made.append(frame.f_code.co_name)
        elif event == "c_call" and arg is engine._node:  # the compiled node maker
            made.append("node")

    f = lambda x, y: (x * y).tanh() + ac.dot([x, y], [y, 2.0]).relu()  # noqa: E731
    graphs = [static(f, 0.5, -1.5), static(f, 0.5, -1.5, backend="loop")]
    sys.setprofile(prof)
    try:
        Value(1.0)  # the probe sees Value creation
        assert made == ["__init__"]
        made.clear()
        for g in graphs:
            g(1.0, 2.0)
            g.grad(1.0, 2.0)
            g.jvp([1.0, 2.0], [1.0, 0.0])
    finally:
        sys.setprofile(None)
    assert made == []


# ------------------------------------------------------------------ random expression trees

UNARY = ["neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "softplus",
         "erf", "gelu", "gelu_tanh", "expm1", "log1p"]
PARAM_UNARY = ["leaky_relu", "elu", "swish", "add_const", "mul_const", "rsub_const",
               "div_const", "rdiv_const", "pow_const", "rpow_const", "sub_const"]
BINARY = ["add", "sub", "mul", "div", "pow", "prelu"]
NARY = ["dot", "dot_const", "sum"]

small = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)
nice = st.one_of(small, st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0]))


@st.composite
def programs(draw):
    """A random straight-line program over 3 inputs, 2 labelled closure
    parameters and numbers; the last instruction is the output."""
    n_ops = draw(st.integers(1, 14))
    prog = []
    for i in range(n_ops):
        avail = 5 + i  # inputs 0-2, params 3-4, then results
        ref = st.integers(0, avail - 1)
        kind = draw(st.sampled_from(["u", "p", "b", "n", "c"]))
        if kind == "u":
            prog.append((draw(st.sampled_from(UNARY)), (draw(ref),), None))
        elif kind == "p":
            name = draw(st.sampled_from(PARAM_UNARY))
            c = draw(st.sampled_from([2.0, 3.0, 0.5, -1.5, 0.01]))
            prog.append((name, (draw(ref),), c))
        elif kind == "b":
            prog.append((draw(st.sampled_from(BINARY)), (draw(ref), draw(ref)), None))
        elif kind == "n":
            name = draw(st.sampled_from(NARY))
            k = draw(st.integers(1, 5))
            refs = tuple(draw(ref) for _ in range(2 * k if name == "dot" else k))
            consts = tuple(draw(nice) for _ in range(k)) if name == "dot_const" else None
            prog.append((name, refs, consts))
        else:  # a Value op a number (constant leaf in the graph)
            prog.append((draw(st.sampled_from(["add", "mul"])), (draw(ref), -1), draw(nice)))
    return prog


def run_program(prog, params):
    def f(x0, x1, x2):
        vals = [x0, x1, x2, *params]
        for name, refs, p in prog:
            args = [vals[r] if r >= 0 else Value(p) for r in refs]
            if name in ("dot_const",):
                out = ac.dot(args, list(p))
            elif name == "sum":
                out = ac.sum(args)
            elif name == "dot":
                k = len(args) // 2
                out = ac.dot(args[:k], args[k:])
            elif name == "prelu":
                out = ac.prelu(args[0], args[1])
            elif p is not None and name not in ("add", "mul"):
                out = ac.apply(name, args[0], param=p)
            else:
                out = ac.apply(name, *args)
            vals.append(out)
        # the output uses every result, so no operation is dead code (an error in
        # dead code is not part of the graph; see test_dead_code_is_not_replayed)
        used = {r for _, refs, _ in prog for r in refs}
        unused = [v for i, v in enumerate(vals[5:], 5) if i not in used]
        return unused[0] if len(unused) == 1 else ac.sum(unused)
    return f


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - compared by type
        return ("error", type(e))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prog=programs(), example=st.tuples(nice, nice, nice),
       news=st.lists(st.tuples(nice, nice, nice), min_size=1, max_size=5),
       pdata=st.tuples(nice, nice))
def test_random_programs_replay_exactly(prog, example, news, pdata):
    params = [Value(1.25, "p"), Value(-0.75, "q")]
    f = run_program(prog, params)
    try:
        g = static(f, *example)
        gl = static(f, *example, backend="loop")
    except (ValueError, ZeroDivisionError):
        return  # the example itself is outside the domain: nothing was captured
    assert set(g.params) <= set(params) and len(set(g.params)) == len(g.params)
    for p, d in zip(params, pdata):  # new parameter numbers, read through params=None
        p.assign(d)
    for xs in [example, *news]:
        dyn = outcome(lambda: dynamic(f, xs, g.params))
        for graph in (g, gl):
            rep = outcome(lambda: graph.grad(*xs))
            assert dyn[0] == rep[0], (prog, xs, dyn, rep)
            if dyn[0] == "error":
                assert dyn[1] is rep[1]
                continue
            v, gin, gpar = rep[1]
            assert same(v, dyn[1][0])
            assert same_all(gin, dyn[1][1]), (prog, xs, gin, dyn[1][1])
            assert same_all(gpar, dyn[1][2])
            assert same(graph(*xs), v)
        assert_generated_only(g.source)
        if dyn[0] == "error":
            continue
        # forward mode over the flat form equals the engine's push_tangents
        tangents = (1.0, -0.5, 0.25)
        vs = [Value(x) for x in xs]
        out = f(*vs)
        tan = push_tangents(out, dict(zip(vs, tangents)))[out]
        val, t = g.jvp(xs, tangents)
        assert same(val, out.data) and same(t, tan)
        # the rebuilt dynamic graph: same values, same gradients, same shape
        r = g.to_value(*xs)
        assert same(r.data, v)
        assert len(topological_order(r)) == g.num_nodes
        r.backward()
        rebuilt = {n.label: n.grad for n in topological_order(r) if n.label}
        assert same_all([rebuilt.get(lab, 0.0) for lab in g.input_labels], gin)


@settings(max_examples=60, deadline=None)
@given(prog=programs(), xs=st.tuples(nice, nice, nice))
def test_calling_every_rule_equals_inlined_rules(prog, xs):
    """The generated code writes + - * rules out (traced from the rule itself);
    calling every rule instead gives the same bits."""
    params = [Value(0.3, "p"), Value(-2.0, "q")]
    f = run_program(prog, params)
    try:
        g1 = static(f, *xs)
    except (ValueError, ZeroDivisionError):
        return
    g2 = static(f, *xs)
    g2._inline = False
    a, b = outcome(lambda: g1.grad(*xs)), outcome(lambda: g2.grad(*xs))
    assert a[0] == b[0] == "ok"
    assert same(a[1].value, b[1].value)
    assert same_all(a[1].inputs + a[1].params, b[1].inputs + b[1].params)
    assert "R" in g2.source


def test_traced_rules_are_written_out_and_others_called():
    g = static(lambda x, y: ac.dot([x, y], [y, 2.0 * x]).relu() - 3.0, 1.0, 2.0)
    src = g.source
    assert "v0 * v" in src  # dot written out as its own w*x + w*x chain
    assert re.search(r"= R\d+\(v\d+\)", src)  # relu (a comparison inside) is called
    assert_generated_only(src)


def test_big_graph_pieces_compile():
    # a 3000-deep chain, a 1000-operand dot, a node used 1000 times
    def f(x, y):
        z = y
        for _ in range(3000):
            z = z * 1.0001 + x
        big = ac.dot([x] * 1000, [y] * 1000)
        return z + big + ac.sum([x * y for _ in range(1000)])

    g = static(f, 0.5, 0.25)
    assert same_all([g.grad(0.3, 0.7).value, *g.grad(0.3, 0.7).inputs],
                    [dynamic(f, (0.3, 0.7))[0], *dynamic(f, (0.3, 0.7))[1]])


# ------------------------------------------------------------------ parameters

def test_labelled_closure_values_are_parameters_unlabelled_are_constants():
    w = Value(2.0, "w")
    c = Value(10.0)  # unlabelled: a constant of the graph

    def f(x):
        return w * x + c + Value(0.5)

    g = static(f, 3.0)
    assert g.params == (w,) and g.param_labels == ("w",)
    assert g.grad(3.0) == (16.5, (2.0,), (3.0,))
    w.assign(4.0)                      # params=None reads the current .data
    assert g(3.0) == 22.5
    assert g(3.0, params=[1.0]) == 13.5
    c.assign(100.0)                    # constants are frozen
    assert g(3.0) == 22.5
    assert g.grad(3.0, params=[Value(-1.0)]).params == (3.0,)


def test_explicit_params_order_and_unused_param():
    a, b, unused = Value(1.0), Value(2.0), Value(3.0, "u")

    def f(x):
        return a * x + b * b

    g = static(f, 1.0, params=[b, unused, a])
    assert g.params == (b, unused, a)
    assert g.grad(5.0) == (9.0, (1.0,), (4.0, 0.0, 5.0))
    with pytest.raises(ValueError, match="not a leaf"):
        static(f, 1.0, params=[a * 2])
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value"):
        static(f, 1.0, params=[1.0])
    with pytest.raises(ValueError, match="twice"):
        static(f, 1.0, params=[a, a])


def test_backward_accumulates_into_parameter_grads_like_the_engine():
    w, b = Value(0.5, "w"), Value(-1.0, "b")
    g = static(lambda x: (w * x + b).tanh(), 2.0)
    out = (w * 2.0 + b).tanh()
    out.backward()
    out.backward()
    expect = (w.grad, b.grad)
    w.grad = b.grad = 0.0
    assert g.backward(2.0) == out.data
    g.backward(2.0)
    assert (w.grad, b.grad) == expect


# ------------------------------------------------------------------ nn

def _hand_mlp(rng, sizes):
    layers = []
    for i, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append([([Value(rng.uniform(-1, 1), f"L{i}.n{j}.w{k}") for k in range(nin)],
                        Value(rng.uniform(-0.1, 0.1), f"L{i}.n{j}.b")) for j in range(nout)])

    def model(x):
        for i, layer in enumerate(layers):
            x = [ac.dot(ws, x) + b for ws, b in layer]
            if i < len(layers) - 1:
                x = [z.relu() for z in x]
        return x
    params = [p for layer in layers for ws, b in layer for p in ws + [b]]
    return model, params


def test_hand_built_mlp_replays_exactly_for_many_inputs():
    import random
    rng = random.Random(3)
    model, params = _hand_mlp(rng, [4, 6, 5, 2])
    data = [[rng.gauss(0, 1) for _ in range(4)] for _ in range(8)]

    def loss_on(*x):  # inputs as Values: dot nodes with Value operands
        return ac.sum([o * o for o in model(list(x))])

    g = static(loss_on, *data[0])
    assert len(g.params) == len(params)
    for x in data:
        v, gin, gpar = g.grad(*x)
        dv, dgin, dgpar = dynamic(loss_on, x, g.params)
        assert same(v, dv) and same_all(gin, dgin) and same_all(gpar, dgpar)


def test_nn_mlp_replays_exactly_for_many_inputs_and_parameters():
    nn = pytest.importorskip("nn")
    model = nn.MLP(3, [5, 4, 1], activation="relu", seed=0)
    rng = np.random.RandomState(0)

    def f(a, b, c):
        return model([a, b, c])[0]

    g = static(f, 0.1, 0.2, 0.3)
    assert set(g.params) == set(model.parameters())
    for _ in range(20):
        x = rng.normal(size=3).tolist()
        v, gin, gpar = g.grad(*x)
        dv, dgin, dgpar = dynamic(f, x, g.params)
        assert same(v, dv) and same_all(gin, dgin) and same_all(gpar, dgpar)
    # new parameter values, given explicitly or assigned
    newp = rng.normal(size=len(g.params)).tolist()
    r1 = g.grad(0.5, -0.5, 1.5, params=newp)
    for p, d in zip(g.params, newp):
        p.assign(d)
    assert g.grad(0.5, -0.5, 1.5) == r1
    dv, dgin, dgpar = dynamic(f, (0.5, -0.5, 1.5), g.params)
    assert same(r1.value, dv) and same_all(r1.inputs, dgin) and same_all(r1.params, dgpar)


def _moons(n=40, seed=0):
    nn = pytest.importorskip("nn")
    if hasattr(nn, "make_moons"):
        X, y = nn.make_moons(n, noise=0.1, seed=seed)
        return X.tolist(), y.tolist()
    rng = np.random.RandomState(seed)  # pragma: no cover - nn without data helpers
    t = np.linspace(0, np.pi, n // 2)
    X = np.vstack([np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]])
    X += rng.normal(0, 0.1, X.shape)
    return X.tolist(), [0] * (n // 2) + [1] * (n // 2)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_training_moons_static_equals_dynamic_step_for_step(optimizer):
    nn = pytest.importorskip("nn")
    X, y = _moons()

    def make():
        model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=1)
        opt = getattr(nn, optimizer)(model.parameters(), lr=0.05)

        def loss():
            terms = [nn.binary_cross_entropy_with_logits(model(x), [t]) for x, t in zip(X, y)]
            return ac.sum(terms) * (1.0 / len(X))
        return model, opt, loss

    dyn_model, dyn_opt, dyn_loss = make()
    st_model, st_opt, st_loss = make()
    g = static(st_loss)
    assert len(g.params) == len(st_model.parameters())
    for step in range(12):
        dyn_opt.zero_grad()
        L = dyn_loss()
        L.backward()
        dyn_opt.step()
        st_opt.zero_grad()
        v = g.backward()           # fills .grad of the captured parameters
        st_opt.step()
        assert same(v, L.data), step
        assert same_all([p.data for p in st_model.parameters()],
                        [p.data for p in dyn_model.parameters()]), step
    # and by hand: g.grad(params=...) with plain SGD on a list of numbers
    theta = [p.data for p in dyn_model.parameters()]
    order = {p: i for i, p in enumerate(st_model.parameters())}
    for _ in range(3):
        dyn_model.zero_grad()
        dyn_loss().backward()
        for p in dyn_model.parameters():
            p.assign(p.data - 0.1 * p.grad)
        gp = g.grad(params=[theta[order[p]] for p in g.params]).params
        for p, d in zip(g.params, gp):
            theta[order[p]] = theta[order[p]] - 0.1 * d
    assert same_all(theta, [p.data for p in dyn_model.parameters()])


# ------------------------------------------------------------------ honest limits

def test_frozen_branch_error():
    def f(x):
        if x > 0:
            return x.log()
        return (-x).log() * 2.0

    g = static(f, 1.0)
    assert g.comparisons[0].op == ">" and g.comparisons[0].result is True
    assert g(math.e) == 1.0        # same branch: fine
    with pytest.raises(StaticGraphBranchError) as ei:
        g(-1.0)                    # the other branch: the graph would differ
    msg = str(ei.value)
    assert "x > 0.0" in msg and "was True" in msg and "False now" in msg and "x = -1.0" in msg
    assert isinstance(ei.value, ValueError)
    with pytest.raises(StaticGraphBranchError):
        g.grad(-1.0)
    with pytest.raises(StaticGraphBranchError):
        g.jvp([-1.0], [1.0])
    with pytest.raises(StaticGraphBranchError):
        g.to_value(-1.0)
    with pytest.raises(StaticGraphBranchError):
        static(f, 1.0, backend="loop").grad(-2.0)
    g2 = static(f, -1.0)           # captured on the other branch
    assert g2(-math.e) == 2.0
    with pytest.raises(StaticGraphBranchError, match="was False"):
        g2(0.5)


def test_branch_on_two_values_and_on_a_node_outside_the_output_graph():
    def f(x, y):
        s = x * y                  # only compared, not part of the result
        big = max(x, y)            # Python's max compares Values
        return big * 2.0 if s <= 1.0 else big

    g = static(f, 1.0, 0.5)
    assert len(g.comparisons) == 2
    assert [(c.op, c.result) for c in g.comparisons] == [(">", False), ("<=", True)]
    assert g.grad(0.7, 0.2) == (1.4, (2.0, 0.0), ())
    with pytest.raises(StaticGraphBranchError, match=r"y > x was False"):
        g(0.5, 1.0)                # max picks the other operand
    with pytest.raises(StaticGraphBranchError, match="<= 1.0"):
        g(3.0, 2.0)                # x*y > 1: the other return
    # NaN makes every comparison False
    with pytest.raises(StaticGraphBranchError):
        g(float("nan"), 0.5)


def test_dead_code_is_not_replayed():
    # honest limit: an operation whose result the output does not use is not
    # part of the graph, so its domain error is not reproduced by a replay
    def f(x):
        x.sqrt()
        return x * 2.0

    g = static(f, 1.0)
    with pytest.raises(ValueError, match="sqrt"):
        f(Value(-1.0))
    assert g(-1.0) == -2.0


def test_kinks_are_ops_not_branches():
    g = static(lambda x: x.relu() + abs(x), 1.0)
    assert g.comparisons == ()
    assert g.grad(-2.0) == (2.0, (-1.0,), ())
    assert g.grad(0.0) == (0.0, (0.0,), ())


def test_domain_errors_match_the_engine():
    g = static(lambda x: x.log() + (1.0 / x), 1.0)
    with pytest.raises(ValueError, match=r"log\(-1\)"):
        g(-1.0)
    with pytest.raises(ValueError, match=r"log\(0\)"):
        g.grad(0.0)
    gl = static(lambda x: x.log(), 1.0, backend="loop")
    with pytest.raises(ValueError, match=r"log\(-1\)"):
        gl(-1.0)


def test_replay_fails_where_the_dynamic_program_fails_first():
    # created first: x/x (ZeroDivisionError at 0); the output's topological
    # order visits log(x) (ValueError at 0) first. Replays fail like f does.
    def f(x):
        h = x / x
        lg = x.log()
        return lg * 2.0 + h

    def f2(x):  # the other creation order of the same graph
        lg = x.log()
        h = x / x
        return lg * 2.0 + h

    for fn, first in ((f, ZeroDivisionError), (f2, ValueError)):
        with pytest.raises(first):
            fn(Value(0.0))
        for backend in ("codegen", "loop"):
            g = static(fn, 1.0, backend=backend)
            with pytest.raises(first):
                g(0.0)
            with pytest.raises(first):
                g.grad(0.0)
            with pytest.raises(first):
                g.to_value(0.0)
            with pytest.raises(first):
                g.jvp([0.0], [1.0])


def test_replay_of_nodes_made_before_f_ran():
    # computed Values f closes over were made before the capture: evaluated first
    w = Value(2.0, "w")
    pre = w * 3.0
    g = static(lambda x: (x + pre) * pre, 1.0)
    assert g.grad(2.0) == (48.0, (6.0,), (42.0,))  # d/dw (x + 3w)·3w = 9w + 3(x + 3w)


#: Primitive names (and an input label) trying to break out of a comment of
#: the generated source; none may run (counted in the closing note).
_PAYLOAD = "__import__('pathlib').Path({!r}).write_text('x')"
HOSTILE_PRIMITIVE_NAMES = [
    "exp\n    {p}\n#",
    "exp\r    {p}",
    "exp\n{p}\ndef _replay(X, P, seed):\n    return 0.0, (), ()\n#",
    "exp\x00\n    {p}",
    "exp\u2028    {p}",
    'exp"""\n    {p}\n"""',
    "exp\n    _domain.__globals__['__builtins__']['__import__']('os').system('true')",
    "exp\f\n    {p}",
]


@pytest.mark.parametrize("backend", ["codegen", "loop"])
def test_primitive_name_with_newline_cannot_run_code(tmp_path, backend):
    marker = tmp_path / "pwned"
    payload = _PAYLOAD.format(str(marker))
    for template in HOSTILE_PRIMITIVE_NAMES:
        name = template.replace("{p}", payload)
        prim = Primitive(name=name, rule=lambda x: (math.exp(x), (math.exp(x),)), symbol="exp")
        x0 = Value(0.5, "x\n    " + payload)  # a hostile label too
        g = static(lambda x: ac.apply(prim, x) * 2.0 + ac.apply(prim, x), x0, backend=backend)
        want = math.exp(0.5) * 2.0 + math.exp(0.5)
        assert g(0.5) == want
        assert g.grad(0.5).inputs == (math.exp(0.5) * 2.0 + math.exp(0.5),)
        src = g.source
        assert name not in src and "pathlib" not in src and "__import__" not in src
        assert_generated_only(src)
        assert not marker.exists()


def test_wrong_input_counts_and_bad_arguments():
    w = Value(1.0, "w")
    g = static(lambda x, y: x * y * w, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(x, y\), got 3"):
        g(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(x, y\), got 1"):
        g.grad(1.0)
    with pytest.raises(TypeError, match=r"takes 2 input"):
        g.jvp([1.0], [1.0])
    with pytest.raises(TypeError, match=r"2 tangent"):
        g.jvp([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"has 1 parameter\(s\), got params with 2"):
        g(1.0, 2.0, params=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"input 1 \(y\) must be a real number"):
        g(1.0, "2")
    with pytest.raises(TypeError, match="must return a Value"):
        static(lambda x: 3.0, 1.0)
    with pytest.raises(TypeError, match="callable"):
        static(3.0)
    with pytest.raises(ValueError, match="backend"):
        static(lambda x: x, 1.0, backend="fast")


def test_comparison_hook_is_restored_and_chained():
    from autograd_core.engine import comparison_hook
    seen = []
    token = comparison_hook.set(lambda *a: seen.append(a[2]))
    try:
        static(lambda x: x if x < 1 else -x, 0.0)
        assert seen == ["<"]
        assert Value(1.0) > 0
        assert seen == ["<", ">"]
    finally:
        comparison_hook.reset(token)
    assert comparison_hook.get() is None


# ------------------------------------------------------------------ drawing / explain

def test_rebuilt_graph_is_a_fresh_dynamic_graph_with_the_same_records():
    w = Value(0.5, "w")
    g = static(lambda x, y: (w * x + y).sigmoid() * 2.0, 1.0, -1.0)
    r = g.graph                                  # at the example inputs
    assert isinstance(r, Value) and r.op == "mul_const"
    order = topological_order(r)
    assert [n.op for n in order] == [rec.op for rec in g.nodes[:g.num_nodes]]
    assert {n.label for n in order if n.label} == {"w", "x", "y"}
    assert w not in order                        # the captured parameter is not touched
    r2 = g.to_value(0.25, 0.5, params=[3.0])
    r2.backward()
    leaves = {n.label: n for n in topological_order(r2) if n.label}
    v, (gx, gy), (gw,) = g.grad(0.25, 0.5, params=[3.0])
    assert r2.data == v and leaves["x"].grad == gx and leaves["y"].grad == gy
    assert leaves["w"].grad == gw and w.grad == 0.0
    # engine functions work on it (draw_graph / explain read the same Value graph)
    r3 = g.graph
    assert gradients(r3, [n for n in topological_order(r3) if n.label == "x"])[0] == \
        g.grad(1.0, -1.0).inputs[0] != 0.0


def test_explain_and_draw_graph_work_on_the_rebuilt_graph():
    w = Value(0.5, "w")
    g = static(lambda x, y: (w * x + y).sigmoid(), 1.0, -1.0)
    v, (gx, gy), (gw,) = g.grad(1.0, -1.0)
    explain = getattr(ac, "explain", None)
    if explain is not None:
        t = explain(g.graph)
        if hasattr(t, "gradients"):
            assert dict(t.gradients) == {"w": gw, "x": gx, "y": gy}
    try:
        from visualize import draw_graph
    except ImportError:  # pragma: no cover - visualize not installed
        return
    src = draw_graph(g.graph).source
    assert "sigmoid" in src or "σ" in src


def test_capture_records_only_its_own_thread_and_restores_the_hook():
    import threading

    from autograd_core import engine
    stop = threading.Event()

    def churn():  # another thread making nodes all along
        v = Value(1.0)
        while not stop.is_set():
            v = (v * 1.0000001).tanh() + 0.5

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(20):
            def f(x):
                h = x / x
                for _ in range(30):
                    h = h * 1.5 + x.log()
                return h
            g = static(f, 2.0)
            assert len(g._eval) == g.num_nodes
            assert sorted(g._eval) == list(range(g.num_nodes))
            pos = {i: k for k, i in enumerate(g._eval)}  # operands evaluated first
            assert all(pos[j] < pos[n.index] for n in g.nodes for j in n.operands)
            with pytest.raises(ZeroDivisionError):
                g(0.0)
    finally:
        stop.set()
        t.join()
    assert engine.creation_hook.get() is None and engine._creation_watchers == 0
