"""``autograd-core experiment ...``: reproducible experiments from the textbook chapter.

A command group: each experiment is a sub-subcommand. This module registers
``depth-accuracy`` itself; other modules add theirs by listing their dotted
name in :data:`EXPERIMENT_MODULES` and providing ``add_experiment(subparsers)``
(register a parser on ``subparsers``, ``set_defaults(func=handler)``), just
like top-level commands do in :mod:`autograd_core.cli`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from .. import UsageError, json_safe, output_dir, output_file

#: Modules that add experiments (each provides ``add_experiment(subparsers)``).
EXPERIMENT_MODULES: list[str] = [
    "autograd_core.cli.commands.experiment_gradients",
]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "experiment", help="run an experiment from the textbook chapter (depth-accuracy, ...)",
        description="Reproduce the textbook chapter's experiments. Each experiment is a subcommand; "
                    "see 'autograd-core experiment NAME --help'.")
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT", parser_class=type(p))
    _add_depth_accuracy(sub)
    for name in EXPERIMENT_MODULES:
        importlib.import_module(name).add_experiment(sub)
    p.set_defaults(func=lambda args: _group_help(p))


def _group_help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 0


# ------------------------------------------------------------------ depth-accuracy

_DA_EPILOG = """\
examples:
  autograd-core experiment depth-accuracy                       (the full run: ~10 min)
  autograd-core experiment depth-accuracy --dataset mnist --seeds 2 --epochs 5
  autograd-core experiment depth-accuracy --out results/ --format markdown
"""


def _add_depth_accuracy(sub: Any) -> None:
    p = sub.add_parser(
        "depth-accuracy", help="the textbook chapter's accuracy table for 1, 2 and 3 hidden layers",
        description="Train network2's sigmoid networks [784,30,10], [784,30,30,10] and "
                    "[784,30,30,30,10] (cross-entropy, mini-batch 10, eta 0.1, lambda 5.0, "
                    "30 epochs) on the Tensor backend, several seeds each, with the learning-speed "
                    "monitor running alongside; print the table of final test accuracies against "
                    "the reference numbers and plot the accuracy per epoch.",
        epilog=_DA_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=("mnist", "fashion", "both"), default="both",
                   help="mnist: the MNIST test set split 8000 train / 2000 test; fashion: "
                        "Fashion-MNIST 60000/10000 ([784,30,10] only); both (default: runs the "
                        "ones found and says which were skipped)")
    p.add_argument("--seeds", type=int, default=5, metavar="K", help="seeds 0..K-1 (default 5)")
    p.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=int, default=10, help="mini-batch size (default 10)")
    p.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--lmbda", type=float, default=5.0,
                   help="L2 strength lambda, term lambda/2n ||W||^2 (default 5.0)")
    p.add_argument("--mnist", metavar="DIR", help="folder with t10k-*-idx?-ubyte[.gz] "
                   "(default: found automatically, e.g. ../shared/data/mnist)")
    p.add_argument("--fashion", metavar="DIR", help="Fashion-MNIST folder "
                   "(default /usr/share/datasets/fashion-mnist)")
    p.add_argument("--limit", type=int, help="use only the first LIMIT training images "
                   "(and LIMIT/4 test images): a quick smoke run")
    p.add_argument("--backend", choices=("tensor",), default="tensor",
                   help="the Tensor backend (30 epochs on scalar Values would take days)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (default 1: fastest for mini-batches of 10)")
    p.add_argument("--out", metavar="DIR", help="write results.json and depth-accuracy.png there")
    p.add_argument("--plot", metavar="FILE", help="write the accuracy-per-epoch plot to FILE (PNG)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--quiet", action="store_true", help="no per-run progress lines on stderr")
    p.set_defaults(func=run_depth_accuracy)


def _check(args: argparse.Namespace) -> None:
    for name in ("seeds", "epochs", "batch_size", "threads"):
        v = getattr(args, name)
        if v < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {v}")
    if args.limit is not None and args.limit < 4:
        raise UsageError(f"--limit must be at least 4, got {args.limit}")
    if not args.eta > 0 or not args.lmbda >= 0:
        raise UsageError("--eta must be > 0 and --lmbda >= 0")
    if args.out:
        output_dir(args.out, "--out")
    if args.plot:
        output_file(args.plot, "--plot")


def run_depth_accuracy(args: argparse.Namespace) -> int:
    _check(args)
    from threadpoolctl import threadpool_limits

    from nn import depth_accuracy as da

    datasets = ("mnist", "fashion") if args.dataset == "both" else (args.dataset,)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    with threadpool_limits(args.threads):
        result = da.run(datasets, range(args.seeds), epochs=args.epochs, batch_size=args.batch_size,
                        eta=args.eta, lmbda=args.lmbda, mnist_dir=args.mnist,
                        fashion_dir=args.fashion, limit=args.limit, progress=log,
                        skip_missing=args.dataset == "both")
    plot = args.plot or (os.path.join(args.out, "depth-accuracy.png") if args.out else None)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        _write_json(os.path.join(args.out, "results.json"), result)
    if plot:
        _plot(result, plot)
    if args.format == "json":
        print(json.dumps(json_safe({"config": result["config"], "summary": result["summary"],
                                    "skipped": result["skipped"]}), indent=1, allow_nan=False))
    else:
        print(format_table(result, markdown=args.format == "markdown"))
        for k in result["skipped"]:
            print(f"skipped {k['dataset']}: {k['reason']}")
        if plot:
            print(f"\nplot: {plot}")
    return 0


def _write_json(path: str, doc: Any) -> None:
    from ..._io import write_json_atomic
    write_json_atomic(path, json_safe(doc))


def _sizes(s: list[int]) -> str:
    return "[" + ",".join(map(str, s)) + "]"


def format_table(result: dict[str, Any], markdown: bool = False) -> str:
    """The accuracy table (and learning speeds) as text or Markdown."""
    cfg = result["config"]
    head = ["data", "network", "runs", "mean %", "std", "min", "max", "reference %", "within 0.5",
            "speeds epoch 1 (‖∂C/∂b‖ per layer)", "s/run"]
    rows = []
    for r in result["summary"]:
        ref = "" if r["target"] is None else (
            f"{r['target'][0]:.2f}" if r["target"][0] == r["target"][1]
            else f"{r['target'][0]:.1f}–{r['target'][1]:.1f}")
        ok = "" if r["within_target"] is None else ("yes" if r["within_target"] else "NO")
        sp = " ".join(f"{v:.3g}" for v in r["speed_first"])
        rows.append([r["dataset"], _sizes(r["sizes"]), str(r["runs"]), f"{r['mean']:.2f}",
                     f"{r['std']:.2f}", f"{r['min']:.2f}", f"{r['max']:.2f}", ref, ok, sp,
                     f"{r['seconds']:.0f}"])
    title = (f"depth-accuracy: sigmoid MLPs, cross-entropy, {cfg['epochs']} epochs, mini-batch "
             f"{cfg['batch_size']}, eta {cfg['eta']}, lambda {cfg['lmbda']}, seeds "
             f"{cfg['seeds'][0]}..{cfg['seeds'][-1]}")
    if markdown:
        lines = [f"**{title}**", "", "| " + " | ".join(head) + " |",
                 "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([title, fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _plot(result: dict[str, Any], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = []
    for r in result["summary"]:
        if r["dataset"] not in datasets:
            datasets.append(r["dataset"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.2), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        for r in result["summary"]:
            if r["dataset"] != ds:
                continue
            ep = list(range(1, len(r["curve"]) + 1))
            line, = ax.plot(ep, r["curve"], marker="o", ms=3,
                            label=f"{_sizes(r['sizes'])}: {r['mean']:.2f}%")
            ax.fill_between(ep, r["curve_min"], r["curve_max"], color=line.get_color(), alpha=0.15)
            if r["target"]:
                ax.axhspan(r["target"][0] - 0.02, r["target"][1] + 0.02, color=line.get_color(),
                           alpha=0.3, lw=0)
        ax.set_title({"mnist": "MNIST (test set split 8000/2000)",
                      "fashion": "Fashion-MNIST (60000/10000)"}.get(ds, ds))
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%) — mean over seeds, band min–max")
        lo = min(min(r["curve_min"][min(2, len(r["curve_min"]) - 1):]) for r in result["summary"]
                 if r["dataset"] == ds)
        ax.set_ylim(max(lo - 1.0, 0.0), None)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    import io

    from ..._io import write_atomic
    buf = io.BytesIO()
    try:
        fig.savefig(buf, dpi=110, format="png")
    finally:
        plt.close(fig)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, buf.getvalue())
