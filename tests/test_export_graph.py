"""Graph export (issue 20): every primitive's exported form against its rule, in
ONNX (run by onnxruntime, float64), JAX (value and jax.grad/jax.jit) and the
generated PyTorch module file (value and autograd); static graphs; errors."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import Value, static
from autograd_core.export import OPSET, ExportError, to_jax, to_onnx, to_torch_source
from autograd_core.primitives import EXPORTS, PRIMITIVES, Primitive

TOL = 1e-12
POINTS = (0.37, -0.81, 1.9, -2.3, 3.5, -4.5, 0.05, 6.0, 0.93)
PARAMS = {"c": 1.7, "negative_slope": 0.1, "alpha": 1.3, "beta": 1.5, "bounds": (-1.0, 2.0)}


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def _ok(prim: Primitive, args: list[float], param) -> bool:
    extra = [param] if prim.has_param else []
    if prim.check is not None and prim.check(*args, *extra) is not None:
        return False
    value, local = prim.rule(*args, *extra)
    return all(math.isfinite(float(v)) for v in (value, *local))


def cases(prim: Primitive) -> list[tuple[list[float], object]]:
    """Operand values (and the parameter) where the primitive is defined and smooth."""
    if prim.arity is None:
        if prim.name == "dot_const":
            return [([0.4, -1.2, 2.0], (1.5, -0.5, 0.25))]
        return [([0.4, -1.2, 2.0, 0.7], None)]
    param = PARAMS.get(prim.param, 0.7) if prim.has_param else None
    out = []
    for k, x in enumerate(POINTS):
        args = [x] if prim.arity == 1 else [abs(x) if prim.name == "pow" else x,
                                             POINTS[(k + 3) % len(POINTS)]]
        if _ok(prim, args, param):
            out.append((args, param))
    assert out, f"no test point for {prim.name}"
    return out


def build(prim: Primitive, args: list[float], param):
    leaves = [Value(a, f"a{i}") for i, a in enumerate(args)]
    out = ag.apply(prim, *leaves, param=param) if prim.has_param else ag.apply(prim, *leaves)
    out.backward()
    return out, {f"a{i}": v for i, v in enumerate(leaves)}


NAMES = sorted(PRIMITIVES)


def test_every_primitive_has_an_exported_form():
    assert [n for n in NAMES if n not in EXPORTS] == []


@pytest.mark.parametrize("functions", [True, False], ids=["functions", "inline"])
@pytest.mark.parametrize("name", NAMES)
def test_onnx_equals_the_rule(name, functions, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    prim = PRIMITIVES[name]
    for args, param in cases(prim):
        out, inputs = build(prim, args, param)
        path = tmp_path / f"{name}.onnx"
        to_onnx(out, path, inputs, functions=functions)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {k: np.array(v.data) for k, v in inputs.items() if k in
                {i.name for i in sess.get_inputs()}}
        got = float(sess.run(None, feed)[0])
        assert close(got, out.data), (name, args, got, out.data)


def batched(prim: Primitive):
    """All test points of a primitive as one graph (built at the first point) and
    the columns of operand values; the forms are elementwise, so one call checks all."""
    cs = cases(prim)
    param = cs[0][1]
    out, inputs = build(prim, cs[0][0], param)
    columns = [np.array([args[k] for args, _ in cs]) for k in range(len(cs[0][0]))]
    want, want_grads = [], []
    for args, _ in cs:
        o, ins = build(prim, args, param)
        want.append(o.data)
        want_grads.append([v.grad for v in ins.values()])
    return out, inputs, columns, np.array(want), np.array(want_grads)


def close_all(got, want) -> bool:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return bool(np.all(np.abs(got - want) <= TOL * np.maximum(1.0, np.abs(want))))


@pytest.mark.parametrize("name", NAMES)
def test_jax_equals_the_rule_in_value_and_gradient(name):
    jax = pytest.importorskip("jax")
    out, inputs, cols, want, want_grads = batched(PRIMITIVES[name])
    f = to_jax(out, inputs)
    assert close_all(f(*cols), want), name
    assert close_all(jax.jit(f)(*cols), want), name
    # elementwise: the gradient of the sum is each point's gradient
    grads = jax.grad(lambda *xs: f(*xs).sum(), argnums=tuple(range(len(cols))))(*cols)
    assert close_all(np.stack([np.asarray(g) for g in grads], axis=1), want_grads), name


def _load(src: str, path):
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the generated file, written by the test itself
    return mod


@pytest.mark.parametrize("name", NAMES)
def test_torch_source_equals_the_rule_in_value_and_gradient(name, tmp_path):
    torch = pytest.importorskip("torch")
    out, inputs, cols, want, want_grads = batched(PRIMITIVES[name])
    mod = _load(to_torch_source(out, inputs), tmp_path / f"gen_{name}.py")
    ts = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in cols]
    y = mod.Formula()(*ts)
    assert close_all(y.detach().numpy(), want), name
    y.sum().backward()
    assert close_all(np.stack([t.grad.numpy() for t in ts], axis=1), want_grads), name


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "prelu", "elu", "abs", "selu", "celu",
                                  "relu6", "hardsigmoid", "hardswish", "clip", "hardtanh",
                                  "maximum", "minimum", "sign", "floor", "softsign"])
def test_kink_conventions_survive_export(name, tmp_path):
    """At 0 the frameworks' autodiff of the forms gives the rule's convention."""
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    prim = PRIMITIVES[name]
    param = PARAMS.get(prim.param) if prim.has_param else None
    kink = {"relu6": 6.0, "hardsigmoid": -3.0, "hardswish": 3.0, "clip": -1.0, "hardtanh": 2.0,
            "floor": 1.0}.get(name, 0.0)
    args = [kink] + ([0.0 if name in ("maximum", "minimum") else 0.3] if prim.arity == 2 else [])
    out, inputs = build(prim, args, param)
    f = to_jax(out, inputs)
    grads = jax.grad(f, argnums=tuple(range(len(args))))(*args)
    assert [float(g) for g in grads] == [v.grad for v in inputs.values()]
    mod = _load(to_torch_source(out, inputs), tmp_path / f"kink_{name}.py")
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    mod.Formula()(*ts).backward()
    assert [float(t.grad) for t in ts] == [v.grad for v in inputs.values()]


def test_erf_far_out_in_onnx(tmp_path):
    """onnxruntime has no float64 Erf: the series / continued fraction covers the range."""
    ort = pytest.importorskip("onnxruntime")
    x = Value(0.0, "x")
    out = x.erf() + x.erfc() * 3.0
    to_onnx(out, tmp_path / "erf.onnx", {"x": x})
    sess = ort.InferenceSession(str(tmp_path / "erf.onnx"), providers=["CPUExecutionProvider"])
    worst = 0.0
    for v in np.concatenate([np.linspace(-7, 7, 281), [-30.0, 1e-8, 2.999, 3.0, 3.001, 27.0]]):
        got = float(sess.run(None, {"x": np.array(v)})[0])
        want = math.erf(v) + 3.0 * math.erfc(v)
        worst = max(worst, abs(got - want) / max(1.0, abs(want)))
    assert worst <= TOL
    # erfc keeps its relative accuracy far out (not 1 - erf)
    y = Value(0.0, "y")
    to_onnx(y.erfc(), tmp_path / "erfc.onnx", {"y": y})
    s2 = ort.InferenceSession(str(tmp_path / "erfc.onnx"), providers=["CPUExecutionProvider"])
    for v in (4.0, 8.0, 20.0):
        got = float(s2.run(None, {"y": np.array(v)})[0])
        assert abs(got - math.erfc(v)) <= 1e-13 * math.erfc(v)


# ------------------------------------------------------------------ static graphs

def _mlp_graph():
    import nn
    model = nn.MLP(2, [4, 3, 1], activation="tanh", output_activation="sigmoid", seed=3)
    return model, static(lambda x1, x2: model([x1, x2])[0], 0.3, -0.4)


def test_static_graph_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    _, g = _mlp_graph()
    model = to_onnx(g, tmp_path / "mlp.onnx")
    # the default domain's opset (sigmoid, written with several operators for float64
    # accuracy, is a local function: the autograd_core domain is imported too)
    assert {o.domain: o.version for o in model.opset_import}[""] == OPSET
    assert [i.name for i in model.graph.input] == ["x1", "x2"]
    ops = {n.name.split("_")[0] for n in model.graph.node}
    assert {"dot", "tanh", "sigmoid"} <= ops or any(n.name.startswith("dot_const") for n in
                                                    model.graph.node)
    assert any(n.name.startswith("tanh_") for n in model.graph.node)
    inits = {t.name for t in model.graph.initializer}
    assert "layers.0.neurons.0.w.0" in inits  # parameters keep their labels
    onnx.checker.check_model(onnx.load(str(tmp_path / "mlp.onnx")))
    sess = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for x1, x2 in rng.normal(size=(20, 2)):
        got = float(sess.run(None, {"x1": np.array(x1), "x2": np.array(x2)})[0])
        assert close(got, g(x1, x2))


def test_static_graph_to_jax_value_gradient_and_params():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    _, g = _mlp_graph()
    f = to_jax(g)
    fj = jax.jit(f)
    gx_fn = jax.jit(jax.grad(f, argnums=(0, 1)))
    gp_fn = jax.jit(jax.grad(lambda p, x1, x2: f(x1, x2, params=p)))
    rng = np.random.default_rng(1)
    p0 = jnp.array([p.data for p in g.params])
    for x1, x2 in rng.normal(size=(4, 2)):
        want = g.grad(x1, x2)
        assert close(float(fj(x1, x2)), want.value)
        gx = gx_fn(x1, x2)
        assert all(close(float(a), b) for a, b in zip(gx, want.inputs))
        gp = gp_fn(p0, x1, x2)
        assert all(close(float(a), b) for a, b in zip(gp, want.params))


def test_tensor_graph_elementwise(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    jax = pytest.importorskip("jax")
    from autograd_core import Tensor
    rng = np.random.default_rng(2)
    a = Tensor(rng.normal(size=(3, 4)), "a")
    b = Tensor(rng.normal(size=(3, 4)), "b")
    out = (a * b).tanh() + a.sigmoid() * 2.0 - b.exp()
    to_onnx(out, tmp_path / "t.onnx", {"a": a, "b": b})
    sess = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"a": a.data, "b": b.data})[0]
    assert got.shape == (3, 4)
    assert np.max(np.abs(got - out.data)) <= TOL
    f = to_jax(out, {"a": a, "b": b})
    assert np.max(np.abs(np.asarray(f(a.data, b.data)) - out.data)) <= TOL
    out.sum().backward()
    ga = jax.grad(lambda x, y: f(x, y).sum())(a.data, b.data)
    assert np.max(np.abs(np.asarray(ga) - np.asarray(a.grad))) <= TOL


# ------------------------------------------------------------------ refusals

def test_a_primitive_without_a_form_is_named(tmp_path):
    mystery = Primitive(name="mystery_op", rule=lambda x: (x * 2.0, (2.0,)))
    x = Value(1.0, "x")
    out = ag.apply(mystery, x) + 1.0
    for export in (lambda: to_onnx(out, tmp_path / "m.onnx", {"x": x}),
                   lambda: to_jax(out, {"x": x}), lambda: to_torch_source(out, {"x": x})):
        with pytest.raises(ExportError, match="mystery_op"):
            export()
    assert not (tmp_path / "m.onnx").exists()


def test_a_static_graph_with_branches_is_refused():
    g = static(lambda x: x * 2.0 if x > 0 else -x, 1.0)
    with pytest.raises(ExportError, match="comparison"):
        to_jax(g)


def test_bad_arguments():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="inputs="):
        to_jax(x * 2.0)
    with pytest.raises(ValueError, match="not a leaf"):
        to_jax(x * 2.0, {"y": x * 3.0})
    with pytest.raises(TypeError, match="StaticGraph or a Value"):
        to_jax("x * 2")
    with pytest.raises(ValueError, match="not a valid name"):
        to_torch_source(x * 2.0, {"import os": x})


def test_missing_extra_names_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)
    x = Value(1.0, "x")
    with pytest.raises(ImportError, match=r"autograd-core\[export\]"):
        to_onnx(x * 2.0, None, {"x": x})


def test_tensor_mlp_graph_with_weights_as_inputs(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    jax = pytest.importorskip("jax")
    import nn
    from autograd_core import Tensor
    model = nn.MLP(3, [5, 2], activation="gelu", output_activation="sigmoid", seed=0,
                   backend="tensor")
    X = Tensor(np.random.default_rng(3).normal(size=(4, 3)), "X")
    W0 = model.layers[0].weight
    loss = model(X).mean()
    loss.backward()
    inputs = {"X": X, "W0": W0}
    proto = to_onnx(loss, tmp_path / "mlp.onnx", inputs)
    assert any(n.name.startswith("linear_") for n in proto.graph.node)
    sess = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    got = float(sess.run(None, {"X": X.data, "W0": W0.data})[0])
    assert close(got, float(loss.data))
    f = to_jax(loss, inputs)
    assert close(float(jax.jit(f)(X.data, W0.data)), float(loss.data))
    gx, gw = jax.grad(f, argnums=(0, 1))(X.data, W0.data)
    assert np.max(np.abs(np.asarray(gx) - np.asarray(X.grad))) <= TOL
    assert np.max(np.abs(np.asarray(gw) - np.asarray(W0.grad))) <= TOL


def test_onnx_node_names_read_like_the_primitives(tmp_path):
    pytest.importorskip("onnx")
    x, y = Value(0.5, "x"), Value(-1.0, "y")
    out = (x * y).elu() + x.erf()
    proto = to_onnx(out, tmp_path / "n.onnx", {"x": x, "y": y})
    # one node per primitive; elu and erf (several operators) are local functions
    assert [(n.name, n.op_type) for n in proto.graph.node] == [
        ("mul_2", "Mul"), ("elu_3", "elu"), ("erf_4", "erf"), ("add_5", "Add"),
        ("output/Identity", "Identity")]
    assert sorted(f.name for f in proto.functions) == ["elu", "erf"]
    elu = proto.graph.node[1]
    assert elu.output[0] == "elu_3" and elu.doc_string.startswith("elu:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.onnx"]  # no temporary file left
    inline = to_onnx(out, None, {"x": x, "y": y}, functions=False)
    names = [n.name for n in inline.graph.node]
    assert {n.split("/")[0] for n in names} == {"mul_2", "elu_3", "erf_4", "add_5", "output"}
    assert {"mul_2", "elu_3", "erf_4", "add_5"} <= set(names)  # the result's node: exact name


def test_tensor_primitive_without_a_form_is_named():
    from autograd_core import Tensor
    from autograd_core import tensor as T
    z = Tensor(np.ones((2, 3)), "z")
    with pytest.raises(ExportError, match="log_softmax"):
        to_jax(T.log_softmax(z, axis=1).sum(), {"z": z})
