"""QA: explain's kink notes mark exactly the nodes on a corner or jump.

Class of bug: the note fired when operand 0 equalled a declared kink value,
so hypot(x, y) at (0, 1) -- smooth there -- was shown "on a kink", while a tie
of maximum, clip and hardtanh at their bounds, prelu/hypot in their other
operand, arctan2 at the origin and sign/floor at their jumps had no note.
"""

from __future__ import annotations

import pytest

from autograd_core import explain, parse


def _notes(text: str, **env: float) -> str:
    out, _ = parse(text, **env)
    return " | ".join(n for ns in explain(out).annotations.values() for n in ns)


@pytest.mark.parametrize("text,env,expected", [
    ("hypot(x, y)", {"x": 0.0, "y": 0.0}, "on a kink: ∂h1/∂x of hypot(0, 0) taken as 0"),
    ("maximum(x, y)", {"x": 1.0, "y": 1.0}, "taken as 0.5"),
    ("minimum(x, y)", {"x": -2.0, "y": -2.0}, "the one-sided derivatives are 1 and 0"),
    ("clip(x, 0, 1)", {"x": 1.0}, "on a kink: clip'(1) taken as 1"),
    ("hardtanh(x)", {"x": -1.0}, "on a kink: hardtanh'(-1) taken as 0"),
    ("relu6(x)", {"x": 6.0}, "relu6'(6) taken as 0"),
    ("abs(x)", {"x": 0.0}, "abs'(0) taken as 0"),
    ("prelu(x, a)", {"x": 0.0, "a": 0.2}, "∂h1/∂x of prelu(0, 0.2) taken as 0.2"),
    ("sign(x)", {"x": 0.0}, "on a jump: sign'(0) taken as 0"),
    ("floor(x)", {"x": 2.0}, "the value jumps from 1 to 2"),
    ("arctan2(y, x)", {"x": 0.0, "y": 0.0}, "on a jump"),
])
def test_nodes_on_a_corner_or_jump_are_noted(text, env, expected):
    assert expected in _notes(text, **env)


@pytest.mark.parametrize("text,env", [
    ("hypot(x, y)", {"x": 0.0, "y": 1.0}),       # smooth off the origin
    ("maximum(x, y)", {"x": 1.0, "y": 2.0}),
    ("clip(x, 0, 1)", {"x": 0.5}),
    ("softsign(x)", {"x": 0.0}),                 # smooth to first order
    ("sqrt(x)", {"x": 0.0}),                     # a domain edge, not a corner
    ("tan(x)", {"x": 1.5707963267948966}),       # a pole, not a jump
    ("x * y + exp(x)", {"x": 0.0, "y": 0.0}),
])
def test_smooth_points_get_no_kink_note(text, env):
    notes = _notes(text, **env)
    assert "kink" not in notes and "jump" not in notes
