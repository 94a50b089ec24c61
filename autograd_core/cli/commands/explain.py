"""``autograd-core explain EXPR NAME=VALUE ...``: the chain rule, step by step.

Prints the forward table (values and local derivatives), the backward steps
and the gradients; ``--mode forward`` pushes tangents instead, ``both`` shows
the two side by side with their operation counts; ``--paths`` writes each
gradient as a sum over graph paths. ``--svg FILE`` draws the graph and
``--html FILE`` writes the step-through page (both with :mod:`visualize`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from .. import UsageError, output_file
from ...stepthrough.parser import parse
from ...stepthrough.trace import _json_num as _json
from ...stepthrough.trace import explain

_EPILOG = """\
examples:
  autograd-core explain "1/(exp(-(x*w+b))+1)" x=1 w=0 b=0
  autograd-core explain "x*w + b" x=2 w=3 b=1 --wrt w,b --mode both
  autograd-core explain "sqrt(x^2+y^2)" x=3 y=4 --format latex > slide.tex
  autograd-core explain -- "-x**2" x=3        (use -- when the formula starts with '-')
"""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "explain", help="step through the chain rule on a formula",
        description="Parse a formula, evaluate it at the given values and show the chain rule: "
                    "every node with its local derivatives, the backward steps and the gradients.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("expression", help="the formula, e.g. \"1/(exp(-(x*w+b))+1)\" (quote it)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="a value for every variable, e.g. x=1 w=0 b=0")
    p.add_argument("--wrt", metavar="NAMES",
                   help="comma-separated inputs (or node names) to differentiate with respect to "
                        "(default: every variable)")
    p.add_argument("--mode", choices=("reverse", "forward", "both"), default="reverse",
                   help="reverse: backward steps (default); forward: tangents pushed from each "
                        "input; both: side by side, with operation counts")
    p.add_argument("--format", choices=("text", "markdown", "json", "latex"), default="text",
                   help="output format (default: text); latex: the derivation as amsmath align* "
                        "blocks, symbols and numbers side by side, for slides (reverse mode)")
    p.add_argument("--paths", action="store_true",
                   help="also write each gradient as a sum over graph paths of products of "
                        "local derivatives")
    p.add_argument("--svg", metavar="FILE", help="also draw the graph (with gradients) to FILE")
    p.add_argument("--html", metavar="FILE",
                   help="also write a step-through page of the backward pass to FILE")
    p.set_defaults(func=run)


def _values(assignments: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for a in assignments:
        name, eq, text = a.partition("=")
        name = name.strip()
        if not eq:
            raise UsageError(f"expected NAME=VALUE, got {a!r}")
        if not name.isidentifier():
            raise UsageError(f"bad variable name {name!r} in {a!r}")
        if name in values:
            raise UsageError(f"{name} is given twice")
        try:
            x = float(text)
        except ValueError:
            raise UsageError(f"bad number for {name}: {text!r}") from None
        if math.isinf(x) and "inf" not in text.lower():
            raise UsageError(f"number for {name} is too large for a float: {text!r}")
        values[name] = x
    return values


def _write_extras(args: argparse.Namespace, out: Any, trace: Any) -> list[str]:
    notes = []
    if not (args.svg or args.html):
        return notes
    try:
        import visualize
    except ImportError:
        raise UsageError("--svg/--html need the visualize package, which is not installed") from None
    if args.svg:
        render = getattr(visualize, "render", None)
        if render is None:
            raise UsageError("--svg is not available: visualize.render is missing")
        out.backward()  # the picture shows gradients; this graph belongs to the command
        render(out, args.svg)
        notes.append(f"wrote {args.svg}")
    if args.html:
        write_stepper = getattr(visualize, "write_stepper", None)
        if write_stepper is None:
            raise UsageError("--html is not available: visualize.write_stepper is missing")
        from ...stepthrough.trace import num
        write_stepper(trace, args.html, title=f"Backpropagation step by step: {trace.output_name} = "
                                              f"{args.expression} = {num(trace.value)}")
        notes.append(f"wrote {args.html}")
    return notes


def build(expression: str, values: dict[str, float], wrt: list[str] | None, mode: str = "reverse",
          paths: bool = False) -> tuple[Any, Any, list[Any], list[Any]]:
    """Parse and explain ``expression`` at ``values``: ``(output, trace,
    forward-mode tables, path sums)``. Shared by the command and the
    playground's API, so both give the same answer."""
    out, inputs = parse(expression, **values)
    unused = [n for n, v in inputs.items() if v not in _graph_leaves(out)]
    if unused:
        raise UsageError(f"{unused[0]} is given a value but does not appear in the expression")
    trace = explain(out, list(inputs) if wrt is None else wrt)
    tables = [trace.forward_mode(w) for w in trace.wrt] if mode != "reverse" else []
    sums = [trace.paths(w) for w in trace.wrt] if paths else []
    return out, trace, tables, sums


def json_document(expression: str, values: dict[str, float], mode: str, trace: Any,
                  tables: list[Any], paths: list[Any]) -> dict[str, Any]:
    """What ``explain --format json`` prints (the playground's API returns the same)."""
    backward = mode != "forward"
    doc: dict[str, Any] = {"expression": expression, "values": values, "mode": mode}
    d = trace.to_dict()
    if not backward:
        d.pop("backward")
    doc.update(d)
    if tables:
        doc["forward_mode"] = [t.to_dict() for t in tables]
    if backward:
        doc["adjoints"] = {k: _json(v) for k, v in trace.adjoints.items()}
    if paths:
        doc["paths"] = [p.to_dict() for p in paths]
    return doc


def run(args: argparse.Namespace) -> int:
    for option, path in (("--svg", args.svg), ("--html", args.html)):
        if path:
            output_file(path, option)  # before any work: one line, exit 2
    values = _values(args.assignments)
    wrt: list[str] | None = None
    if args.wrt is not None:
        wrt = [w.strip() for w in args.wrt.split(",")]
        if not all(wrt):
            raise UsageError(f"--wrt needs comma-separated names, got {args.wrt!r}")
    out, trace, tables, paths = build(args.expression, values, wrt, args.mode, args.paths)
    backward = args.mode != "forward"

    if args.format == "latex":
        if args.mode != "reverse":
            raise UsageError("--format latex shows the reverse mode: leave out --mode "
                             f"{args.mode}")
        text = trace.to_latex(paths=paths)
    elif args.format == "json":
        doc = json_document(args.expression, values, args.mode, trace, tables, paths)
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "markdown":
        parts = [trace.to_markdown(backward=backward)]
        parts += [t.to_markdown() for t in tables]
        if args.mode == "both":
            parts.append(trace.compare_modes("markdown"))
        parts += [p.to_markdown() for p in paths]
        text = "\n".join(parts)
    else:
        parts = [trace.to_text(backward=backward)]
        parts += [t.to_text() + "\n" for t in tables]
        if args.mode == "both":
            parts.append(trace.compare_modes("text"))
        parts += [p.to_text() + "\n" for p in paths]
        text = "\n".join(parts)
    notes = _write_extras(args, out, trace)
    sys.stdout.write(text)
    for n in notes:
        print(n, file=sys.stderr)
    return 0


def _graph_leaves(out: Any) -> set[Any]:
    from ...core.engine import topological_order
    return {n for n in topological_order(out) if n.is_leaf}
