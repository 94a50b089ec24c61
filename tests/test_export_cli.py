"""``autograd-core export FORMULA NAME=VALUE ... --onnx F --torch F`` (issue 20)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from autograd_core import parse


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograd_core", "export", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


FORMULA = "tanh(x*w + b) + sigmoid(x) * 2 - relu(b)"


def test_onnx_and_torch_files(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    torch = pytest.importorskip("torch")
    onnx_path, py_path = tmp_path / "f.onnx", tmp_path / "formula_mod.py"
    r = run(FORMULA, "x=0.5", "w=2", "b=-1", "--onnx", str(onnx_path), "--torch", str(py_path))
    assert r.returncode == 0, r.stderr
    assert "wrote ONNX model" in r.stdout and "wrote PyTorch module" in r.stdout
    out, inputs = parse(FORMULA, x=0.5, w=2.0, b=-1.0)
    out.backward()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["x", "w", "b"]
    got = float(sess.run(None, {k: np.array(v.data) for k, v in inputs.items()})[0])
    assert abs(got - out.data) <= 1e-12
    src = py_path.read_text()
    assert "class Formula(torch.nn.Module)" in src and "torch.tanh(" in src
    assert f"FORMULA = {FORMULA!r}" in src
    spec = importlib.util.spec_from_file_location("formula_mod", py_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the file the command wrote for this test
    ts = {k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in inputs.items()}
    y = mod.Formula()(**ts)
    y.backward()
    assert abs(y.item() - out.data) <= 1e-12
    for k, v in inputs.items():
        assert abs(ts[k].grad.item() - v.grad) <= 1e-12
    assert mod.EXAMPLE == {"x": 0.5, "w": 2.0, "b": -1.0}


@pytest.mark.parametrize("args, says", [
    (["x*", "x=1", "--onnx", "o.onnx"], "error"),
    (["x*y", "x=1", "--torch", "o.py"], "no value"),
    (["x*y", "x=1", "y=2"], "nothing to write"),
    (["x*y", "x=1", "y=abc", "--torch", "o.py"], "bad number"),
    (["__import__('os').system('true')", "--torch", "o.py"], "error"),
    (["x", "x=1", "--torch", "o.py"], "no operation"),
    (["x*2", "x=1", "--torch", "missing_dir/o.py"], "error"),
    (["pi*x", "x=1", "pi=2", "--torch", "o.py"], "pi is a constant; name your variable differently"),
    (["exp*x", "x=1", "exp=2", "--onnx", "o.onnx"], "exp is a function; name your variable"),
    (["x*2", "x=1", "lambda=2", "--torch", "o.py"], "lambda is a Python keyword"),
])
def test_bad_input_is_one_line_status_2(args, says, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert not (tmp_path / "o.py").exists() and not (tmp_path / "o.onnx").exists()


def test_reserved_names_are_refused(tmp_path):
    r = run("torch * 2", "torch=1", "--torch", "o.py", cwd=tmp_path)
    assert r.returncode == 2 and "reserved" in r.stderr
    assert not (tmp_path / "o.py").exists()
