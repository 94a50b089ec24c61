"""nn: a small neural-net library on the autograd_core engine."""
