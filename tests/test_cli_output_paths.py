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


# ------------------------------------------------------------------ the checks ask, never write

@pytest.fixture
def untouched(tmp_path, monkeypatch):
    """A folder whose modification time is set to 0: creating (and removing) any entry in it
    moves the time, so a check that wrote a probe file there would show; and no file may be
    created by os.open while the checks run."""
    import autograd_core.cli as cli
    d = tmp_path / "out"
    d.mkdir()
    os.utime(d, ns=(0, 0))
    real_open = os.open

    def no_create(path, flags, *a, **k):
        assert not flags & os.O_CREAT, f"the check created {path!r}"
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(cli.os, "open", no_create)
    yield d
    monkeypatch.undo()
    assert os.listdir(d) == [] and d.stat().st_mtime_ns == 0


@pytest.mark.parametrize("check, target", [
    ("file", "p.png"), ("dir", "."), ("dir", "new/deeper"),
])
def test_output_checks_do_not_write_in_the_folder(untouched, check, target):
    from autograd_core.cli import output_dir, output_file
    path = str(untouched / target)
    if check == "file":
        assert output_file(path, "--plot") == path
    else:
        assert output_dir(path, "--out") == path
    assert not os.path.exists(untouched / "new")


def test_a_full_file_system_is_refused_before_any_work(tmp_path, monkeypatch):
    import autograd_core.cli as cli
    real = os.statvfs(tmp_path)
    fields = {k: getattr(real, k) for k in dir(real) if k.startswith("f_")}
    full = type("Full", (), dict(fields, f_bfree=0, f_bavail=0))()
    monkeypatch.setattr(cli.os, "statvfs", lambda p: full)
    with pytest.raises(cli.UsageError, match="not writable \\(no free space on its file system\\)"):
        cli.output_file(str(tmp_path / "p.png"), "--plot")
    ro = type("RO", (), dict(fields, f_flag=real.f_flag | os.ST_RDONLY))()
    monkeypatch.setattr(cli.os, "statvfs", lambda p: ro)
    with pytest.raises(cli.UsageError, match="not writable \\(a read-only file system\\)"):
        cli.output_dir(str(tmp_path / "new"), "--out")


def test_a_folder_the_checks_let_through_fails_at_the_write_in_one_line(tmp_path, monkeypatch,
                                                                      capsys):
    # what os.access cannot see (root in /sys, an ACL, a server saying no): the atomic
    # write's own error, one line naming the file and the folder, status 2, nothing left
    from autograd_core import _io

    def refused(folder, name):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_io, "_create_temp", refused)
    target = tmp_path / "w.png"
    assert main(["experiment", "exploding-window", "--weights", "5", "--plot", str(target)]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        f"autograd-core: error: cannot write {str(target)!r}: folder {str(tmp_path)!r} is not "
        "writable (Permission denied)"]
    assert os.listdir(tmp_path) == []
