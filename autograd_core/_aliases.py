"""The old dotted names of the modules that moved into subpackages.

``autograd_core`` was once flat (``autograd_core.engine``, ``autograd_core.gradcheck``,
...). Each old name stays importable as an alias of the **same** module object
(not a copy, not a re-exporting shim), so code that patches a private name of
``autograd_core.engine`` patches the engine itself. Modules the package imports
anyway are entered in ``sys.modules`` by ``autograd_core/__init__.py``; the
others (the command line, the playground, ...) are resolved on first import by
:class:`AliasFinder`. This module imports nothing of ours.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: old dotted name -> new dotted name (a moved package's submodules follow it).
MOVED: dict[str, str] = {
    **{f"autograd_core.{m}": f"autograd_core.core.{m}"
       for m in ("_math", "primitives", "engine", "math", "naming", "_gc", "_speedups")},
    "autograd_core._vectorize": "autograd_core.tensor._vectorize",
    "autograd_core.tensor_check": "autograd_core.tensor.check",
    "autograd_core.tensor_view": "autograd_core.tensor.view",
    **{f"autograd_core.{m}": f"autograd_core.stepthrough.{m}" for m in ("symbolic", "parser", "trace")},
    **{f"autograd_core.{m}": f"autograd_core.derivatives.{m}"
       for m in ("numerical", "functional", "gradcheck", "testing", "anomaly", "pytest_plugin")},
    "autograd_core.demo": "autograd_core.cli.demo",
    "autograd_core.commands": "autograd_core.cli.commands",
    "autograd_core.playground": "autograd_core.cli.playground",
}


def new_name(old: str) -> str | None:
    """The current dotted name of the module once called ``old`` (None if it did not move)."""
    head = old
    while head:
        if head in MOVED:
            return MOVED[head] + old[len(head):]
        head = head.rpartition(".")[0]
    return None


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old dotted name as the module under its new name."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        new = new_name(fullname)
        if new is None:
            return None
        if importlib.util.find_spec(new) is None:
            return None  # e.g. the optional compiled _speedups was not built
        return importlib.util.spec_from_loader(fullname, self, is_package=False)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(new_name(spec.name))  # type: ignore[arg-type]
        spec.loader_state = module.__spec__  # importlib overwrites __spec__; put it back below
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias_spec = module.__spec__
        module.__spec__ = alias_spec.loader_state  # type: ignore[union-attr]


def install() -> None:
    """Put the finder first (before the file finders, which would load a second
    copy of a moved module's file under the old name) and alias what is loaded."""
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    for old, new in MOVED.items():
        if new in sys.modules:
            sys.modules.setdefault(old, sys.modules[new])
