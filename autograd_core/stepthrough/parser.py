"""A small, safe parser for formulas: ``parse("1/(exp(-(x*w+b))+1)", x=1, w=0, b=0)``.

Hand-written tokenizer and recursive-descent parser; it never calls ``eval``,
``exec`` or ``compile`` and builds the graph with the engine's own operators
while it reads, so the result is exactly what the same formula written in
Python with Values gives.

Grammar (loosest first; like Python)::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := primary (('**' | '^') unary)?          # right-associative
    primary := NUMBER | NAME | NAME '(' args ')' | '(' expr ')'
    args    := arg (',' arg)*      arg := expr | NAME '=' value

So ``-x**2`` is ``-(x**2)``, ``2**-1`` is 0.5, ``2**3**2`` is 512 and ``^`` is
the same as ``**``. Numbers: ``3``, ``0.5``, ``.5``, ``1e-3``.

Functions: ``exp log sqrt sin cos tanh sigmoid relu abs expm1 log1p erf erfc
tan sinh cosh arcsin arccos arctan arcsinh arccosh arctanh log2 log10 sign floor
ceil selu relu6 hardsigmoid hardswish mish softsign logsigmoid`` (one argument),
``leaky_relu(x, negative_slope=0.01)``, ``elu(x, alpha=1)``, ``celu(x, alpha=1)``,
``swish(x, beta=1)``, ``softplus(x, beta=1)``, ``gelu(x, approximate=tanh)``,
``clip(x, lo, hi)`` and ``hardtanh(x, min_val=-1, max_val=1)`` (constant bounds),
``arctan2(y, x) hypot(x, y) maximum(x, y) minimum(x, y) logaddexp(x, y)`` and
``prelu(x, alpha)`` (alpha may be a variable: a learnable slope). A parameter
may also be given by position (``leaky_relu(x, 0.2)``); its value must be a
constant expression (no variables). ``approximate`` takes one of the words
``none``, ``tanh``, ``sigmoid``, bare or quoted (``approximate="tanh"``); that
is the only place a quoted string is accepted.

Constants: ``e`` and ``pi`` (also ``π``) are Euler's number and π. A value
given for a constant's name (``parse("pi*x", pi=1)``) is refused with a
ValueError, like a value named after a function (``exp``, ``sin``, ``σ``, ...)
or a Python keyword (``lambda``, ``if``, ...): such a name could only mean one
thing in the formula, so name your variable differently.

A misspelt function or variable name gets a suggestion (``unknown function
'sigmod' (did you mean 'sigmoid'?)``).

Numbers combined with numbers are computed at once (``2*3`` is the constant
6); constants in an operation with a Value become the primitive's parameter
(``h + 1`` is ``add_const``, ``1/h`` is ``rdiv_const``), as in Python.

Every problem raises ``ValueError`` naming what is wrong and the column
(1-based), including domain errors (``log(0)``, ``1/0``). Inputs longer than
:data:`MAX_LENGTH` characters or nested deeper than :data:`MAX_DEPTH` levels
(parentheses, unary signs, powers and calls count) are refused up front.
"""

from __future__ import annotations

import difflib
import keyword
import math
import numbers
import re
from typing import Any, Callable

from ..core import engine as _engine
from ..core.engine import Value, prelu

__all__ = ["parse", "FUNCTIONS", "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH"]

#: Longest expression accepted, in characters.
MAX_LENGTH = 50_000
#: Deepest nesting accepted (parentheses, unary signs, powers, calls).
MAX_DEPTH = 100

_ONE_ARG = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs",
            "expm1", "log1p", "erf", "erfc",
            "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
            "log2", "log10", "sign", "floor", "ceil", "selu", "relu6", "hardsigmoid",
            "hardswish", "mish", "softsign", "logsigmoid")
#: function -> its keyword parameter (default in the engine's method)
_WITH_PARAM = {"leaky_relu": "negative_slope", "elu": "alpha", "swish": "beta",
               "gelu": "approximate", "softplus": "beta", "celu": "alpha"}
_APPROXIMATE = ("none", "tanh", "sigmoid")
#: two operands, both may be variables (engine functions of the same name)
_TWO_ARG = ("arctan2", "hypot", "maximum", "minimum", "logaddexp")
#: x and two constant bounds: function -> (names, defaults or None when required)
_BOUNDS: dict[str, tuple[tuple[str, str], tuple[float, float] | None]] = {
    "clip": (("lo", "hi"), None), "hardtanh": (("min_val", "max_val"), (-1.0, 1.0))}

#: Every function name the parser knows.
FUNCTIONS: tuple[str, ...] = (_ONE_ARG + tuple(_WITH_PARAM) + ("prelu",) + _TWO_ARG
                              + tuple(_BOUNDS))

#: Other spellings of functions: explain prints sigmoid as σ (so its formulas parse back).
_ALIASES = {"σ": "sigmoid"}

#: Named constants (a value may not be given for these names).
CONSTANTS: dict[str, float] = {"e": math.e, "pi": math.pi, "π": math.pi}


def _check_value_name(name: Any) -> None:
    """ValueError unless ``name`` can name a variable of a formula: an
    identifier that is not a constant (``e``, ``pi``, ``π``), a function
    (``exp``, ``σ``, ...), a Python keyword, or a name starting with ``__``."""
    if not isinstance(name, str):
        raise TypeError(f"a variable name must be a str, not {type(name).__name__}")
    shown = name if len(name) <= 40 else name[:40] + "..."
    if not name.isidentifier():
        raise ValueError(f"{shown!r} is not a valid variable name")
    if name.startswith("__"):
        raise ValueError(f"variable name {shown!r} is not allowed (names starting with '__')")
    if name in CONSTANTS:
        raise ValueError(f"{name} is a constant; name your variable differently")
    if name in FUNCTIONS or name in _ALIASES:
        raise ValueError(f"{name} is a function; name your variable differently")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValueError(f"{name} is a Python keyword; name your variable differently")


def _did_you_mean(name: str, candidates: Any) -> str:
    """`` (did you mean 'sigmoid'?)`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close and len(name) > 1:  # case slips: Sigmoid, EXP
        close = [c for c in candidates if c.lower() == name.lower()][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|[-+*/^(),=·])
  | (?P<str>"[^"\\\n]*"|'[^'\\\n]*')
""", re.VERBOSE)

_CHAR_HINTS = {
    "[": "subscripts and lists are not allowed",
    "]": "subscripts and lists are not allowed",
    "{": "sets and dicts are not allowed",
    "}": "sets and dicts are not allowed",
    ";": "only one expression is allowed",
    ":": "':' is not part of the expression language",
    "%": "'%' is not supported (use + - * / ** ^)",
    "@": "'@' is not supported (use + - * / ** ^)",
    "<": "comparisons are not supported",
    ">": "comparisons are not supported",
    "!": "'!' is not supported",
    "&": "'&' is not supported", "|": "'|' is not supported", "~": "'~' is not supported",
    "#": "comments are not allowed",
    "\\": "backslashes are not allowed",
    '"': "strings are only allowed as the value of approximate=",
    "'": "strings are only allowed as the value of approximate=",
}

_Tok = tuple  # (kind, text, column)


def _fail(what: str, col: int) -> ValueError:
    return ValueError(f"{what} at column {col}")


def _tokenize(s: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, n = 0, len(s)
    match = _TOKEN.match
    while pos < n:
        mo = match(s, pos)
        if mo is None:
            ch = s[pos]
            col = pos + 1
            if ch == "." and toks and (toks[-1][0] == "name" or toks[-1][1] == ")"):
                raise _fail("attribute access ('.') is not allowed", col)
            hint = _CHAR_HINTS.get(ch)
            if hint is not None:
                raise _fail(f"unexpected {ch!r}: {hint}", col)
            raise _fail(f"unexpected character {ch!r}", col)
        kind = mo.lastgroup
        if kind != "ws":
            text = mo.group()
            if text == "·":  # explain prints products with a middle dot: read them back
                kind, text = "op", "*"
            toks.append((kind, text, pos + 1))
        pos = mo.end()
    toks.append(("end", "", n + 1))
    return toks


def _describe(tok: _Tok) -> str:
    kind, text, _ = tok
    if kind == "end":
        return "the end of the expression"
    if kind == "num":
        return f"number {text}"
    if kind == "name":
        return f"name {text!r}"
    if kind == "str":
        return f"string {text}"
    return repr(text)


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


Operand = Any  # a Value or a float (a constant)


class _Parser:
    def __init__(self, text: str, values: dict[str, Any]) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.values = values
        self.leaves: dict[str, Value] = {}

    # ------------------------------------------------------------ tokens
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, *ops: str) -> bool:
        kind, text, _ = self.toks[self.i]
        return kind == "op" and text in ops

    def deeper(self, depth: int, col: int) -> int:
        if depth >= MAX_DEPTH:
            raise _fail(f"expression nested too deeply (more than {MAX_DEPTH} levels of "
                        "parentheses, signs, powers or calls)", col)
        return depth + 1

    # ------------------------------------------------------------ grammar
    def parse(self) -> Operand:
        if self.peek()[0] == "end":
            raise ValueError("empty expression")
        out = self.expr(0)
        tok = self.peek()
        if tok[0] != "end":
            kind, text, col = tok
            if text == ")":
                raise _fail("unmatched ')'", col)
            if text == "=":
                raise _fail("'=' is only allowed for keyword arguments of a call", col)
            if text == ",":
                raise _fail("',' outside a function call", col)
            raise _fail(f"unexpected {_describe(tok)}: expected an operator (+ - * / ** ^) "
                        "or the end", col)
        return out

    def expr(self, depth: int) -> Operand:
        lhs = self.term(depth)
        while self.at("+", "-"):
            _, op, col = self.take()
            rhs = self.term(depth)
            lhs = _binary(op, lhs, rhs, col)
        return lhs

    def term(self, depth: int) -> Operand:
        lhs = self.unary(depth)
        while self.at("*", "/"):
            _, op, col = self.take()
            rhs = self.unary(depth)
            lhs = _binary(op, lhs, rhs, col)
        return lhs

    def unary(self, depth: int) -> Operand:
        if self.at("-", "+"):
            _, op, col = self.take()
            operand = self.unary(self.deeper(depth, col))
            if op == "+":
                return operand
            return -operand
        return self.power(depth)

    def power(self, depth: int) -> Operand:
        base = self.primary(depth)
        if self.at("**", "^"):
            _, op, col = self.take()
            exponent = self.unary(self.deeper(depth, col))
            return _binary("**", base, exponent, col, shown=op)
        return base

    def primary(self, depth: int) -> Operand:
        tok = self.take()
        kind, text, col = tok
        if kind == "num":
            x = float(text)
            if math.isinf(x):
                raise _fail(f"number {text[:30]}{'...' if len(text) > 30 else ''} is too large "
                            "for a float", col)
            return x
        if kind == "name":
            if self.at("("):
                return self.call(text, col, depth)
            return self.variable(text, col)
        if kind == "op" and text == "(":
            inner = self.expr(self.deeper(depth, col))
            if not self.at(")"):
                nxt = self.peek()
                if nxt[0] == "end":
                    raise _fail("'(' is never closed", col)
                raise _fail(f"expected ')' (to close the '(' at column {col}) or an operator, "
                            f"found {_describe(nxt)}", nxt[2])
            self.take()
            return inner
        if kind == "str":
            raise _fail(f"unexpected {_describe(tok)}: strings are only allowed as the value "
                        "of approximate=", col)
        raise _fail(f"expected a number, a name or '(', found {_describe(tok)}", col)

    # ------------------------------------------------------------ names
    def _check_name(self, name: str, col: int) -> None:
        if name.startswith("__"):
            raise _fail(f"name {name!r} is not allowed (names starting with '__')", col)
        if keyword.iskeyword(name) or keyword.issoftkeyword(name):
            raise _fail(f"{name!r} is Python syntax, not part of the expression language", col)
        if not name.isidentifier():
            raise _fail(f"{name!r} is not a valid name", col)

    def variable(self, name: str, col: int) -> Value | float:
        self._check_name(name, col)
        leaf = self.leaves.get(name)
        if leaf is not None:
            return leaf
        if name not in self.values:
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name in FUNCTIONS:
                raise _fail(f"{name!r} is a function: call it as {name}(...)", col)
            hint = _did_you_mean(name, [*self.values, *CONSTANTS])
            raise _fail(f"no value given for {name!r}{hint}", col)
        v = self.values[name]
        leaf = v if isinstance(v, Value) else Value(v, name)
        self.leaves[name] = leaf
        return leaf

    # ------------------------------------------------------------ calls
    def call(self, name: str, col: int, depth: int) -> Operand:
        name = _ALIASES.get(name, name)
        self._check_name(name, col)
        if name not in FUNCTIONS:
            hint = _did_you_mean(name, FUNCTIONS)
            raise _fail(f"unknown function {name!r}{hint} (known: {', '.join(FUNCTIONS)})", col)
        open_col = self.take()[2]
        depth = self.deeper(depth, open_col)
        args: list[tuple[Operand, int]] = []
        kwargs: dict[str, tuple[Any, int]] = {}
        if not self.at(")"):
            while True:
                tok = self.peek()
                if tok[0] == "name" and self.toks[self.i + 1][1] == "=":
                    key, kcol = tok[1], tok[2]
                    self.i += 2
                    if key in kwargs:
                        raise _fail(f"{name}() got {key}= twice", kcol)
                    kwargs[key] = (self.keyword_value(name, key, kcol, depth), kcol)
                else:
                    if kwargs:
                        raise _fail(f"{name}(): a positional argument after a keyword argument",
                                    tok[2])
                    args.append((self.expr(depth), tok[2]))
                if self.at(","):
                    self.take()
                    continue
                if self.at(")"):
                    break
                nxt = self.peek()
                if nxt[0] == "end":
                    raise _fail(f"'(' of {name}( is never closed", open_col)
                raise _fail(f"expected ',' or ')' in the call of {name}(), found {_describe(nxt)}",
                            nxt[2])
        self.take()  # ')'
        return _apply(name, col, args, kwargs)

    def keyword_value(self, fname: str, key: str, col: int, depth: int) -> Any:
        if key == "approximate" and fname == "gelu":
            kind, text, vcol = self.take()
            word = text[1:-1] if kind == "str" else text if kind == "name" else None
            if word not in _APPROXIMATE:
                raise _fail(f"gelu approximate= must be one of {', '.join(_APPROXIMATE)}, "
                            f"found {_describe((kind, text, vcol))}", vcol)
            return word
        if self.peek()[0] == "str":
            raise _fail(f"{fname}() {key}= must be a number, not a string", self.peek()[2])
        return self.expr(depth)


def _binary(op: str, a: Operand, b: Operand, col: int, shown: str | None = None) -> Operand:
    try:
        if type(a) is float and type(b) is float:
            a = Value(a)  # constants fold through the same primitives (same domain checks)
            return _BINARY[op](a, b).data
        return _BINARY[op](a, b)
    except (ValueError, ZeroDivisionError) as exc:
        raise _fail(f"{exc} (operator '{shown or op}')", col) from None


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a ** b,
}


def _constant(fname: str, what: str, x: Any, col: int) -> float:
    if isinstance(x, Value):
        raise _fail(f"{fname}() {what} must be a constant (no variables)", col)
    if isinstance(x, str):
        raise _fail(f"{fname}() {what} must be a number, not a word", col)
    return x


def _apply(name: str, col: int, args: list[tuple[Operand, int]],
           kwargs: dict[str, tuple[Any, int]]) -> Operand:
    if name in _ONE_ARG:
        if kwargs:
            key, (_, kcol) = next(iter(kwargs.items()))
            raise _fail(f"{name}() takes no keyword argument {key}=", kcol)
        if len(args) != 1:
            raise _fail(f"{name}() takes 1 argument, got {len(args)}", col)
        params: tuple[Any, ...] = ()
    elif name in _TWO_ARG:
        if kwargs:
            key, (_, kcol) = next(iter(kwargs.items()))
            raise _fail(f"{name}() takes no keyword argument {key}=", kcol)
        if len(args) != 2:
            raise _fail(f"{name}() takes 2 arguments, got {len(args)}", col)
        params = ()
    elif name in _BOUNDS:
        (lo_name, hi_name), defaults = _BOUNDS[name]
        for key, (_, kcol) in kwargs.items():
            if key not in (lo_name, hi_name):
                raise _fail(f"{name}() has no parameter {key}= (it takes {lo_name}=, {hi_name}=)",
                            kcol)
        if not args or len(args) > 3:
            raise _fail(f"{name}() takes x, {lo_name} and {hi_name}", col)
        given = dict(zip((lo_name, hi_name), args[1:]))
        for key, v in kwargs.items():
            if key in given:
                raise _fail(f"{name}() got {key} twice", v[1])
            given[key] = v
        bounds = []
        for key, default in zip((lo_name, hi_name), defaults or (None, None)):
            if key not in given:
                if default is None:
                    raise _fail(f"{name}() needs {key}", col)
                bounds.append(default)
                continue
            v, vcol = given[key]
            v = _constant(name, f"{key}", v, vcol)
            if math.isnan(v):
                raise _fail(f"{name}() {key} must not be nan", vcol)
            bounds.append(v)
        args = args[:1]
        params = tuple(bounds)
    elif name == "prelu":
        if kwargs:
            extra = set(kwargs) - {"alpha"}
            if extra:
                raise _fail(f"prelu() has no parameter {sorted(extra)[0]}=", kwargs[sorted(extra)[0]][1])
            if len(args) != 1:
                raise _fail(f"prelu() takes x and alpha, got {len(args)} positional and alpha=", col)
            args = args + [kwargs["alpha"]]
        if len(args) != 2:
            raise _fail(f"prelu() takes 2 arguments (x, alpha), got {len(args)}", col)
        params = ()
    else:
        pname = _WITH_PARAM[name]
        for key, (_, kcol) in kwargs.items():
            if key != pname:
                raise _fail(f"{name}() has no parameter {key}= (it takes {pname}=)", kcol)
        if not args:
            raise _fail(f"{name}() needs its argument x", col)
        if len(args) > 2 or (len(args) == 2 and kwargs):
            raise _fail(f"{name}() takes x and at most one {pname}", col)
        if len(args) == 2:
            if pname == "approximate":
                raise _fail("gelu() takes approximate= as a keyword", args[1][1])
            kwargs = {pname: args[1]}
            args = args[:1]
        params = tuple(_constant(name, f"{pname}=", v, c) if pname != "approximate" else v
                       for v, c in kwargs.values())
        if params and pname != "approximate" and not math.isfinite(params[0]):
            raise _fail(f"{name}() {pname}= must be finite", kwargs[pname][1])
    x = args[0][0]
    try:
        if name == "prelu":
            alpha = args[1][0]
            if type(x) is float and type(alpha) is float:
                return prelu(Value(x), alpha).data
            return prelu(x, alpha)
        if name in _TWO_ARG:
            return getattr(_engine, name)(x, args[1][0])  # two numbers give a number
        as_value = type(x) is float
        v = Value(x) if as_value else x
        out = abs(v) if name == "abs" else getattr(v, name)(*params)
        return out.data if as_value else out
    except (ValueError, ZeroDivisionError) as exc:
        raise _fail(f"{exc} (in {name}())", col) from None


def parse(expression: str, /, **values: Any) -> tuple[Value, dict[str, Value]]:
    """Parse ``expression`` and build its graph; return ``(output, inputs)``.

    ``values`` give each variable its number (or an existing Value, used as
    is); a name that is a constant, a function or a keyword is refused
    ``inputs`` maps each variable name to its leaf Value, labelled with
    the name: the variables in order of first use, then any given but unused.
    An expression without variables gives a leaf. ``ValueError`` (with the
    column) for anything that is not a valid expression."""
    if not isinstance(expression, str):
        raise TypeError(f"expression must be a str, not {type(expression).__name__}")
    if len(expression) > MAX_LENGTH:
        raise ValueError(f"expression is too long: {len(expression)} characters "
                         f"(at most {MAX_LENGTH})")
    for name, v in values.items():
        _check_value_name(name)
        if not (isinstance(v, Value) or _is_real(v)):
            raise TypeError(f"the value for {name!r} must be a real number or a Value, "
                            f"not {type(v).__name__}")
    p = _Parser(expression, values)
    try:
        out = p.parse()
    except RecursionError:  # a guard only: MAX_DEPTH stops nesting long before this
        raise ValueError("expression nested too deeply") from None
    inputs = dict(p.leaves)
    for name, v in values.items():
        if name not in inputs:
            inputs[name] = v if isinstance(v, Value) else Value(v, name)
    if not isinstance(out, Value):
        out = Value(out)
    return out, inputs
