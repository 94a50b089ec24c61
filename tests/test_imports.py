"""The import graph of autograd_core, nn and visualize: no cycles, no arrow pointing up.

Every module's imports are read with ``ast`` (module-level and inside
functions alike; relative imports resolved), so a deferred import inside a
function counts as much as one at the top. Each module belongs to a layer;
a module may import modules of its own layer or of layers below it, never
above, and the graph must have no cycle at all (not even inside a layer).
A module not listed here (one another branch just added) sits in the last
layer, above everything: it may import anything, and nothing may import it
until it is given its place in ``LAYERS``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from autograd_core._aliases import new_name


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd_core", "nn", "visualize")

# Lowest first. A module may import only modules of its own layer or below.
# Each layer is a subpackage (docs/layout.md is this table); a pattern ending
# in ``*`` takes a package with everything inside it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base: private helpers that import nothing of ours", (
        "autograd_core._io", "autograd_core._markup", "autograd_core._report", "autograd_core._aliases")),
    ("core: primitives, nodes, drivers", ("autograd_core.core*",)),
    ("tensor", ("autograd_core.tensor*",)),
    ("step-through", ("autograd_core.stepthrough*",)),
    ("static graphs (capture and replay)", ("autograd_core.static",)),
    ("derivative tools", (
        "autograd_core.derivatives*",
        "autograd_core")),  # the package's __init__: the public facade of the layers above
    ("export to other frameworks", ("autograd_core.export*",)),
    ("nn", ("nn*",)),
    ("visualize", ("visualize*",)),
    ("command line and demo", ("autograd_core.cli*", "autograd_core.__main__")),
    ("new modules, not yet placed", ()),
]
CORE_PACKAGE = "autograd_core.core"


def discover(root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    mods: dict[str, tuple[Path, bool]] = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            mods[".".join(parts)] = (f, is_pkg)
        # compiled extension modules (built from a C file of the same name by
        # setup.py): they import nothing of ours
        for f in sorted((root / pkg).rglob("*.c")):
            mods[".".join(f.relative_to(root).with_suffix("").parts)] = (f, False)
    return mods


def resolve(name: str, mods: dict[str, tuple[Path, bool]]) -> str | None:
    """The module of ours that importing ``name`` runs last (``a.b.c`` -> ``a.b``
    when ``c`` is a name inside ``a.b``), or None for other packages. An old flat
    name (``autograd_core.engine``) counts as the module it is an alias of."""
    if name not in mods:
        name = new_name(name) or name
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, mods: dict[str, tuple[Path, bool]]) -> dict[str, int]:
    """Our modules that ``module`` imports, each with the line of its first import."""
    path, is_pkg = mods[module]
    if path.suffix == ".c":  # a compiled extension
        return {}
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if is_pkg else module.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        target = resolve(name, mods)
        if target is not None and target != module:
            found.setdefault(target, line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level - 1 > len(base) - 1:
                    raise AssertionError(f"{path}:{node.lineno}: relative import beyond the package")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            subs = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in mods]
            for s in subs:
                add(s, node.lineno)
            if len(subs) < len(node.names):  # a name defined in the module itself
                add(source, node.lineno)
    return found


def layer_of(module: str) -> int:
    module = new_name(module) or module  # an old flat name sits where its module is now
    best: tuple[int, int] | None = None  # (specificity, layer)
    for i, (_, patterns) in enumerate(LAYERS):
        for p in patterns:
            if p.endswith("*"):
                stem = p[:-1]
                if module == stem or module.startswith(stem + "."):
                    cand = (len(stem), i)
                else:
                    continue
            elif module == p:
                cand = (10_000, i)
            else:
                continue
            if best is None or cand > best:
                best = cand
    return len(LAYERS) - 1 if best is None else best[1]


def graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    mods = discover(root)
    return {m: imports_of(m, mods) for m in mods}


def find_cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    sccs: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in edges.get(v, {}):
                    sccs.append(sorted(comp))
    return sccs


def test_every_module_is_found_and_placed():
    mods = discover()
    assert {"autograd_core.core.engine", "autograd_core.core.primitives", "nn.layers", "visualize.graph"} <= set(mods)
    placed = [m for m in mods if layer_of(m) < len(LAYERS) - 1]
    assert len(placed) >= 45  # today's modules; a new one lands in the last layer until placed


def test_no_import_cycles():
    edges = graph()
    cycles = find_cycles(edges)
    described = []
    for comp in cycles:
        members = set(comp)
        arrows = [f"{a} -> {b} (line {line})" for a in comp for b, line in sorted(edges[a].items())
                  if b in members]
        described.append("; ".join(arrows))
    assert not cycles, "import cycles:\n" + "\n".join(described)


def test_no_arrow_points_up():
    edges = graph()
    up = []
    for a, targets in sorted(edges.items()):
        for b, line in sorted(targets.items()):
            if layer_of(b) > layer_of(a):
                up.append(f"{a} (layer {LAYERS[layer_of(a)][0]!r}) imports {b} "
                          f"(layer {LAYERS[layer_of(b)][0]!r}) at line {line}")
    assert not up, "imports pointing up:\n" + "\n".join(up)


def test_core_imports_only_core():
    edges = graph()
    core = {m for m in edges if m == CORE_PACKAGE or m.startswith(CORE_PACKAGE + ".")}
    assert {"autograd_core.core.engine", "autograd_core.core.primitives", "autograd_core.core._math",
            "autograd_core.core._speedups"} <= core
    for m in sorted(core):
        assert set(edges[m]) <= core, f"{m} imports {sorted(set(edges[m]) - core)}"


def test_old_flat_names_count_as_the_modules_they_alias():
    mods = discover()
    assert resolve("autograd_core.engine", mods) == "autograd_core.core.engine"
    assert resolve("autograd_core.gradcheck.gradcheck", mods) == "autograd_core.derivatives.gradcheck"
    assert resolve("autograd_core.commands.demo", mods) == "autograd_core.cli.commands.demo"
    assert resolve("autograd_core.Value", mods) == "autograd_core"


# ------------------------------------------------------------- the checker itself

def test_the_walker_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "autograd_core"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "engine.py").write_text("def f():\n    from .sub import deep\n    import visualize.graph\n")
    (pkg / "sub" / "__init__.py").write_text("from .. import engine\n")
    (pkg / "sub" / "deep.py").write_text("from ..engine import f\n")
    (tmp_path / "nn").mkdir()
    (tmp_path / "nn" / "__init__.py").write_text("")
    (tmp_path / "visualize").mkdir()
    (tmp_path / "visualize" / "__init__.py").write_text("")
    (tmp_path / "visualize" / "graph.py").write_text("from autograd_core.engine import f\n")
    mods = discover(tmp_path)
    assert imports_of("autograd_core.engine", mods) == {"autograd_core.sub.deep": 2, "visualize.graph": 3}
    assert imports_of("autograd_core.sub", mods) == {"autograd_core.engine": 1}
    cycles = find_cycles(graph(tmp_path))
    assert ["autograd_core.engine", "autograd_core.sub.deep", "visualize.graph"] in cycles
    assert layer_of("visualize.graph") > layer_of("autograd_core.engine")


def test_an_unplaced_module_sits_above_everything():
    assert layer_of("autograd_core.brand_new") == len(LAYERS) - 1
    assert layer_of("autograd_core.brand_new") > layer_of("autograd_core.cli.commands.demo")
    assert layer_of("autograd_core.engine") < layer_of("autograd_core.brand_new")


# ------------------------------------------------------------- display hooks

def test_jupyter_display_is_registered_by_visualize():
    """The core draws nothing itself: ``import visualize`` registers the hook
    that shows a Value (and a Trace) as its graph."""
    import visualize  # noqa: F401
    from autograd_core import Value, engine, explain
    from visualize.graph import mimebundle

    assert mimebundle in engine.display_hooks
    x = Value(2.0, "x")
    y = x * x
    assert y._repr_mimebundle_() == mimebundle(y)
    assert explain(y)._repr_mimebundle_() == mimebundle(explain(y))
    saved = list(engine.display_hooks)
    try:
        engine.display_hooks.clear()
        assert y._repr_mimebundle_() == {"text/plain": repr(y)}
        engine.display_hooks.append(lambda obj: None)          # a hook may decline
        assert y._repr_mimebundle_() == {"text/plain": repr(y)}
    finally:
        engine.display_hooks[:] = saved
