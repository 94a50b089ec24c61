"""``to_torch_source``: a graph as a small, readable PyTorch module file.

The file is generated from the primitives' exported forms, one line per
primitive node (``tanh_3 = torch.tanh(x)  # tanh``). User text never becomes
code: input names must be Python identifiers (checked), numbers are written
with ``repr``/``float('inf')``, and the formula itself appears only as a
string literal made by ``repr``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..core.primitives import EXPORTS
from . import _ir

_RESERVED = {"torch", "F", "self", "Formula", "FORMULA", "EXAMPLE", "formula", "forward",
             "ag_hypot", "ag_atan2", "ag_pow", "AgPow"}

# torch's hypot/atan2 derivatives are nan at the origin; autograd-core's rules
# (primitives.py ``_hypot``, ``_arctan2``) give 0 there. The file gets these
# helpers when used: the origin is replaced by a safe point inside the
# ``where`` (no nan through the unused branch), in value, first and second
# derivatives; elsewhere they are torch's own functions.
_HELPERS = {
    "ag_pow": [
        "class AgPow(torch.autograd.Function):",
        '    """torch.pow with autograd-core\'s derivatives at a zero base (d/dy = 0 at x = 0,',
        '    d/dx = 0 at (0, 0)), also in second derivatives: the local derivatives of its',
        '    rule, in torch, through ag_pow again; safe operands inside every where."""',
        "",
        "    @staticmethod",
        "    def forward(ctx, x, y):",
        "        ctx.save_for_backward(x, y)",
        "        return torch.pow(x, y)",
        "",
        "    @staticmethod",
        "    def backward(ctx, g):",
        "        x, y = ctx.saved_tensors",
        "        zero = x == 0",
        "        xs = torch.where(zero & (y < 1), 1.0, x)",
        "        inf_slope = zero & (y < 1) & (y != 0)",
        "        xz, yz = torch.where(inf_slope, x, 1.0), torch.where(inf_slope, y, 0.5)",
        "        d_base = torch.where(zero & (y == 0), 0.0, torch.where(",
        "            inf_slope, yz / ag_pow(xz, 1.0 - yz), ag_pow(xs, y - 1.0) * y))",
        "        pos = x > 0",
        "        xp = torch.where(pos, x, 1.0)",
        "        d_exp = torch.where(pos, torch.where(torch.pow(x, y) != 0, ag_pow(xp, y) * torch.log(xp),",
        "                                             0.0), torch.where(zero, 0.0, float('nan')))",
        "        return (g * d_base).sum_to_size(x.shape), (g * d_exp).sum_to_size(y.shape)",
        "",
        "",
        "def ag_pow(x, y):",
        "    return AgPow.apply(torch.as_tensor(x, dtype=torch.float64),",
        "                       torch.as_tensor(y, dtype=torch.float64))",
    ],
    "ag_hypot": [
        "def ag_hypot(x, y):",
        '    """torch.hypot, with the derivatives 0 at (0, 0) as autograd-core."""',
        "    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)",
        "    tip = (x == 0) & (y == 0)",
        "    return torch.where(tip, 0.0, torch.hypot(torch.where(tip, 1.0, x), "
        "torch.where(tip, 1.0, y)))",
    ],
    "ag_atan2": [
        "def ag_atan2(y, x):",
        '    """torch.atan2, with the derivatives 0 at (0, 0) as autograd-core."""',
        "    y, x = torch.as_tensor(y, dtype=torch.float64), torch.as_tensor(x, dtype=torch.float64)",
        "    tip = (y == 0) & (x == 0)",
        "    return torch.where(tip, torch.atan2(y, x).detach(),",
        "                       torch.atan2(torch.where(tip, 1.0, y), torch.where(tip, 1.0, x)))",
    ],
}


def _num(x: float) -> str:
    x = float(x)
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "float('-inf')"
    return repr(x) if x >= 0 else f"({x!r})"


class _Expr:
    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        self.code = code

    @staticmethod
    def of(x: Any) -> str:
        if isinstance(x, _Expr):
            return x.code
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return _num(x)
        raise _ir.ExportError(f"cannot write a {type(x).__name__} into generated code")

    def _b(self, a: Any, op: str, b: Any) -> _Expr:
        return _Expr(f"({self.of(a)} {op} {self.of(b)})")

    def __add__(self, o: Any) -> _Expr: return self._b(self, "+", o)
    def __radd__(self, o: Any) -> _Expr: return self._b(o, "+", self)
    def __sub__(self, o: Any) -> _Expr: return self._b(self, "-", o)
    def __rsub__(self, o: Any) -> _Expr: return self._b(o, "-", self)
    def __mul__(self, o: Any) -> _Expr: return self._b(self, "*", o)
    def __rmul__(self, o: Any) -> _Expr: return self._b(o, "*", self)
    def __truediv__(self, o: Any) -> _Expr: return self._b(self, "/", o)
    def __rtruediv__(self, o: Any) -> _Expr: return self._b(o, "/", self)
    def __neg__(self) -> _Expr: return _Expr(f"(-{self.code})")
    def __gt__(self, o: Any) -> _Expr: return self._b(self, ">", o)
    def __lt__(self, o: Any) -> _Expr: return self._b(self, "<", o)
    def __ge__(self, o: Any) -> _Expr: return self._b(self, ">=", o)
    def __le__(self, o: Any) -> _Expr: return self._b(self, "<=", o)

    def __bool__(self) -> bool:
        raise _ir.ExportError("an exported form branched on a value in Python; use F.where")


def _call(fn: str, *args: Any) -> _Expr:
    return _Expr(f"{fn}({', '.join(_Expr.of(a) for a in args)})")


_TORCH_NAMES = {n: n for n in ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tanh",
                                "erf", "erfc", "sigmoid", "abs", "tan", "sinh", "cosh", "log2",
                                "log10", "sign", "floor", "ceil", "maximum", "minimum",
                                "logaddexp")}
_TORCH_NAMES.update(arcsin="asin", arccos="acos", arctan="atan", arcsinh="asinh",
                    arccosh="acosh", arctanh="atanh")


class _TorchSourceVocabulary:
    """The vocabulary ``F`` of the exported forms, written as torch calls."""

    def __init__(self) -> None:
        self.helpers: list[str] = []  # the _HELPERS the file needs, in first-use order

    def _helper(self, name: str, *xs: Any) -> _Expr:
        if name not in self.helpers:
            self.helpers.append(name)
        return _call(name, *xs)

    def hypot(self, x: Any, y: Any) -> _Expr:
        return self._helper("ag_hypot", x, y)

    def arctan2(self, y: Any, x: Any) -> _Expr:
        return self._helper("ag_atan2", y, x)

    def __getattr__(self, name: str) -> Any:
        fn = _TORCH_NAMES.get(name)
        if fn is None:
            raise AttributeError(name)
        return lambda *xs: _call(f"torch.{fn}", *xs)

    def softplus(self, x: Any) -> _Expr:
        # threshold 40: in float64 torch's log1p(exp(x)) is used up to where it equals x
        return _Expr(f"F.softplus({_Expr.of(x)}, beta=1.0, threshold=40.0)")

    def pow(self, a: Any, b: Any) -> _Expr:
        return self._helper("ag_pow", a, b)

    def where(self, c: Any, a: Any, b: Any) -> _Expr:
        return _call("torch.where", c, a, b)

    def sum(self, xs: Any) -> _Expr:
        xs = list(xs)
        out = _Expr(_Expr.of(xs[0]))
        for x in xs[1:]:
            out = out + x
        return out


def to_torch_source(g: Any, inputs: Mapping[str, Any] | None = None, *,
                    formula: str | None = None, example: Mapping[str, float] | None = None) -> str:
    """Python source of a module file with ``class Formula(torch.nn.Module)``
    whose ``forward(<inputs>)`` computes the graph (float64 tensors of any
    shape, elementwise), and ``formula(**inputs)`` for convenience."""
    ir = _ir.build(g, inputs)
    for s in ir.shapes:
        if s is not None:
            raise _ir.ExportError("to_torch_source writes scalar (Value) graphs; for Tensor "
                                  "graphs use to_onnx or to_jax")
    names = [_ir.check_identifier(n, "input name") for n in ir.input_names]
    F = _TorchSourceVocabulary()
    vals: list[Any] = [None] * len(ir.nodes)
    body: list[str] = []
    taken = set(_RESERVED)
    for n in names:
        if n in taken:
            raise ValueError(f"input name {n!r} is reserved in the generated file; rename it")
        taken.add(n)
    for i in ir.inputs:
        vals[i] = _Expr(ir.nodes[i].name)
    for i, p in enumerate(ir.params):
        vals[p] = _Expr(_num(ir.nodes[p].value))
    for i, n in enumerate(ir.nodes):
        if n.kind == "const":
            vals[i] = _Expr(_num(n.value))
        elif n.kind == "op":
            args = [vals[j] for j in n.operands]
            if n.has_param:
                p = n.param
                args.append(tuple(float(v) for v in p) if isinstance(p, (tuple, list))
                            else float(p))
            var = n.name
            if var in taken:
                raise ValueError(f"input name {var!r} is also a generated name; rename it")
            taken.add(var)
            expr = EXPORTS[n.prim](F, *args)
            code = _Expr.of(expr)
            if code.startswith("(") and code.endswith(")") and _balanced(code[1:-1]):
                code = code[1:-1]
            body.append(f"        {var} = {code}  # {n.prim}")
            vals[i] = _Expr(var)
    out = _Expr.of(vals[ir.output])
    sig = ", ".join(names)
    lines = [
        '"""A formula exported from autograd-core as a PyTorch module (autograd-core export).',
        "",
        "    from this_file import Formula",
        f"    Formula()({sig or ''})   # float64 tensors; .backward() gives the gradients",
        '"""',
        "",
        "import torch",
        "import torch.nn.functional as F",
        "",
        f"FORMULA = {formula!r}" if formula is not None else "FORMULA = None",
        f"EXAMPLE = {_example(example, names)}",
        "",
        "",
        *[line for h in F.helpers for line in (*_HELPERS[h], "", "")],
        "class Formula(torch.nn.Module):",
        '    """The formula, one line per autograd-core primitive."""',
        "",
        f"    def forward(self{', ' if sig else ''}{sig}):",
        *body,
        f"        return {out}",
        "",
        "",
        f"def formula({sig}):",
        f"    return Formula()({sig})",
        "",
    ]
    src = "\n".join(lines)
    compile(src, "<generated>", "exec")  # a syntax check of our own output, never executed here
    return src


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def _example(example: Mapping[str, float] | None, names: list[str]) -> str:
    if not example:
        return "{}"
    items = []
    for k in names:
        if k in example:
            items.append(f"{k!r}: {_num(example[k])}")
    return "{" + ", ".join(items) + "}"
