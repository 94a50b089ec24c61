"""nn: a small neural-net library on the autograd_core engine.

>>> import nn
>>> X, y = nn.make_moons(200, noise=0.1, seed=0)
>>> model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
>>> history = nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=nn.optim.Adam(
...     model.parameters(), lr=0.01), epochs=1, batch_size=20, progress=False, seed=0)
>>> len(history.loss)
1
"""

from __future__ import annotations

from . import data, init, losses, optim
from . import losses as costs
from .data import load_mnist, make_circles, make_moons, make_spirals, make_xor
from .layers import ACTIVATIONS, MLP, BatchNorm, Layer, Neuron, Residual
from .losses import (
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_penalty,
    l2_penalty,
    quadratic,
    softmax,
)
from .module import Module, Sequential, load
from .optim import SGD, AdaGrad, Adam, RMSProp, clip_grad_norm, clip_grad_value
from .train import Callback, History, evaluate, fit, predict
from .tensor_layers import Linear, TensorMLP  # noqa: E402  (Tensor layers)
from . import backends  # noqa: E402  (one interface over both backends)
from .backends import scalar as _scalar, tensor as _tensor  # noqa: E402,F401  (they register themselves)
from . import tensor_train, tensor_optim  # noqa: E402,F401  (old paths of nn.backends.tensor)
from . import diagnostics, experiments  # noqa: E402  (vanishing/exploding gradients)
from .diagnostics import GradientMonitor, gradient_norms, learning_speeds  # noqa: E402
from .torch_bridge import from_torch, to_torch, to_torch_optimizer  # noqa: E402  (needs [export])

__all__ = [
    "Module", "Sequential", "Neuron", "Layer", "MLP", "Linear", "TensorMLP", "BatchNorm", "Residual", "ACTIVATIONS",
    "init", "optim", "losses", "costs", "data", "load",
    "SGD", "AdaGrad", "RMSProp", "Adam", "clip_grad_norm", "clip_grad_value",
    "fit", "History", "Callback", "evaluate", "predict",
    "quadratic", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "softmax", "l2_penalty", "l1_penalty", "accuracy",
    "make_moons", "make_circles", "make_spirals", "make_xor", "load_mnist",
    "diagnostics", "experiments", "GradientMonitor", "learning_speeds", "gradient_norms",
    "to_torch", "from_torch", "to_torch_optimizer",
]
