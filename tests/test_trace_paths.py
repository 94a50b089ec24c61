"""Trace.paths: one path per distinct route (no duplicates when a node is
used twice by one operation) and linear in the length of a long chain."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import autograd_core as ac
from autograd_core import Value, explain


def test_x_times_x_times_y_has_one_path_from_x():
    x, y = Value(3.0, "x"), Value(2.0, "y")
    ps = explain(x * x * y).paths("x")
    assert len(ps.paths) == 1
    (p,) = ps.paths
    assert p.nodes == ("x", "h1", "h2")
    assert [f.value for f in p.factors] == [1.0, 2.0, 6.0]  # ∂h1/∂x = x + x = 6
    assert p.factors[-1].symbolic == "x + x"
    assert p.value == 12.0 == ps.total == ps.gradient
    assert len({q.nodes for q in explain((x * x) * (x * x)).paths("x").paths}) == 2


def test_paths_are_distinct_routes_and_sum_to_the_gradient():
    x = Value(0.7, "x")
    h = x * x
    out = h * h + h.sin() * x  # x used twice by h, h twice by h*h
    ps = explain(out).paths("x")
    routes = [p.nodes for p in ps.paths]
    assert len(routes) == len(set(routes)) == 3  # via h*h, via sin(h)*x, via the factor x
    assert ps.total == pytest.approx(ps.gradient, rel=1e-14)


def test_cli_paths_lists_no_path_twice():
    r = subprocess.run([sys.executable, "-m", "autograd_core", "explain", "x*x*y", "x=3", "y=2",
                        "--paths"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Paths from x to f: 1" in r.stdout  # the output is called f (issue 17)
    assert r.stdout.count("path 2:") == 0


def test_long_chain_paths_are_built_and_correct():
    # 20,000 steps: one path through every node (the old tuple-copying walk was
    # quadratic here; benchmarks/bench_paths.py measures the time per step)
    x = Value(0.5, "x")
    h = x
    for i in range(20_000):
        h = h + 0.1 if i % 2 else (h * 1.0001).tanh()
    t = explain(h)
    ps = t.paths("x")
    (p,) = ps.paths
    assert len(p.nodes) == 30_001 and p.nodes[0] == "x" and p.nodes[-1] == t.output_node
    assert len(p.factors) == 30_001  # ∂out/∂out, then one per edge
    assert math.isclose(ps.total, ps.gradient, rel_tol=1e-12)
    assert ac.gradients(h, [x])[0] == ps.gradient
