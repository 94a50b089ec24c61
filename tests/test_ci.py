"""The test run is deterministic: the README's test command selects the
derandomized Hypothesis profile and .ci/run runs exactly that command."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"Test suite[^\n]*:\s*```bash\n(.+?)\n```", text)
    assert m, "README has no 'Test suite:' bash block"
    return m.group(1).strip()


def test_ci_run_is_the_readme_test_command():
    cmd = readme_test_command()
    assert cmd.startswith("bash .ci/setup && python3 -m pytest")
    assert "--hypothesis-profile=ci" in cmd
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[-1] == cmd


def test_profiles():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None and ci.print_blob and ci.deadline is None
    explore = settings.get_profile("explore")
    assert not explore.derandomize and explore.print_blob
    assert explore.max_examples > ci.max_examples
