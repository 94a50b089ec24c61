"""The README's "Moving on to PyTorch, ONNX and JAX" examples run as written (issue 20)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Moving on to PyTorch, ONNX and JAX")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


def test_the_guide_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("jax")
    blocks = _blocks()
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "readme_example"}
    for code in blocks:  # the README's own code, one namespace as a reader would run it
        exec(compile(code, str(README), "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "largest difference of the two loss curves" in out
    assert max(abs(a - b) for a, b in zip(ns["here"], ns["there"])) < 1e-12
    assert ns["here"][-1] < ns["here"][0]             # it really trains
    assert (tmp_path / "mlp.onnx").stat().st_size > 0
