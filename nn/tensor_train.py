"""Old path of the Tensor backend's fit/evaluate/predict, LearningSpeed and losses: the module
:mod:`nn.backends.tensor` itself (import nn.tensor_train gives that module)."""

import sys

from .backends import tensor as _tensor

sys.modules[__name__] = _tensor
