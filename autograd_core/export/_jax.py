"""``to_jax``: a captured graph as a pure JAX function."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from ..core.primitives import EXPORTS
from . import _ir


class _JaxVocabulary:
    """The vocabulary ``F`` of the exported forms, in jax.numpy."""

    def __init__(self, jax: Any) -> None:
        jnp = jax.numpy
        self.jnp = jnp
        for name in ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tanh", "abs", "tan",
                     "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
                     "arctanh", "log2", "log10", "sign", "floor", "ceil", "maximum", "minimum"):
            setattr(self, name, getattr(jnp, name))
        self.erf = jax.scipy.special.erf
        self.erfc = jax.scipy.special.erfc
        self.sigmoid = jax.nn.sigmoid
        self.softplus = jax.nn.softplus
        self.pow, self.hypot, self.arctan2, self.logaddexp = _conventional(jax)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        return self.jnp.where(c, a, b)

    def matmul(self, a: Any, b: Any) -> Any:
        return self.jnp.matmul(a, b)

    def transpose(self, a: Any) -> Any:
        return self.jnp.swapaxes(a, -1, -2)

    def reduce_sum(self, x: Any, axes: Any, keepdims: bool) -> Any:
        return self.jnp.sum(x, axis=tuple(axes), keepdims=keepdims)

    def reduce_mean(self, x: Any, axes: Any, keepdims: bool) -> Any:
        return self.jnp.mean(x, axis=tuple(axes), keepdims=keepdims)

    def reshape(self, x: Any, shape: Any) -> Any:
        return self.jnp.reshape(x, tuple(shape))

    def sum(self, xs: Any) -> Any:
        return functools.reduce(lambda a, b: a + b, list(xs))  # left to right, as the rule


def _conventional(jax: Any) -> tuple[Callable[..., Any], ...]:
    """``pow``, ``hypot`` and ``arctan2`` with autograd-core's conventions where
    JAX's own derivatives are nan (a zero base, the origin), and ``logaddexp``
    with the rule's derivatives σ(x - y), σ(y - x) (JAX's exp(x - out) loses
    digits once log 2 is below x's ulp: 1 and 1 at x = y = 1e17): ``jax.custom_jvp``
    functions whose jvp gives the local derivatives of the rules in
    primitives.py (``_pow``, ``_hypot``, ``_arctan2``), written in jnp with
    safe operands inside every ``where`` (no nan through the unused branch),
    and through these same functions, so that JAX's derivative of the jvp (the
    second derivative) is the rule's ``create_graph`` derivative as well."""
    jnp = jax.numpy

    @jax.custom_jvp
    def pow(x: Any, y: Any) -> Any:
        return jnp.power(x, y)

    @pow.defjvp
    def _pow_jvp(primals: Any, tangents: Any) -> Any:
        x, y = primals
        tx, ty = tangents
        out = pow(x, y)
        zero = x == 0.0
        inf_slope = zero & (y < 1.0) & (y != 0.0)  # 0 < y < 1 (y < 0 is refused): inf
        xs = jnp.where(zero & (y < 1.0), 1.0, x)  # pow(0, y - 1 < 0) is never computed
        xz, yz = jnp.where(inf_slope, x, 1.0), jnp.where(inf_slope, y, 0.5)
        d_inf = yz / pow(xz, 1.0 - yz)  # written y / 0^(1-y) as the rule: its derivative -inf
        d_base = jnp.where(zero & (y == 0.0), 0.0,
                           jnp.where(inf_slope, d_inf, pow(xs, y - 1.0) * y))
        pos = x > 0.0
        xp = jnp.where(pos, x, 1.0)
        d_exp = jnp.where(pos, jnp.where(out != 0.0, pow(xp, y) * jnp.log(xp), 0.0),
                          jnp.where(zero, 0.0, jnp.nan))  # x < 0: nan, as the rule
        return out, d_base * tx + d_exp * ty

    @jax.custom_jvp
    def hypot(x: Any, y: Any) -> Any:
        return jnp.hypot(x, y)

    @hypot.defjvp
    def _hypot_jvp(primals: Any, tangents: Any) -> Any:
        x, y = primals
        tx, ty = tangents
        h = hypot(x, y)
        tip = h == 0.0
        hs = jnp.where(tip, 1.0, h)
        return h, jnp.where(tip, 0.0, x / hs) * tx + jnp.where(tip, 0.0, y / hs) * ty

    @jax.custom_jvp
    def arctan2(y: Any, x: Any) -> Any:
        return jnp.arctan2(y, x)

    @arctan2.defjvp
    def _arctan2_jvp(primals: Any, tangents: Any) -> Any:
        y, x = primals
        ty, tx = tangents
        r = hypot(x, y)
        tip = r == 0.0
        rs = jnp.where(tip, 1.0, r)
        d_y = jnp.where(tip, 0.0, x / rs / rs)
        d_x = jnp.where(tip, 0.0, -(y / rs / rs))
        return arctan2(y, x), d_y * ty + d_x * tx

    @jax.custom_jvp
    def logaddexp(x: Any, y: Any) -> Any:
        return jnp.logaddexp(x, y)

    @logaddexp.defjvp
    def _logaddexp_jvp(primals: Any, tangents: Any) -> Any:
        x, y = map(jnp.asarray, primals)  # arrays: ~ on a Python bool is -2
        # as _logaddexp: sorted (hi, lo); (inf, ·) and (·, -inf) give (1, 0)
        tx, ty = tangents
        ge = x >= y
        d = jnp.where(ge, y - x, x - y)  # lo - hi <= 0; nan for equal infinities
        same_inf = jnp.isnan(d) & ~jnp.isnan(x) & ~jnp.isnan(y)
        ds = jnp.where(same_inf, -jnp.inf, d)
        s_hi, s_lo = jax.nn.sigmoid(-ds), jax.nn.sigmoid(ds)
        unordered = ~ge & ~(x < y)  # a nan operand: nan derivatives, as the rule
        d_x = jnp.where(unordered, jnp.nan, jnp.where(ge, s_hi, s_lo))
        d_y = jnp.where(unordered, jnp.nan, jnp.where(ge, s_lo, s_hi))
        return logaddexp(x, y), d_x * tx + d_y * ty

    return pow, hypot, arctan2, logaddexp


def to_jax(g: Any, inputs: Mapping[str, Any] | None = None, *, x64: bool = True) -> Callable[..., Any]:
    """A pure function of the graph's inputs (positional, in order) computing
    its output with ``jax.numpy``; ``jax.grad``/``jax.jit``/``jax.vmap``
    accept it. A static graph's parameters are constants by default; pass
    ``params=`` (a sequence/array, ``g.params`` order) to use and
    differentiate others. ``x64=True`` (default) turns on ``jax_enable_x64``
    so the function computes in float64 like autograd-core."""
    from ._ir import require
    jax = require("jax")
    if x64:
        jax.config.update("jax_enable_x64", True)
    ir = _ir.build(g, inputs)
    F = _JaxVocabulary(jax)
    jnp = jax.numpy
    nodes = ir.nodes
    defaults = [nodes[i].value for i in ir.params]
    n_in = len(ir.inputs)
    names = ", ".join(ir.input_names)

    def exported(*xs: Any, params: Any = None) -> Any:
        if len(xs) != n_in:
            raise TypeError(f"this function takes {n_in} input(s) ({names}), got {len(xs)}")
        P = defaults if params is None else params
        vals: list[Any] = [None] * len(nodes)
        for k, i in enumerate(ir.inputs):
            vals[i] = jnp.asarray(xs[k]) if not hasattr(xs[k], "dtype") else xs[k]
        for k, i in enumerate(ir.params):
            vals[i] = P[k]
        for i, n in enumerate(nodes):
            if n.kind == "const":
                vals[i] = jnp.asarray(n.value)
            elif n.kind == "op":
                args = [vals[j] for j in n.operands]
                if n.has_param:
                    args.append(n.param)
                vals[i] = EXPORTS[n.prim](F, *args)
        return vals[ir.output]

    exported.__name__ = "exported_graph"
    exported.__doc__ = f"The exported graph as a function of ({names})."
    return exported
