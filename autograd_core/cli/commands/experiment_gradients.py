"""``autograd-core experiment vanishing | training-speed | exploding | exploding-window | two-layer | remedies | pretraining``.

The textbook chapter's vanishing/exploding-gradient experiments (:mod:`nn.experiments`),
registered into the ``experiment`` command group (see
:mod:`autograd_core.cli.commands.experiment`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .. import UsageError, json_safe, output_file

_FORMATS = ("text", "markdown", "json")


def add_experiment(sub: Any) -> None:
    """Register the four gradient experiments on the group's subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "vanishing", help="per-layer learning speeds of a deep sigmoid net at initialisation",
        description="Nielsen's speed of learning ‖∂C/∂b‖ per hidden layer of "
                    "nn.MLP(sizes, sigmoid, init='nielsen', seed=s) at initialisation, C the "
                    "cross-entropy averaged over the first IMAGES MNIST test images; mean, min "
                    "and max over the seeds and the last/first ratio.",
        epilog="example:\n  autograd-core experiment vanishing --sizes 784,30,30,30,10 "
               "--images 1000 --seeds 0-9 --plot speeds.png", formatter_class=fmt)
    _common(p, seeds="0-9")
    p.add_argument("--activation", default="sigmoid", help="hidden activation (default sigmoid)")
    p.add_argument("--init", default="nielsen", help="initialisation scheme (default nielsen)")
    p.add_argument("--per-seed", action="store_true", help="also print every seed's speeds")
    _backend(p)
    p.add_argument("--plot", metavar="FILE", help="bar chart of the speeds (.png or .svg)")
    p.set_defaults(func=run_vanishing)

    p = sub.add_parser(
        "training-speed", help="per-layer learning speeds over training (log-scale plot)",
        description="Nielsen's script: each epoch is one full-batch SGD step over the same "
                    "images (eta, lambda), the speeds measured before each step.",
        epilog="example:\n  autograd-core experiment training-speed --sizes 784,30,30,30,10 "
               "--epochs 30 --plot training.png", formatter_class=fmt)
    _common(p, seeds=None)
    p.add_argument("--epochs", type=int, default=30, help="full-batch steps (default 30)")
    p.add_argument("--seed", type=int, default=0, help="network seed (default 0)")
    p.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--lmbda", type=float, default=5.0, help="L2 strength lambda (default 5.0)")
    _backend(p)
    p.add_argument("--plot", metavar="FILE", help="log-scale line plot (.png or .svg)")
    p.set_defaults(func=run_training_speed)

    p = sub.add_parser(
        "exploding", help="the textbook chapter's chain of four sigmoid neurons with w = 100",
        description="w1..w4 = WEIGHT, biases b_j = -w_j·a_(j-1) so every z_j = 0: each factor "
                    "w_j·σ'(z_j) = WEIGHT/4, ∂C/∂b1 / ∂C/∂b4 = (WEIGHT/4)^3 (15625 for 100); "
                    "and the same chain with w = 1 (ratio 1/64). Printed factor by factor "
                    "(Trace.paths).",
        epilog="example:\n  autograd-core experiment exploding --draw chain.svg", formatter_class=fmt)
    p.add_argument("--weight", type=float, default=100.0, help="w1..w4 (default 100)")
    p.add_argument("--a0", type=float, default=1.0, help="the input a0 (default 1)")
    p.add_argument("--draw", metavar="FILE",
                   help="draw the chain's graph coloured by |grad| (.svg, .png or .pdf; needs Graphviz)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run_exploding)

    p = sub.add_parser(
        "pretraining", help="layer-wise pre-training + fine-tuning vs plain training (remedy 3.1)",
        description="Remedy 3.1 of the chapter, measured: each hidden layer of a sigmoid network "
                    "pre-trained in turn as an autoencoder of the previous layer's output, then the "
                    "whole network fine-tuned with mini-batch SGD; against plain training of the "
                    "same initial network for the same epochs on the same images. Prints the "
                    "per-layer speeds when supervised training starts and ends and the held-out "
                    "accuracy (Tensor backend).",
        epilog="example:\n  autograd-core experiment pretraining --seeds 0-2 --epochs 3",
        formatter_class=fmt)
    _common(p, seeds="0")
    p.add_argument("--pre-epochs", type=int, default=3, help="autoencoder epochs per layer (default 3)")
    p.add_argument("--epochs", type=int, default=3, help="supervised epochs (default 3)")
    p.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--lmbda", type=float, default=5.0, help="L2 strength lambda (default 5.0)")
    p.add_argument("--batch-size", type=int, default=10, help="mini-batch size (default 10)")
    p.add_argument("--test-images", type=int, default=1000,
                   help="held-out t10k images after the first IMAGES (default 1000)")
    p.add_argument("--backend", choices=("tensor",), default="tensor",
                   help="the Tensor backend (training on scalar Values would take hours)")
    p.set_defaults(func=run_pretraining)

    p = sub.add_parser(
        "two-layer", help="the textbook's two-layer linear chain, stepped through in its order",
        description="x = 1.5, w = 0.8, b = 0.2, y_gt = 0.8: y1 = w1·x + b1 (= 1.4), y2 = w2·y1 + b2, "
                    "L = ½(y2 − y_gt)²; the gradients in the textbook's chain order (∂L/∂y2, then "
                    "w2, b2, y1, w1, b1), each a product of local derivatives read from the "
                    "engine's graph, next to the engine's reverse-mode .grad.",
        epilog="example:\n  autograd-core experiment two-layer --x 2 --y-gt 1", formatter_class=fmt)
    for name, default in (("x", 1.5), ("w1", 0.8), ("b1", 0.2), ("w2", 0.8), ("b2", 0.2),
                          ("y-gt", 0.8)):
        p.add_argument(f"--{name}", type=float, default=default, help=f"(default {default})")
    p.add_argument("--format", choices=_FORMATS, default="text")
    p.set_defaults(func=run_two_layer)

    p = sub.add_parser(
        "exploding-window", help="formula (3): where |w·σ'(w·x+b)| ≥ 1, measured vs the formula",
        description="For each weight w, the interval of inputs x where |w·σ'(w·x + b)| ≥ 1 "
                    "(the only inputs where a sigmoid layer can make gradients explode), found "
                    "by bisection on the engine's derivative ∂σ(wx+b)/∂x, next to the chapter's "
                    "formula (3) (2/|w|)·ln(|w|(1+√(1−4/|w|))/2 − 1); and the maximum width "
                    "over |w| (0.4477 at |w| = 6.894).",
        epilog="example:\n  autograd-core experiment exploding-window --plot window.png",
        formatter_class=fmt)
    p.add_argument("--weights", default=",".join(f"{w:g}" for w in (4.5, 5, 6, 6.894, 8, 10, 15, 20,
                                                                      50, 100)),
                   help="comma-separated weights (default 4.5,5,6,6.894,8,10,15,20,50,100)")
    p.add_argument("--bias", type=float, default=0.0, help="the bias b (default 0; moves the "
                   "window, not its width)")
    p.add_argument("--plot", metavar="FILE", help="width against |w| (.png or .svg)")
    p.add_argument("--format", choices=_FORMATS, default="text")
    p.set_defaults(func=run_exploding_window)

    p = sub.add_parser(
        "remedies", help="ReLU/ELU, He init, BatchNorm, residual, clipping: speeds compared",
        description="The same deep network with sigmoid vs ReLU vs ELU, Nielsen vs He "
                    "initialisation, with and without BatchNorm and residual connections: "
                    "per-layer speeds at initialisation, first/last ratios, verdicts and "
                    "saturated/dead units; then the same after EPOCHS epochs of mini-batch SGD on "
                    "the same images, with the accuracy on held-out images before and after; and "
                    "gradient clipping on the exploding chain.",
        epilog="example:\n  autograd-core experiment remedies --sizes 784,30,30,30,10 --images 1000 "
               "--epochs 3 --seeds 0-2", formatter_class=fmt)
    _common(p, seeds="0")
    _backend(p)
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs of training after the initial measurement (default 3; 0: "
                        "initialisation only)")
    p.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--lmbda", type=float, default=5.0, help="L2 strength lambda (default 5.0)")
    p.add_argument("--batch-size", type=int, default=10, help="mini-batch size (default 10)")
    p.add_argument("--test-images", type=int, default=1000,
                   help="held-out t10k images after the first IMAGES for the accuracy (default 1000)")
    p.add_argument("--clip", type=float, default=1.0, help="clipping threshold (default 1)")
    p.add_argument("--plot", metavar="FILE", help="bar chart of first/last ratios (.png or .svg)")
    p.set_defaults(func=run_remedies)


def _backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=("tensor", "scalar"), default="tensor",
                   help="the Tensor backend (default) or scalar Values: the same numbers to "
                        "~1e-12, the Tensor backend hundreds of times faster")


def _common(p: argparse.ArgumentParser, seeds: str | None) -> None:
    p.add_argument("--sizes", default="784,30,30,30,10",
                   help="layer sizes, input first (default 784,30,30,30,10)")
    p.add_argument("--images", type=int, default=1000, help="first IMAGES t10k images (default 1000)")
    if seeds is not None:
        p.add_argument("--seeds", default=seeds, help=f"seeds: 0-9, 0,3,5 or 7 (default {seeds})")
    p.add_argument("--data", metavar="DIR", help="folder with MNIST IDX files (default: "
                   "../shared/data/mnist, then /usr/share/datasets/fashion-mnist, else synthetic)")
    p.add_argument("--format", choices=_FORMATS, default="text")


def _check_images(args: argparse.Namespace) -> None:
    if args.images < 1:
        raise UsageError(f"--images must be at least 1, got {args.images}")


def _note(info: Any) -> None:
    if info.message:
        print(f"autograd-core: note: {info.message}", file=sys.stderr)


def _emit(result: Any, fmt: str, plot: str | None = None, **kw: Any) -> None:
    if fmt == "json":
        print(json.dumps(json_safe(result.to_dict()), indent=1, ensure_ascii=False, allow_nan=False))
    else:
        print(result.to_text(markdown=fmt == "markdown", **kw))
        if plot:
            print(f"\nplot: {plot}")


def _check_plot(path: str | None) -> None:
    if path is not None and not path.lower().endswith((".png", ".svg")):
        raise UsageError(f"--plot must end in .png or .svg, got {path!r}")
    if path is not None:
        output_file(path, "--plot")


def run_vanishing(args: argparse.Namespace) -> int:
    from nn import experiments as ex

    _check_images(args)
    _check_plot(args.plot)
    sizes = ex.parse_sizes(args.sizes)
    seeds = ex.parse_seeds(args.seeds)
    res = ex.vanishing(sizes, args.images, seeds, args.data, activation=args.activation,
                       init=args.init, backend=args.backend)
    _note(res.data)
    if args.plot:
        from visualize.plots import plot_learning_speeds
        plot_learning_speeds(res, args.plot, reference=res.reference,
                             title=f"Learning speed at initialisation, {sizes}, seeds "
                                   f"{args.seeds} (diamonds: numpy reference)"
                             if res.reference else f"Learning speed at initialisation, {sizes}")
    _emit(res, args.format, args.plot, per_seed=args.per_seed)
    return 0


def run_training_speed(args: argparse.Namespace) -> int:
    from nn import experiments as ex

    _check_images(args)
    _check_plot(args.plot)
    if args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {args.epochs}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    sizes = ex.parse_sizes(args.sizes)
    res = ex.training_speed(sizes, args.epochs, args.images, args.seed, args.data,
                            eta=args.eta, lmbda=args.lmbda, backend=args.backend)
    _note(res.data)
    if args.plot:
        from visualize.plots import plot_training_speed
        plot_training_speed(res, args.plot, title=f"Learning speed during training, {sizes}")
    _emit(res, args.format, args.plot)
    return 0


def run_exploding(args: argparse.Namespace) -> int:
    from nn import experiments as ex

    results = [ex.exploding(args.weight, args.a0)]
    if args.weight != 1.0:
        results.append(ex.exploding(1.0, args.a0))
    if args.draw:
        output_file(args.draw, "--draw")
        from visualize import render
        render(results[0].output, args.draw, color="grad", parameters=results[0].parameters)
    if args.format == "json":
        print(json.dumps(json_safe({"experiment": "exploding", "chains": [r.to_dict() for r in results]}),
                         indent=1, ensure_ascii=False, allow_nan=False))
        return 0
    print("\n\n".join(r.to_text() for r in results))
    if args.draw:
        print(f"\ngraph: {args.draw}")
    return 0


def run_pretraining(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits

    from nn import experiments as ex

    _check_images(args)
    for name in ("pre_epochs", "epochs", "batch_size", "test_images"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.eta > 0 or not args.lmbda >= 0:
        raise UsageError("--eta must be > 0 and --lmbda >= 0")
    sizes = ex.parse_sizes(args.sizes)
    seeds = ex.parse_seeds(args.seeds)
    with threadpool_limits(1):  # mini-batches of 10: one BLAS thread is fastest
        res = ex.pretraining(sizes, args.images, seeds, args.data, pre_epochs=args.pre_epochs,
                             epochs=args.epochs, eta=args.eta, lmbda=args.lmbda,
                             batch_size=args.batch_size, test_images=args.test_images)
    _note(res.data)
    _emit(res, args.format)
    return 0


def run_two_layer(args: argparse.Namespace) -> int:
    from nn import experiments as ex

    try:
        res = ex.two_layer_chain(args.x, args.w1, args.b1, args.w2, args.b2, args.y_gt)
    except ValueError as e:
        raise UsageError(str(e)) from None
    _emit(res, args.format)
    return 0


def run_exploding_window(args: argparse.Namespace) -> int:
    import math

    from nn import experiments as ex

    _check_plot(args.plot)
    try:
        weights = [float(w) for w in args.weights.split(",")]
    except ValueError:
        raise UsageError(f"--weights must be comma-separated numbers, got {args.weights!r}") from None
    if not all(math.isfinite(w) for w in weights) or not math.isfinite(args.bias):
        raise UsageError("--weights and --bias must be finite numbers")
    res = ex.exploding_window(weights, args.bias)
    if args.plot:
        from visualize.plots import plot_exploding_window
        plot_exploding_window(res, args.plot, w_max=max(100.0, *(abs(w) for w in weights)))
    _emit(res, args.format, args.plot)
    return 0


def run_remedies(args: argparse.Namespace) -> int:
    from nn import experiments as ex

    _check_images(args)
    _check_plot(args.plot)
    if not args.clip > 0:
        raise UsageError(f"--clip must be > 0, got {args.clip}")
    if args.epochs < 0:
        raise UsageError(f"--epochs must be >= 0, got {args.epochs}")
    for name in ("batch_size", "test_images"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.eta > 0 or not args.lmbda >= 0:
        raise UsageError("--eta must be > 0 and --lmbda >= 0")
    sizes = ex.parse_sizes(args.sizes)
    seeds = ex.parse_seeds(args.seeds)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # mini-batches of 10: one BLAS thread is fastest
        res = ex.remedies(sizes, args.images, seeds, args.data, clip=args.clip, backend=args.backend,
                          epochs=args.epochs, eta=args.eta, lmbda=args.lmbda,
                          batch_size=args.batch_size, test_images=args.test_images)
    _note(res.data)
    if args.plot:
        from visualize.plots import plot_learning_speeds
        plot_learning_speeds([r.ratio for r in res.rows], args.plot,
                             labels=[r.name.replace(", ", "\n").replace(" + ", "\n+ ")
                                     for r in res.rows],
                             title="Remedies: first/last hidden-layer speed ratio (1 = balanced)",
                             ylabel="first/last speed ratio", log=True)
    _emit(res, args.format, args.plot)
    return 0
