"""explain, draw_graph and gradcheck accept Tensor graphs (shapes and norms)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autograd_core as ac
import visualize
from autograd_core import Tensor


def _graph():
    rng = np.random.RandomState(0)
    W = Tensor(rng.randn(3, 4), label="W")
    x = Tensor(rng.randn(4), label="x")
    b = Tensor(rng.randn(3), label="b")
    out = ((W @ x + b).tanh() ** 2).sum()
    return W, x, b, out


def test_explain_tensor_rows_and_backward_norms():
    W, x, b, out = _graph()
    tr = ac.explain(out)
    rows = {r["name"]: r for r in tr.forward_rows}
    assert rows["W"]["shape"] == (3, 4) and rows["x"]["shape"] == (4,)
    assert rows["W"]["norm"] == pytest.approx(np.linalg.norm(W.data))
    # the gradients the trace reports are the engine's
    out.backward()
    for leaf in (W, x, b):
        assert np.allclose(tr.gradients[leaf.label], leaf.grad, rtol=1e-12, atol=0)
    last = tr.backward_steps[0]
    assert last["upstream_norm"] == pytest.approx(1.0)
    text = tr.to_text()
    assert "3×4" in text and "‖grad so far‖" in text
    json.dumps(tr.to_dict())
    assert tr.to_markdown().startswith("| node |")


def test_draw_graph_of_a_tensor_shows_shapes():
    _, _, _, out = _graph()
    out.backward()
    src = visualize.draw_graph(out).source
    assert "3×4" in src and "grad" in src


def test_gradcheck_dispatches_arrays_and_catches_errors():
    rng = np.random.RandomState(1)
    A = rng.randn(3, 2)
    rep = ac.gradcheck(lambda a: (a.sigmoid() * a).sum(), [A])
    assert rep and len(rep.rows) == 6
    big = rng.randn(40, 40)
    rep = ac.gradcheck(lambda a: (a * a).sum(), [big], samples=10)
    assert rep and len(rep.rows) == 10
    # a real bug: detach() hides half of d(a²)/da, so reverse and forward mode say a, not 2a
    bad = ac.gradcheck(lambda a: (a * a.detach()).sum(), [A])
    assert not bad and len(bad.failures) == 6
    with pytest.raises(ValueError, match="order=1"):
        ac.gradcheck(lambda a: a.sum(), [A], order=2)
