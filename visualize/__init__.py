"""visualize: Graphviz pictures of computation graphs, a step-through viewer, and plots."""

from .graph import GraphvizNotFoundError, draw_graph, fmt_number, render
from .stepper import step_frames, write_stepper

__all__ = ["draw_graph", "render", "step_frames", "write_stepper", "fmt_number",
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
