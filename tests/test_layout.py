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
