"""Helpers for testing derivatives in your own pytest suite.

>>> from autograd_core.testing import assert_gradients_match
>>> assert_gradients_match(lambda x, y: (x * y).tanh(), [0.3, -1.2], order=2)
<GradcheckReport ok: 12 rows, 0 failed, 0 at kinks>

``primitive_cases()`` lists, for every primitive in
:data:`autograd_core.PRIMITIVES`, a function applying it (with typical
parameters), moderate points away from its kinks and the points at its
kinks; the package's own tests and ``benchmarks/bench_gradcheck.py`` sweep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from .engine import Value, apply
from .gradcheck import GradcheckReport, gradcheck
from .primitives import PRIMITIVES, Primitive

__all__ = ["assert_gradients_match", "PrimitiveCase", "primitive_cases"]


def assert_gradients_match(f: Callable[..., Any], inputs: Sequence[Any],
                           **kwargs: Any) -> GradcheckReport:
    """Run :func:`~autograd_core.gradcheck` and raise ``AssertionError`` (its
    message is the report table) unless every derivative matches.

    Keyword arguments go to ``gradcheck`` (``order``, ``modes``, ``method``,
    ``atol``, ``rtol``, ``eps``). Returns the report when it passes."""
    __tracebackhide__ = True  # pytest shows the failure at the caller
    report = gradcheck(f, inputs, **kwargs)
    if not report:
        raise AssertionError("derivatives do not match finite differences\n" + str(report))
    return report


# ------------------------------------------------------------------ primitive cases

@dataclass(frozen=True)
class PrimitiveCase:
    """One primitive with one parameter choice.

    ``fn`` takes one Value per operand; ``points`` are moderate points away
    from kinks and domain edges; ``kink_points`` are points at a kink and
    ``kink_order`` the derivative order at which the kink shows (1: the
    function has a corner, 2: only its gradient does, like ``elu`` with
    ``alpha=1``)."""

    name: str
    label: str
    fn: Callable[..., Value]
    points: tuple[tuple[float, ...], ...]
    kink_points: tuple[tuple[float, ...], ...] = ()
    kink_order: int = 1

    @property
    def primitive(self) -> Primitive:
        return PRIMITIVES[self.name]


#: moderate inputs on the real line, away from 0 (the kinks) and from zeros
#: of the derivatives
GRID = (-2.3, -1.1, -0.45, 0.3, 0.8, 1.6, 2.7)
POSITIVE = (0.3, 0.8, 1.6, 2.7, 4.1)
NONZERO = (-2.3, -0.7, 0.45, 1.6, 2.7)


def _pts(xs: Sequence[float]) -> tuple[tuple[float, ...], ...]:
    return tuple((x,) for x in xs)


def _apply(prim: Primitive, param: Any = None) -> Callable[..., Value]:
    if param is None:
        return lambda *xs: apply(prim, *xs)
    return lambda *xs: apply(prim, *xs, param=param)


def _pairs(a: Sequence[float], b: Sequence[float]) -> tuple[tuple[float, ...], ...]:
    return tuple(zip(a, b))


def primitive_cases() -> list[PrimitiveCase]:
    """Test cases covering every primitive of ``PRIMITIVES``.

    A unary primitive without a parameter and without a specific case gets
    the generic grid; a primitive that needs more (a parameter, several
    operands, a restricted domain) and has no case here is missing from the
    list, which the package's tests report."""
    P = PRIMITIVES
    cases: list[PrimitiveCase] = []

    def add(name: str, points: Any, param: Any = None, label: str = "",
            kink_points: Any = (), kink_order: int = 1) -> None:
        if name not in P:
            return
        cases.append(PrimitiveCase(name, label or name, _apply(P[name], param), tuple(points),
                                   tuple(kink_points), kink_order))

    xs2 = (-1.7, 0.6, 2.2, -0.35, 1.3)
    ys2 = (0.9, -1.4, 0.75, 2.1, -0.55)
    add("add", _pairs(xs2, ys2))
    add("sub", _pairs(xs2, ys2))
    add("mul", _pairs(xs2, ys2))
    add("div", _pairs(xs2, ys2))
    add("pow", _pairs(POSITIVE, (2.5, -1.3, 0.7, 1.9, -0.4)))
    for c in (2.5, -1.25):
        for name in ("add_const", "sub_const", "rsub_const", "mul_const", "div_const"):
            add(name, _pts(GRID), c, f"{name}(c={c:g})")
    for c in (1.5, -2.0):
        add("rdiv_const", _pts(NONZERO), c, f"rdiv_const(c={c:g})")
    add("pow_const", _pts(GRID), 3.0, "pow_const(c=3)")
    add("pow_const", _pts(NONZERO), -2.0, "pow_const(c=-2)")
    for c in (0.5, -1.5, 2.7):
        add("pow_const", _pts(POSITIVE), c, f"pow_const(c={c:g})")
    for c in (2.0, 0.5, 3.7):
        add("rpow_const", _pts(GRID), c, f"rpow_const(c={c:g})")
    add("log", _pts(POSITIVE))
    add("sqrt", _pts(POSITIVE))
    add("log1p", _pts((-0.6, -0.2) + POSITIVE))
    add("abs", _pts(GRID), kink_points=[(0.0,)])
    add("relu", _pts(GRID), kink_points=[(0.0,)])
    for s in (0.01, 0.2):
        add("leaky_relu", _pts(GRID), s, f"leaky_relu(negative_slope={s:g})",
            kink_points=[(0.0,)])
    add("prelu", _pairs(GRID, (0.25, -0.3, 0.1, 0.25, 0.5, 1.5, 0.2)),
        kink_points=[(0.0, 0.25), (0.0, -0.5)])
    add("elu", _pts(GRID), 0.5, "elu(alpha=0.5)", kink_points=[(0.0,)])
    add("elu", _pts(GRID), 1.0, "elu(alpha=1)", kink_points=[(0.0,)], kink_order=2)
    for b in (1.0, 1.702, 0.5):
        add("swish", _pts(GRID), b, f"swish(beta={b:g})")
    add("sum", [(0.3, -1.2, 2.5), (-0.7, 0.4)])
    add("dot", [(0.3, -1.2, 2.5, 0.8), (-0.7, 0.4, 1.1, -2.0, 0.6, 1.3)])
    add("dot_const", [(0.3, -1.2, 2.5), (-0.7, 0.4, 1.1)], (0.5, -1.5, 2.0),
        "dot_const(xs=(0.5, -1.5, 2))")
    # the wider function set
    unit = (-0.8, -0.45, 0.3, 0.7, 0.9)
    for name in ("arcsin", "arccos", "arctanh"):
        add(name, _pts(unit))
    add("arccosh", _pts((1.2, 1.6, 2.7, 4.1)))
    add("tan", _pts((-1.2, -0.45, 0.3, 0.8, 1.3)))
    add("log2", _pts(POSITIVE))
    add("log10", _pts(POSITIVE))
    add("hypot", _pairs(xs2, ys2), kink_points=[(0.0, 0.0)])
    add("arctan2", _pairs(ys2, xs2))
    for name in ("maximum", "minimum"):
        add(name, _pairs(xs2, ys2), kink_points=[(0.5, 0.5)])
    add("logaddexp", _pairs(xs2, ys2) + ((0.5, 0.5), (3.0, -2.0)))
    for lo, hi in ((-1.0, 2.0), (0.0, 0.5)):
        add("clip", _pts(GRID), (lo, hi), f"clip(bounds=({lo:g}, {hi:g}))",
            kink_points=[(lo,), (hi,)])
        add("hardtanh", _pts(GRID), (lo, hi), f"hardtanh(bounds=({lo:g}, {hi:g}))",
            kink_points=[(lo,), (hi,)])
    wide = (-4.0, -2.3, -0.45, 0.3, 2.7, 4.1, 7.5)
    add("relu6", _pts(wide), kink_points=[(0.0,), (6.0,)])
    add("hardsigmoid", _pts(wide), kink_points=[(-3.0,), (3.0,)])
    add("hardswish", _pts(wide), kink_points=[(-3.0,), (3.0,)])
    for a in (1.0, 0.5):
        add("celu", _pts(GRID), a, f"celu(alpha={a:g})", kink_points=[(0.0,)], kink_order=2)
    add("softsign", _pts(GRID), kink_points=[(0.0,)], kink_order=2)
    for b in (2.0, 0.5):
        add("softplus_beta", _pts(GRID), b, f"softplus_beta(beta={b:g})")

    covered = {c.name for c in cases}
    for name, prim in P.items():  # generic: unary, no parameter, whole real line
        if name not in covered and prim.arity == 1 and not prim.has_param:
            cases.append(PrimitiveCase(name, name, _apply(prim), _pts(GRID),
                                       _pts(prim.kinks)))
    return cases
