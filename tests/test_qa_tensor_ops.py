"""QA: Tensor reductions and joins against PyTorch float64, values, gradients
and Hessian-vector products, on data with ties, zeros and constant groups.

Finding: std's second derivative in a zero-variance group was the derivative
of c/(1·dof) (an artefact of the value substituted to avoid 0·∞), not the
derivative of the convention 0 (PyTorch: 0).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core.tensor as T
from autograd_core import Tensor

torch = pytest.importorskip("torch")

MATS = [
    np.random.default_rng(0).standard_normal((3, 4)),
    np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 1.5, 2.0], [1.0, -1.0, 1.0, -1.0]]),
    np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, -1.0, 2.0], [5.0, 0.0, 0.0, 5.0]]),
    np.array([[30.0, -30.0, 0.0, 1.0], [20.0, 20.0, -5.0, 0.0], [0.5, 0.0, 0.0, 0.0]]),
]

CASES = {
    "prod_axis": (lambda a: a.prod(axis=1), lambda a: a.prod(dim=1)),
    "prod_all": (lambda a: a.prod(), lambda a: a.prod()),
    "var": (lambda a: a.var(axis=0), lambda a: a.var(dim=0, unbiased=False)),
    "var_ddof1": (lambda a: a.var(axis=1, ddof=1), lambda a: a.var(dim=1, unbiased=True)),
    "std": (lambda a: a.std(axis=1), lambda a: a.std(dim=1, unbiased=False)),
    "std_all": (lambda a: (a * 0.0 + 1.0).std() + a.std(axis=0).sum(),
                lambda a: (a * 0.0 + 1.0).std(unbiased=False) + a.std(dim=0, unbiased=False).sum()),
    "logsumexp": (lambda a: a.logsumexp(axis=1), lambda a: torch.logsumexp(a, dim=1)),
    "softmax": (lambda a: a.softmax(axis=1), lambda a: torch.softmax(a, dim=1)),
    "log_softmax": (lambda a: a.log_softmax(axis=0), lambda a: torch.log_softmax(a, dim=0)),
    "cross_entropy": (lambda a: T.cross_entropy(a, np.array([0, 2, 1])),
                      lambda a: torch.nn.functional.cross_entropy(a, torch.tensor([0, 2, 1]))),
    "concatenate": (lambda a: T.concatenate([a, a * 2.0], axis=1).tanh(),
                    lambda a: torch.cat([a, a * 2.0], dim=1).tanh()),
    "stack": (lambda a: T.stack([a, a.sin()], axis=0), lambda a: torch.stack([a, a.sin()], dim=0)),
    "matmul": (lambda a: (a @ a.T).tanh(), lambda a: (a @ a.T).tanh()),
}


def _arr(a):
    return np.asarray(getattr(a, "data", a), dtype=float)


@pytest.mark.parametrize("k", range(len(MATS)))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_hvps_match_torch(name, k):
    fa, ft = CASES[name]
    x = MATS[k]
    rng = np.random.default_rng(k)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = ft(xt)
    w = rng.standard_normal(tuple(yt.shape))
    v = rng.standard_normal(x.shape)
    (gt,) = torch.autograd.grad((yt * torch.tensor(w)).sum(), [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt])
    xa = Tensor(x)
    ya = fa(xa)
    (ga,) = T.gradients((ya * w).sum(), [xa], create_graph=True)
    (ha,) = T.gradients((ga * v).sum(), [xa])
    np.testing.assert_allclose(_arr(ya), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_arr(ga), gt.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(_arr(ha), ht.numpy(), rtol=1e-8, atol=1e-8)
