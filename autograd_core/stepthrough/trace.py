"""Step through the chain rule on any graph: ``explain(output) -> Trace``.

A :class:`Trace` shows what the engine did, in the form of the textbook chapter's
table (计算图):

* :attr:`Trace.forward_rows`: every node in evaluation order with its value
  and its local derivatives, both as a formula (``exp(h3)``, ``-1/h5^2``) and
  as a number;
* :attr:`Trace.backward_steps`: reverse mode, one step per computed node:
  upstream gradient, local × upstream = contribution, and the parent's
  accumulated gradient after the step;
* :meth:`Trace.forward_mode`: forward mode, tangents pushed from one input;
* :meth:`Trace.paths`: ∂out/∂input as a sum over graph paths of products of
  local derivatives.

Every number comes from what the forward pass recorded (``node._local``) or
from the engine's drivers (:func:`~autograd_core.core.engine.gradients`,
:func:`~autograd_core.core.engine.push_tangents`); every formula comes from
evaluating the same primitive rule on :class:`~autograd_core.stepthrough.symbolic.Sym`
objects named after the parents. Names come from
:func:`autograd_core.core.naming.node_names` (labels, else ``h1, h2, ...``).
Explaining touches no ``.grad``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core.engine import Value, display_bundle, gradients, push_tangents, topological_order
from ..core.naming import node_names
from .parser import _check_value_name
from .symbolic import ATOM, MUL, Expr, Sym, expr_scope, fmt_number, literal

__all__ = [
    "explain", "Trace", "ForwardRow", "LocalDerivative", "BackwardStep", "Contribution",
    "ForwardModeTable", "TangentRow", "TangentTerm", "Factor", "Path", "PathSum",
]

#: ``Trace.paths`` refuses to list more paths than this unless given a ``limit``.
DEFAULT_PATH_LIMIT = 1000


# ---------------------------------------------------------------- formatting

def num(x: Any) -> str:
    """A value for a table: 6 significant digits, ``-0`` shown as ``0``."""
    x = float(x)
    if x == 0.0:
        return "0"
    if x != x or math.isinf(x):
        return fmt_number(x)
    s = f"{x:.6g}"
    return s


def _json_num(x: Any) -> Any:
    """A float for JSON: non-finite numbers become the strings inf, -inf, nan."""
    x = float(x)
    if math.isfinite(x):
        return x
    return fmt_number(x)


def _paren_num(x: float) -> str:
    s = num(x)
    return f"({s})" if s.startswith("-") else s


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = []
    for r in [headers, *rows]:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    return "\n".join(out)


def _d(a: str, b: str) -> str:
    return f"∂{a}/∂{b}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 multiplication``, ``2 multiplications``, ``1 pass``, ``3 passes``."""
    if n == 1:
        return f"1 {word}"
    if many is None:
        many = word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
    return f"{n} {many}"


#: the name of an unlabelled output (then ``F``, ``out`` if a node has the name)
OUTPUT_NAMES = ("f", "F", "out")


def _output_name(output: Value, names: dict[Value, str]) -> str:
    """The output's name in derivatives: its label, else ``f`` (the textbook's
    f(x; w, b); its row keeps its ``h`` number: f = h6, ∂f/∂h6 = 1), unless a
    node already has that name."""
    if output.label or not output._parents:
        return names[output]
    used = set(names.values())
    for cand in OUTPUT_NAMES:
        if cand not in used:
            return cand
    return names[output]


# ---------------------------------------------------------------- LaTeX

import re as _re  # noqa: E402

_LATEX_TOKEN = _re.compile(r"[^\W\d][\w.']*|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|\s+|.")
_LATEX_FUNCS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                "σ": r"\sigma", "abs": r"\operatorname{abs}"}
_LATEX_SPECIAL = {"#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "\\": r"\backslash{}", "_": r"\_"}
_LATEX_SYMBOLS = {"·": r" \cdot ", "×": r" \times ", "∂": r"\partial ", "σ": r"\sigma",
                  "−": "-", "⇒": r"\Rightarrow ", "→": r"\to ", "‖": r"\|"}


def latex_name(name: str) -> str:
    """A node name in LaTeX: ``h6`` -> ``h_{6}``, ``w_2`` -> ``w_{2}``, Greek
    kept, anything else as upright text with its special characters escaped."""
    m = _re.fullmatch(r"([A-Za-z]|[\u0370-\u03ff])_?(\d+)", name)
    if m:
        base = _LATEX_SYMBOLS.get(m.group(1), m.group(1))
        return f"{base}_{{{m.group(2)}}}"
    if _re.fullmatch(r"[A-Za-z]", name):
        return name
    if name in _LATEX_SYMBOLS:
        return _LATEX_SYMBOLS[name]
    if name in ("inf", "-inf", "nan"):
        return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}[name]
    return r"\mathrm{" + "".join(_LATEX_SPECIAL.get(c, c) for c in name) + "}"


def latex_formula(text: str) -> str:
    r"""A formula as ``explain`` writes it (``x·exp(-x·w - b)/(exp(-x·w - b) + 1)^2``,
    ``0.5/sqrt(h3)``, ``σ'(z1)``) in LaTeX: names subscripted, ``sqrt(u)`` as
    ``\sqrt{u}``, powers braced, special characters escaped (user labels are data)."""
    toks = [t for t in _LATEX_TOKEN.findall(text) if not t.isspace()]
    out, _ = _latex_seq(toks, 0, None)
    return out


def _latex_group(toks: list[str], i: int) -> tuple[str, int]:
    """The parenthesised group starting at toks[i] == "(": (inner LaTeX, index after ')')."""
    inner, i = _latex_seq(toks, i + 1, ")")
    return inner, i + 1


def _latex_seq(toks: list[str], i: int, stop: str | None) -> tuple[str, int]:
    out: list[str] = []
    while i < len(toks) and toks[i] != stop:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if t == "(":
            inner, i = _latex_group(toks, i)
            out.append(r"\left(" + inner + r"\right)")
            continue
        if t == "^":
            if nxt == "(":
                inner, i = _latex_group(toks, i + 1)
            else:
                inner, i = _latex_seq([nxt], 0, None)[0], i + 2
            out.append("^{" + inner + "}")
            continue
        if nxt == "(" and (t == "sqrt" or t.rstrip("'") in _LATEX_FUNCS or t[0].isalpha()
                           or t.rstrip("'") == "σ"):
            inner, i = _latex_group(toks, i + 1)
            if t == "sqrt":
                out.append(r"\sqrt{" + inner + "}")
            else:
                base = t.rstrip("'")
                primes = "'" * (len(t) - len(base))
                fn = _LATEX_FUNCS.get(base) or r"\operatorname{" + "".join(
                    _LATEX_SPECIAL.get(c, c) for c in base) + "}"
                out.append(fn + primes + r"\left(" + inner + r"\right)")
            continue
        if t[0].isalpha() or t[0] == "_":
            base = t.rstrip("'")
            out.append(latex_name(base) + "'" * (len(t) - len(base)))
        elif t[0].isdigit() or t[0] == ".":
            out.append(t)
        else:
            out.append(_LATEX_SYMBOLS.get(t, _LATEX_SPECIAL.get(t, t)))
        i += 1
    return "".join(out).replace("  ", " ").strip(), i


def _latex_d(a: str, b: str) -> str:
    return rf"\frac{{\partial {latex_name(a)}}}{{\partial {latex_name(b)}}}"


def _latex_num(x: float, paren: bool = False) -> str:
    r"""A number in LaTeX (``1.5 \times 10^{-7}``); ``paren``: a negative one in
    parentheses (inside a product)."""
    s = num(x)
    if s in ("inf", "-inf", "nan"):
        return latex_name(s)
    if "e" in s:
        mant, _, ex = s.partition("e")
        s = rf"{mant} \times 10^{{{int(ex)}}}"
    return f"({s})" if paren and s.startswith("-") else s


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class LocalDerivative:
    """∂node/∂parent: its formula and its value (from the forward pass)."""

    parent: str
    symbolic: str
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "symbolic": self.symbolic, "value": _json_num(self.value)}


@dataclass(frozen=True)
class ForwardRow:
    """One node of the graph in evaluation order.

    ``op`` is the primitive's name, or ``"input"`` / ``"constant"`` for a
    labelled / unlabelled leaf; ``expression`` what the node computes in terms
    of its inputs' names (``x·w``, ``exp(h3)``)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    param: Any
    expression: str
    value: float
    derivatives: tuple[LocalDerivative, ...]

    @property
    def is_leaf(self) -> bool:
        return not self.inputs

    def to_dict(self) -> dict[str, Any]:
        param = self.param
        if isinstance(param, tuple):
            param = [_json_num(p) for p in param]
        elif isinstance(param, float):
            param = _json_num(param)
        return {"name": self.name, "op": self.op, "inputs": list(self.inputs), "param": param,
                "expression": self.expression, "value": _json_num(self.value),
                "derivatives": [d.to_dict() for d in self.derivatives]}


@dataclass(frozen=True)
class Contribution:
    """One parent's share of a backward step: ``local × upstream = contribution``,
    and the parent's accumulated gradient after adding it."""

    parent: str
    symbolic: str
    local: float
    upstream: float
    contribution: float
    accumulated: float

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "symbolic": self.symbolic, "local": _json_num(self.local),
                "upstream": _json_num(self.upstream),
                "contribution": _json_num(self.contribution),
                "accumulated": _json_num(self.accumulated)}


@dataclass(frozen=True)
class BackwardStep:
    """Reverse mode at one computed node: its upstream gradient ∂out/∂node
    (complete at this point) handed to each parent."""

    node: str
    upstream: float
    contributions: tuple[Contribution, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "upstream": _json_num(self.upstream),
                "contributions": [c.to_dict() for c in self.contributions]}


@dataclass(frozen=True)
class TangentTerm:
    """``local × tangent(parent) = product`` in forward mode."""

    parent: str
    symbolic: str
    local: float
    tangent: float
    product: float

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "symbolic": self.symbolic, "local": _json_num(self.local),
                "tangent": _json_num(self.tangent), "product": _json_num(self.product)}


@dataclass(frozen=True)
class TangentRow:
    """Forward mode at one node: its tangent ∂node/∂input and the terms summed."""

    name: str
    value: float
    tangent: float
    terms: tuple[TangentTerm, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": _json_num(self.value),
                "tangent": _json_num(self.tangent), "terms": [t.to_dict() for t in self.terms]}


@dataclass
class ForwardModeTable:
    """Forward mode from one input, with operation counts of both modes.

    ``counts``: ``forward_multiplications`` (local × tangent products this
    pass needs: one per edge whose parent depends on the input),
    ``forward_passes_for_all`` (one pass per input of the trace),
    ``forward_multiplications_for_all``, ``reverse_passes`` (1) and
    ``reverse_multiplications`` (one per edge of the graph, all inputs at once).
    """

    input: str
    output: str
    rows: list[TangentRow]
    gradient: float
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output,
                "rows": [r.to_dict() for r in self.rows],
                "gradient": _json_num(self.gradient), "counts": dict(self.counts)}

    def _rows(self) -> list[list[str]]:
        out = []
        for r in self.rows:
            if r.terms:
                terms = " + ".join(f"{_paren_num(t.local)} × {_paren_num(t.tangent)}"
                                   for t in r.terms)
                out.append([r.name, num(r.value), ", ".join(t.parent for t in r.terms), terms,
                            num(r.tangent)])
            else:
                out.append([r.name, num(r.value), "", "start" if r.name == self.input else "",
                            num(r.tangent)])
        return out

    def _headers(self) -> list[str]:
        return ["node", "value", "parents", "local × parent's tangent",
                f"tangent {_d('node', self.input)}"]

    def _counts_text(self) -> str:
        return (f"forward mode: {plural(self.counts['forward_multiplications'], 'multiplication')} "
                f"(local × tangent) for {_d(self.output, self.input)}")

    def to_text(self) -> str:
        return (f"Forward mode: tangents pushed from {self.input} "
                f"(starting tangent {_d(self.input, self.input)} = 1)\n"
                + _table(self._headers(), self._rows())
                + f"\n{_d(self.output, self.input)} = {num(self.gradient)}\n" + self._counts_text())

    def to_markdown(self) -> str:
        return (f"### Forward mode from {self.input}\n\n"
                + _md_table(self._headers(), self._rows())
                + f"\n\n{_d(self.output, self.input)} = {num(self.gradient)}\n\n"
                + self._counts_text() + "\n")


@dataclass(frozen=True)
class Factor:
    """One factor of a path product: ∂child/∂parent, its formula, a short
    form for the path's formula (``σ'(z1)`` for a function's derivative) and
    its value."""

    child: str
    parent: str
    symbolic: str
    short: str
    value: float

    @property
    def notation(self) -> str:
        return _d(self.child, self.parent)

    def to_dict(self) -> dict[str, Any]:
        return {"child": self.child, "parent": self.parent, "symbolic": self.symbolic,
                "short": self.short, "value": _json_num(self.value)}


@dataclass(frozen=True)
class Path:
    """One path of the graph from the input up to the output.

    ``nodes`` runs input → output; ``factors`` runs output → input, the order
    in which reverse mode multiplies them (as the textbook chapter's table does): first
    ∂out/∂end (1 when the path ends at the output), then each local
    derivative down to the input. ``value`` is their product."""

    nodes: tuple[str, ...]
    factors: tuple[Factor, ...]
    value: float

    def product(self) -> str:
        """``1 × (-0.25) × 1 × 1 × (-1) × 1 × 1 = 0.25``: the factors' values
        in reverse-mode order."""
        return " × ".join(_paren_num(f.value) for f in self.factors) + f" = {num(self.value)}"

    def formula(self) -> str:
        """The factors as formulas, read along the path from the input to the
        output (``σ'(z1)·w2·σ'(z2)·…·∂C/∂a4``); factors that are the constant
        1 are left out."""
        parts = []
        for f in reversed(self.factors):
            if f.short == "1":
                continue
            parts.append(f.short)
        return "·".join(parts) if parts else "1"

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "factors": [f.to_dict() for f in self.factors],
                "value": _json_num(self.value), "product": self.product(),
                "formula": self.formula()}


@dataclass
class PathSum:
    """∂output/∂input as the sum over graph paths of products of local
    derivatives. With ``through`` set, paths stop at that node and each
    product ends with ∂output/∂through (taken from reverse mode)."""

    input: str
    output: str
    through: str
    paths: list[Path]
    total: float
    gradient: float  # ∂output/∂input from the engine, for comparison

    def formula(self) -> str:
        """``∂C/∂b1 = σ'(z1)·w2·…`` (a sum when there are several paths)."""
        body = " + ".join(p.formula() for p in self.paths) if self.paths else "0"
        return f"{_d(self.output, self.input)} = {body}"

    def to_text(self) -> str:
        lines = [f"Paths from {self.input} to {self.output}"
                 + (f" through {self.through}" if self.through != self.output else "")
                 + f": {len(self.paths)}"]
        for i, p in enumerate(self.paths, 1):
            lines.append(f"path {i}: " + " → ".join(p.nodes)
                         + (f" ⇒ {self.output}" if self.through != self.output else ""))
            rows = [[f.notation, f.symbolic, num(f.value)] for f in p.factors]
            lines.append(_table(["factor", "formula", "value"], rows))
            lines.append("product: " + p.product())
        lines.append(self.formula())
        vals = " + ".join(_paren_num(p.value) for p in self.paths) if self.paths else "0"
        total = num(self.total) if vals == num(self.total) else f"{vals} = {num(self.total)}"
        lines.append(f"{_d(self.output, self.input)} = {total}"
                     f"   (reverse mode: {num(self.gradient)})")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        out = [f"### Paths from {self.input} to {self.output}\n"]
        for i, p in enumerate(self.paths, 1):
            out.append(f"**path {i}**: " + " → ".join(p.nodes) + "\n")
            out.append(_md_table(["factor", "formula", "value"],
                                 [[f.notation, f.symbolic, num(f.value)] for f in p.factors]))
            out.append(f"\nproduct: {p.product()}\n")
        out.append(f"{self.formula()}\n")
        out.append(f"{_d(self.output, self.input)} = {num(self.total)} "
                   f"(reverse mode: {num(self.gradient)})\n")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output, "through": self.through,
                "paths": [p.to_dict() for p in self.paths], "total": _json_num(self.total),
                "gradient": _json_num(self.gradient), "formula": self.formula()}


# ---------------------------------------------------------------- symbolic rules

def _symbolic(node: Value, names: dict[Value, str]) -> tuple[str, tuple[Sym, ...]]:
    """What ``node`` computes and its local derivatives, as formulas, from its
    primitive's rule evaluated on symbols named after its parents."""
    prim = node._prim
    parents = node._parents
    pnames = [names[p] for p in parents]
    extra = (node._param,) if prim.has_param else ()

    def syms() -> list[Sym]:
        return [Sym(n, p._data) for n, p in zip(pnames, parents)]

    written_by_rule = prim.infix or prim.name == "neg" or prim.arity is None
    expression = ""
    if written_by_rule:
        try:
            with literal():
                out = prim.rule(*syms(), *extra)[0]
            expression = out.text if isinstance(out, Sym) else fmt_number(out)
        except Exception:  # noqa: BLE001 - a rule that cannot run on symbols still gets a row
            expression = ""
    if not expression:
        args = ", ".join(pnames)
        if prim.has_param and node._param is not None:
            p = node._param
            shown = ("(" + ", ".join(fmt_number(c) for c in p) + ")") if isinstance(p, tuple) \
                else fmt_number(p) if isinstance(p, float) else str(p)
            args += f", {prim.param}={shown}"
        expression = f"{prim.symbol or prim.name}({args})"
    try:
        locs = prim.rule(*syms(), *extra)[1]
        derivs = tuple(d if isinstance(d, Sym) else Sym.number(d) for d in locs)
        if len(derivs) != len(parents):
            raise ValueError("rule gave the wrong number of derivatives")
    except Exception:  # noqa: BLE001 - fall back to the notation, never fail a trace
        derivs = tuple(Sym(_d(names[node], n), v) for n, v in zip(pnames, node._local))
    return expression, derivs


def _short(node: Value, parent_name: str, d: Sym) -> str:
    """The factor as the path formula writes it: a function's derivative that
    is not a single term is written ``f'(arg)`` (``σ'(z1)``)."""
    prim = node._prim
    is_function = prim.arity == 1 and not prim.infix and prim.name != "neg"
    if is_function and d.prec != ATOM:
        return f"{prim.symbol or prim.name}'({parent_name})"
    if d.prec >= MUL and not d.text.startswith("-"):
        return d.text
    return f"({d.text})"


#: whole-gradient formulas are built for graphs up to this many nodes and shown
#: up to this many characters
FORMULA_NODES = 200
FORMULA_CHARS = 240


def gradient_formulas(output: Value, wrt: Iterable[Value], names: dict[Value, str],
                      order: list[Value]) -> dict[Value, str | None]:
    """∂output/∂x for each x of ``wrt`` as one simplified formula in the
    graph's inputs (``x/sqrt(x^2 + y^2)``): reverse mode run on
    :class:`~autograd_core.stepthrough.symbolic.Expr` formulas, each local derivative from
    the primitive's own rule. None where the graph is too big, the formula too
    long, or a rule cannot run on formulas."""
    wrt = list(wrt)
    none: dict[Value, str | None] = {x: None for x in wrt}
    if len(order) > FORMULA_NODES:
        return none
    with expr_scope():
        try:
            expr: dict[Value, Expr] = {}
            local: dict[Value, tuple[Any, ...]] = {}
            for n in order:
                if not n._parents:
                    expr[n] = (Expr.symbol(names[n], n._data) if n.label
                               else Expr.number(n._data))
                    continue
                prim = n._prim
                extra = (n._param,) if prim.has_param else ()
                val, locs = prim.rule(*(expr[p] for p in n._parents), *extra)
                expr[n] = val if isinstance(val, Expr) else Expr.number(val)
                local[n] = tuple(d if isinstance(d, Expr) else Expr.number(d) for d in locs)
            adj: dict[Value, Expr] = {output: Expr.number(1.0)}
            for n in reversed(order):
                if not n._parents or n not in adj:
                    continue
                for p, d in zip(n._parents, local[n]):
                    c = d * adj[n]
                    adj[p] = adj[p] + c if p in adj else c
            out: dict[Value, str | None] = {}
            for x in wrt:
                if x in adj and not adj[x].holds():  # simplified past a 0·inf at the point
                    out[x] = None
                    continue
                text = adj[x].text if x in adj else "0"
                out[x] = text if len(text) <= FORMULA_CHARS else None
            return out
        except Exception:  # noqa: BLE001 - a rule that cannot run on formulas: no formula
            return none


# ---------------------------------------------------------------- Trace

# ---------------------------------------------------------------- annotations
# Nodes exactly on a kink (which convention the rule took) and nodes whose
# value or gradient is NaN/inf (with the first cause). Kept apart from the
# tables: Trace.__init__ calls annotate() once; the outputs print the notes.

def _kink_note(node: Value, name: str, names: dict[Value, str] | None = None) -> str | None:
    """The note for a node sitting exactly on a corner or a jump of its
    primitive in one of its operands: the rule run just left and just right
    of the operand (its own branches) gives different derivatives (a corner)
    or values (a jump). Declared kinks and the others alike (a tie of
    maximum, clip at a bound, hypot or arctan2 at the origin, sign at 0),
    and not hypot at (0, 1), where only the declared x = 0 matches."""
    prim = node._prim
    if prim is None or not node._parents or prim.arity is None:
        return None
    datas = [p._data for p in node._parents]
    if not all(type(d) is float and math.isfinite(d) for d in datas):
        return None
    extra = (node._param,) if prim.has_param else ()
    conv = f" ({prim.convention})" if prim.convention else ""
    for i, x in enumerate(datas):
        sides = []
        for side in (-math.inf, math.inf):  # the rule's own branch on each side
            args = list(datas)
            args[i] = math.nextafter(x, side)
            try:
                v, loc = prim.rule(*args, *extra)
                sides.append((float(v), float(loc[i])))
            except (ArithmeticError, ValueError, TypeError):
                sides.append((math.nan, math.nan))
        (vl, dl), (vr, dr) = sides
        if not all(math.isfinite(t) for t in (vl, dl, vr, dr)) or max(abs(dl), abs(dr)) > 1e12:
            continue  # an edge of the domain, or a pole (tan at pi/2): not a corner
        jump = abs(vl - vr) > 1e-9 * (1.0 + abs(vl) + abs(vr))
        corner = abs(dl - dr) > 1e-6 * (1.0 + abs(dl) + abs(dr))
        if not (jump or corner):
            continue
        taken = num(float(node._local[i]))
        if len(datas) == 1:
            at = f"{prim.name}'({num(x)})"
        else:
            parent = names.get(node._parents[i]) if names else None
            wrt = parent if parent else f"operand {i + 1}"
            at = (f"∂{name}/∂{wrt} of {prim.name}({', '.join(num(d) for d in datas)})")
        if jump:
            return (f"on a jump: {at} taken as {taken}{conv}; the value jumps from "
                    f"{num(vl)} to {num(vr)}")
        return f"on a kink: {at} taken as {taken}{conv}; the one-sided derivatives are {num(dl)} and {num(dr)}"
    return None


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def annotate(trace: Trace) -> dict[str, tuple[str, ...]]:
    """Notes per node name: kinks, NaN/inf values (first cause) and NaN/inf
    gradients (first cause, in backward order)."""
    names = trace._names
    notes: dict[str, list[str]] = {}
    cause: dict[Value, Value] = {}  # node -> the first node that made a non-finite value
    for n in trace._order:
        nm = names[n]
        if n._parents:
            k = _kink_note(n, nm, names)
            if k:
                notes.setdefault(nm, []).append(k)
        elif n.label and nm == n.label:
            try:
                _check_value_name(n.label)
            except ValueError as e:  # a Value labelled pi, exp, lambda, ...
                notes.setdefault(nm, []).append(
                    f"a variable labelled {n.label!r} ({e}): read the formulas with that in mind; "
                    "they do not parse back as written")
        if _finite(n._data):
            continue
        bad_parents = [cause[p] for p in n._parents if p in cause]
        if not n._parents:
            cause[n] = n
            notes.setdefault(nm, []).append(f"value {num(n._data)}: an input that is not finite")
        elif not bad_parents:
            cause[n] = n
            ops = ", ".join(num(p._data) for p in n._parents)
            notes.setdefault(nm, []).append(
                f"value {num(n._data)} from finite operands ({n._prim.name} of {ops}): "
                "the first cause")
        else:
            first = bad_parents[0]
            cause[n] = first
            notes.setdefault(nm, []).append(
                f"value {num(n._data)}, first caused by {names[first]} "
                f"({first._prim.name if first._prim else 'input'} = {num(first._data)})")
    first_grad: str | None = None
    for step in trace.backward_steps:
        for c in step.contributions:
            if _finite(c.contribution) or first_grad is not None:
                continue
            if not _finite(step.upstream):
                continue
            first_grad = (f"{_d(step.node, c.parent)} = {num(c.local)} ({c.symbolic}) "
                          f"times {num(step.upstream)} at {step.node}")
    seed = names[trace.output]
    for n in trace._order:
        g = trace._adjoint.get(n, 0.0)
        if _finite(g):
            continue
        nm = names[n]
        why = first_grad if first_grad is not None else (
            "the starting gradient" if n is trace.output else "a non-finite value upstream")
        notes.setdefault(nm, []).append(f"gradient {_d(seed, nm)} = {num(g)}; first cause: {why}")
    return {k: tuple(v) for k, v in notes.items()}


def _note_lines(trace: Trace) -> list[str]:
    return [f"{name}: {note}" for name, ns in trace.annotations.items() for note in ns]


class Trace:
    """The chain rule on one graph, step by step (see :func:`explain`).

    Attributes: ``output`` (its name), ``value``, ``forward_rows``,
    ``backward_steps``, ``wrt`` (names of the inputs explained) and
    ``gradients`` (name → ∂output/∂input, from the engine)."""

    def __init__(self, output: Value, wrt: Iterable[Value | str] | Value | str | None = None) -> None:
        if not isinstance(output, Value):
            raise TypeError(f"explain needs a Value, got {type(output).__name__}")
        self._root = output
        self._order = topological_order(output)
        self._names = node_names(output, self._order)
        self._by_name = {n: v for v, n in self._names.items()}
        #: the output Value (the root of the graph explained)
        self.output: Value = output
        #: its name in the derivatives ∂f/∂x: its label, else ``f`` (its row keeps
        #: its h number: :attr:`output_node`)
        self.output_name: str = _output_name(output, self._names)
        #: the output's row name in the tables (its label, or h1, h2, ...)
        self.output_node: str = self._names[output]
        if self.output_name != self.output_node:
            self._by_name.setdefault(self.output_name, output)
        self.value: float = output._data

        self._wrt_nodes = self._resolve_wrt(wrt)
        self.wrt: tuple[str, ...] = tuple(self._name_of(v) for v in self._wrt_nodes)
        # inputs asked for that the output does not depend on (gradient 0)
        self._outside = {name: v for name, v in zip(self.wrt, self._wrt_nodes)
                         if v not in self._names}

        self._syms: dict[Value, tuple[Sym, ...]] = {}
        rows = []
        for n in self._order:
            name = self._names[n]
            if not n._parents:
                rows.append(ForwardRow(name, "input" if n.label else "constant", (), None, name
                                       if n.label else fmt_number(n._data), n._data, ()))
                continue
            expression, derivs = _symbolic(n, self._names)
            self._syms[n] = derivs
            pnames = tuple(self._names[p] for p in n._parents)
            rows.append(ForwardRow(name, n._prim.name, pnames, n._param, expression, n._data,
                                   tuple(LocalDerivative(pn, d.text, l)
                                         for pn, d, l in zip(pnames, derivs, n._local))))
        self.forward_rows: list[ForwardRow] = rows

        # reverse mode, narrated: the same accumulation as engine._backprop, from node._local
        adj: dict[Value, float] = {n: 0.0 for n in self._order}
        adj[output] = 1.0
        steps = []
        for n in reversed(self._order):
            if not n._parents:
                continue
            g = adj[n]
            contribs = []
            for p, loc, d in zip(n._parents, n._local, self._syms[n]):
                c = loc * g
                adj[p] += c
                contribs.append(Contribution(self._names[p], d.text, loc, g, c, adj[p]))
            steps.append(BackwardStep(self._names[n], g, tuple(contribs)))
        self.backward_steps: list[BackwardStep] = steps
        self._adjoint = adj
        #: ∂output/∂node for every node (by name), as the backward steps leave it
        self.adjoints: dict[str, float] = {self._names[n]: adj[n] for n in self._order}

        grads = gradients(output, list(self._wrt_nodes)) if self._wrt_nodes else []
        self.gradients: dict[str, float] = dict(zip(self.wrt, grads))
        #: node name -> notes: on a kink (the convention taken), NaN/inf value or
        #: gradient (with the first cause)
        self.annotations: dict[str, tuple[str, ...]] = annotate(self)
        forms = gradient_formulas(output, self._wrt_nodes, self._names, self._order)
        #: ∂output/∂input as one simplified formula in the inputs (None when not
        #: available: see :func:`gradient_formulas`)
        self.formulas: dict[str, str | None] = {n: forms[v] for n, v in zip(self.wrt, self._wrt_nodes)}

    # ------------------------------------------------------------ inputs
    def _name_of(self, v: Value) -> str:
        name = self._names.get(v)
        if name is not None:
            return name
        if v.label and v.label not in self._by_name:
            return v.label
        raise ValueError(f"{v!r} is not in the graph of the output and has no label of its own "
                         "to name it by")

    def _resolve_one(self, w: Any, i: int) -> Value:
        if isinstance(w, Value):
            return w
        if isinstance(w, str):
            try:
                return self._by_name[w]
            except KeyError:
                outside = getattr(self, "_outside", {})
                if w in outside:
                    return outside[w]
                known = ", ".join(self._names[n] for n in self._order if not n._parents)
                raise ValueError(f"no node named {w!r} in the graph (its inputs: {known})") from None
        raise TypeError(f"wrt[{i}] must be a Value or a node name, not {type(w).__name__}")

    def _resolve_wrt(self, wrt: Any) -> tuple[Value, ...]:
        if wrt is None:
            return tuple(n for n in self._order if not n._parents)
        if isinstance(wrt, (Value, str)):
            wrt = [wrt]
        try:
            items = list(wrt)
        except TypeError:
            raise TypeError(f"wrt must be a Value, a name or an iterable of them, not "
                            f"{type(wrt).__name__}") from None
        out: list[Value] = []
        for i, w in enumerate(items):
            v = self._resolve_one(w, i)
            if v not in out:
                out.append(v)
        return tuple(out)

    def _node(self, input: Value | str) -> Value:  # noqa: A002 - the issue's name
        v = self._resolve_one(input, 0)
        if v not in self._names and v not in self._outside.values():
            raise ValueError(f"{self._name_of(v)} is not in the graph of {self.output_name}")
        return v

    # ------------------------------------------------------------ forward mode
    def forward_mode(self, input: Value | str) -> ForwardModeTable:  # noqa: A002
        """Forward mode from ``input`` (a Value or a node name): each node's
        tangent ∂node/∂input, pushed in evaluation order by the engine's
        :func:`~autograd_core.core.engine.push_tangents`, with the terms summed."""
        x = self._node(input)
        tan = push_tangents(self._root, {x: 1.0}, self._order)
        depends = self._depends_on(x)
        rows = []
        for n in self._order:
            terms = ()
            # the seeded node is where the tangents start; a node that does not
            # depend on the input has tangent 0 by structure (no terms: nothing
            # is multiplied, so no "inf × 0" either)
            if n._parents and n is not x and n in depends:
                # a parent that does not depend on the input has tangent 0 by
                # structure: its term is 0 (push_tangents leaves it out), also
                # where its local derivative is infinite
                terms = tuple(TangentTerm(self._names[p], d.text, loc, tan.get(p, 0.0),
                                          loc * tan.get(p, 0.0) if p in depends else 0.0)
                              for p, loc, d in zip(n._parents, n._local, self._syms[n]))
            rows.append(TangentRow(self._names[n], n._data, tan[n], terms))
        edges = sum(len(n._parents) for n in self._order)
        per_pass = {}
        for v in self._wrt_nodes or (x,):
            if v in self._names:
                dep = depends if v is x else self._depends_on(v)
                per_pass[v] = sum(1 for n in self._order for p in n._parents if p in dep)
            else:
                per_pass[v] = 0
        counts = {
            "forward_multiplications": sum(1 for n in self._order for p in n._parents if p in depends),
            "forward_passes_for_all": len(per_pass),
            "forward_multiplications_for_all": sum(per_pass.values()),
            "reverse_passes": 1,
            "reverse_multiplications": edges,
        }
        return ForwardModeTable(self._name_of(x), self.output_name, rows, tan[self._root], counts)

    def _depends_on(self, x: Value) -> set[Value]:
        dep = {x}
        for n in self._order:
            if n not in dep and any(p in dep for p in n._parents):
                dep.add(n)
        return dep

    def compare_modes(self, format: str = "text") -> str:  # noqa: A002
        """Forward and reverse mode side by side: per node its tangent from
        each input (forward, one pass per input) and its adjoint ∂out/∂node
        (reverse, one pass), then the operation counts of the two.
        ``format``: ``"text"`` or ``"markdown"``."""
        if format not in ("text", "markdown"):
            raise ValueError(f"format must be 'text' or 'markdown', got {format!r}")
        tables = [self.forward_mode(w) for w in self.wrt if w in self._by_name]
        headers = ["node", "value"] + [f"forward {_d('node', t.input)}" for t in tables] \
            + [f"reverse {_d(self.output_name, 'node')}"]
        rows = []
        for k, n in enumerate(self._order):
            name = self._names[n]
            rows.append([name, num(n._data)] + [num(t.rows[k].tangent) for t in tables]
                        + [num(self._adjoint[n])])
        fwd = sum(t.counts["forward_multiplications"] for t in tables)
        rev = sum(len(n._parents) for n in self._order)
        summary = (f"forward mode: {plural(len(tables), 'pass')} (one per input), "
                   f"{plural(fwd, 'multiplication')}; "
                   f"reverse mode: 1 pass, {plural(rev, 'multiplication')} for all inputs")
        if format == "markdown":
            return ("### Forward and reverse mode\n\n" + _md_table(headers, rows) + "\n\n"
                    + summary + "\n")
        return ("Forward and reverse mode side by side\n" + _table(headers, rows) + "\n"
                + summary + "\n")

    # ------------------------------------------------------------ paths
    def paths(self, input: Value | str, through: Value | str | None = None, *,  # noqa: A002
              limit: int = DEFAULT_PATH_LIMIT) -> PathSum:
        """∂output/∂input as Σ over paths Π local derivatives.

        ``through``: stop the paths at this node and end each product with
        ∂output/∂through from reverse mode (the textbook chapter writes ∂C/∂b1 =
        σ'(z1)·w2·…·σ'(z4)·∂C/∂a4 with ``through="a4"``); every path from the
        input to the output must pass through it. Counting comes first: more
        than ``limit`` paths (graphs can have exponentially many) raise
        ValueError instead of hanging."""
        x = self._node(input)
        end = self._root if through is None else self._node(through)
        if type(limit) is not int or limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        end_name = self.output_name if end is self._root else self._names.get(end)
        if x not in self._names:  # an input the output does not depend on: no path
            return PathSum(self._name_of(x), self.output_name, end_name or self._name_of(end),
                           [], 0.0, 0.0)
        # a node used twice by one operation (x*x) is one step of a path, not
        # two: its parents are counted once and their local derivatives added
        count: dict[Value, int] = {}
        for n in self._order:
            if n is x:
                count[n] = 1
            else:
                count[n] = sum(count[p] for p in dict.fromkeys(n._parents))
        if end is not self._root:
            avoid: dict[Value, int] = {}
            for n in self._order:
                if n is end:
                    avoid[n] = 0
                elif n is x:
                    avoid[n] = 1
                else:
                    avoid[n] = sum(avoid[p] for p in dict.fromkeys(n._parents))
            if avoid[self._root]:
                raise ValueError(
                    f"{avoid[self._root]} path(s) from {self._names[x]} to {self.output_name} do not "
                    f"pass through {self._names[end]}: choose a node every path goes through")
        total_paths = count[end]
        if total_paths > limit:
            raise ValueError(
                f"{total_paths} paths lead from {self._names[x]} to {self._names[end]}, more than "
                f"the limit of {limit}; reverse mode (backward_steps) gets the same number "
                f"without listing them, or pass a larger limit=")
        upstream_value = self._adjoint[end]
        if end is self._root:
            up = Factor(self.output_name, self.output_node, "1", "1", 1.0)
        else:
            note = _d(self.output_name, self._names[end])
            up = Factor(self.output_name, self._names[end], note, note, upstream_value)

        steps: dict[Value, list[tuple[Value, Factor]]] = {}

        def steps_of(n: Value) -> list[tuple[Value, Factor]]:
            """The edges from ``n`` down towards ``x``: one Factor per distinct parent."""
            got = steps.get(n)
            if got is None:
                uses: dict[Value, list[int]] = {}
                for i, p in enumerate(n._parents):
                    if count.get(p, 0):
                        uses.setdefault(p, []).append(i)
                got = []
                for p, ks in uses.items():
                    d, loc = self._syms[n][ks[0]], n._local[ks[0]]
                    for k in ks[1:]:  # ∂n/∂p summed over the operands p is
                        d, loc = d + self._syms[n][k], loc + n._local[k]
                    got.append((p, Factor(self._names[n], self._names[p], d.text,
                                          _short(n, self._names[p], d), loc)))
                steps[n] = got
            return got

        paths: list[Path] = []
        # depth-first from the end down to the input, along edges that reach it;
        # a path is a linked list (previous link, factor, node, product so far),
        # turned into tuples only when it reaches the input: linear in its length
        Link = tuple[Any, Factor, Value, float]
        stack: list[Link] = [(None, up, end, up.value)]
        while stack:
            link = stack.pop()
            n, value = link[2], link[3]
            if n is x:
                factors, nodes = [], []
                k: Any = link
                while k is not None:
                    factors.append(k[1])
                    nodes.append(self._names[k[2]])
                    k = k[0]
                factors.reverse()
                paths.append(Path(tuple(nodes), tuple(factors), value))
                continue
            stack.extend((link, f, p, value * f.value) for p, f in reversed(steps_of(n)))
        total = 0.0
        for p in paths:
            total += p.value
        grad = self._adjoint[x] if x in self._adjoint else 0.0
        return PathSum(self._names[x], self.output_name, end_name, paths, total, grad)

    # ------------------------------------------------------------ output
    def _forward_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["node", "op", "computes", "value", "local derivative", "symbolic", "numeric"]
        rows = []
        for r in self.forward_rows:
            base = [r.name, r.op, r.expression if r.inputs else "", num(r.value)]
            if not r.derivatives:
                rows.append(base + ["", "", ""])
            for i, d in enumerate(r.derivatives):
                lead = base if i == 0 else ["", "", "", ""]
                rows.append(lead + [_d(r.name, d.parent), d.symbolic, num(d.value)])
        return headers, rows

    def _backward_table(self) -> tuple[list[str], list[list[str]]]:
        o = self.output_name
        headers = ["step", "node", f"upstream {_d(o, 'node')}", "parent",
                   f"local {_d('node', 'parent')}", "× upstream", "= contribution",
                   f"{_d(o, 'parent')} so far"]
        rows = []
        for k, s in enumerate(self.backward_steps, 1):
            for i, c in enumerate(s.contributions):
                lead = [str(k), s.node, num(s.upstream)] if i == 0 else ["", "", ""]
                local = c.symbolic if c.symbolic == num(c.local) else f"{c.symbolic} = {num(c.local)}"
                rows.append(lead + [c.parent, local, f"× {num(c.upstream)}",
                                    f"= {num(c.contribution)}", num(c.accumulated)])
        return headers, rows

    def _gradient_lines(self) -> list[str]:
        lines = []
        for n, g in self.gradients.items():
            f = self.formulas.get(n)
            shown = f"{f} = {num(g)}" if f is not None and f != num(g) else num(g)
            lines.append(f"{_d(self.output_name, n)} = {shown}")
        return lines

    def _output_eq(self) -> str:
        """``f = h6`` (or just the label)."""
        if self.output_name == self.output_node:
            return self.output_name
        return f"{self.output_name} = {self.output_node}"

    def to_text(self, *, backward: bool = True) -> str:
        """Aligned tables for a terminal: forward pass, backward steps (unless
        ``backward=False``), gradients."""
        h, r = self._forward_table()
        parts = [f"Forward pass (evaluation order): {self._output_eq()} = {num(self.value)}",
                 _table(h, r), ""]
        if self.annotations:
            parts += ["Notes", *_note_lines(self), ""]
        if backward:
            bh, br = self._backward_table()
            parts += [f"Backward pass (reverse order, starting from "
                      f"{_d(self.output_name, self.output_node)} = 1)",
                      _table(bh, br) if br else "(the output is a leaf: nothing to propagate)", ""]
        parts += ["Gradients", *self._gradient_lines()]
        return "\n".join(parts) + "\n"

    def to_markdown(self, *, backward: bool = True) -> str:
        """The same tables in GitHub Markdown."""
        h, r = self._forward_table()
        parts = [f"### Forward pass: {self._output_eq()} = {num(self.value)}", "", _md_table(h, r), ""]
        if self.annotations:
            parts += ["### Notes", "", *[f"- {_md_cell(line)}" for line in _note_lines(self)], ""]
        if backward:
            bh, br = self._backward_table()
            parts += [f"### Backward pass (starting gradient {_d(self.output_name, self.output_node)} = 1)", "",
                      _md_table(bh, br) if br else "(the output is a leaf: nothing to propagate)",
                      ""]
        parts += ["### Gradients", "", *[f"- {line}" for line in self._gradient_lines()]]
        return "\n".join(parts) + "\n"

    def to_latex(self, *, paths: Iterable[PathSum] = ()) -> str:
        """The derivation for slides: LaTeX ``align*`` blocks (amsmath) with
        symbols and numbers side by side — the forward pass (each node and
        its local derivatives), the backward steps (∂f/∂parent = ∂node/∂parent
        · ∂f/∂node = formula × number = number), the gradients (simplified
        formula = value) and, given ``paths``, each path's product."""
        o = self.output_name
        lines = [f"% autograd-core explain: {o} = {num(self.value)}",
                 r"% needs \usepackage{amsmath}", r"\paragraph{Forward pass}", r"\begin{align*}"]
        rows = []
        for r in self.forward_rows:
            if not r.inputs:
                rows.append(rf"{latex_name(r.name)} &= {_latex_num(r.value)}")
                continue
            rows.append(rf"{latex_name(r.name)} &= {latex_formula(r.expression)} = {_latex_num(r.value)}")
            for d in r.derivatives:
                sym = latex_formula(d.symbolic)
                val = _latex_num(d.value)
                rhs = val if sym == num(d.value) else f"{sym} = {val}"
                rows.append(rf"{_latex_d(r.name, d.parent)} &= {rhs}")
        lines.append(" \\\\\n".join(rows))
        lines += [r"\end{align*}", r"\paragraph{Backward pass} (reverse order, "
                  + rf"${_latex_d(o, self.output_node)} = 1$)", r"\begin{align*}"]
        rows = []
        seen: set[str] = set()
        for st in self.backward_steps:
            for c in st.contributions:
                op = "&=" if c.parent not in seen else r"&\mathrel{+}="
                seen.add(c.parent)
                sym = latex_formula(c.symbolic)
                local = _latex_num(c.local)
                factor = (_latex_num(c.local, True) if sym == num(c.local)
                          else rf"\underbrace{{{sym}}}_{{{local}}}")
                rows.append(rf"{_latex_d(o, c.parent)} {op} {_latex_d(st.node, c.parent)}"
                            rf"\,{_latex_d(o, st.node)} = {factor} \times "
                            rf"{_latex_num(c.upstream, True)} = {_latex_num(c.contribution)}")
        lines.append(" \\\\\n".join(rows) if rows else r"\text{(the output is a leaf)}")
        lines += [r"\end{align*}", r"\paragraph{Gradients}", r"\begin{align*}"]
        rows = []
        for n, g in self.gradients.items():
            f = self.formulas.get(n)
            rhs = (f"{latex_formula(f)} = {_latex_num(g)}" if f is not None and f != num(g)
                   else _latex_num(g))
            rows.append(rf"{_latex_d(o, n)} &= {rhs}")
        lines.append(" \\\\\n".join(rows))
        lines.append(r"\end{align*}")
        for ps in paths:
            lines += [rf"\paragraph{{Paths from ${latex_name(ps.input)}$ to ${latex_name(ps.output)}$}}",
                      r"\begin{align*}"]
            rows = []
            for p in ps.paths:
                syms = r"\,".join(_latex_d(f.child, f.parent) for f in p.factors)
                vals = r" \times ".join(_latex_num(f.value, True) for f in p.factors)
                rows.append(rf"&{syms} = {vals} = {_latex_num(p.value)}")
            total = " + ".join(_latex_num(p.value, True) for p in ps.paths)
            shown = (f"{total} = {_latex_num(ps.total)}" if len(ps.paths) > 1
                     else _latex_num(ps.total))
            rows.append(rf"{_latex_d(ps.output, ps.input)} &= {shown}")
            lines.append(" \\\\\n".join(rows))
            lines.append(r"\end{align*}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers as the strings ``inf``, ``-inf``, ``nan``)."""
        return {"output": self.output_name, "value": _json_num(self.value),
                "forward": [r.to_dict() for r in self.forward_rows],
                "backward": [s.to_dict() for s in self.backward_steps],
                "gradients": {n: _json_num(g) for n, g in self.gradients.items()},
                "annotations": {n: list(v) for n, v in self.annotations.items()},
                "formulas": dict(self.formulas)}

    def __repr__(self) -> str:
        return (f"Trace(output={self.output_name!r}, nodes={len(self.forward_rows)}, "
                f"wrt={list(self.wrt)!r})")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a Trace as its graph with the trace's gradients once
        ``visualize`` is imported (it registers a display hook), else as text."""
        return display_bundle(self)


def explain(output: Value, wrt: Iterable[Value | str] | Value | str | None = None) -> Trace:
    """Step through the chain rule on the graph behind ``output``.

    ``wrt``: the inputs whose gradients to report (Values or node names; by
    default every leaf of the graph). Touches no ``.grad``. For a
    :class:`~autograd_core.Tensor` output it returns a
    :class:`~autograd_core.tensor.view.TensorTrace` (shapes and norms)."""
    if type(output).__name__ == "Tensor":
        from ..tensor.view import TensorTrace
        return TensorTrace(output, wrt)  # type: ignore[return-value]
    return Trace(output, wrt)
