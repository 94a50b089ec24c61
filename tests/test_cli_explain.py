"""``autograd-core explain``, run as a user runs it (``python3 -m autograd_core``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden" / "explain_seed.txt"
SEED = ["explain", "1/(exp(-(x*w+b))+1)", "x=1", "w=0", "b=0"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograd_core", *args], capture_output=True,
                          text=True, timeout=120, encoding="utf-8")


def test_seed_example_golden_output():
    r = run(*SEED)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == GOLDEN.read_text(encoding="utf-8")


def test_golden_output_has_the_seed_numbers():
    text = GOLDEN.read_text(encoding="utf-8")
    assert "h6    rdiv_const  1/h5      0.5    ∂h6/∂h5           -1/h5^2   -0.25" in text
    assert text.endswith("Gradients\n∂f/∂x = w·exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0\n"
                         "∂f/∂w = x·exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0.25\n"
                         "∂f/∂b = exp(-x·w - b)/(exp(-x·w - b) + 1)^2 = 0.25\n")


def test_json_markdown_wrt_and_modes():
    r = run(*SEED, "--format", "json", "--wrt", "w,b", "--mode", "both", "--paths")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["gradients"] == {"w": 0.25, "b": 0.25}
    assert [t["gradient"] for t in doc["forward_mode"]] == [0.25, 0.25]
    assert doc["paths"][0]["paths"][0]["product"] == "1 × (-0.25) × 1 × 1 × (-1) × 1 × 1 = 0.25"
    assert doc["adjoints"]["h5"] == -0.25
    assert [r["name"] for r in doc["forward"] if r["inputs"]] == ["h1", "h2", "h3", "h4", "h5", "h6"]

    r = run(*SEED, "--format", "markdown")
    assert r.returncode == 0
    assert "| h6 | rdiv_const | 1/h5 | 0.5 | ∂h6/∂h5 | -1/h5^2 | -0.25 |" in r.stdout

    r = run(*SEED, "--mode", "forward", "--wrt", "w")
    assert r.returncode == 0
    assert "Backward pass" not in r.stdout
    assert "h6    0.5    h5       (-0.25) × (-1)            0.25" in r.stdout
    assert "∂f/∂w = 0.25" in r.stdout

    r = run(*SEED, "--mode", "both")
    assert "Backward pass" in r.stdout and "Forward mode" in r.stdout
    assert "forward mode: 3 passes (one per input), 17 multiplications; reverse mode: 1 pass, " \
           "8 multiplications for all inputs" in r.stdout


def test_formula_starting_with_minus_after_double_dash():
    r = run("explain", "--", "-x**2", "x=3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("Gradients\n∂f/∂x = -2·x = -6\n")


@pytest.mark.parametrize("args, message", [
    (["x +", "x=1"], "expected a number, a name or '(', found the end of the expression at column 4"),
    (["x*y", "x=1"], "no value given for 'y' at column 3"),
    (["foo(x)", "x=1"], "unknown function 'foo'"),
    (["x", "x=abc"], "bad number for x: 'abc'"),
    (["x", "x=1e999"], "too large"),
    (["x", "x"], "expected NAME=VALUE, got 'x'"),
    (["x", "x=1", "x=2"], "x is given twice"),
    (["x", "x=1", "y=2"], "y is given a value but does not appear in the expression"),
    (["x*w", "x=1", "w=2", "--wrt", "q"], "no node named 'q'"),
    (["__import__('os').system('id')"], "attribute access ('.') is not allowed at column 17"),
    (["log(x)", "x=0"], "logarithm of zero"),
    (["1/x", "x=0"], "division by zero"),
    (["(" * 10_000 + "x" + ")" * 10_000, "x=1"], "nested too deeply"),
    (["x", "x=1", "--mode", "sideways"], "invalid choice"),
    (["pi*x", "x=1", "pi=1"], "pi is a constant; name your variable differently"),
    (["e^x", "x=1", "e=2"], "e is a constant; name your variable differently"),
    (["exp*x", "x=1", "exp=2"], "exp is a function; name your variable differently"),
    (["x", "x=1", "sin=2"], "sin is a function; name your variable differently"),
    (["x", "x=1", "lambda=2"], "lambda is a Python keyword; name your variable differently"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    r = run("explain", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("autograd-core")
    assert message in lines[0]
    assert "Traceback" not in r.stderr


def test_svg_and_html_options(tmp_path):
    import visualize

    svg = tmp_path / "seed.svg"
    html = tmp_path / "seed.html"
    if getattr(visualize, "render", None) is not None and shutil.which("dot"):
        r = run(*SEED, "--svg", str(svg))
        assert r.returncode == 0, r.stderr
        assert svg.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    if getattr(visualize, "write_stepper", None) is not None:
        r = run(*SEED, "--html", str(html))
        assert r.returncode == 0, r.stderr
        assert "<html" in html.read_text(encoding="utf-8").lower()
    else:
        r = run(*SEED, "--html", str(html))
        assert r.returncode == 2 and "write_stepper" in r.stderr
    r = run(*SEED, "--svg", str(tmp_path / "no_such_dir" / "x.svg"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
