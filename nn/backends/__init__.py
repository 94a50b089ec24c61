"""The two backends of :mod:`nn` behind one interface.

A model says which backend it runs on by its class attribute ``backend``
(``"scalar"``: :class:`~nn.Module` and its layers, one ``Value`` graph per
sample; ``"tensor"``: :class:`~nn.tensor_layers.TensorModule`, one Tensor graph
per mini-batch). The public functions (``nn.fit``, ``nn.evaluate``,
``nn.predict``, the optimizers and clipping, ``nn.diagnostics``) check their
arguments once and hand the work to ``backend_of(model)`` (or, for
optimizers, ``backend_of_params(params)``), an object with the methods of
:class:`Backend`. The backends live in :mod:`nn.backends.scalar` and
:mod:`nn.backends.tensor`, which register themselves in :data:`BACKENDS`
when ``nn`` is imported; this module imports neither (no import cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Backend", "BACKENDS", "register", "backend_of", "backend_of_params"]


class Backend:
    """The interface of a backend (the methods raise NotImplementedError here).

    ``name`` is what ``MLP(..., backend=name)`` and a model's ``backend``
    attribute say; ``param_type`` the class of its parameters."""

    name: str = ""
    param_type: type = object

    # training and inference (arguments already checked by nn.fit/evaluate/predict)
    def fit(self, model: Any, X: Any, y: Any, *, loss: Any, optimizer: Any, epochs: int,
            batch_size: int, l2: float, l1: float, clip: tuple[float | None, float | None],
            validation: Any, callbacks: Sequence[Any], progress: bool, seed: Any) -> Any:
        raise NotImplementedError

    def evaluate(self, model: Any, X: Any, y: Any, loss: Any = "quadratic", *, batch_size: int,
                 threshold: float | None = None) -> tuple[float, float | None]:
        raise NotImplementedError

    def predict(self, model: Any, X: Any, *, batch_size: int) -> Any:
        raise NotImplementedError

    # optimizers (nn.optim): buffers, one step, clipping
    def zero_buffers(self, opt: Any) -> None:
        raise NotImplementedError

    def load_buffers(self, opt: Any, buffers: dict[str, list[Any]]) -> dict[str, list[Any]]:
        raise NotImplementedError

    def optimizer_step(self, opt: Any) -> None:
        raise NotImplementedError

    def clip_grad_norm(self, params: list[Any], max_norm: float) -> float:
        raise NotImplementedError

    def clip_grad_value(self, params: list[Any], clip: float) -> None:
        raise NotImplementedError

    # diagnostics (nn.diagnostics)
    def model_layers(self, model: Any) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def layer_gradients(self, model: Any, layers: list[tuple[str, Any]], X: Any, y: Any,
                        loss: Any, chunk_size: int) -> Any:
        raise NotImplementedError

    def activation_stats(self, model: Any, X: Any, threshold: float,
                         include_output: bool) -> list[Any]:
        raise NotImplementedError

    def bias_params(self, layer: Any) -> list[Any]:
        """A layer's biases (BatchNorm's shift β when it has one)."""
        raise NotImplementedError

    def weight_params(self, layer: Any) -> list[Any]:
        """A layer's weights, neuron by neuron."""
        raise NotImplementedError

    def bias_gradient_norms(self, model: Any) -> list[float]:
        """‖∂C/∂b‖ per layer from the biases' ``.grad`` (for LearningSpeed)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<nn backend {self.name!r}>"


#: backend name -> backend object (filled by nn.backends.scalar and nn.backends.tensor)
BACKENDS: dict[str, Any] = {}


def register(backend: Backend) -> Backend:
    """Add ``backend`` to :data:`BACKENDS` under its name; returns it."""
    BACKENDS[backend.name] = backend
    return backend


def backend_of(model: Any, who: str = "model") -> Backend:
    """The backend object that runs ``model`` (by its ``backend`` attribute);
    TypeError naming ``who`` (the calling function) for anything else."""
    name = getattr(model, "backend", None)
    if not isinstance(name, str) or name not in BACKENDS:
        raise TypeError(f"{who}: model must be an nn.Module on a known backend "
                        f"({', '.join(BACKENDS)}), not {type(model).__name__}"
                        + (f" with backend={name!r}" if name is not None else ""))
    return BACKENDS[name]


def backend_of_params(params: Sequence[Any], who: str = "parameters") -> Backend:
    """The backend whose parameter type all of ``params`` have (the scalar one
    for an empty list); TypeError naming ``who`` on a mix or an unknown type."""
    if not params:
        return BACKENDS["scalar"]
    kinds = " or ".join(f"a {b.param_type.__name__}" for b in BACKENDS.values())
    found = None
    for i, p in enumerate(params):
        b = next((b for b in BACKENDS.values() if isinstance(p, b.param_type)), None)
        if b is None:
            raise TypeError(f"{who}: parameter {i} must be {kinds}, not {type(p).__name__}")
        if found is not None and b is not found:
            raise TypeError(f"{who}: mix of {found.param_type.__name__} and {b.param_type.__name__} parameters")
        found = b
    return found
