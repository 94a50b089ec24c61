"""The documentation: the site builds with ``mkdocs build --strict`` (broken links, missing
anchors and missing API references fail), and every Python code block of README.md and
docs/**/*.md runs.

Snippets run with Sybil (https://sybil.readthedocs.io): one test per page, the page's blocks
in order in one namespace (a guide builds on its earlier blocks), in a temporary working
directory so that an example never writes into the repository. Blocks that are not meant to run
use other fences (``bash``, ``text``). Examples that need data find it themselves
(``nn.experiments.load_images`` uses ../shared/data/mnist next to the repository, else a
synthetic stand-in), so a machine without MNIST runs them too.

The docs tools come with the ``docs`` extra (``.ci/setup`` installs it). Without them these
tests are skipped, except under CI (``CI=true``), where a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PAGES = sorted([ROOT / "README.md"] + [p for p in (ROOT / "docs").rglob("*.md")
                                       if "notebooks" not in p.relative_to(ROOT / "docs").parts])
PYTHON_PAGES = [p for p in PAGES if "```python" in p.read_text(encoding="utf-8")]


def need(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if IN_CI:
            pytest.fail(f"{module} is not installed: .ci/setup installs the docs extra "
                        "(pip install -e '.[docs]')")
        pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")


def test_pages_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/index.md", "docs/guides/chain-rule.md", "docs/glossary.md"} <= names
    with_code = {p.relative_to(ROOT).as_posix() for p in PYTHON_PAGES}
    assert {"README.md", "docs/guides/chain-rule.md", "docs/guides/testing-derivatives.md",
            "docs/guides/defining-operations.md", "docs/guides/pictures.md", "docs/guides/nn.md",
            "docs/guides/vanishing-exploding.md", "docs/guides/tensor.md", "docs/guides/static.md"} <= with_code


def test_mkdocs_build_strict(tmp_path):
    need("mkdocs")
    need("material")
    need("mkdocstrings_handlers.python")
    need("mkdocs_jupyter")
    site = tmp_path / "site"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
               NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    assert (site / "index.html").exists()
    assert (site / "api" / "autograd_core" / "index.html").read_text(encoding="utf-8").count("backward") > 0
    for n in ("01_chain_rule", "04_vanishing_exploding"):
        assert (site / "notebooks" / n / "index.html").exists()
    assert not (ROOT / "site").exists() and not (ROOT / ".cache").exists()


def _blocks_need_graphviz(text: str) -> bool:
    return any(k in text for k in ("render(", "write_stepper(", "draw_tensor_graph("))


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PYTHON_PAGES])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    need("sybil")
    from sybil import Sybil
    from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

    text = page.read_text(encoding="utf-8")
    if _blocks_need_graphviz(text) and shutil.which("dot") is None and not IN_CI:
        pytest.skip("these examples draw pictures: Graphviz's dot is needed (apt-get install graphviz)")
    for module in ("torch", "onnx", "jax"):  # the export guide: the `export` extra
        if f"import {module}" in text and not IN_CI:
            pytest.importorskip(module, reason=f"these examples need {module} (pip install -e '.[export]')")
    import matplotlib
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    before = sorted(p.name for p in ROOT.iterdir())
    from autograd_core import PRIMITIVES
    known = set(PRIMITIVES)
    document = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()]).parse(page)
    examples = list(document.examples())
    assert examples, f"{page.name}: no examples parsed"
    try:
        for example in examples:
            example.evaluate()
    finally:  # each page starts from the package's own table of primitives
        for name in set(PRIMITIVES) - known:
            del PRIMITIVES[name]
    assert sorted(p.name for p in ROOT.iterdir()) == before, "an example wrote into the repository"


# ------------------------------------------------------------------ set-up

def _fenced_bash(text: str) -> list[str]:
    import re
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup_lines = [line for block in _fenced_bash(readme) for line in block.splitlines()
                   if ".ci/setup" in line]
    assert setup_lines == ["bash .ci/setup --demo && autograd-core demo",
                           "bash .ci/setup && python3 -m pytest -q --hypothesis-profile=ci"]
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert run[-1] == "bash .ci/setup && python3 -m pytest -q --hypothesis-profile=ci"


@pytest.mark.parametrize("args,apt,pip", [
    (["--demo"], ["graphviz", "fonts-noto-cjk"], "."),
    ([], ["graphviz", "fonts-noto-cjk", "chromium", "chromium-driver"], ".[dev,bench,docs,playground,export]"),
])
def test_setup_installs_what_each_command_needs(tmp_path, args, apt, pip):
    """.ci/setup against stub apt-get, dpkg and python3 that record what they are asked."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    stub = tmp_path / "bin"
    stub.mkdir()
    log = tmp_path / "log"
    for name, body in {"apt-get": 'echo "apt-get $*" >> "$LOG"',
                       "dpkg": "exit 1",  # nothing installed yet
                       "python3": 'echo "python3 $*" >> "$LOG"',
                       "sudo": '"$@"', "id": "echo 0"}.items():
        (stub / name).write_text(f"#!/bin/sh\n{body}\n")
        (stub / name).chmod(0o755)
    env = {"PATH": f"{stub}:/usr/bin:/bin", "LOG": str(log), "HOME": str(tmp_path)}
    proc = subprocess.run(["bash", str(ROOT / ".ci" / "setup"), *args], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert len(installs) == 1 and installs[0].split()[-len(apt):] == apt, calls
    assert calls[-1].endswith(f"pip install -q --disable-pip-version-check -e {pip}"), calls


def test_setup_refuses_an_unknown_option():
    proc = subprocess.run(["bash", str(ROOT / ".ci" / "setup"), "--bogus"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "usage: bash .ci/setup [--demo]" in proc.stderr


def test_html_pages_name_cjk_fonts(tmp_path):
    """The step-through page and the demo page list CJK fonts, so the Chinese glosses render."""
    import visualize
    from autograd_core import demo, explain, parse

    assert "Noto Sans CJK SC" in demo._PAGE.split("</style>")[0]
    if shutil.which("dot") is None and not IN_CI:
        pytest.skip("the step-through page needs Graphviz's dot")
    f, _ = parse("x*w + b", x=1, w=2, b=3)
    page = visualize.write_stepper(explain(f), tmp_path / "steps.html")
    assert "Noto Sans CJK SC" in Path(page).read_text(encoding="utf-8").split("</style>")[0]


# ------------------------------------------------------------------ the README front page

def test_readme_links_point_at_files_of_the_repository():
    import re
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links into the docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == [], f"README links to missing files: {missing}"


def test_readme_is_a_front_page():
    """At most 15 KB; 'seed' only as a random seed (the source text is 'the textbook chapter')."""
    import re
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 15 * 1024
    assert "the textbook chapter" in readme
    prose = re.sub(r"```.*?```", "", readme, flags=re.S)
    assert not re.search(r"\bseed(s|'s|s')?\b", prose.replace("seed_graph.svg", "").replace("shared/seeds/", "")), \
        "'seed' in the README's prose"
