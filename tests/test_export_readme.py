"""The "Moving on to PyTorch, ONNX and JAX" guide's examples run as written (issue 20).

The guide was a README section until the README became a front page (issue 16); it is now
docs/guides/export.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "export.md"


def _blocks() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    assert text.startswith("# Moving on to PyTorch, ONNX and JAX")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_guide_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("jax")
    blocks = _blocks()
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "readme_example"}
    for code in blocks:  # the guide's own code, one namespace as a reader would run it
        exec(compile(code, str(GUIDE), "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "largest difference of the two loss curves" in out
    assert max(abs(a - b) for a, b in zip(ns["here"], ns["there"])) < 1e-12
    assert ns["here"][-1] < ns["here"][0]             # it really trains
    assert (tmp_path / "mlp.onnx").stat().st_size > 0
