"""The package layout (docs/layout.md): every module that moved into a
subpackage is still importable under its old flat name as the very same module
object, so patching a private name through either path patches the one module."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from autograd_core._aliases import MOVED, new_name

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent

# Every module (and a submodule of each moved package) by its old and its new dotted name.
OLD_NEW = sorted(MOVED.items()) + [
    ("autograd_core.commands.explain", "autograd_core.cli.commands.explain"),
    ("autograd_core.commands.experiment_gradients", "autograd_core.cli.commands.experiment_gradients"),
    ("autograd_core.playground.app", "autograd_core.cli.playground.app"),
    ("autograd_core.playground.examples", "autograd_core.cli.playground.examples"),
]


def test_every_flat_module_of_before_the_move_is_listed():
    before = {"_math", "primitives", "engine", "math", "naming", "_gc", "_speedups", "_vectorize",
              "tensor_check", "tensor_view", "symbolic", "parser", "trace", "numerical", "functional",
              "gradcheck", "testing", "anomaly", "pytest_plugin", "demo", "commands", "playground"}
    assert {old.rpartition(".")[2] for old in MOVED} == before
    for old, new in MOVED.items():
        assert (ROOT / (new.replace(".", "/") + ".py")).exists() or \
            (ROOT / new.replace(".", "/") / "__init__.py").exists() or \
            (ROOT / (new.replace(".", "/") + ".c")).exists(), new


@pytest.mark.parametrize("old,new", OLD_NEW, ids=[o for o, _ in OLD_NEW])
def test_old_path_is_the_same_module_object(old, new):
    if new.endswith("._speedups"):
        pytest.importorskip("autograd_core.core._speedups")
    if new.startswith("autograd_core.cli.playground"):
        pytest.importorskip("starlette")
    assert new_name(old) == new
    assert importlib.import_module(old) is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new]
    assert importlib.import_module(old).__name__ == new
    assert importlib.import_module(old).__spec__.name == new  # the alias leaves the spec alone


def test_unmoved_names_are_not_aliased():
    for name in ("autograd_core.tensor", "autograd_core.static", "autograd_core.cli",
                 "autograd_core.export", "autograd_core.no_such_module"):
        assert new_name(name) is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("autograd_core.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("autograd_core.engine.no_such_module")


def test_patching_through_the_old_path_reaches_the_engine(monkeypatch):
    import autograd_core.core.engine as new_engine
    import autograd_core.engine as old_engine
    from autograd_core import Value

    calls = []
    real = new_engine._backprop

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(old_engine, "_backprop", spy)
    x = Value(3.0, "x")
    (x * x).backward()
    assert x.grad == 6.0
    assert calls, "the driver patched via autograd_core.engine was not the one the engine ran"


def test_function_names_are_not_shadowed_by_their_module():
    """``autograd_core.gradcheck`` stays the function (as before the move); the
    module is ``autograd_core.derivatives.gradcheck``, also under the old path."""
    import autograd_core as ac

    assert callable(ac.gradcheck) and not isinstance(ac.gradcheck, type(sys))
    assert importlib.import_module("autograd_core.gradcheck").gradcheck is ac.gradcheck
    assert ac.engine is importlib.import_module("autograd_core.core.engine")
    assert ac.trace is importlib.import_module("autograd_core.stepthrough.trace")


def test_old_paths_work_in_a_fresh_interpreter():
    """Importing an old lazily loaded path first (before anything else) gives one module."""
    code = ("import importlib, sys\n"
            "m = importlib.import_module('autograd_core.commands.explain')\n"
            "assert m is importlib.import_module('autograd_core.cli.commands.explain')\n"
            "assert len({id(v) for v in sys.modules.values() if getattr(v, '__file__', None) == m.__file__}) == 1\n"
            "from autograd_core.tensor_view import draw_tensor_graph\n"
            "assert sys.modules['autograd_core.tensor_view'] is sys.modules['autograd_core.tensor.view']\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------ the docs name the new paths

#: old names that stay the documented spelling: package attributes in the public list
#: (``autograd_core.math``, ``autograd_core.testing``) and the pytest entry point's module
DOCUMENTED_SHORT = {"autograd_core.math", "autograd_core.testing", "autograd_core.pytest_plugin"}
#: files that describe the aliases themselves
ABOUT_ALIASES = {"docs/layout.md", "autograd_core/_aliases.py", "nn/tensor_train.py",
                 "nn/tensor_optim.py"}


def _old_path_mentions(path: str, text: str) -> list[str]:
    import re
    hits = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if re.search(r"\bold\b", line):  # "the old module paths ... are ...": about the alias
            continue
        for m in re.finditer(r"(?<![\w.])(?:autograd_core|nn)(?:\.[A-Za-z_]\w*)+", line):
            s = m.group()
            if s.startswith("nn."):
                if s.split(".")[1] in ("tensor_train", "tensor_optim"):
                    hits.append(f"{path}:{lineno}: {s}")
                continue
            head = s
            while head and head not in MOVED:
                head = head.rpartition(".")[0]
            if not head or head in DOCUMENTED_SHORT:
                continue
            if head == "autograd_core.gradcheck" and s == head and \
                    not line[:m.start()].endswith((":mod:`", ":mod:`~")):
                continue  # the function autograd_core.gradcheck, not the module
            hits.append(f"{path}:{lineno}: {s} (now {new_name(s)})")
    return hits


def test_docs_and_docstrings_name_the_new_module_paths():
    """docs/layout.md's table is where things live: the guides, the README, the notebooks'
    generator and the library's docstrings and imports say those paths, not the old flat
    names (which keep working as aliases)."""
    files = subprocess.run(["git", "ls-files", "README.md", "docs/*.md", "docs/guides/*.md",
                            "notebooks/build_notebooks.py", "autograd_core/*.py", "nn/*.py",
                            "visualize/*.py"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert "docs/guides/tensor.md" in files and "visualize/graph.py" in files
    hits = []
    for f in files:
        if f in ABOUT_ALIASES:
            continue
        hits += _old_path_mentions(f, (ROOT / f).read_text(encoding="utf-8"))
    assert not hits, "old module paths in docs/docstrings:\n" + "\n".join(hits)


def test_the_old_path_finder_sees_what_it_should():
    text = ("see :mod:`autograd_core.engine` and autograd_core.tensor_view.tensor_rows;\n"
            "from nn.tensor_train import LearningSpeed\n"
            "autograd_core.gradcheck(f, [x]) and autograd_core.testing and autograd_core.tensor\n"
            "the old module paths autograd_core.engine keep working\n"
            "(:mod:`autograd_core.gradcheck`)\n")
    hits = _old_path_mentions("x.md", text)
    assert [h.split(": ", 1)[1].split(" ")[0] for h in hits] == [
        "autograd_core.engine", "autograd_core.tensor_view.tensor_rows", "nn.tensor_train",
        "autograd_core.gradcheck"]
