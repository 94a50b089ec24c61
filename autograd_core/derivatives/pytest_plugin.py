"""pytest plugin (installed with the package, entry point ``pytest11``): a
``gradcheck`` fixture whose checks fail with the report table.

    def test_my_loss(gradcheck):
        gradcheck(lambda w, b: (w * 0.5 + b).tanh(), [0.3, -0.1], order=2)
        gradcheck.everywhere(lambda x: x.softplus(), (-5, 5))
        gradcheck.grad(f_numpy, grad_f_numpy, x0)
        gradcheck.module(model, X, y, loss=quadratic)

Without the installed package, enable it with ``-p autograd_core.pytest_plugin``.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from . import testing
from .gradcheck import GradcheckReport

__all__ = ["GradcheckFixture", "gradcheck"]


class GradcheckFixture:
    """The ``gradcheck`` fixture: each method runs one check and raises
    ``AssertionError`` (message: the report table) unless it passes."""

    def __call__(self, f: Callable[..., Any], inputs: Any, **kwargs: Any) -> GradcheckReport:
        """:func:`autograd_core.testing.assert_gradients_match`."""
        __tracebackhide__ = True
        return testing.assert_gradients_match(f, inputs, **kwargs)

    def everywhere(self, f: Callable[..., Any], domain: Any, **kwargs: Any) -> GradcheckReport:
        """:func:`autograd_core.testing.gradients_match_everywhere`."""
        __tracebackhide__ = True
        return testing.gradients_match_everywhere(f, domain, **kwargs)

    def grad(self, f: Callable[[Any], Any], grad_f: Callable[[Any], Any], x: Any, *,
             allow_zero: bool = False, **kwargs: Any) -> GradcheckReport:
        """:func:`autograd_core.testing.check_grad`, asserted (a check where every
        component is exactly 0 compared nothing: a failure unless ``allow_zero``)."""
        __tracebackhide__ = True
        report = testing.check_grad(f, grad_f, x, **kwargs)
        if not report:
            raise AssertionError("grad_f does not match finite differences of f\n" + str(report))
        testing._refuse_vacuous(report, allow_zero)
        return report

    def module(self, model: Any, X: Any, y: Any, **kwargs: Any) -> GradcheckReport:
        """:func:`autograd_core.testing.assert_module_gradients`."""
        __tracebackhide__ = True
        return testing.assert_module_gradients(model, X, y, **kwargs)


@pytest.fixture(name="gradcheck")
def gradcheck() -> GradcheckFixture:
    """Derivative checks that fail with the gradcheck report table."""
    return GradcheckFixture()
