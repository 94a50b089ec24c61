"""The textbook chapter's vanishing/exploding-gradient experiments (``nn.experiments``).

* :func:`vanishing`: per-layer learning speeds at initialisation of a deep
  sigmoid network on the first 1000 MNIST test images, over several seeds
  (Nielsen's chapter 5: 0.012, 0.060, 0.283 for [784,30,30,30,10]);
* :func:`training_speed`: the speeds over training (Nielsen's script: each
  epoch one full-batch SGD step over the same images, η = 0.1, λ = 5.0, the
  speeds measured before each step);
* :func:`exploding`: the textbook chapter's chain of four sigmoid neurons with w = 100 and
  biases making every z_j = 0: each factor w_j·σ'(z_j) = 25 and
  ∂C/∂b1 / ∂C/∂b4 = 25³ = 15625 (with w = 1: (1/4)³ = 1/64);
* :func:`remedies`: the same deep network with ReLU/ELU, He initialisation,
  BatchNorm, residual connections (at initialisation and, with ``epochs``,
  after training, with held-out accuracy), and gradient clipping on the
  exploding chain;
* :func:`exploding_window`: formula (3) of the chapter (the inputs where
  |w·σ'(w·x + b)| ≥ 1) measured with the engine against the formula;
* :func:`two_layer_chain`: the chapter's two-layer linear example stepped
  through in the textbook's chain order;
* :func:`pretraining`: layer-wise pre-training then fine-tuning (remedy 3.1)
  against plain training on the same data.

Every table carries a verdict (:func:`nn.diagnostics.verdict`: vanishing /
exploding / balanced, the first hidden layer learning more than 10× more
slowly / faster than the last) and prints the rule. The network experiments
run on the Tensor backend by default (``backend="scalar"``: the same numbers).

Data (:func:`load_images`): an MNIST IDX folder given as ``data``, else the
real MNIST test set in ``../shared/data/mnist`` (relative to the repository,
then to the working directory), else Fashion-MNIST from the Debian package
``dataset-fashion-mnist``; with neither, a seeded synthetic stand-in (and a
message saying so). "The first N images" are t10k images 0..N-1, pixels/255.
Library code: nothing is printed; the CLI prints the results' ``to_text()``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Value

from . import diagnostics as _diag
from .data import find_mnist, load_mnist
from .layers import MLP
from .optim import SGD, clip_grad_norm, clip_grad_value
from .train import evaluate, fit

__all__ = [
    "DataInfo", "load_images", "synthetic_digits", "find_data", "parse_sizes", "parse_seeds",
    "vanishing", "VanishingResult", "training_speed", "TrainingSpeedResult",
    "exploding", "exploding_chain", "ExplodingResult", "remedies", "RemediesResult", "RemedyRow",
    "ClipRow", "REMEDIES", "BOOK_SPEEDS", "REFERENCE_SPEEDS",
    "two_layer_chain", "ChainStep", "TwoLayerResult", "pretraining", "PretrainingResult",
    "exploding_window", "window_formula", "ExplodingWindowResult", "WindowRow", "WINDOW_WEIGHTS",
]

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
MNIST_REL = os.path.join("..", "shared", "data", "mnist")

#: Nielsen's published speeds (the book; other runs differ by seed)
BOOK_SPEEDS = {
    (784, 30, 30, 30, 10): (0.012, 0.060, 0.283),
    (784, 30, 30, 30, 30, 10): (0.003, 0.017, 0.070, 0.285),
}
#: means over seeds 0..9 of an independent numpy run of network2's equations
#: on the first 1000 t10k images (the acceptance figures)
REFERENCE_SPEEDS = {
    (784, 30, 30, 30, 10): (0.0136, 0.0632, 0.297),
    (784, 30, 30, 30, 30, 10): (0.00283, 0.0138, 0.0633, 0.313),
    (784, 30, 30, 10): (0.0574, 0.284),
}


# ------------------------------------------------------------------ parsing

def parse_sizes(text: str | Sequence[int]) -> list[int]:
    """``"784,30,30,10"`` (or a list) -> [784, 30, 30, 10]: at least an input
    and an output size, all positive ints; ValueError otherwise."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")]
        try:
            sizes = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"sizes must be comma-separated positive ints like 784,30,30,10, "
                             f"got {text!r}") from None
    else:
        sizes = list(text)
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise ValueError(f"sizes must be ints, got {s!r}")
        sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes need at least an input and an output size, got {sizes}")
    if any(s < 1 for s in sizes):
        raise ValueError(f"sizes must be positive, got {sizes}")
    return sizes


def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """``"0-9"`` -> 0..9, ``"0,3,5"``, ``"7"``, or ints; no duplicates, none negative."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        seeds = [int(text)]
    elif isinstance(text, str):
        seeds = []
        for part in text.split(","):
            part = part.strip()
            lo, sep, hi = part.partition("-")
            try:
                if sep:
                    a, b = int(lo), int(hi)
                    if b < a:
                        raise ValueError
                    seeds.extend(range(a, b + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise ValueError(f"seeds must look like 0-9, 0,3,5 or 7 (non-negative ints), "
                                 f"got {text!r}") from None
    else:
        seeds = []
        for s in text:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise ValueError(f"seeds must be ints, got {s!r}")
            seeds.append(int(s))
    if not seeds:
        raise ValueError("no seeds given")
    if any(s < 0 or s >= 2 ** 32 for s in seeds):
        raise ValueError(f"seeds must be in 0 .. 2**32-1, got {seeds}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds in {text!r}")
    return seeds


def _check_count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


# ------------------------------------------------------------------ data

@dataclass
class DataInfo:
    """Where the images came from: ``source`` is ``"mnist"``, ``"fashion-mnist"``,
    ``"idx"`` (a folder given by the caller), ``"synthetic"`` or ``"arrays"``;
    ``message`` explains a fallback (None when the real MNIST was found)."""

    source: str
    path: str | None
    images: int
    message: str | None = None

    def describe(self) -> str:
        if self.source == "synthetic":
            return f"synthetic stand-in, {self.images} images (seeded)"
        if self.source == "arrays":
            return f"{self.images} given examples"
        name = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "idx": "IDX"}[self.source]
        return f"{name} t10k images 0..{self.images - 1} /255 ({self.path})"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "path": self.path, "images": self.images,
                "message": self.message}


def find_data() -> tuple[str, str] | None:
    """(source, folder) of the default data: ``../shared/data/mnist`` relative
    to the repository, then to the working directory, then Fashion-MNIST."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [("mnist", os.path.normpath(os.path.join(repo, MNIST_REL))),
                  ("mnist", os.path.abspath(MNIST_REL)),
                  ("fashion-mnist", FASHION_DIR)]
    for source, folder in candidates:
        if find_mnist((folder,)) == folder:
            return source, folder
    return None


def synthetic_digits(n: int, seed: int = 0, size: int = 784,
                     classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """A seeded stand-in for MNIST: ``classes`` random blurred prototypes on a
    28×28 grid, each example a prototype with noise, pixels in [0, 1]."""
    n = _check_count(n, "n")
    rng = np.random.RandomState(seed)
    side = int(round(math.sqrt(size)))
    protos = rng.rand(classes, size) ** 3
    if side * side == size:  # blur a little so the images have strokes, not speckle
        p = protos.reshape(classes, side, side)
        p = (p + np.roll(p, 1, 1) + np.roll(p, 1, 2) + np.roll(p, -1, 1) + np.roll(p, -1, 2)) / 5
        protos = p.reshape(classes, size)
    y = rng.randint(0, classes, size=n).astype(np.int64)
    X = np.clip(protos[y] + 0.1 * rng.randn(n, size), 0.0, 1.0)
    return X, y


def load_images(images: int = 1000, data: str | os.PathLike[str] | None = None, *,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, DataInfo]:
    """The first ``images`` t10k images (pixels/255) and labels, and where they
    came from. ``data`` a folder (or images file) of IDX files; without it the
    default search (:func:`find_data`), else :func:`synthetic_digits`."""
    images = _check_count(images, "images")
    if data is not None:
        X, y = load_mnist(data, "test", limit=images)
        src, path, msg = "idx", os.fspath(data), None
    else:
        found = find_data()
        if found is None:
            X, y = synthetic_digits(images, seed)
            return X, y, DataInfo(
                "synthetic", None, images,
                f"no MNIST found ({MNIST_REL} from the repository or the working directory) and "
                f"no Fashion-MNIST ({FASHION_DIR}, Debian package dataset-fashion-mnist); "
                "using a seeded synthetic stand-in: the numbers will not match the book")
        src, path = found
        X, y = load_mnist(path, "test", limit=images)
        msg = None if src == "mnist" else (
            f"MNIST not found ({MNIST_REL}); using Fashion-MNIST from {path}: "
            "the numbers will not match the book")
    if len(X) < images:
        raise ValueError(f"asked for {images} images but {path} holds only {len(X)}")
    return X, y, DataInfo(src, path, len(X), msg)


def _data(images: int, data: Any, X: Any, y: Any, seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray, DataInfo]:
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError("give both X and y, or neither")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (examples × inputs), got shape {X.shape}")
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        return X, y, DataInfo("arrays", None, len(X))
    return load_images(images, data, seed=seed)


def _check_width(sizes: list[int], X: np.ndarray) -> None:
    if X.shape[1] != sizes[0]:
        raise ValueError(f"the network's input size is {sizes[0]} but the images have "
                         f"{X.shape[1]} pixels")
    if sizes[-1] < 2:
        raise ValueError(f"the output layer needs one neuron per class (>= 2), got {sizes[-1]}")


def _fmt(x: float, digits: int = 4) -> str:
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    return f"{x:.{digits}g}" if 1e-4 <= abs(x) < 1e7 else f"{x:.{digits - 1}e}"


def _fmt6(x: float) -> str:
    return _fmt(x, 6)


def _table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    if markdown:
        esc = lambda c: c.replace("|", "\\|")  # noqa: E731  (a cell's | is text, not a column)
        out = ["| " + " | ".join(map(esc, headers)) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _json_float(x: float) -> Any:
    return x if math.isfinite(x) else str(x)


def _check_backend(backend: str) -> None:
    if backend not in ("scalar", "tensor"):
        raise ValueError(f"backend must be 'scalar' or 'tensor', not {backend!r}")


# ------------------------------------------------------------------ vanishing

@dataclass
class VanishingResult:
    """Speeds at initialisation: ``speeds[i][l]`` for seed ``seeds[i]`` and
    hidden layer l; per layer ``mean``, ``min``, ``max``; ``ratios[i]`` =
    last/first speed of seed i; ``increasing[i]``: speeds strictly increase
    with depth; ``book`` and ``reference`` speeds for these sizes, if known."""

    sizes: list[int]
    seeds: list[int]
    activation: str
    init: str
    loss: str
    data: DataInfo
    speeds: list[list[float]]

    @property
    def mean(self) -> list[float]:
        return np.mean(np.asarray(self.speeds), axis=0).tolist()

    @property
    def min(self) -> list[float]:
        return np.min(np.asarray(self.speeds), axis=0).tolist()

    @property
    def max(self) -> list[float]:
        return np.max(np.asarray(self.speeds), axis=0).tolist()

    @property
    def ratios(self) -> list[float]:
        return [s[-1] / s[0] if s[0] else math.inf for s in self.speeds]

    @property
    def increasing(self) -> list[bool]:
        return [all(a < b for a, b in zip(s, s[1:])) for s in self.speeds]

    @property
    def verdict(self) -> str:
        """:func:`nn.diagnostics.verdict` of the mean speeds."""
        return _diag.verdict(self.mean)

    @property
    def verdicts(self) -> list[str]:
        """The verdict of each seed's speeds."""
        return [_diag.verdict(s) for s in self.speeds]

    @property
    def book(self) -> tuple[float, ...] | None:
        return BOOK_SPEEDS.get(tuple(self.sizes)) if self._default_setup() else None

    @property
    def reference(self) -> tuple[float, ...] | None:
        return REFERENCE_SPEEDS.get(tuple(self.sizes)) if self._default_setup() else None

    def _default_setup(self) -> bool:
        return (self.activation == "sigmoid" and self.init == "nielsen"
                and self.loss == "binary_cross_entropy")

    def to_text(self, markdown: bool = False, per_seed: bool = False) -> str:
        lines = [f"Learning speeds ‖∂C/∂b‖ at initialisation: {self.sizes}, {self.activation}, "
                 f"init={self.init}, {self.loss}",
                 f"data: {self.data.describe()}; seeds {_seed_text(self.seeds)}", ""]
        headers = ["layer", "mean", "min", "max"]
        ref, book = self.reference, self.book
        if ref:
            headers.append("reference (numpy)")
        if book:
            headers.append("book")
        rows = []
        for k in range(len(self.mean)):
            row = [f"hidden {k + 1}", f"{self.mean[k]:.5f}", f"{self.min[k]:.5f}", f"{self.max[k]:.5f}"]
            if ref:
                row.append(str(ref[k]))
            if book:
                row.append(str(book[k]))
            rows.append(row)
        lines.append(_table(headers, rows, markdown))
        r = self.ratios
        lines.append("")
        if len(self.mean) > 1:
            lines.append(f"last/first ratio: mean {np.mean(r):.1f} (min {min(r):.1f}, max {max(r):.1f})")
            lines.append(f"speeds strictly increase with depth in {sum(self.increasing)} of "
                         f"{len(self.seeds)} seeds")
            first_last = _diag.speed_ratio(self.mean)
            lines.append(f"verdict: {self.verdict} (first/last {_fmt(first_last)} of the mean "
                         f"speeds; {sum(v == self.verdict for v in self.verdicts)} of "
                         f"{len(self.seeds)} seeds agree)")
            lines.append(_diag.VERDICT_RULE)
        if per_seed:
            lines.append("")
            rows = [[str(s)] + [f"{v:.5f}" for v in sp] + [f"{sp[-1] / sp[0]:.1f}" if sp[0] else "inf", vd]
                    for s, sp, vd in zip(self.seeds, self.speeds, self.verdicts)]
            lines.append(_table(["seed"] + [f"hidden {k + 1}" for k in range(len(self.mean))]
                                + ["last/first", "verdict"], rows, markdown))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "vanishing", "sizes": self.sizes, "seeds": self.seeds,
                "activation": self.activation, "init": self.init, "loss": self.loss,
                "data": self.data.to_dict(), "speeds": self.speeds, "mean": self.mean,
                "min": self.min, "max": self.max, "ratios": [_json_float(x) for x in self.ratios],
                "increasing": self.increasing, "reference": self.reference, "book": self.book,
                "verdict": self.verdict, "verdicts": self.verdicts, "rule": _diag.VERDICT_RULE}


def _seed_text(seeds: list[int]) -> str:
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def vanishing(sizes: Sequence[int] | str = (784, 30, 30, 30, 10), images: int = 1000,
              seeds: Iterable[int] | str = range(10), data: str | os.PathLike[str] | None = None, *,
              X: Any = None, y: Any = None, activation: str = "sigmoid",
              output_activation: str = "sigmoid", init: str = "nielsen",
              loss: str = "binary_cross_entropy", backend: str = "tensor") -> VanishingResult:
    """Per-layer learning speeds at initialisation, one network per seed
    (``nn.MLP(sizes[0], sizes[1:], activation, output_activation, init, seed=s)``),
    C the ``loss`` averaged over the first ``images`` images (or ``X, y``).
    ``backend="tensor"`` (the default) measures the same networks (same
    draws) on Tensors: the same speeds as ``"scalar"`` Values to about 1e-15,
    hundreds of times faster."""
    _check_backend(backend)
    sizes = parse_sizes(sizes)
    seeds = parse_seeds(seeds if not isinstance(seeds, range) else list(seeds))
    if len(sizes) < 3:
        raise ValueError(f"need at least one hidden layer, got sizes {sizes}")
    Xa, ya, info = _data(images, data, X, y)
    _check_width(sizes, Xa)
    speeds = []
    for s in seeds:
        model = MLP(sizes[0], sizes[1:], activation=activation, output_activation=output_activation,
                    init=init, seed=s, backend=backend)
        speeds.append(_diag.learning_speeds(model, Xa, ya, loss))
    return VanishingResult(sizes, seeds, activation, init, loss, info, speeds)


# ------------------------------------------------------------------ training speed

@dataclass
class TrainingSpeedResult:
    """``speeds[e][l]``: hidden layer l's speed before epoch e's step (e = 0
    is the initial network); ``cost[e]``: the training objective at that step
    (incl. the L2 term); ``verdicts[e]``; ``accuracy[e]`` on the images."""

    sizes: list[int]
    seed: int
    epochs: int
    eta: float
    lmbda: float
    data: DataInfo
    speeds: list[list[float]]
    cost: list[float]
    accuracy: list[float | None]
    verdicts: list[str]

    def to_text(self, markdown: bool = False) -> str:
        n = len(self.speeds[0]) if self.speeds else 0
        lines = [f"Learning speeds during training: {self.sizes}, seed {self.seed}, full-batch SGD "
                 f"eta={self.eta}, lambda={self.lmbda}, {self.epochs} epochs",
                 f"data: {self.data.describe()}", ""]
        rows = [[str(e)] + [_fmt(v) for v in sp] + [_fmt(c), _fmt(sp[-1] / sp[0]) if sp[0] else "inf", vd]
                for e, (sp, c, vd) in enumerate(zip(self.speeds, self.cost, self.verdicts))]
        lines.append(_table(["epoch"] + [f"hidden {k + 1}" for k in range(n)]
                            + ["cost", "last/first", "verdict"], rows, markdown))
        lines += ["", _diag.VERDICT_RULE]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "training-speed", "sizes": self.sizes, "seed": self.seed,
                "epochs": self.epochs, "eta": self.eta, "lmbda": self.lmbda,
                "data": self.data.to_dict(), "speeds": self.speeds, "cost": self.cost,
                "accuracy": self.accuracy, "verdicts": self.verdicts}


def training_speed(sizes: Sequence[int] | str = (784, 30, 30, 30, 10), epochs: int = 30,
                   images: int = 1000, seed: int = 0, data: str | os.PathLike[str] | None = None, *,
                   X: Any = None, y: Any = None, eta: float = 0.1, lmbda: float = 5.0,
                   activation: str = "sigmoid", init: str = "nielsen",
                   loss: str = "binary_cross_entropy", backend: str = "tensor"
                   ) -> TrainingSpeedResult:
    """Nielsen's training-speed script: each epoch is ONE full-batch SGD step
    over the same images (w ← (1 − ηλ/n) w − η ∂C/∂w, b ← b − η ∂C/∂b), and
    the per-layer speeds are measured on that batch's gradient just before
    the step (``nn.fit`` with ``batch_size = images`` and a
    :class:`~nn.diagnostics.GradientMonitor` every mini-batch). ``backend``
    "tensor" (default) or "scalar": the same numbers (to ~1e-12)."""
    _check_backend(backend)
    sizes = parse_sizes(sizes)
    if len(sizes) < 3:
        raise ValueError(f"need at least one hidden layer, got sizes {sizes}")
    epochs = _check_count(epochs, "epochs")
    for name, v, lo in (("eta", eta, 0.0), ("lmbda", lmbda, None)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (
                v <= 0 if lo is not None else v < 0):
            raise ValueError(f"{name} must be a {'positive' if lo is not None else 'non-negative'} "
                             f"number, got {v!r}")
    Xa, ya, info = _data(images, data, X, y)
    _check_width(sizes, Xa)
    model = MLP(sizes[0], sizes[1:], activation=activation, output_activation="sigmoid",
                init=init, seed=seed, backend=backend)
    monitor = _diag.GradientMonitor(every=1)
    hist = fit(model, Xa, ya, loss=loss, optimizer=SGD(model.parameters(), lr=eta), epochs=epochs,
               batch_size=len(Xa), l2=lmbda, callbacks=[monitor], progress=False, seed=seed)
    speeds = [r.speeds for r in monitor.records]
    return TrainingSpeedResult(sizes, seed, epochs, float(eta), float(lmbda), info, speeds,
                               list(hist.batch_loss), list(hist.accuracy), monitor.verdicts)


# ------------------------------------------------------------------ exploding

def exploding_chain(weight: float = 100.0, a0: float = 1.0, target: float = 0.0
                    ) -> dict[str, Value]:
    """The textbook chapter's chain of four sigmoid neurons a_j = σ(z_j), z_j = w_j·a_{j−1} + b_j,
    every w_j = ``weight`` and b_j = −w_j·a_{j−1} so that every z_j = 0; cost
    C = ½(a4 − target)². Returns the labelled nodes (``a0 w1..w4 b1..b4
    z1..z4 a1..a4 C``) after ``C.backward()``."""
    for name, v in (("weight", weight), ("a0", a0), ("target", target)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    nodes: dict[str, Value] = {}
    a = Value(float(a0), "a0")
    nodes["a0"] = a
    for j in range(1, 5):
        w = Value(float(weight), f"w{j}")
        b = Value(-float(weight) * a.data, f"b{j}")
        z = w * a + b
        z.label = f"z{j}"
        a = z.sigmoid()
        a.label = f"a{j}"
        nodes.update({f"w{j}": w, f"b{j}": b, f"z{j}": z, f"a{j}": a})
    d = a - float(target)
    c = d * d * 0.5
    c.label = "C"
    nodes["C"] = c
    c.backward()
    return nodes


@dataclass
class ExplodingResult:
    """One chain: its weight, the factors w_j·σ'(z_j) (j = 2..4), ∂C/∂b_j for
    j = 1..4, the ratio ∂C/∂b1 / ∂C/∂b4, the path sum of ∂C/∂b1 through a4
    (:meth:`autograd_core.Trace.paths`), the chain's output node ``C`` and
    all its labelled ``nodes``."""

    weight: float
    a0: float
    z: list[float]
    sigma_prime: list[float]
    factors: list[float]
    bias_grads: list[float]
    ratio: float
    paths_text: str
    formula: str
    output: Value = field(repr=False)
    nodes: dict[str, Value] = field(repr=False, default_factory=dict)

    @property
    def parameters(self) -> list[Value]:
        """w1..w4 and b1..b4 (to mark them as parameters in a drawing)."""
        return [self.nodes[f"{k}{j}"] for j in range(1, 5) for k in ("w", "b")]

    def to_text(self) -> str:
        lines = [f"Chain of four sigmoid neurons, w1..w4 = {_fmt6(self.weight)}, a0 = {_fmt6(self.a0)}, "
                 "biases b_j = -w_j·a_(j-1) so every z_j = 0; C = ½(a4 - 0)²"]
        rows = [[f"{j}", _fmt6(self.weight), _fmt6(self.z[j - 1]), _fmt6(self.sigma_prime[j - 1]),
                 _fmt6(self.factors[j - 2]) if j > 1 else "", _fmt6(self.bias_grads[j - 1])]
                for j in range(1, 5)]
        lines.append(_table(["j", "w_j", "z_j", "σ'(z_j)", "w_j·σ'(z_j)", "∂C/∂b_j"], rows))
        lines.append("")
        lines.append(self.paths_text)
        prod = " × ".join(_fmt6(f) for f in self.factors)
        lines.append("")
        lines.append(f"∂C/∂b1 / ∂C/∂b4 = w2σ'(z2) · w3σ'(z3) · w4σ'(z4) = {prod} = {_fmt6(self.ratio)}")
        lines.append(f"verdict: {self.verdict} (speeds |∂C/∂b_j| along the chain; "
                     f"{_diag.VERDICT_RULE})")
        return "\n".join(lines)

    @property
    def verdict(self) -> str:
        """:func:`nn.diagnostics.verdict` of the speeds |∂C/∂b_j|, j = 1..4."""
        return _diag.verdict([abs(g) for g in self.bias_grads])

    def to_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, "a0": self.a0, "z": self.z, "sigma_prime": self.sigma_prime,
                "factors": self.factors, "bias_grads": self.bias_grads, "verdict": self.verdict,
                "ratio": _json_float(self.ratio), "formula": self.formula}


def exploding(weight: float = 100.0, a0: float = 1.0) -> ExplodingResult:
    """The textbook chapter's exploding-gradient chain (see :func:`exploding_chain`),
    explained: every number is read from the engine's graph (the σ'(z_j) are
    the sigmoid nodes' recorded local derivatives, the ∂C/∂b_j the gradients
    from ``backward``), ∂C/∂b1 is listed factor by factor with
    ``explain(C).paths("b1", through="a4")``."""
    nodes = exploding_chain(weight, a0)
    trace = ag.explain(nodes["C"], wrt=[nodes[f"b{j}"] for j in range(1, 5)])
    ps = trace.paths("b1", through="a4")
    sp = [nodes[f"a{j}"].local_grads[0] for j in range(1, 5)]
    # w_j·σ'(z_j) as the engine records it: ∂(w_j·a_{j−1})/∂a_{j−1} = w_j times σ'(z_j)
    factors = []
    for j in range(2, 5):
        prod = nodes[f"z{j}"].parents[0]  # the node w_j·a_{j−1}
        factors.append(prod.local_grads[1] * sp[j - 1])
    grads = [nodes[f"b{j}"].grad for j in range(1, 5)]
    ratio = grads[0] / grads[3] if grads[3] else math.inf
    return ExplodingResult(float(weight), float(a0), [nodes[f"z{j}"].data for j in range(1, 5)],
                           sp, factors, grads, ratio, ps.to_text(), ps.formula(), nodes["C"], nodes)


# ------------------------------------------------------------------ two-layer linear chain

@dataclass
class ChainStep:
    """One step of the textbook's chain: ``name`` (``∂L/∂w2``), the chain
    written with symbols, the factors (symbol, number read from the graph),
    their product, and the engine's reverse-mode gradient of the same node."""

    name: str
    chain: str
    factors: list[tuple[str, float]]
    value: float
    engine: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "chain": self.chain,
                "factors": [[s, v] for s, v in self.factors], "value": self.value,
                "engine": self.engine}


@dataclass
class TwoLayerResult:
    """:func:`two_layer_chain`: the forward values and the steps in the
    textbook's order (∂L/∂y2, ∂L/∂w2, ∂L/∂b2, ∂L/∂y1, ∂L/∂w1, ∂L/∂b1)."""

    x: float
    w1: float
    b1: float
    w2: float
    b2: float
    y_gt: float
    y1: float
    y2: float
    loss: float
    steps: list[ChainStep]
    nodes: dict[str, Value] = field(repr=False, default_factory=dict)

    def to_text(self, markdown: bool = False) -> str:
        f = _fmt6
        lines = ["The textbook's two-layer linear chain: x → y1 = w1·x + b1 → y2 = w2·y1 + b2 → "
                 "L(y2, y_gt) = ½(y2 − y_gt)²",
                 f"forward: y1 = {f(self.w1)} × {f(self.x)} + {f(self.b1)} = {f(self.y1)}; "
                 f"y2 = {f(self.w2)} × {f(self.y1)} + {f(self.b2)} = {f(self.y2)}; "
                 f"L = ½({f(self.y2)} − {f(self.y_gt)})² = {f(self.loss)}", "",
                 "backward, in the textbook's order (each factor a local derivative read from the "
                 "engine's graph; last column: the engine's own reverse-mode .grad):", ""]
        rows = [[st.name, st.chain, " × ".join(f(v) for _, v in st.factors), f(st.value), f(st.engine)]
                for st in self.steps]
        lines.append(_table(["step", "chain", "numbers", "value", "engine .grad"], rows, markdown))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "two-layer", "x": self.x, "w1": self.w1, "b1": self.b1,
                "w2": self.w2, "b2": self.b2, "y_gt": self.y_gt, "y1": self.y1, "y2": self.y2,
                "loss": self.loss, "steps": [s.to_dict() for s in self.steps]}


def two_layer_chain(x: float = 1.5, w1: float = 0.8, b1: float = 0.2, w2: float = 0.8,
                    b2: float = 0.2, y_gt: float = 0.8) -> TwoLayerResult:
    """The chapter's two-layer linear example (x = 1.5, w = 0.8, b = 0.2,
    y_gt = 0.8; y1 = w1·x + b1 = 1.4, y2 = w2·y1 + b2, L = ½(y2 − y_gt)², the
    chapter leaving L open) stepped through in the textbook's chain order:
    ∂L/∂y2 first, then w2, b2, y1, w1, b1. Each local derivative (∂L/∂y2,
    ∂y2/∂w2, ∂y2/∂b2, ∂y2/∂y1, ∂y1/∂w1, ∂y1/∂b1) is read from the engine's
    graph with :func:`autograd_core.gradients` of one node with respect to
    its neighbour; each product is compared with ``L.backward()``'s
    ``.grad``."""
    vals = {k: _finite(k, v) for k, v in
            (("x", x), ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("y_gt", y_gt))}
    n = {k: Value(v, k) for k, v in vals.items()}
    y1 = n["w1"] * n["x"] + n["b1"]
    y1.label = "y1"
    y2 = n["w2"] * y1 + n["b2"]
    y2.label = "y2"
    d = y2 - n["y_gt"]
    loss = d * d * 0.5
    loss.label = "L"
    n.update({"y1": y1, "y2": y2, "L": loss})

    def local(out: Value, inp: Value) -> float:
        return float(ag.gradients(out, [inp])[0])

    dL_dy2 = local(loss, y2)
    dy2 = {k: local(y2, n[k]) for k in ("w2", "b2")}
    dy2_dy1 = local(y2, y1)
    dy1 = {k: local(y1, n[k]) for k in ("w1", "b1")}
    loss.backward()
    plan = [("∂L/∂y2", "∂L/∂y2", [("∂L/∂y2", dL_dy2)], y2),
            ("∂L/∂w2", "∂L/∂y2 · ∂y2/∂w2", [("∂L/∂y2", dL_dy2), ("∂y2/∂w2", dy2["w2"])], n["w2"]),
            ("∂L/∂b2", "∂L/∂y2 · ∂y2/∂b2", [("∂L/∂y2", dL_dy2), ("∂y2/∂b2", dy2["b2"])], n["b2"]),
            ("∂L/∂y1", "∂L/∂y2 · ∂y2/∂y1", [("∂L/∂y2", dL_dy2), ("∂y2/∂y1", dy2_dy1)], y1),
            ("∂L/∂w1", "∂L/∂y2 · ∂y2/∂y1 · ∂y1/∂w1",
             [("∂L/∂y2", dL_dy2), ("∂y2/∂y1", dy2_dy1), ("∂y1/∂w1", dy1["w1"])], n["w1"]),
            ("∂L/∂b1", "∂L/∂y2 · ∂y2/∂y1 · ∂y1/∂b1",
             [("∂L/∂y2", dL_dy2), ("∂y2/∂y1", dy2_dy1), ("∂y1/∂b1", dy1["b1"])], n["b1"])]
    steps = []
    for name, chain, factors, node in plan:
        value = 1.0
        for _, v in factors:
            value *= v
        steps.append(ChainStep(name, chain, factors, value, float(node.grad)))
    return TwoLayerResult(vals["x"], vals["w1"], vals["b1"], vals["w2"], vals["b2"], vals["y_gt"],
                          y1.data, y2.data, loss.data, steps, n)


# ------------------------------------------------------------------ exploding window

#: the weights of the default exploding-window table
WINDOW_WEIGHTS = (4.5, 5.0, 6.0, 6.894, 8.0, 10.0, 15.0, 20.0, 50.0, 100.0)


def _finite(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) \
            or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    return float(v)


def window_formula(w: float) -> float:
    """Formula (3) of the chapter: the width of the input interval where
    |w·σ'(w·x + b)| ≥ 1, (2/|w|)·ln(|w|(1 + √(1 − 4/|w|))/2 − 1); 0 for |w| ≤ 4
    (where |w·σ'| ≤ |w|/4 ≤ 1 everywhere)."""
    a = abs(_finite("w", w))
    if a <= 4.0:
        return 0.0
    return 2.0 / a * math.log(a * (1.0 + math.sqrt(1.0 - 4.0 / a)) / 2.0 - 1.0)


def _slope(w: float, b: float, x: float) -> float:
    """∂σ(w·x + b)/∂x at x, by the engine's reverse mode (= w·σ'(w·x + b))."""
    xv = Value(x, "x")
    a = (xv * w + b).sigmoid()
    return float(ag.gradients(a, [xv])[0])


def _edge(w: float, b: float, centre: float, side: float) -> float:
    """The x where |slope| falls to 1 on one side of the centre, by bisection
    on the engine's slope to the last float."""
    def big(d: float) -> bool:
        return abs(_slope(w, b, centre + side * d)) >= 1.0
    lo, hi = 0.0, 1.0 / abs(w)
    while big(hi):
        lo, hi = hi, 2.0 * hi
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if big(mid):
            lo = mid
        else:
            hi = mid
    return centre + side * lo


#: what a row with no window says (text table and JSON)
_NO_WINDOW = "no window: |w| ≤ 4, so |w·σ'(w·x + b)| ≤ |w|/4 ≤ 1 for every x (width 0)"


@dataclass
class WindowRow:
    """One weight: the measured window [left, right] (where |w·σ'(w·x+b)| ≥ 1),
    its width, and formula (3). For |w| ≤ 4 there is no window (σ' ≤ 1/4, so
    |w·σ'| ≤ 1 everywhere): ``left`` and ``right`` are None and the width is 0.0,
    as formula (3) says."""

    w: float
    left: float | None
    right: float | None
    formula: float

    @property
    def has_window(self) -> bool:
        """False for |w| ≤ 4 (no input makes |w·σ'(w·x + b)| exceed 1)."""
        return self.left is not None and self.right is not None

    @property
    def width(self) -> float:
        if self.left is None or self.right is None:
            return 0.0
        return self.right - self.left

    @property
    def peak(self) -> float:
        """max over x of |w·σ'(w·x + b)| = |w|/4."""
        return abs(self.w) / 4.0

    def to_dict(self) -> dict[str, Any]:
        d = {"w": self.w, "left": self.left, "right": self.right, "width": self.width,
             "formula": self.formula, "difference": self.width - self.formula, "peak": self.peak}
        if not self.has_window:
            d["note"] = _NO_WINDOW
        return d


def _measure_window(w: float, b: float) -> WindowRow:
    if abs(w) <= 4.0:
        return WindowRow(w, None, None, 0.0)
    centre = -b / w
    return WindowRow(w, _edge(w, b, centre, -1.0), _edge(w, b, centre, 1.0), window_formula(w))


def _width(w: float, b: float) -> float:
    return _measure_window(w, b).width


def _fmt_exact(x: float) -> str:
    """6 significant digits when they give back x, else every digit (so a
    weight of 4 + 1e-9, which has a window, is not printed as 4, which has none)."""
    short = _fmt6(x)
    try:
        if float(short) == x:
            return short
    except ValueError:
        pass
    return repr(float(x))


@dataclass
class ExplodingWindowResult:
    """:func:`exploding_window` over several weights: ``rows``, and the
    maximum of the measured width over |w| (``max_w``, ``max_width``) next to
    the formula's (``formula_max_w``, ``formula_max_width``)."""

    b: float
    rows: list[WindowRow]
    max_w: float
    max_width: float
    formula_max_w: float
    formula_max_width: float

    def to_text(self, markdown: bool = False) -> str:
        lines = ["Exploding window of one sigmoid neuron: the inputs x where |w·σ'(w·x + b)| ≥ 1 "
                 f"(b = {_fmt6(self.b)}), measured with the engine (bisection on ∂σ(wx+b)/∂x) "
                 "against formula (3): (2/|w|)·ln(|w|(1 + √(1 − 4/|w|))/2 − 1)", ""]
        rows = []
        for r in self.rows:
            if r.has_window:
                rows.append([_fmt_exact(r.w), _fmt_exact(r.peak), f"{r.left:.6f}", f"{r.right:.6f}",
                             f"{r.width:.9f}", f"{r.formula:.9f}", f"{r.width - r.formula:.1e}"])
            else:
                rows.append([_fmt_exact(r.w), _fmt_exact(r.peak), "none", "none",
                             "0 (no window: |w| ≤ 4)", f"{r.formula:.9f}", "0"])
        lines.append(_table(["w", "peak |w|/4", "left", "right", "width (engine)", "formula (3)",
                             "difference"], rows, markdown))
        lines += ["", f"maximum width {self.max_width:.4f} at |w| = {self.max_w:.3f} (engine); "
                      f"formula (3): {self.formula_max_width:.4f} at |w| = {self.formula_max_w:.3f}",
                  "the window is narrow: exploding gradients need |w| > 4 AND inputs in this window"]
        if any(not r.has_window for r in self.rows):
            lines.append(f"rows with |w| ≤ 4: {_NO_WINDOW}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "exploding-window", "b": self.b, "rows": [r.to_dict() for r in self.rows],
                "max_w": self.max_w, "max_width": self.max_width,
                "formula_max_w": self.formula_max_w, "formula_max_width": self.formula_max_width}


def _golden_max(f: Any, lo: float, hi: float, tol: float = 1e-7) -> float:
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return 0.5 * (a + b)


def exploding_window(w: float | Sequence[float] = WINDOW_WEIGHTS, b: float = 0.0
                     ) -> WindowRow | ExplodingWindowResult:
    """The chapter's formula (3), measured. For one weight ``w``: a
    :class:`WindowRow` with the interval of inputs x where
    |w·σ'(w·x + b)| ≥ 1, found by bisection on the engine's derivative
    ∂σ(w·x + b)/∂x (no formula used), and formula (3) beside it (they agree to
    ~1e-12 for 4 < |w| ≤ 100); for |w| ≤ 4 there is no window (σ' ≤ 1/4): width
    0.0 like formula (3), edges None. For a sequence of weights: an
    :class:`ExplodingWindowResult` with a row per weight and the maximum of the
    width over |w| (≈ 0.4477 at |w| ≈ 6.894), found by golden-section search
    on the measured width."""
    b = _finite("b", b)
    if not isinstance(w, (list, tuple, np.ndarray, range)):
        return _measure_window(_finite("w", w), b)
    ws = [_finite("w", v) for v in w]
    if not ws:
        raise ValueError("no weights given")
    rows = [_measure_window(v, b) for v in ws]
    mw = _golden_max(lambda a: _width(a, b), 4.5, 20.0)
    fw = _golden_max(window_formula, 4.5, 20.0)
    return ExplodingWindowResult(b, rows, mw, _width(mw, b), fw, window_formula(fw))


# ------------------------------------------------------------------ remedies

#: (name, hidden activation, init, batchnorm, residual)
REMEDIES: list[tuple[str, str, str, bool, bool]] = [
    ("sigmoid, Nielsen init", "sigmoid", "nielsen", False, False),
    ("sigmoid, He init", "sigmoid", "he_normal", False, False),
    ("ReLU, Nielsen init", "relu", "nielsen", False, False),
    ("ReLU, He init", "relu", "he_normal", False, False),
    ("ELU, Nielsen init", "elu", "nielsen", False, False),
    ("ELU, He init", "elu", "he_normal", False, False),
    ("sigmoid + BatchNorm", "sigmoid", "nielsen", True, False),
    ("ReLU + He + BatchNorm", "relu", "he_normal", True, False),
    ("sigmoid + residual", "sigmoid", "nielsen", False, True),
    ("ReLU + He + residual", "relu", "he_normal", False, True),
]


@dataclass
class RemedyRow:
    """One configuration, per seed: speeds per hidden layer at initialisation
    (``speeds``) and, with ``epochs``, after training (``speeds_after``); the
    held-out accuracy before and after; the saturated / dead fractions per
    hidden layer at initialisation and after. ``mean``/``verdict`` are the
    mean over seeds and its :func:`nn.diagnostics.verdict`."""

    name: str
    activation: str
    init: str
    batchnorm: bool
    residual: bool
    speeds: list[list[float]]
    weight_norms: list[list[float]] = field(default_factory=list)
    saturated: list[list[float | None]] = field(default_factory=list)
    dead: list[list[float | None]] = field(default_factory=list)
    speeds_after: list[list[float]] = field(default_factory=list)
    accuracy_before: list[float] = field(default_factory=list)
    accuracy_after: list[float] = field(default_factory=list)
    saturated_after: list[list[float | None]] = field(default_factory=list)
    dead_after: list[list[float | None]] = field(default_factory=list)

    @property
    def mean(self) -> list[float]:
        return np.mean(np.asarray(self.speeds), axis=0).tolist()

    @property
    def mean_after(self) -> list[float]:
        return np.mean(np.asarray(self.speeds_after), axis=0).tolist() if self.speeds_after else []

    @property
    def weight_ratio(self) -> float:
        """Mean over seeds of first/last hidden-layer ‖∂C/∂W‖."""
        if not self.weight_norms:
            return math.nan
        return float(np.mean([_diag.speed_ratio(w) for w in self.weight_norms]))

    @property
    def ratio(self) -> float:
        return float(np.mean([_diag.speed_ratio(s) for s in self.speeds]))

    @property
    def ratio_after(self) -> float:
        if not self.speeds_after:
            return math.nan
        return float(np.mean([_diag.speed_ratio(s) for s in self.speeds_after]))

    @property
    def verdict(self) -> str:
        return _diag.verdict(self.mean)

    @property
    def verdict_after(self) -> str | None:
        return _diag.verdict(self.mean_after) if self.speeds_after else None

    @staticmethod
    def _mean_fractions(rows: list[list[float | None]]) -> list[float | None]:
        if not rows:
            return []
        return [None if any(r[k] is None for r in rows) else float(np.mean([r[k] for r in rows]))
                for k in range(len(rows[0]))]

    @property
    def activity(self) -> list[str]:
        """:func:`nn.diagnostics.activity_notes` at initialisation (mean over seeds)."""
        return _diag.activity_notes(self._mean_fractions(self.saturated),
                                    self._mean_fractions(self.dead))

    @property
    def activity_after(self) -> list[str]:
        return _diag.activity_notes(self._mean_fractions(self.saturated_after),
                                    self._mean_fractions(self.dead_after))

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "activation": self.activation, "init": self.init,
             "batchnorm": self.batchnorm, "residual": self.residual, "speeds": self.speeds,
             "mean": self.mean, "first_over_last": _json_float(self.ratio),
             "verdict": self.verdict, "activity": self.activity,
             "saturated": self.saturated, "dead": self.dead, "weight_norms": self.weight_norms,
             "weight_first_over_last": _json_float(self.weight_ratio)}
        if self.speeds_after:
            d.update({"speeds_after": self.speeds_after, "mean_after": self.mean_after,
                      "first_over_last_after": _json_float(self.ratio_after),
                      "verdict_after": self.verdict_after, "activity_after": self.activity_after,
                      "accuracy_before": self.accuracy_before,
                      "accuracy_after": self.accuracy_after})
        return d


@dataclass
class ClipRow:
    """Gradient clipping on the exploding chain: the gradients of b1 and b4,
    the global gradient norm and ∂C/∂b1 / ∂C/∂b4 after clipping."""

    name: str
    grad_b1: float
    grad_b4: float
    norm: float
    ratio: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "grad_b1": self.grad_b1, "grad_b4": self.grad_b4,
                "norm": self.norm, "ratio": _json_float(self.ratio)}


@dataclass
class RemediesResult:
    """:func:`remedies`: one :class:`RemedyRow` per configuration, the
    clipping rows, and the training set-up (``epochs`` 0: initialisation only)."""

    sizes: list[int]
    seeds: list[int]
    data: DataInfo
    rows: list[RemedyRow]
    clipping: list[ClipRow]
    clip: float
    backend: str = "tensor"
    epochs: int = 0
    eta: float = 0.1
    lmbda: float = 5.0
    batch_size: int = 10
    test_images: int = 0
    test_source: str = ""

    def to_text(self, markdown: bool = False) -> str:
        n = len(self.rows[0].mean) if self.rows else 0
        lines = [f"Remedies for vanishing gradients: {self.sizes} (hidden activation varies; sigmoid "
                 f"output, binary cross-entropy), seeds {_seed_text(self.seeds)}, "
                 f"{self.backend} backend",
                 f"data: {self.data.describe()}; speeds ‖∂C/∂b‖ per hidden layer at initialisation "
                 "(β for BatchNorm layers), mean over seeds", ""]
        rows = [[r.name] + [_fmt(v) for v in r.mean]
                + [_fmt(r.ratio), r.verdict, "; ".join(r.activity) or "-", _fmt(r.weight_ratio)]
                for r in self.rows]
        lines.append(_table(["network"] + [f"hidden {k + 1}" for k in range(n)]
                            + ["first/last", "verdict", "units", "‖∂C/∂W‖ first/last"], rows, markdown))
        lines += ["", _diag.VERDICT_RULE,
                  f"units: saturated = at least {_diag.SATURATED_FRACTION:.0%} of a layer's "
                  f"sigmoid (unit, image) pairs have |z| > {_diag.SATURATION:g}; dead units = at "
                  f"least {_diag.DEAD_FRACTION:.0%} of a layer's ReLUs are 0 on every image"]
        if self.epochs:
            lines += ["", f"After {self.epochs} epochs of mini-batch SGD (batch {self.batch_size}, "
                      f"eta {self.eta:g}, lambda {self.lmbda:g}) on the same images; accuracy on "
                      f"{self.test_images} held-out images ({self.test_source}); mean over seeds", ""]
            rows = [[r.name, _fmt(r.ratio), r.verdict, f"{100 * np.mean(r.accuracy_before):.1f}%"]
                    + [_fmt(v) for v in r.mean_after]
                    + [_fmt(r.ratio_after), str(r.verdict_after), "; ".join(r.activity_after) or "-",
                       f"{100 * np.mean(r.accuracy_after):.1f}%"]
                    for r in self.rows]
            lines.append(_table(["network", "first/last init", "verdict init", "accuracy init"]
                                + [f"hidden {k + 1} after" for k in range(n)]
                                + ["first/last after", "verdict after", "units after",
                                   "accuracy after"], rows, markdown))
        lines += ["", f"Gradient clipping on the exploding chain (w = 100; threshold {_fmt(self.clip)}):"]
        if markdown:
            lines.append("")
        rows = [[c.name, _fmt6(c.grad_b1), _fmt6(c.grad_b4), _fmt6(c.norm), _fmt6(c.ratio)]
                for c in self.clipping]
        lines.append(_table(["gradients", "∂C/∂b1", "∂C/∂b4", "‖g‖", "b1/b4"], rows, markdown))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "remedies", "sizes": self.sizes, "seeds": self.seeds,
                "data": self.data.to_dict(), "backend": self.backend, "epochs": self.epochs,
                "eta": self.eta, "lmbda": self.lmbda, "batch_size": self.batch_size,
                "test_images": self.test_images, "rule": _diag.VERDICT_RULE,
                "rows": [r.to_dict() for r in self.rows],
                "clip": self.clip, "clipping": [c.to_dict() for c in self.clipping]}


def _clip_rows(clip: float) -> list[ClipRow]:
    out = []
    for name in ("none", "clip_grad_norm", "clip_grad_value"):
        nodes = exploding_chain(100.0)
        params = [nodes[f"{k}{j}"] for j in range(1, 5) for k in ("w", "b")]
        if name == "clip_grad_norm":
            clip_grad_norm(params, clip)
        elif name == "clip_grad_value":
            clip_grad_value(params, clip)
        g1, g4 = nodes["b1"].grad, nodes["b4"].grad
        norm = math.sqrt(math.fsum(p.grad ** 2 for p in params))
        label = {"none": "not clipped", "clip_grad_norm": f"clip_grad_norm({_fmt(clip)})",
                 "clip_grad_value": f"clip_grad_value({_fmt(clip)})"}[name]
        out.append(ClipRow(label, g1, g4, norm, g1 / g4 if g4 else math.inf))
    return out


def remedies(sizes: Sequence[int] | str = (784, 30, 30, 30, 10), images: int = 1000,
             seeds: Iterable[int] | str = (0,), data: str | os.PathLike[str] | None = None, *,
             X: Any = None, y: Any = None, configs: Sequence[str] | None = None,
             clip: float = 1.0, loss: str = "binary_cross_entropy", backend: str = "tensor",
             epochs: int = 0, eta: float = 0.1, lmbda: float = 5.0, batch_size: int = 10,
             test_images: int = 1000, X_test: Any = None, y_test: Any = None) -> RemediesResult:
    """Speeds at initialisation for each configuration of :data:`REMEDIES`
    (or those whose names are in ``configs``), with verdicts and saturated /
    dead units, plus gradient clipping (by norm and by value, threshold
    ``clip``) on the exploding chain.

    ``epochs > 0`` also trains each network (mini-batch SGD, ``batch_size``,
    ``eta``, L2 ``lmbda``) on the same images and measures the speeds again,
    with the accuracy before and after on held-out images: t10k images
    ``images .. images + test_images - 1`` (or ``X_test, y_test``)."""
    _check_backend(backend)
    sizes = parse_sizes(sizes)
    if len(sizes) < 3:
        raise ValueError(f"need at least one hidden layer, got sizes {sizes}")
    seeds = parse_seeds(seeds if not isinstance(seeds, range) else list(seeds))
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not (clip > 0 and math.isfinite(clip)):
        raise ValueError(f"clip must be a positive number, got {clip!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    chosen = REMEDIES
    if configs is not None:
        names = [r[0] for r in REMEDIES]
        unknown = [c for c in configs if c not in names]
        if unknown:
            raise ValueError(f"unknown remedies {unknown}; known: {names}")
        chosen = [r for r in REMEDIES if r[0] in configs]
    Xt = yt = None
    test_source = ""
    if epochs:
        _check_count(batch_size, "batch_size")
        for name, v in (("eta", eta), ("lmbda", lmbda)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 \
                    or (name == "eta" and v == 0):
                raise ValueError(f"{name} must be a {'positive' if name == 'eta' else 'non-negative'} "
                                 f"number, got {v!r}")
        if X is None and y is None:
            _check_count(test_images, "test_images")
            Xall, yall, info = _data(images + test_images, data, None, None)
            Xa, ya, Xt, yt = Xall[:images], yall[:images], Xall[images:], yall[images:]
            info = DataInfo(info.source, info.path, images, info.message)
            test_source = (f"t10k images {images}..{images + test_images - 1}"
                           if info.source != "synthetic" else "more synthetic images")
        else:
            Xa, ya, info = _data(images, data, X, y)
            if X_test is None or y_test is None:
                raise ValueError("training on given X, y needs held-out X_test and y_test")
            Xt, yt = np.asarray(X_test, dtype=float), np.asarray(y_test)
            test_source = "the given X_test"
    else:
        Xa, ya, info = _data(images, data, X, y)
    _check_width(sizes, Xa)
    if any(r[3] for r in chosen) and len(Xa) < 2:
        raise ValueError("BatchNorm needs at least 2 images")
    rows = []
    for name, act, init, bn, res in chosen:
        row = RemedyRow(name, act, init, bn, res, [], [])
        for s in seeds:
            model = MLP(sizes[0], sizes[1:], activation=act, output_activation="sigmoid", init=init,
                        seed=s, batchnorm=bn, residual=res, backend=backend)
            g = _diag.layer_gradients(model, Xa, ya, loss)
            row.speeds.append(g.bias_norms()[:-1])
            row.weight_norms.append(g.weight_norms()[:-1])
            acts = _diag.activation_stats(model, Xa)
            row.saturated.append([a.saturated for a in acts])
            row.dead.append([a.dead for a in acts])
            if epochs:
                row.accuracy_before.append(_accuracy(model, Xt, yt, loss))
                fit(model, Xa, ya, loss=loss, optimizer=SGD(model.parameters(), lr=eta),
                    epochs=int(epochs), batch_size=int(batch_size), l2=lmbda, progress=False, seed=s)
                row.speeds_after.append(_diag.learning_speeds(model, Xa, ya, loss))
                row.accuracy_after.append(_accuracy(model, Xt, yt, loss))
                acts = _diag.activation_stats(model, Xa)
                row.saturated_after.append([a.saturated for a in acts])
                row.dead_after.append([a.dead for a in acts])
        rows.append(row)
    return RemediesResult(sizes, seeds, info, rows, _clip_rows(float(clip)), float(clip), backend,
                          int(epochs), float(eta), float(lmbda), int(batch_size),
                          0 if Xt is None else len(Xt), test_source)


def _accuracy(model: Any, X: Any, y: Any, loss: str) -> float:
    acc = evaluate(model, X, y, loss)[1]
    return math.nan if acc is None else float(acc)


# ------------------------------------------------------------------ layer-wise pre-training (remedy 3.1)

@dataclass
class PretrainingResult:
    """:func:`pretraining`: per seed, for plain training and for greedy
    layer-wise pre-training + fine-tuning of the same network on the same
    images: the hidden-layer speeds when supervised training starts and after
    it, and the held-out accuracy after it."""

    sizes: list[int]
    seeds: list[int]
    data: DataInfo
    pre_epochs: int
    epochs: int
    eta: float
    lmbda: float
    batch_size: int
    test_images: int
    plain_start: list[list[float]]
    plain_end: list[list[float]]
    plain_accuracy: list[float]
    pre_start: list[list[float]]
    pre_end: list[list[float]]
    pre_accuracy: list[float]
    reconstruction: list[list[float]]
    seconds: dict[str, float]

    def _rows(self) -> list[tuple[str, list[list[float]], list[list[float]], list[float]]]:
        return [("plain training", self.plain_start, self.plain_end, self.plain_accuracy),
                ("pre-training + fine-tuning", self.pre_start, self.pre_end, self.pre_accuracy)]

    def to_text(self, markdown: bool = False) -> str:
        n = len(self.sizes) - 2
        lines = [f"Layer-wise pre-training then fine-tuning (remedy 3.1) vs plain training: "
                 f"{self.sizes} sigmoid, seeds {_seed_text(self.seeds)}, Tensor backend",
                 f"data: {self.data.describe()}; held-out accuracy on {self.test_images} further "
                 "images", f"pre-training: each hidden layer in turn trained as a sigmoid "
                 f"autoencoder of the previous layer's output ({self.pre_epochs} epochs, "
                 "cross-entropy reconstruction), then the whole network trained as in plain "
                 f"training: {self.epochs} epochs of mini-batch SGD (batch {self.batch_size}, "
                 f"eta {self.eta:g}, lambda {self.lmbda:g}); means over seeds", ""]
        rows = []
        for name, start, end, acc in self._rows():
            ms = np.mean(np.asarray(start), axis=0)
            me = np.mean(np.asarray(end), axis=0)
            rows.append([name] + [_fmt(v) for v in ms]
                        + [_fmt(_diag.speed_ratio(list(ms))), _diag.verdict(list(ms))]
                        + [_fmt(v) for v in me] + [_diag.verdict(list(me)),
                                                   f"{100 * np.mean(acc):.1f}%",
                                                   f"{100 * min(acc):.1f}–{100 * max(acc):.1f}%"])
        lines.append(_table(["training"] + [f"hidden {k + 1} start" for k in range(n)]
                            + ["first/last start", "verdict start"]
                            + [f"hidden {k + 1} end" for k in range(n)]
                            + ["verdict end", "accuracy", "min–max"], rows, markdown))
        rec = np.mean(np.asarray(self.reconstruction), axis=0)
        lines += ["", "autoencoder reconstruction cross-entropy per example, last epoch, per hidden "
                  "layer (mean over seeds): "
                  + ", ".join(_fmt(v) for v in rec),
                  f"time: plain {self.seconds['plain']:.1f} s, pre-training "
                  f"{self.seconds['pretrain']:.1f} s + fine-tuning {self.seconds['finetune']:.1f} s",
                  _diag.VERDICT_RULE]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": "pretraining", "sizes": self.sizes, "seeds": self.seeds,
                "data": self.data.to_dict(), "pre_epochs": self.pre_epochs, "epochs": self.epochs,
                "eta": self.eta, "lmbda": self.lmbda, "batch_size": self.batch_size,
                "test_images": self.test_images, "plain_start": self.plain_start,
                "plain_end": self.plain_end, "plain_accuracy": self.plain_accuracy,
                "pre_start": self.pre_start, "pre_end": self.pre_end,
                "pre_accuracy": self.pre_accuracy, "reconstruction": self.reconstruction,
                "seconds": self.seconds}


def _pretrain_layers(model: Any, X: np.ndarray, epochs: int, eta: float, batch_size: int,
                     seed: int) -> list[float]:
    """Greedy layer-wise pre-training of a Tensor MLP's hidden layers: layer k
    and a fresh sigmoid decoder are trained as an autoencoder of layer k's
    input (the previous layers' output on X); layer k keeps the trained
    encoder. Returns each autoencoder's final reconstruction loss."""
    from autograd_core import Tensor
    losses = []
    A = X
    for k, layer in enumerate(model.layers[:-1]):
        nin, nout = layer.nin, layer.nout
        ae = MLP(nin, [nout, nin], activation="sigmoid", output_activation="sigmoid",
                 init="nielsen", seed=seed + 1000 * (k + 1), backend="tensor")
        ae.layers[0].weight.assign(layer.weight.data)
        ae.layers[0].bias.assign(layer.bias.data)
        hist = fit(ae, A, A, loss="binary_cross_entropy", optimizer=SGD(ae.parameters(), lr=eta),
                   epochs=epochs, batch_size=batch_size, progress=False, seed=seed)
        losses.append(float(hist.loss[-1]))
        layer.weight.assign(ae.layers[0].weight.data)
        layer.bias.assign(ae.layers[0].bias.data)
        with ag.no_grad():
            A = np.asarray(layer(Tensor(A)).data)
    return losses


def pretraining(sizes: Sequence[int] | str = (784, 30, 30, 30, 10), images: int = 1000,
                seeds: Iterable[int] | str = (0,), data: str | os.PathLike[str] | None = None, *,
                pre_epochs: int = 3, epochs: int = 3, eta: float = 0.1, lmbda: float = 5.0,
                batch_size: int = 10, test_images: int = 1000,
                loss: str = "binary_cross_entropy") -> PretrainingResult:
    """Remedy 3.1 of the chapter, measured: Hinton's greedy layer-wise
    pre-training (each hidden layer trained alone, unsupervised, as an
    autoencoder of the previous layer's output) followed by supervised
    fine-tuning of the whole network, against plain supervised training of
    the same initial network for the same number of epochs, on the same first
    ``images`` t10k images; accuracy on the next ``test_images``. Sigmoid
    layers, Nielsen initialisation, Tensor backend."""
    import time

    sizes = parse_sizes(sizes)
    if len(sizes) < 3:
        raise ValueError(f"need at least one hidden layer, got sizes {sizes}")
    seeds = parse_seeds(seeds if not isinstance(seeds, range) else list(seeds))
    for name, v in (("pre_epochs", pre_epochs), ("epochs", epochs), ("batch_size", batch_size),
                    ("test_images", test_images)):
        _check_count(v, name)
    for name, v in (("eta", eta), ("lmbda", lmbda)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 \
                or (name == "eta" and v == 0):
            raise ValueError(f"{name} must be a {'positive' if name == 'eta' else 'non-negative'} "
                             f"number, got {v!r}")
    Xall, yall, info = _data(images + test_images, data, None, None)
    Xtr, ytr, Xte, yte = Xall[:images], yall[:images], Xall[images:], yall[images:]
    info = DataInfo(info.source, info.path, images, info.message)
    _check_width(sizes, Xtr)
    out: dict[str, list[Any]] = {k: [] for k in ("ps", "pe", "pa", "qs", "qe", "qa", "rec")}
    secs = {"plain": 0.0, "pretrain": 0.0, "finetune": 0.0}

    def train(model: Any) -> None:
        fit(model, Xtr, ytr, loss=loss, optimizer=SGD(model.parameters(), lr=eta), epochs=int(epochs),
            batch_size=int(batch_size), l2=lmbda, progress=False, seed=s)

    for s in seeds:
        plain = MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid",
                    init="nielsen", seed=s, backend="tensor")
        out["ps"].append(_diag.learning_speeds(plain, Xtr, ytr, loss))
        t0 = time.perf_counter()
        train(plain)
        secs["plain"] += time.perf_counter() - t0
        out["pe"].append(_diag.learning_speeds(plain, Xtr, ytr, loss))
        out["pa"].append(_accuracy(plain, Xte, yte, loss))

        pre = MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid",
                  init="nielsen", seed=s, backend="tensor")
        t0 = time.perf_counter()
        out["rec"].append(_pretrain_layers(pre, Xtr, int(pre_epochs), eta, int(batch_size), s))
        secs["pretrain"] += time.perf_counter() - t0
        out["qs"].append(_diag.learning_speeds(pre, Xtr, ytr, loss))
        t0 = time.perf_counter()
        train(pre)
        secs["finetune"] += time.perf_counter() - t0
        out["qe"].append(_diag.learning_speeds(pre, Xtr, ytr, loss))
        out["qa"].append(_accuracy(pre, Xte, yte, loss))
    return PretrainingResult(sizes, seeds, info, int(pre_epochs), int(epochs), float(eta),
                             float(lmbda), int(batch_size), len(Xte), out["ps"], out["pe"], out["pa"],
                             out["qs"], out["qe"], out["qa"], out["rec"], secs)
