"""visualize: Graphviz pictures of computation graphs, a step-through viewer, and plots."""

from .graph import GraphvizNotFoundError, draw_graph, fmt_number, render
from .stepper import step_frames, write_stepper

__all__ = ["draw_graph", "render", "step_frames", "write_stepper", "fmt_number",
           "GraphvizNotFoundError"]
