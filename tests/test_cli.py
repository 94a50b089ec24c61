"""The command-line tool's entry points."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import autograd_core


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograd_core", *args],
                          capture_output=True, text=True, timeout=120)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"autograd-core {autograd_core.__version__}"
    r = run("--help")
    assert r.returncode == 0 and "usage: autograd-core" in r.stdout


def test_unknown_command_is_one_line_status_2():
    r = run("no-such-command")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "error" in r.stderr


@pytest.mark.skipif(shutil.which("autograd-core") is None, reason="console script not installed")
def test_console_script():
    r = subprocess.run(["autograd-core", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and autograd_core.__version__ in r.stdout
