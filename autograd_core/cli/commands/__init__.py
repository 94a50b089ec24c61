"""Command modules of the ``autograd-core`` tool (see :mod:`autograd_core.cli`)."""
