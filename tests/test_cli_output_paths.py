"""CLI output options (--svg, --html, --plot, --draw, --out) pointing at a
read-only folder, a directory, a device or a missing folder: one line on
stderr, exit status 2, no traceback, no stray temporary file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_core.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run([sys.executable, "-m", "autograd_core", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)


@pytest.fixture
def read_only(tmp_path):
    """A folder nobody can create files in (root ignores permissions: /sys)."""
    if os.geteuid() == 0:
        if not os.path.isdir("/sys") or os.access("/sys", os.W_OK) and _can_create("/sys"):
            pytest.skip("no read-only folder for root here")
        yield Path("/sys")
        return
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    yield d
    d.chmod(0o755)


def _can_create(folder: str) -> bool:
    try:
        fd = os.open(os.path.join(folder, ".autograd-core-probe"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:
        return False
    os.close(fd)
    os.unlink(os.path.join(folder, ".autograd-core-probe"))
    return True


def one_line_status_2(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-core: error: "), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


EXPLAIN = ("explain", "x*y+x", "x=1", "y=2")


@needs_dot
@pytest.mark.parametrize("option", ["--svg", "--html"])
def test_explain_outputs_to_bad_places(tmp_path, read_only, option):
    ext = ".svg" if option == "--svg" else ".html"
    fifo = tmp_path / f"fifo{ext}"
    os.mkfifo(fifo)
    cases = {
        "read-only folder": (str(read_only / f"x{ext}"), "not writable"),
        "a directory": (str(tmp_path), "is a directory"),
        "a device": ("/dev/null", "not a regular file"),
        "a FIFO": (str(fifo), "not a regular file"),
        "a missing folder": (str(tmp_path / "nope" / f"x{ext}"), "does not exist"),
    }
    for what, (target, msg) in cases.items():
        line = one_line_status_2(run(*EXPLAIN, option, target))
        assert target in line, (what, line)
        assert re.search(msg, line), (what, line)
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


@needs_dot
def test_write_failure_after_the_checks_is_one_line(tmp_path, monkeypatch, capsys):
    # the disk fills up while the picture is written: the OSError from the
    # write is still one line naming the file, status 2, no temporary file left
    from autograd_core import _io

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", full)
    assert main([*EXPLAIN, "--svg", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"autograd-core: error: cannot write {str(tmp_path / 'g.svg')!r} "
                   "(No space left on device)"]
    assert os.listdir(tmp_path) == []


def test_demo_and_experiment_output_folders(tmp_path, read_only):
    f = tmp_path / "file"
    f.write_text("x")
    one_line_status_2(run("demo", "--out", str(f)))
    one_line_status_2(run("demo", "--out", "/dev/null"))
    one_line_status_2(run("demo", "--out", str(read_only / "sub" / "deeper")))
    one_line_status_2(run("experiment", "vanishing", "--plot", str(tmp_path)))
    one_line_status_2(run("experiment", "vanishing", "--plot", str(read_only / "p.png")))
    one_line_status_2(run("experiment", "exploding", "--draw", str(tmp_path)))
    one_line_status_2(run("experiment", "exploding", "--draw", "/dev/null"))
    one_line_status_2(run("experiment", "depth-accuracy", "--out", str(f)))
    one_line_status_2(run("experiment", "depth-accuracy", "--plot", str(tmp_path)))
