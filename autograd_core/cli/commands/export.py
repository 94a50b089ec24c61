"""``autograd-core export FORMULA NAME=VALUE ... --onnx out.onnx --torch out.py``.

Parses the formula with the safe parser, builds its graph at the given
values, and writes it as an ONNX model (opset
:data:`autograd_core.export.OPSET`, float64, inputs named like the
variables) and/or a small PyTorch module file. Needs the ``[export]`` extra
for ONNX (``pip install autograd-core[export]``).
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import UsageError
from ...stepthrough.parser import parse
from .explain import _values

_EPILOG = """\
examples:
  autograd-core export "tanh(x*w + b)" x=0.5 w=2 b=-1 --onnx neuron.onnx
  autograd-core export "x*y + sin(x)" x=1 y=2 --torch formula.py
  (open the .onnx file in Netron: https://netron.app, or `netron neuron.onnx`)
"""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export", help="write a formula's graph as ONNX or a PyTorch module file",
        description="Parse a formula, build its graph at the given values and export it "
                    "(ONNX model, PyTorch module file).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("expression", help="the formula, e.g. \"tanh(x*w + b)\" (quote it)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="a value for every variable (the inputs of the exported graph)")
    p.add_argument("--onnx", metavar="FILE", help="write an ONNX model (float64)")
    p.add_argument("--torch", metavar="FILE", help="write a PyTorch module file (.py)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.onnx or args.torch):
        raise UsageError("nothing to write: give --onnx FILE and/or --torch FILE")
    values = _values(args.assignments)
    out, inputs = parse(args.expression, **values)
    missing = [n for n, v in inputs.items() if n not in values]
    if missing:
        raise UsageError(f"no value for {', '.join(missing)} (give NAME=VALUE for each variable)")
    if not out._parents:
        raise UsageError("the formula has no operation to export")
    from ...export import ExportError
    try:
        if args.torch:
            from ...export import to_torch_source
            src = to_torch_source(out, inputs, formula=args.expression, example=values)
        if args.onnx:
            from ...export import to_onnx
            to_onnx(out, args.onnx, inputs)
        if args.torch:
            from ..._io import write_atomic
            write_atomic(args.torch, src)
    except (ImportError, ExportError, OSError) as exc:
        raise UsageError(str(exc)) from None
    for what, path in (("ONNX model", args.onnx), ("PyTorch module", args.torch)):
        if path:
            print(f"wrote {what} {path}")
    return 0
