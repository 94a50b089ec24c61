"""Every public name the README documented (as of issue 16) still imports from
where it was documented.

The list was taken from the README before it became a front page: its
``from X import Y`` lines, the ``X.Y(`` references in its code blocks, and
the names of its API lists (with the module each list is about). A name that
moves keeps an alias at the documented place, so this list only grows.
"""

from __future__ import annotations

import importlib

import pytest

DOCUMENTED: dict[str, tuple[str, ...]] = {
    "autograd_core": (
        "Value", "explain", "gradcheck", "grad", "jvp", "hessian", "value_and_grad", "gradients",
        "no_grad", "enable_grad", "zero_grad", "topological_order", "push_tangents", "parse",
        "Trace", "numerical_grad", "GradcheckReport", "Tensor", "tensor", "math", "testing",
        "static", "StaticGraph", "StaticGraphBranchError", "primitive", "PRIMITIVES", "Primitive",
        "apply", "dot", "sum", "prelu", "detect_anomaly", "AnomalyError", "numerical",
        "symbolic", "tensor_check", "tensor_view", "demo", "pytest_plugin", "__version__",
    ),
    "autograd_core.engine": (
        "Value", "LocalMap", "push_tangents",
        "topological_order", "no_grad", "enable_grad", "gradients", "zero_grad", "apply",
    ),
    "autograd_core.math": ("div", "exp", "log", "sigmoid"),
    "autograd_core.numerical": ("default_step", "numerical_grad"),
    "autograd_core.gradcheck": ("gradcheck", "GradcheckReport", "GradcheckRow", "Culprit", "CheckReport"),
    "autograd_core.testing": (
        "assert_gradients_match", "check_grad", "assert_module_gradients",
        "gradients_match_everywhere", "primitive_cases",
    ),
    "autograd_core.trace": (
        "Trace", "explain", "ForwardRow", "BackwardStep", "Contribution", "LocalDerivative",
        "Factor", "Path", "PathSum",
    ),
    "autograd_core.symbolic": ("Sym",),
    "autograd_core.tensor": (
        "Tensor", "TENSOR_PRIMITIVES", "describe", "matmul", "linear", "where", "cross_entropy",
        "binary_cross_entropy_with_logits", "vdot", "sum_of_vdots", "gradients", "jvp", "prelu",
        "concatenate", "stack", "split", "log_softmax", "softmax", "logsumexp",
    ),
    "autograd_core.tensor_check": ("tensor_gradcheck",),
    "autograd_core.tensor_view": ("tensor_rows", "format_rows", "draw_tensor_graph"),
    "autograd_core.static": ("static", "StaticGraph", "StaticGraphBranchError", "StaticGradient"),
    "autograd_core.anomaly": ("detect_anomaly", "AnomalyError"),
    "autograd_core.demo": ("build_demo", "DemoResult"),
    "autograd_core.commands.experiment": ("EXPERIMENT_MODULES",),
    "autograd_core.commands.experiment_gradients": ("add_experiment",),
    "nn": (
        "MLP", "Neuron", "Layer", "Sequential", "Module", "BatchNorm", "Residual", "Linear",
        "TensorMLP", "fit", "evaluate", "predict", "load", "Callback", "History",
        "SGD", "Adam", "AdaGrad", "RMSProp", "clip_grad_norm", "clip_grad_value",
        "make_moons", "make_circles", "make_spirals", "make_xor", "load_mnist",
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "accuracy", "l2_penalty",
        "losses", "costs", "optim", "init", "data", "diagnostics", "experiments",
        "GradientMonitor", "gradient_norms", "learning_speeds", "ACTIVATIONS",
    ),
    "nn.losses": ("quadratic", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                  "cross_entropy", "l2_penalty", "accuracy"),
    "nn.init": ("SCHEMES", "ALIASES", "resolve", "draw"),
    "nn.diagnostics": (
        "learning_speeds", "gradient_norms", "activation_stats", "GradientMonitor",
        "layer_gradients", "bias_gradients", "weight_gradients", "verdict", "GradientRecord",
    ),
    "nn.experiments": ("vanishing", "training_speed", "exploding", "remedies", "synthetic_digits"),
    "nn.tensor_train": ("LearningSpeed",),
    "visualize": (
        "draw_graph", "render", "write_stepper", "step_frames", "GraphvizNotFoundError",
        "plot_learning_speeds", "plot_training_speed", "plot_activations", "plot_gradient_flow",
        "draw_tensor_graph",
    ),
    "visualize.plots": ("plot_learning_speeds", "plot_training_speed", "plot_activations",
                        "plot_gradient_flow"),
    "visualize.training_plots": ("plot_decision_boundary", "plot_loss_curve"),
}

# Documented names that are strings, not importable names (``init=``,
# ``activation=``). (The README also named ``engine.NODE_TYPES`` /
# ``register_node_type``, which do not exist; the docs no longer mention them.)
STRING_NAMES = {
    "nn.init": ("standard_normal", "nielsen", "xavier_uniform", "xavier", "glorot", "xavier_normal",
                "glorot_normal", "he_normal", "he", "kaiming", "he_uniform", "kaiming_uniform", "zeros"),
    "nn.ACTIVATIONS": ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "softplus", "swish",
                       "gelu", "linear"),
}

PAIRS = [(m, n) for m, names in DOCUMENTED.items() for n in names]


@pytest.mark.parametrize("module,name", PAIRS, ids=[f"{m}.{n}" for m, n in PAIRS])
def test_documented_name_imports(module, name):
    mod = importlib.import_module(module)
    if not hasattr(mod, name):  # what `from module import name` does for a submodule
        try:
            importlib.import_module(f"{module}.{name}")
        except ModuleNotFoundError:
            pass
    assert hasattr(mod, name), f"`from {module} import {name}` no longer works"


def test_the_names_are_the_objects_they_were():
    """Aliases point at one object, not a copy."""
    import autograd_core as ac
    import nn
    import visualize
    from autograd_core import tensor_view
    from visualize import graph

    assert ac.Value is ac.engine.Value
    assert ac.explain is ac.trace.explain
    assert ac.gradcheck is importlib.import_module("autograd_core.gradcheck").gradcheck
    assert nn.costs is nn.losses
    assert nn.MLP is nn.layers.MLP
    assert visualize.render is graph.render
    assert visualize.draw_tensor_graph is tensor_view.draw_tensor_graph
    assert ac.gradcheck.__module__ == "autograd_core.derivatives.gradcheck"  # moved; old path aliased


def test_documented_init_and_activation_names_are_accepted():
    import nn
    from nn.init import resolve

    for name in STRING_NAMES["nn.init"]:
        assert resolve(name) in nn.init.SCHEMES, name
    for name in STRING_NAMES["nn.ACTIVATIONS"]:
        assert name in nn.ACTIVATIONS, name
