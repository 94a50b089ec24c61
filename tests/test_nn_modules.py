"""nn modules: paths and labels, initialisation, activations, BatchNorm, Residual, state and files."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

import autograd_core as ag
import nn
from autograd_core import Value


def network2_params(sizes, seed, scale=True):
    """Nielsen's network2.Network.__init__ drawing after np.random.seed(seed)."""
    np.random.seed(seed)
    biases = [np.random.randn(y, 1) for y in sizes[1:]]
    if scale:
        weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    else:
        weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
    return weights, biases


def model_arrays(model):
    Ws = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
    bs = [np.array([[n.b.data] for n in layer.neurons]) for layer in model.layers]
    return Ws, bs


# ------------------------------------------------------------------ init

@pytest.mark.parametrize("seed", [0, 1, 7])
def test_nielsen_init_draws_exactly_as_network2(seed):
    sizes = [784, 30, 30, 10]
    weights, biases = network2_params(sizes, seed)
    Ws, bs = model_arrays(nn.MLP(784, [30, 30, 10], init="nielsen", seed=seed))
    for W, W2, b, b2 in zip(Ws, weights, bs, biases):
        assert np.array_equal(W, W2)      # bit for bit
        assert np.array_equal(b, b2)


def test_standard_normal_init_is_network2_large_weight_initializer():
    weights, biases = network2_params([5, 4, 3], 3, scale=False)
    Ws, bs = model_arrays(nn.MLP(5, [4, 3], init="standard_normal", seed=3))
    assert all(np.array_equal(a, b) for a, b in zip(Ws, weights))
    assert all(np.array_equal(a, b) for a, b in zip(bs, biases))


@pytest.mark.parametrize("name, expect", [
    ("xavier_uniform", lambda r, i, o: r.uniform(-math.sqrt(6 / (i + o)), math.sqrt(6 / (i + o)), (o, i))),
    ("glorot", lambda r, i, o: r.uniform(-math.sqrt(6 / (i + o)), math.sqrt(6 / (i + o)), (o, i))),
    ("xavier_normal", lambda r, i, o: r.randn(o, i) * math.sqrt(2 / (i + o))),
    ("he", lambda r, i, o: r.randn(o, i) * math.sqrt(2 / i)),
    ("kaiming_uniform", lambda r, i, o: r.uniform(-math.sqrt(6 / i), math.sqrt(6 / i), (o, i))),
    ("zeros", lambda r, i, o: np.zeros((o, i))),
])
def test_other_init_schemes_follow_their_formulas(name, expect):
    model = nn.MLP(6, [5, 2], init=name, seed=11)
    rng = np.random.RandomState(11)
    Ws, bs = model_arrays(model)
    assert np.allclose(Ws[0], expect(rng, 6, 5), rtol=1e-15, atol=0)
    assert np.allclose(Ws[1], expect(rng, 5, 2), rtol=1e-15, atol=0)
    assert all(np.all(b == 0.0) for b in bs)


def test_init_seeded_reproducible_and_unknown_scheme():
    a = nn.MLP(3, [4, 2], seed=5).state_dict()
    b = nn.MLP(3, [4, 2], seed=5).state_dict()
    c = nn.MLP(3, [4, 2], seed=6).state_dict()
    assert a == b and a != c
    with pytest.raises(ValueError, match="unknown init scheme 'bogus'"):
        nn.MLP(3, [2], init="bogus")


def test_callable_init_and_shape_check():
    def ones(rng, n_in, n_out):
        return np.ones((n_out, n_in)), np.full(n_out, 0.5)
    m = nn.MLP(3, [2], init=ones)
    assert all(p.data == 1.0 for p in m.weights())
    assert m.layers[0].neurons[1].b.data == 0.5
    with pytest.raises(ValueError, match=r"expected \(2, 3\)"):
        nn.MLP(3, [2], init=lambda r, i, o: (np.ones((i, o)), np.zeros(o)))


# ------------------------------------------------------------------ structure

def test_parameter_paths_labels_and_order():
    m = nn.MLP(3, [4, 2], seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.1.b"
    assert len(names) == 4 * 4 + 2 * 5 == m.num_parameters()
    assert all(p.label == n for n, p in m.named_parameters())
    assert [n for n, _ in m.named_weights()] == [n for n in names if ".w." in n]


def test_neuron_outputs_are_labelled_and_weighted_sum_is_one_node():
    m = nn.MLP(784, [30, 10], seed=0)
    x = np.random.RandomState(0).rand(784)
    out = m(x)
    assert len(out) == 10 and out[3].label == "layers.1.neurons.3.out"
    z0 = out[3].parents[0]
    assert z0.label == "layers.1.neurons.3.z"
    h = m.layers[0].neurons[7]
    # first layer: one dot_const node whose parents are the 784 weights and the bias
    a = nn.MLP(784, [30, 10], seed=0).layers[0].neurons[7]
    z = h._z(tuple(x.tolist()), True)
    assert z.op == "dot_const" and len(z.parents) == 785 and z.parents[-1] is h.b
    assert z.parents[12] is h.w[12] and z.local_grads[12] == x[12] and z.local_grads[-1] == 1.0
    assert math.isclose(z.data, float(np.dot([w.data for w in a.w], x) + a.b.data), rel_tol=1e-13)
    # the whole graph of one image: 40 neurons, a handful of nodes each
    nodes = ag.topological_order(ag.sum(out))
    assert len([n for n in nodes if n.parents]) < 40 * 3 + 2


def test_forward_matches_numpy_and_gradients_match_backprop():
    rng = np.random.RandomState(2)
    m = nn.MLP(5, [4, 3], seed=2)
    x = rng.rand(5)
    Ws, bs = model_arrays(m)
    z1 = Ws[0] @ x + bs[0][:, 0]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = Ws[1] @ a1 + bs[1][:, 0]
    a2 = 1 / (1 + np.exp(-z2))
    out = m(x)
    assert np.allclose([o.data for o in out], a2, rtol=1e-14)
    y = np.array([0.0, 1.0, 0.0])
    nn.quadratic(out, 1).backward()
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (Ws[1].T @ d2) * a1 * (1 - a1)
    gW1 = np.array([[w.grad for w in n.w] for n in m.layers[0].neurons])
    gb2 = np.array([n.b.grad for n in m.layers[1].neurons])
    assert np.allclose(gW1, np.outer(d1, x), rtol=1e-12, atol=0)
    assert np.allclose(gb2, d2, rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad, got", [(np.zeros(3), "shape (3,)"), ([1.0, 2.0], "got 2")])
def test_wrong_input_length_names_both_sizes(bad, got):
    m = nn.MLP(4, [2], seed=0)
    with pytest.raises(ValueError, match=r"expects 4 inputs.*" + got.replace("(", r"\(").replace(")", r"\)")):
        m(bad)
    with pytest.raises(ValueError, match="expects 4 inputs"):
        nn.Neuron(4)([1.0] * 5)


def test_bad_inputs_raise_type_errors():
    m = nn.MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="input 1 must be a number"):
        m([1.0, "a"])
    with pytest.raises(TypeError):
        m({"a": 1})
    with pytest.raises(ValueError, match="positive int"):
        nn.MLP(0, [2])
    with pytest.raises(ValueError, match="non-empty list"):
        nn.MLP(2, [])


def test_value_inputs_flow_gradients_to_the_inputs():
    m = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    x = [Value(0.3, "x0"), Value(-0.2, "x1")]
    out = m(x)[0]
    out.backward()
    eps = 1e-6
    for i in range(2):
        xp = [v.data for v in x]
        xm = list(xp)
        xp[i] += eps
        xm[i] -= eps
        fd = (m(xp)[0].data - m(xm)[0].data) / (2 * eps)
        assert math.isclose(x[i].grad, fd, rel_tol=1e-6, abs_tol=1e-9)


# ------------------------------------------------------------------ activations

@pytest.mark.parametrize("name, f", [
    ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
    ("tanh", math.tanh),
    ("relu", lambda z: max(0.0, z)),
    ("leaky_relu", lambda z: z if z > 0 else 0.01 * z),
    ("prelu", lambda z: z if z > 0 else 0.25 * z),
    ("elu", lambda z: z if z > 0 else math.expm1(z)),
    ("softplus", lambda z: math.log1p(math.exp(z))),
    ("swish", lambda z: z / (1 + math.exp(-z))),
    ("gelu", lambda z: z * 0.5 * (1 + math.erf(z / math.sqrt(2)))),
    ("linear", lambda z: z),
])
@pytest.mark.parametrize("bias", [0.7, -0.9])
def test_activations_by_name(name, f, bias):
    n = nn.Neuron(2, activation=name, weights=[0.5, -1.5], bias=bias)
    x = [0.4, 0.2]
    z = 0.5 * 0.4 - 1.5 * 0.2 + bias
    out = n(x)
    assert math.isclose(out.data, f(z), rel_tol=1e-13, abs_tol=1e-15)
    assert out.label == "out"
    out.backward()
    h = 1e-6
    fd = (f(z + h) - f(z - h)) / (2 * h)
    assert math.isclose(n.w[0].grad, 0.4 * fd, rel_tol=1e-6, abs_tol=1e-9)


def test_prelu_slope_is_a_learnable_parameter_per_neuron():
    layer = nn.Layer(2, 3, activation="prelu", seed=0)
    names = [n for n, _ in layer.named_parameters()]
    assert "neurons.2.alpha" in names
    assert [p.data for n, p in layer.named_parameters() if n.endswith("alpha")] == [0.25] * 3
    n = nn.Neuron(1, activation="prelu", weights=[1.0], bias=0.0)
    out = n([-2.0])
    assert out.data == -0.5
    out.backward()
    assert n.alpha.grad == -2.0 and n.w[0].grad == 0.25 * -2.0
    assert "alpha" not in [k for k, _ in n.named_weights()]


def test_callable_activation_and_unknown_name():
    n = nn.Neuron(1, activation=lambda z: z * z, weights=[2.0], bias=1.0)
    assert n([3.0]).data == 49.0
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        nn.Neuron(1, activation="sigmod")
    bad = nn.Neuron(1, activation=lambda z: 3.0, weights=[1.0], bias=0.0)
    with pytest.raises(TypeError, match="must return a Value"):
        bad([1.0])


def test_output_activation_default_and_override():
    m = nn.MLP(2, [3, 2], activation="relu", seed=0)
    assert m.layers[1].activation == "relu"
    m = nn.MLP(2, [3, 2], activation="relu", output_activation="linear", seed=0)
    out = m([1.0, 2.0])
    assert out[0].op == "add"   # linear output: the weighted sum itself


# ------------------------------------------------------------------ BatchNorm

def numpy_batchnorm(X, gamma, beta, eps, dY):
    mu = X.mean(0)
    var = X.var(0)
    xhat = (X - mu) / np.sqrt(var + eps)
    Y = gamma * xhat + beta
    B = X.shape[0]
    dxhat = dY * gamma
    dX = (1.0 / B) / np.sqrt(var + eps) * (B * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    return Y, dX, (dY * xhat).sum(0), dY.sum(0), mu, var


def test_batchnorm_outputs_and_gradients_match_numpy():
    rng = np.random.RandomState(0)
    B, n = 6, 3
    X = rng.randn(B, n) * 2 + 1
    dY = rng.randn(B, n)
    bn = nn.BatchNorm(n)
    for j in range(n):
        bn.gamma[j].assign(0.5 + j)
        bn.beta[j].assign(-0.25 * j)
    Xv = [[Value(v) for v in row] for row in X]
    Y = bn.forward_batch(Xv)
    obj = ag.dot([y for row in Y for y in row], dY.ravel().tolist())
    obj.backward()
    gamma = np.array([0.5, 1.5, 2.5])
    beta = np.array([0.0, -0.25, -0.5])
    Y_np, dX, dgamma, dbeta, mu, var = numpy_batchnorm(X, gamma, beta, 1e-5, dY)
    assert np.allclose([[y.data for y in row] for row in Y], Y_np, rtol=1e-12, atol=1e-13)
    assert np.allclose([[v.grad for v in row] for row in Xv], dX, rtol=1e-9, atol=1e-12)
    assert np.allclose([g.grad for g in bn.gamma], dgamma, rtol=1e-12)
    assert np.allclose([b.grad for b in bn.beta], dbeta, rtol=1e-12)
    # running averages: momentum 0.1 from (0, 1), unbiased variance
    assert np.allclose(bn.running_mean, 0.1 * mu, rtol=1e-14)
    assert np.allclose(bn.running_var, 0.9 + 0.1 * var * B / (B - 1), rtol=1e-14)


def test_batchnorm_eval_uses_running_averages_and_train_needs_a_batch():
    bn = nn.BatchNorm(2)
    bn.running_mean[:] = [1.0, -1.0]
    bn.running_var[:] = [4.0, 0.25]
    with pytest.raises(ValueError, match="at least 2 samples"):
        bn([1.0, 2.0])
    bn.eval()
    y = bn([3.0, 0.0])
    assert math.isclose(y[0].data, 2.0 / math.sqrt(4.0 + 1e-5), rel_tol=1e-14)
    assert math.isclose(y[1].data, 1.0 / math.sqrt(0.25 + 1e-5), rel_tol=1e-14)
    assert bn.running_mean == [1.0, -1.0]   # eval does not update


def test_mlp_with_batchnorm_and_residual_layers():
    m = nn.MLP(3, [4, 4, 2], activation="relu", batchnorm=True, residual=True, seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert "layers.0.bn.gamma.3" in names and "layers.1.bn.beta.0" in names
    assert not m.layers[2].batchnorm and not m.layers[0].residual and m.layers[1].residual
    X = np.random.RandomState(1).rand(5, 3)
    out = m.forward_batch(X)
    assert len(out) == 5 and len(out[0]) == 2
    ag.sum([o for row in out for o in row]).backward()
    assert any(p.grad != 0.0 for p in m.parameters())
    assert "layers.0.bn.running_mean.3" in m.state_dict()
    m.eval()
    assert len(m(X[0])) == 2


def test_residual_adds_the_input():
    block = nn.Layer(2, 2, activation="tanh", seed=0)
    r = nn.Residual(block)
    x = [0.3, -0.4]
    y = r(x)
    b = block(x)
    assert [v.data for v in y] == [x[0] + b[0].data, x[1] + b[1].data]
    assert [n for n, _ in r.named_parameters()][0] == "block.neurons.0.w.0"
    with pytest.raises(ValueError, match="same size"):
        nn.Residual(nn.Layer(2, 3))(x)


def test_sequential_chains_modules():
    s = nn.Sequential(nn.Layer(2, 3, seed=0), nn.BatchNorm(3), nn.Layer(3, 1, seed=1))
    assert s.named_parameters()[0][0] == "layers.0.neurons.0.w.0"
    out = s.forward_batch([[0.1, 0.2], [0.3, -0.1], [0.0, 1.0]])
    assert len(out) == 3 and len(out[0]) == 1


# ------------------------------------------------------------------ state and files

def test_train_eval_propagate():
    m = nn.MLP(2, [3, 1], batchnorm=True, seed=0)
    assert m.eval() is m and not m.layers[0].bn.training
    m.train()
    assert m.layers[0].bn.training


def test_state_dict_round_trip_and_zero_grad():
    a = nn.MLP(3, [4, 2], seed=0)
    b = nn.MLP(3, [4, 2], seed=1)
    sd = a.state_dict()
    assert all(type(v) is float for v in sd.values())
    b.load_state_dict(sd)
    assert b.state_dict() == sd
    ag.sum(b([1.0, 2.0, 3.0])).backward()
    assert any(p.grad != 0 for p in b.parameters())
    b.zero_grad()
    assert all(p.grad == 0.0 for p in b.parameters())


def test_load_state_dict_mismatches_raise_and_change_nothing():
    m = nn.MLP(3, [4, 2], seed=0)
    before = m.state_dict()
    other = nn.MLP(3, [3, 3], seed=0).state_dict()
    with pytest.raises(ValueError, match=r"missing .*unexpected"):
        m.load_state_dict(other)
    bad = dict(before)
    bad["layers.0.neurons.0.w.0"] = "x"
    with pytest.raises(TypeError, match="must be a number"):
        m.load_state_dict(bad)
    partial = dict(before)
    del partial["layers.1.neurons.1.b"]
    partial["layers.0.neurons.0.b"] = 123.0
    with pytest.raises(ValueError, match=r"missing 1 key\(s\): 'layers.1.neurons.1.b'"):
        m.load_state_dict(partial)
    assert m.state_dict() == before
    m.load_state_dict(partial, strict=False)
    assert m.layers[0].neurons[0].b.data == 123.0


@pytest.mark.parametrize("make", [
    lambda: nn.MLP(3, [4, 2], activation="prelu", output_activation="sigmoid", seed=0),
    lambda: nn.MLP(3, [3, 3, 1], activation="relu", batchnorm=True, residual=True, seed=0),
    lambda: nn.Sequential(nn.Layer(3, 3, seed=0), nn.Residual(nn.Layer(3, 3, "tanh", seed=1))),
    lambda: nn.Neuron(3, activation="elu", seed=0),
])
def test_save_and_load_round_trip(tmp_path, make):
    m = make()
    if isinstance(m, nn.MLP) and m.layers[0].batchnorm:
        m.forward_batch(np.random.RandomState(0).rand(4, 3))   # move the running averages
    path = tmp_path / "model.json"
    m.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "autograd-core-nn" and doc["class"] == type(m).__name__
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]   # no temp file left
    m2 = nn.load(path)
    assert type(m2) is type(m) and m2.state_dict() == m.state_dict()
    x = [0.2, -0.3, 0.5]
    m.eval()
    m2.eval()
    o1, o2 = m(x), m2(x)
    o1 = o1 if isinstance(o1, list) else [o1]
    o2 = o2 if isinstance(o2, list) else [o2]
    assert [v.data for v in o1] == [v.data for v in o2]
    m3 = make()
    nn.load(path, model=m3)
    assert m3.state_dict() == m.state_dict()


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.json"):
        nn.load(tmp_path / "nothere.json")
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a saved model"):
        nn.load(p)
    p.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="format"):
        nn.load(p)
    m = nn.MLP(2, [2], seed=0)
    m.save(p)
    with pytest.raises(ValueError, match=r"bad.json: .*missing"):
        nn.load(p, model=nn.MLP(2, [3], seed=0))


def test_save_is_atomic_and_refuses_non_finite(tmp_path):
    p = tmp_path / "m.json"
    m = nn.MLP(2, [2], seed=0)
    m.save(p)
    good = p.read_text()
    m.layers[0].neurons[0].b.assign(float("nan"))
    with pytest.raises(ValueError, match="nan"):
        m.save(p)
    assert p.read_text() == good and os.listdir(tmp_path) == ["m.json"]
    m2 = nn.MLP(2, [2], activation=lambda z: z.tanh(), seed=0)
    with pytest.raises(TypeError, match="callable activation"):
        m2.save(tmp_path / "c.json")
