"""``to_onnx``: a captured graph as an ONNX model (float64 by default).

Each primitive node becomes the ONNX operators its exported form uses; the
one computing the result is named ``<primitive>_<node>`` (``tanh_5``), the
form's other operators ``elu_4/Greater``, ..., each with the primitive's
description as ``doc_string``, so the graph reads like the primitives in
Netron. onnxruntime has no float64 kernels for ``Erf``, ``Atan``, ``Sinh``,
...: those functions are written with elementary operators (erf: a series for
|x| < 3, a continued fraction beyond; arctan: two angle halvings and a Taylor
series), accurate to a few ulp.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.primitives import EXPORTS, PRIMITIVES
from . import _ir

#: The ONNX opset the exported models declare (only operators from opset 13 or older are used).
OPSET = 17
_IR_VERSION = 8
_SERIES_TERMS = 60   # erf series for |x| <= 3
_CF_TERMS = 60       # erfc continued fraction for |x| >= 3


class _Var:
    """An ONNX value (tensor name) with Python operators that add nodes."""

    __slots__ = ("b", "name")

    def __init__(self, b: _Builder, name: str) -> None:
        self.b, self.name = b, name

    def __add__(self, o: Any) -> _Var: return self.b.node("Add", [self, o])
    def __radd__(self, o: Any) -> _Var: return self.b.node("Add", [o, self])
    def __sub__(self, o: Any) -> _Var: return self.b.node("Sub", [self, o])
    def __rsub__(self, o: Any) -> _Var: return self.b.node("Sub", [o, self])
    def __mul__(self, o: Any) -> _Var: return self.b.node("Mul", [self, o])
    def __rmul__(self, o: Any) -> _Var: return self.b.node("Mul", [o, self])
    def __truediv__(self, o: Any) -> _Var: return self.b.node("Div", [self, o])
    def __rtruediv__(self, o: Any) -> _Var: return self.b.node("Div", [o, self])
    def __pow__(self, o: Any) -> _Var: return self.b.node("Pow", [self, o])
    def __rpow__(self, o: Any) -> _Var: return self.b.node("Pow", [o, self])
    def __neg__(self) -> _Var: return self.b.node("Neg", [self])
    def __gt__(self, o: Any) -> _Var: return self.b.node("Greater", [self, o])
    def __lt__(self, o: Any) -> _Var: return self.b.node("Less", [self, o])
    def __ge__(self, o: Any) -> _Var: return self.b.node("GreaterOrEqual", [self, o])
    def __le__(self, o: Any) -> _Var: return self.b.node("LessOrEqual", [self, o])

    def __bool__(self) -> bool:
        raise _ir.ExportError("an exported form branched on a value in Python; use F.where")


class _Builder:
    """Collects nodes and constants; ``scope`` names the primitive being written."""

    def __init__(self, helper: Any, numpy_helper: Any, dtype: Any) -> None:
        self.h, self.nh, self.dtype = helper, numpy_helper, np.dtype(dtype)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._consts: dict[tuple, _Var] = {}
        self.scope = "graph"
        self.doc = ""
        self._count: dict[str, int] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}  # known shapes (Tensor graphs), by value name

    def fresh(self, base: str) -> str:
        k = self._count.get(base, 0)
        self._count[base] = k + 1
        return base if k == 0 else f"{base}_{k}"

    def const(self, x: Any, name: str | None = None) -> _Var:
        a = np.asarray(x, dtype=self.dtype)
        key = (a.shape, a.tobytes()) if name is None else None
        if key is not None and key in self._consts:
            return self._consts[key]
        nm = self.fresh(name or (f"c_{a.item():.6g}" if a.ndim == 0 else "c_array"))
        self.inits.append(self.nh.from_array(a, nm))
        v = _Var(self, nm)
        if key is not None:
            self._consts[key] = v
        return v

    def const_int(self, xs: list[int]) -> _Var:
        nm = self.fresh(f"{self.scope}/ints")
        self.inits.append(self.nh.from_array(np.array(xs, dtype=np.int64), nm))
        return _Var(self, nm)

    def lift(self, x: Any) -> _Var:
        return x if isinstance(x, _Var) else self.const(x)

    def node(self, op: str, ins: list[Any], out: str | None = None, **attrs: Any) -> _Var:
        names = [self.lift(v).name for v in ins]
        nm = self.fresh(f"{self.scope}/{op}")
        out = out or nm
        n = self.h.make_node(op, names, [out], name=nm, **attrs)
        if self.doc:
            n.doc_string = self.doc
        self.nodes.append(n)
        return _Var(self, out)

    def rename(self, v: _Var, out: str, first: int) -> _Var:
        """Give the primitive's result and the ONNX node computing it the primitive
        node's name ``out`` (the form's other operators are ``out/Op``)."""
        last = self.nodes[-1] if len(self.nodes) > first else None
        if last is None or last.output[0] != v.name:
            return self.node("Identity", [v], out=out)
        last.output[0] = out
        last.name = out
        return _Var(self, out)


class _FunctionBuilder(_Builder):
    """Builds the body of an ONNX local function: constants are Constant nodes."""

    def const(self, x: Any, name: str | None = None) -> _Var:
        a = np.asarray(x, dtype=self.dtype)
        key = (a.shape, a.tobytes())
        if key in self._consts:
            return self._consts[key]
        nm = self.fresh(f"c_{a.item():.6g}" if a.ndim == 0 else "c_array")
        self.nodes.append(self.h.make_node("Constant", [], [nm], name=nm,
                                           value=self.nh.from_array(a, nm)))
        v = _Var(self, nm)
        self._consts[key] = v
        return v

    def const_int(self, xs: list[int]) -> _Var:
        nm = self.fresh("ints")
        self.nodes.append(self.h.make_node("Constant", [], [nm], name=nm,
                                           value=self.nh.from_array(np.array(xs, dtype=np.int64), nm)))
        return _Var(self, nm)


_NARY = PRIMITIVES["sum"]

#: The domain of the local functions (one per primitive written with several operators).
DOMAIN = "autograd_core"


def _function(helper: Any, numpy_helper: Any, dtype: str, prim: str, nargs: int, param: Any,
              has_param: bool) -> tuple[list[Any], str] | None:
    """The body nodes and output name of ``prim`` as a local function of inputs
    x0, x1, ... (its parameter baked in), or None when it is one operator or
    needs the graph's context (shapes)."""
    fb = _FunctionBuilder(helper, numpy_helper, dtype)
    fb.scope = prim
    xs = [_Var(fb, f"x{k}") for k in range(nargs)]
    try:
        out = EXPORTS[prim](_OnnxVocabulary(fb), *xs, *([param] if has_param else []))
    except _ir.ExportError:
        return None
    if not isinstance(out, _Var) or sum(n.op_type != "Constant" for n in fb.nodes) <= 1:
        return None
    return fb.nodes, out.name


class _OnnxVocabulary:
    """The vocabulary ``F`` of the exported forms, as ONNX operators."""

    def __init__(self, b: _Builder) -> None:
        self.b = b

    def _u(self, op: str, x: Any) -> _Var:
        return self.b.node(op, [x])

    def exp(self, x: Any) -> _Var: return self._u("Exp", x)
    def log(self, x: Any) -> _Var: return self._u("Log", x)
    def sqrt(self, x: Any) -> _Var: return self._u("Sqrt", x)
    def sin(self, x: Any) -> _Var: return self._u("Sin", x)
    def cos(self, x: Any) -> _Var: return self._u("Cos", x)
    def tanh(self, x: Any) -> _Var: return self._u("Tanh", x)
    def abs(self, x: Any) -> _Var: return self._u("Abs", x)
    def sigmoid(self, x: Any) -> _Var:
        # e/(1 + e) with e = exp(-|x|) below 0: onnxruntime's Sigmoid flushes to 0 from
        # x ≈ -37 (σ(-40) = 4.2e-18)
        x = self.b.lift(x)
        e = self.exp(-self.abs(x))
        return self.where(x >= 0.0, 1.0 / (e + 1.0), e / (e + 1.0))
    def sign(self, x: Any) -> _Var: return self._u("Sign", x)
    def floor(self, x: Any) -> _Var: return self._u("Floor", x)
    def ceil(self, x: Any) -> _Var: return self._u("Ceil", x)
    def maximum(self, a: Any, b: Any) -> _Var: return self.b.node("Max", [a, b])
    def minimum(self, a: Any, b: Any) -> _Var: return self.b.node("Min", [a, b])
    def log2(self, x: Any) -> _Var: return self.log(x) * (1.0 / math.log(2.0))
    def log10(self, x: Any) -> _Var: return self.log(x) * (1.0 / math.log(10.0))
    def tan(self, x: Any) -> _Var: return self.sin(x) / self.cos(x)

    # onnxruntime has no float64 kernels for these: written with elementary operators
    def sinh(self, x: Any) -> _Var:
        # |x| < 1: (e + e/(e + 1))/2 with e = expm1(x), no cancellation (sinh(1e-300) = 1e-300)
        x = self.b.lift(x)
        e = self.expm1(x)
        small = (e + e / (e + 1.0)) * 0.5
        return self.where(self.abs(x) < 1.0, small, (self.exp(x) - self.exp(-x)) * 0.5)
    def cosh(self, x: Any) -> _Var: return (self.exp(x) + self.exp(-self.b.lift(x))) * 0.5

    def hypot(self, a: Any, b: Any) -> _Var:
        return self.sqrt(self.b.lift(a) * a + self.b.lift(b) * b)

    def logaddexp(self, a: Any, b: Any) -> _Var:
        d = self.abs(self.b.lift(a) - b)
        return self.maximum(a, b) + self.log(self.exp(-d) + 1.0)

    def arcsinh(self, x: Any) -> _Var:
        # log1p(a + a²/(1 + √(1 + a²))) (exact near 0); log(a) + log 2 past a = 1e150, where
        # a² overflows; the sign (and -0) of x
        x = self.b.lift(x)
        ax = self.abs(x)
        big = ax > 1e150
        a = self.where(big, 1.0, ax)
        mag = self.where(big, self.log(ax) + math.log(2.0),
                         self.log1p(a + a * a / (self.sqrt(a * a + 1.0) + 1.0)))
        return self.sign(x) * mag

    def arccosh(self, x: Any) -> _Var:
        x = self.b.lift(x)
        return self.log(x + self.sqrt(x - 1.0) * self.sqrt(x + 1.0))

    def arctanh(self, x: Any) -> _Var:
        x = self.b.lift(x)   # log1p near 0 (exact there), the plain quotient near ±1
        return self.where(self.abs(x) < 0.5, self.log1p(x * 2.0 / (1.0 - x)),
                          self.log((1.0 + x) / (1.0 - x))) * 0.5

    def arctan(self, x: Any) -> _Var:
        """|x| > 1: π/2 − atan(1/|x|); two halvings atan(t) = 2 atan(t / (1 + √(1 + t²)))
        bring t below tan(π/16) ≈ 0.2, where 14 terms of the Taylor series suffice."""
        x = self.b.lift(x)
        ax = self.abs(x)
        big = ax > 1.0
        t = self.where(big, 1.0 / self.maximum(ax, 1.0), ax)
        for _ in range(2):
            t = t / (self.sqrt(t * t + 1.0) + 1.0)
        t2 = t * t
        series = t * (1.0 / 27.0)
        for k in range(12, -1, -1):  # Horner: t (1 − t²/3 + t⁴/5 − ...)
            series = series * t2 * (-1.0) + t * (1.0 / (2 * k + 1))
        small = series * 4.0
        mag = self.where(big, (math.pi / 2.0) - small, small)
        return self.sign(x) * mag

    def _eq(self, a: Any, b: Any) -> _Var:
        return self.b.node("Equal", [a, b])

    def _signbit(self, x: _Var) -> _Var:
        """x < 0, or x is -0.0 (1/x = -inf): the sign IEEE atan2 reads. (Not through a
        Where: onnxruntime's Where returns -0.0 as +0.0, so results that are zero come
        out as +0 here, while the engine may give -0: equal numbers.)"""
        return self.b.node("Or", [x < 0.0, self.b.node("And", [self._eq(x, 0.0),
                                                                (1.0 / x) < 0.0])])

    def arcsin(self, x: Any) -> _Var:
        x = self.b.lift(x)
        c = self.sqrt(1.0 - x) * self.sqrt(x + 1.0)   # cos(arcsin x) ≥ 0
        return self.arctan2(x, c)

    def arccos(self, x: Any) -> _Var:
        x = self.b.lift(x)
        return self.arctan2(self.sqrt(1.0 - x) * self.sqrt(x + 1.0), x)

    def arctan2(self, y: Any, x: Any) -> _Var:
        """IEEE atan2, signed zeros included (the engine's math.atan2): at x = ±0 the
        result is ±π/2 by the sign of y (y/x would take the sign of the zero), and
        ±0 or ±π at y = ±0 by the signs of y and x."""
        y, x = self.b.lift(y), self.b.lift(x)
        x0 = self._eq(x, 0.0)
        neg_y = self._signbit(y)
        pi_y = self.where(neg_y, -math.pi, math.pi)
        base = self.arctan(y / self.where(x0, 1.0, x))
        off_axis = self.where(x < 0.0, base + pi_y, base)
        on_axis = self.where(self._eq(y, 0.0), self.where(self._signbit(x), pi_y, y),
                             self.where(neg_y, -math.pi / 2.0, math.pi / 2.0))
        return self.where(x0, on_axis, off_axis)

    def expm1(self, x: Any) -> _Var:
        """Kahan: (u - 1)·x/log(u) with u = exp(x), exact near 0 (exp(x) - 1 is 0 at 1e-300)."""
        x = self.b.lift(x)
        u = self.exp(x)
        um1 = u - 1.0
        return self.where(self._eq(u, 1.0), x, self.where(
            self._eq(um1, -1.0), um1, self.where(self._eq(u, math.inf), u,
                                                 um1 * x / self.log(self.where(self._eq(u, 0.0),
                                                                               1.0, u)))))

    def log1p(self, x: Any) -> _Var:
        """Goldberg: log(u)·x/(u - 1) with u = 1 + x, exact near 0 (log(1 + x) is 0 at 1e-300)."""
        x = self.b.lift(x)
        u = x + 1.0
        plain = self.where(self._eq(u, math.inf), u, self.log(u))
        scaled = self.log(u) * x / self.where(self._eq(u, 1.0), 1.0, u - 1.0)
        return self.where(self._eq(u, 1.0), x,
                          self.where(self.b.node("Or", [self._eq(u, 0.0), self._eq(u, math.inf)]),
                                     plain, scaled))

    def softplus(self, x: Any) -> _Var:
        # max(x, 0) + log(1 + exp(-|x|)): no overflow (onnxruntime has no float64 Softplus)
        x = self.b.lift(x)
        return self.b.node("Relu", [x]) + self.log1p(self.exp(-self.abs(x)))

    def pow(self, a: Any, c: Any) -> _Var:
        return self.b.node("Pow", [a, c])

    def where(self, c: Any, a: Any, b: Any) -> _Var:
        return self.b.node("Where", [c, a, b])

    def matmul(self, a: Any, b: Any) -> _Var:
        return self.b.node("MatMul", [a, b])

    def transpose(self, a: Any) -> _Var:
        return self.b.node("Transpose", [a], perm=[1, 0])

    def _ints(self, xs: Any) -> _Var:
        return self.b.const_int(list(xs))

    def reduce_sum(self, x: Any, axes: Any, keepdims: bool) -> _Var:
        return self.b.node("ReduceSum", [x, self._ints(axes)], keepdims=int(keepdims))

    def reduce_mean(self, x: Any, axes: Any, keepdims: bool) -> _Var:
        # ReduceMean takes its axes as an input only from opset 18: sum, then scale
        shape = self.b.shapes.get(self.b.lift(x).name)
        if shape is None:
            raise _ir.ExportError("mean: the operand's shape is not known")
        count = 1
        for a in axes:
            count *= shape[a]
        return self.reduce_sum(x, axes, keepdims) * (1.0 / count)

    def reshape(self, x: Any, shape: Any) -> _Var:
        return self.b.node("Reshape", [x, self._ints(shape)])

    def sum(self, xs: Any) -> _Var:
        xs = list(xs)
        out = self.b.lift(xs[0])
        for x in xs[1:]:
            out = out + x
        return out

    # erf in float64 from elementary operators (onnxruntime has only a float32 Erf)
    def _erf_series(self, a: _Var) -> _Var:
        """erf(a) = 2/√π e^(−a²) Σ 2ⁿ a^(2n+1) / (1·3···(2n+1)), all terms positive."""
        two_a2 = a * a * 2.0
        term, total = a, a
        for n in range(1, _SERIES_TERMS):
            term = term * two_a2 / float(2 * n + 1)
            total = total + term
        return total * self.exp(-(a * a)) * (2.0 / math.sqrt(math.pi))

    def _erfc_cf(self, a: _Var) -> _Var:
        """erfc(a) for a ≥ 3: e^(−a²)/√π / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))."""
        f = a
        for k in range(_CF_TERMS, 0, -1):
            f = a + (k / 2.0) / f
        return self.exp(-(a * a)) / (f * math.sqrt(math.pi))

    def _parts(self, x: Any) -> tuple[_Var, _Var, _Var, _Var]:
        x = self.b.lift(x)
        ax = self.abs(x)
        small = self.b.node("Min", [ax, 3.0])
        large = self.b.node("Max", [ax, 3.0])
        return x, ax < 3.0, self._erf_series(small), self._erfc_cf(large)

    def erf(self, x: Any) -> _Var:
        x, is_small, es, ec = self._parts(x)
        mag = self.where(is_small, es, 1.0 - ec)
        return self.b.node("Sign", [x]) * mag

    def erfc(self, x: Any) -> _Var:
        x, is_small, es, ec = self._parts(x)
        pos = x > 0.0
        small = 1.0 - self.where(pos, es, -es)
        large = self.where(pos, ec, 2.0 - ec)
        return self.where(is_small, small, large)


def _onnx_doc(prim: str, param: Any) -> str:
    p = PRIMITIVES.get(prim)
    doc = p.doc.splitlines()[0] if p is not None and p.doc else prim
    return f"{prim}: {doc}" + (f" ({p.param}={param!r})" if p is not None and p.param
                               and not isinstance(param, (tuple, list, np.ndarray)) else "")


def to_onnx(g: Any, path: str | os.PathLike[str] | None = None,
            inputs: Mapping[str, Any] | None = None, *, dtype: str = "float64",
            name: str = "autograd_core_graph", functions: bool = True) -> Any:
    """Write ``g`` (a StaticGraph, or a Value/Tensor output with ``inputs``
    naming its input leaves) as an ONNX model to ``path`` (atomically) and
    return the ``onnx.ModelProto``. Inputs keep their names; a static graph's
    parameters are initializers named by their labels; the output is ``output``.
    Opset :data:`OPSET`, float64 unless ``dtype="float32"``. A primitive written
    with several operators becomes a local function of the same name (domain
    ``autograd_core``): Netron shows one ``elu`` node and opens its body on a
    double click; ``functions=False`` writes the operators inline instead."""
    from ._ir import require
    onnx = require("onnx")
    from onnx import TensorProto, helper, numpy_helper
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', not {dtype!r}")
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    ir = _ir.build(g, inputs)
    b = _Builder(helper, numpy_helper, dtype)
    F = _OnnxVocabulary(b)
    vals: list[Any] = [None] * len(ir.nodes)
    fns: dict[tuple, tuple[str, Any] | None] = {}   # (primitive, operands, param) -> function
    fnames: set[str] = set()
    graph_inputs = []
    for k, i in enumerate(ir.inputs):
        n = ir.nodes[i]
        vals[i] = _Var(b, n.name)
        if ir.shapes[k] is not None:
            b.shapes[n.name] = ir.shapes[k]
        graph_inputs.append(helper.make_tensor_value_info(n.name, elem, ir.shapes[k] or []))
    for i in ir.params:
        vals[i] = b.const(ir.nodes[i].value, name=ir.nodes[i].name)
    for i, n in enumerate(ir.nodes):
        if n.kind == "const":
            vals[i] = b.const(n.value, name=n.name)
        elif n.kind == "op":
            args = [vals[j] for j in n.operands]
            if n.has_param:
                args.append(n.param)
            b.scope, b.doc = n.name, _onnx_doc(n.prim, n.param)
            fn = None
            if functions and PRIMITIVES.get(n.prim, _NARY).arity is not None:
                key = (n.prim, len(n.operands), repr(n.param) if n.has_param else "")
                if key not in fns:
                    made = _function(helper, numpy_helper, dtype, n.prim, len(n.operands),
                                     n.param, n.has_param)
                    if made is not None:
                        fname = n.prim if n.prim not in fnames else f"{n.prim}_{len(fns)}"
                        fnames.add(fname)
                        body, out_name = made
                        proto = helper.make_function(
                            DOMAIN, fname, [f"x{k}" for k in range(len(n.operands))],
                            [out_name], body, [helper.make_opsetid("", OPSET)])
                        proto.doc_string = b.doc
                        made = (fname, proto)
                    fns[key] = made
                if fns[key] is not None:
                    fn = fns[key][0]
            if fn is not None:
                node = helper.make_node(fn, [vals[j].name for j in n.operands], [n.name],
                                        name=n.name, domain=DOMAIN)
                node.doc_string = b.doc
                b.nodes.append(node)
                vals[i] = _Var(b, n.name)
            else:
                first = len(b.nodes)
                vals[i] = b.rename(b.lift(EXPORTS[n.prim](F, *args)), n.name, first)
            if n.shape is not None:
                b.shapes[vals[i].name] = n.shape
            b.scope, b.doc = "graph", ""
    out = vals[ir.output]
    b.scope = "output"
    b.node("Identity", [out], out="output")
    graph = helper.make_graph(b.nodes, name, graph_inputs,
                              [helper.make_tensor_value_info("output", elem, ir.out_shape)],
                              initializer=b.inits)
    graph.doc_string = "exported by autograd-core (autograd_core.export.to_onnx)"
    opsets = [helper.make_opsetid("", OPSET)]
    local = [f[1] for f in fns.values() if f is not None]
    if local:
        opsets.append(helper.make_opsetid(DOMAIN, 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="autograd-core",
                              functions=local)
    model.ir_version = _IR_VERSION
    onnx.checker.check_model(model)
    if path is not None:
        _write(os.fspath(path), model.SerializeToString())
    return model


def _write(path: str, data: bytes) -> None:
    from .._io import write_atomic
    write_atomic(path, data)
