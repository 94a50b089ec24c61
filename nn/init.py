"""Initialisation schemes (``nn.init``).

For a layer with ``n_in`` inputs and ``n_out`` neurons, weight row ``j`` holds
neuron ``j``'s incoming weights (an ``n_out × n_in`` matrix ``W``), ``b`` has
``n_out`` entries. Random numbers come from numpy's legacy ``RandomState``.

=====================  ==========================================  ==============
name                   weights                                     biases
=====================  ==========================================  ==============
``standard_normal``    N(0, 1)                                     N(0, 1)
``nielsen``            N(0, 1) / √n_in                             N(0, 1)
``xavier_uniform``     U(−a, a), a = √(6 / (n_in + n_out))         0
``xavier_normal``      N(0, 2 / (n_in + n_out))                    0
``he_normal``          N(0, 2 / n_in)                              0
``he_uniform``         U(−a, a), a = √(6 / n_in)                   0
``zeros``              0                                           0
=====================  ==========================================  ==============

Aliases: ``xavier`` = ``glorot`` = ``glorot_uniform`` = ``xavier_uniform``,
``glorot_normal`` = ``xavier_normal``, ``he`` = ``kaiming`` =
``kaiming_normal`` = ``he_normal``, ``kaiming_uniform`` = ``he_uniform``.
(N(0, v) means variance v.)

``standard_normal`` is the textbook chapter's "standard" initialisation that makes deep
sigmoid nets' gradients vanish. ``nielsen`` is network2's default.

**Drawing order.** For a whole network, :func:`draw` draws *all biases first,
layer by layer* (``randn(n_out, 1)``), *then all weights, layer by layer*
(``randn(n_out, n_in)``, scaled), exactly as Nielsen's ``network2.Network``
does, so ``MLP(..., init="nielsen", seed=s)`` equals network2 after
``np.random.seed(s)``. Schemes with zero biases draw nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

__all__ = ["SCHEMES", "ALIASES", "resolve", "draw", "make_rng", "InitScheme"]

#: A custom scheme: ``f(rng, n_in, n_out) -> (W, b)`` with W of shape (n_out, n_in), b of (n_out,).
InitScheme = Union[str, Callable[[np.random.RandomState, int, int], tuple[Any, Any]]]


def _normal_bias(rng: np.random.RandomState, n_in: int, n_out: int) -> np.ndarray:
    return rng.randn(n_out, 1)[:, 0]


def _zero_bias(rng: np.random.RandomState, n_in: int, n_out: int) -> np.ndarray:
    return np.zeros(n_out)


def _w_standard(rng, n_in, n_out):
    return rng.randn(n_out, n_in)


def _w_nielsen(rng, n_in, n_out):
    return rng.randn(n_out, n_in) / np.sqrt(n_in)


def _w_xavier_uniform(rng, n_in, n_out):
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_out, n_in))


def _w_xavier_normal(rng, n_in, n_out):
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / (n_in + n_out))


def _w_he_normal(rng, n_in, n_out):
    return rng.randn(n_out, n_in) * np.sqrt(2.0 / n_in)


def _w_he_uniform(rng, n_in, n_out):
    a = np.sqrt(6.0 / n_in)
    return rng.uniform(-a, a, size=(n_out, n_in))


def _w_zeros(rng, n_in, n_out):
    return np.zeros((n_out, n_in))


#: name -> (weight drawer, bias drawer)
SCHEMES: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "standard_normal": (_w_standard, _normal_bias),
    "nielsen": (_w_nielsen, _normal_bias),
    "xavier_uniform": (_w_xavier_uniform, _zero_bias),
    "xavier_normal": (_w_xavier_normal, _zero_bias),
    "he_normal": (_w_he_normal, _zero_bias),
    "he_uniform": (_w_he_uniform, _zero_bias),
    "zeros": (_w_zeros, _zero_bias),
}

ALIASES = {
    "xavier": "xavier_uniform", "glorot": "xavier_uniform", "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal", "he": "he_normal", "kaiming": "he_normal",
    "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform", "standard": "standard_normal",
}


def resolve(init: InitScheme) -> str | Callable[..., Any]:
    """The canonical scheme name (or the callable itself); ValueError for unknown names."""
    if callable(init):
        return init
    if not isinstance(init, str):
        raise TypeError(f"init must be a scheme name or a callable, not {type(init).__name__}")
    name = ALIASES.get(init, init)
    if name not in SCHEMES:
        known = sorted(set(SCHEMES) | set(ALIASES))
        raise ValueError(f"unknown init scheme {init!r}; known: {', '.join(known)}")
    return name


def make_rng(seed: Any) -> np.random.RandomState:
    """``RandomState(seed)`` (a fresh unseeded one for ``None``; a RandomState is used as is)."""
    if isinstance(seed, np.random.RandomState):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")
    return np.random.RandomState(seed)


def draw(init: InitScheme, sizes: Sequence[int], rng: np.random.RandomState
         ) -> list[tuple[list[list[float]], list[float]]]:
    """Weights and biases for consecutive layers ``sizes = [n0, n1, ..., nL]``:
    a list of ``(W, b)`` as nested Python floats, W row j = neuron j's weights.
    All biases are drawn first (layer by layer), then all weights."""
    scheme = resolve(init)
    pairs = list(zip(sizes[:-1], sizes[1:]))
    if callable(scheme):
        out = []
        for n_in, n_out in pairs:
            W, b = scheme(rng, n_in, n_out)
            W = np.asarray(W, dtype=float)
            b = np.asarray(b, dtype=float).reshape(-1)
            if W.shape != (n_out, n_in) or b.shape != (n_out,):
                raise ValueError(f"init callable returned W of shape {W.shape} and b of shape "
                                 f"{b.shape}; expected ({n_out}, {n_in}) and ({n_out},)")
            out.append((W.tolist(), b.tolist()))
        return out
    w_fn, b_fn = SCHEMES[scheme]
    biases = [b_fn(rng, n_in, n_out) for n_in, n_out in pairs]
    weights = [w_fn(rng, n_in, n_out) for n_in, n_out in pairs]
    return [(W.tolist(), b.tolist()) for W, b in zip(weights, biases)]
