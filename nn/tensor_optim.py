"""Old path of the Tensor backend's optimizer steps and clipping: the module
:mod:`nn.backends.tensor` itself (import nn.tensor_optim gives that module)."""

import sys

from .backends import tensor as _tensor

sys.modules[__name__] = _tensor
