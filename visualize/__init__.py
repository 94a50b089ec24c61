"""visualize: Graphviz pictures of computation graphs, a step-through viewer, and plots."""

from .graph import GraphvizNotFoundError, draw_graph, fmt_number, render
from .stepper import step_frames, write_stepper
from autograd_core.tensor.view import draw_tensor_graph  # noqa: E402  (Tensor graphs: name, op, shape, ‖grad‖)

from autograd_core import engine as _engine  # noqa: E402
from .graph import mimebundle as _mimebundle  # noqa: E402

if _mimebundle not in _engine.display_hooks:  # Jupyter shows Values and Traces as their graph
    _engine.display_hooks.append(_mimebundle)

__all__ = ["draw_graph", "draw_tensor_graph", "render", "step_frames", "write_stepper", "fmt_number",
           "GraphvizNotFoundError", "Playground",
           "plot_learning_speeds", "plot_training_speed", "plot_activations", "plot_gradient_flow"]

_PLOTS = ("plot_learning_speeds", "plot_training_speed", "plot_activations", "plot_gradient_flow")


def __getattr__(name: str):  # the gradient plots load matplotlib only when first used
    if name in _PLOTS:
        from . import plots
        return getattr(plots, name)
    if name == "Playground":  # the notebook widget: anywidget is imported when one is made
        from .playground_widget import Playground
        return Playground
    raise AttributeError(f"module 'visualize' has no attribute {name!r}")
