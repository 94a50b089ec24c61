"""The two small ``torch.nn`` modules :func:`nn.to_torch` needs besides torch's own
(imported only when torch is installed)."""

from __future__ import annotations

import torch


class Residual(torch.nn.Module):
    """``x + block(x)`` (autograd-core's residual connection)."""

    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class Squeeze(torch.nn.Module):
    """(B, 1) -> (B,): one neuron gives one number per sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.squeeze(-1)
