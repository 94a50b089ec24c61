"""Every teaching notebook runs top to bottom (nbclient, the python3 kernel), and the committed
files are the generator's cells with the outputs of running exactly those cells."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import time
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01_chain_rule.ipynb", "02_gradient_checking.ipynb", "03_neural_nets.ipynb",
         "04_vanishing_exploding.ipynb"]
CELL_TIMEOUT = 150       # seconds for one cell
NOTEBOOK_BUDGET = 180    # the issue: each runs top to bottom in at most 3 minutes


@pytest.fixture(scope="module")
def python3_kernel(tmp_path_factory):
    """The python3 kernel: ipykernel's own kernelspec (pip installs it under
    sys.prefix), else one installed here into a temporary Jupyter path."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        KernelSpecManager().get_kernel_spec("python3")
        yield "python3"
        return
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install
    prefix = tmp_path_factory.mktemp("jupyter")
    install(prefix=str(prefix), kernel_name="python3")
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(prefix / "share" / "jupyter")] + [p for p in [os.environ.get("JUPYTER_PATH")] if p]))
    KernelSpecManager().get_kernel_spec("python3")
    yield "python3"
    mp.undo()


def test_committed_notebooks_are_the_generator_cells_with_their_outputs(tmp_path):
    """The committed notebooks are build_notebooks.py's cells, committed with outputs (so
    that they read like pages on GitHub and in the docs site), and those outputs come from
    running exactly these cells top to bottom (the hash recorded by --execute)."""
    import nbformat

    gen = runpy.run_path(str(NOTEBOOKS / "build_notebooks.py"))  # no __pycache__
    written = gen["build"](tmp_path)
    assert sorted(p.name for p in written) == NAMES
    fix = "run python3 notebooks/build_notebooks.py --execute"
    for p in written:
        committed = NOTEBOOKS / p.name
        assert committed.exists(), f"{p.name} is missing: {fix}"
        fresh, nb = nbformat.read(str(p), as_version=4), nbformat.read(str(committed), as_version=4)
        assert [(c.cell_type, c.source, c.id) for c in nb.cells] == [
            (c.cell_type, c.source, c.id) for c in fresh.cells], f"{p.name} differs from build_notebooks.py: {fix}"
        recorded = nb.metadata.get("autograd_core", {}).get("cells_sha256")
        assert recorded == gen["cells_sha256"](fresh), (
            f"{p.name}: its outputs were not made by running these cells: {fix}")
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
            f"{p.name}: not run top to bottom in one go: {fix}")
        assert any(c.outputs for c in code)
        errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
        assert errors == [], f"{p.name} was committed with an error output"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, python3_kernel):
    if shutil.which("dot") is None:
        pytest.skip("the notebooks draw graphs: Graphviz's dot is needed (apt-get install graphviz)")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=python3_kernel,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.perf_counter()
    client.execute()   # raises CellExecutionError (with the traceback) if any cell fails
    seconds = time.perf_counter() - t0
    assert seconds < NOTEBOOK_BUDGET, f"{name} took {seconds:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert errors == []
    # the notebook wrote nothing into the repository
    assert sorted(p.name for p in NOTEBOOKS.iterdir() if not p.name.startswith(".")) == sorted(
        NAMES + ["build_notebooks.py"])
