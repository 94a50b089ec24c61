"""visualize.step_frames / write_stepper, and the viewer driven in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _dotparse import parse
from autograd_core import Value
from autograd_core.trace import explain
from visualize import draw_graph, step_frames, write_stepper
from visualize.graph import mimebundle

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def seed_trace():
    x, w, b = Value(1.0, "x"), Value(0.0, "w"), Value(0.0, "b")
    f = 1 / ((-(x * w + b)).exp() + 1)
    return explain(f), (x, w, b, f)


def by_class(dot, cls):
    return sorted(n.name for n in dot.nodes.values() if cls in n.attrs.get("class", "").split())


# ------------------------------------------------------------------ frames

def test_one_frame_per_backward_step_with_the_current_node_highlighted():
    trace, (x, w, b, f) = seed_trace()
    frames = step_frames(trace)
    assert len(frames) == len(trace.backward_steps) == 6
    dots = [parse(fr.source) for fr in frames]
    assert [by_class(d, "current") for d in dots] == [["h6"], ["h5"], ["h4"], ["h3"], ["h2"], ["h1"]]
    assert [by_class(d, "updated") for d in dots] == [["h5"], ["h4"], ["h3"], ["h2"], ["b", "h1"],
                                                      ["w", "x"]]
    # the edges used in a step: each operand edge of the current node (and its op -> result)
    for d in dots:
        cur = next(n for n in d.nodes.values() if "current" in n.attrs.get("class", ""))
        active = [(s, t) for s, t, a in d.edges if a.get("class") == "active"]
        op = "o" + cur.id[1:]
        assert sorted(active) == sorted([(s, op) for s, _ in d.operand_edges(cur.id)] + [(op, cur.id)])
    # gradients known so far; the rest greyed with "?"
    first, fifth, last = dots[0], dots[4], dots[5]
    assert {n.name: n.row("grad") for n in first.nodes.values() if n.name} == {
        "h6": "1", "h5": "-0.25", "h4": "?", "h3": "?", "h2": "?", "h1": "?",
        "x": "?", "w": "?", "b": "?"}
    assert by_class(first, "unknown") == ["b", "h1", "h2", "h3", "h4", "w", "x"]
    assert first.by_name("h4").attrs["fillcolor"] == "#f5f5f5"
    assert fifth.by_name("b").row("grad") == "0.25" and fifth.by_name("x").row("grad") == "?"
    assert {n.name: n.row("grad") for n in last.nodes.values() if n.name} == {
        "h6": "1", "h5": "-0.25", "h4": "-0.25", "h3": "-0.25", "h2": "0.25", "h1": "0.25",
        "x": "0", "w": "0.25", "b": "0.25"}
    assert by_class(last, "unknown") == []
    assert x.grad == 0.0 and w.grad == 0.0  # stepping touches no .grad


def test_partial_sums_are_marked_so_far():
    x = Value(2.0, "x")
    f = x * 3 + x.exp()          # x gets two contributions, in two steps
    frames = [parse(fr.source) for fr in step_frames(explain(f))]
    assert [by_class(d, "current") for d in frames] == [["h3"], ["h2"], ["h1"]]
    assert frames[0].by_name("x").row("grad") == "?"
    assert frames[1].by_name("x").row("grad") == "7.389 (so far)"   # e² from exp
    assert frames[2].by_name("x").row("grad") == "10.39"            # + 3 from x*3


def frame_states(page):
    """Replay the page's frame data: per frame, element id -> (class, fill, font, line, width, grad text)."""
    data = json.loads(re.search(r'<script type="application/json" id="ag-frames">(.*?)</script>',
                                page, re.S).group(1))
    state, out = list(data["first"]), []
    for k in range(len(data["changes"]) + 1):
        if k:
            d = data["changes"][k - 1]
            for i in range(0, len(d), 2):
                state[d[i]] = d[i + 1]
        out.append({eid: data["styles"][sid] for eid, sid in zip(data["elements"], state)})
    return out


@needs_dot
def test_one_layout_and_frames_derived_from_it(tmp_path):
    """The page holds ONE picture; each step restyles it. Replaying the
    page's frame data gives, node by node, what step_frames draws."""
    trace, _ = seed_trace()
    page = write_stepper(trace, tmp_path / "steps.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1
    states = frame_states(page)
    frames = [parse(fr.source) for fr in step_frames(trace)]
    assert len(states) == len(frames) == 6
    for st, dot in zip(states, frames):
        for node in dot.nodes.values():
            if not node.id.startswith("v"):
                continue
            cls, fill, font, line, width, text = st["ag_" + node.id]
            assert cls == node.attrs.get("class", "")
            assert fill == node.attrs["fillcolor"] and font == node.attrs["fontcolor"]
            assert text == node.row("grad")
        # the operand edges of the current node are active, the others not
        active = sorted(eid for eid, s in st.items() if eid.startswith("ag_e") and s[0] == "active")
        cur = next(n for n in dot.nodes.values() if "current" in n.attrs.get("class", ""))
        assert active == sorted(f"ag_e{cur.id[1:]}_{k}" for k in range(len(dot.operand_edges(cur.id))))
    # every element restyled is in the picture, with the id the script looks for
    for eid in states[0]:
        assert f'id="{eid}"' in page


def _run(code, timeout=300, env=None):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=Path(__file__).resolve().parents[1])


@needs_dot
def test_a_90_step_chain_and_the_issue_formula_return(tmp_path):
    """Regression: all frames were piped to one `dot` before its output was
    read, and the pipes deadlocked (the command never returned)."""
    out = tmp_path / "s.html"
    r = subprocess.run([sys.executable, "-m", "autograd_core", "explain",
                        "tanh(tanh(x*w+b)*sigmoid(x*w-b)+exp(x*b))*w", "x=1", "w=0.5", "b=0.2",
                        "--html", str(out)], capture_output=True, text=True, timeout=300,
                       cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8").count("<svg") == 1
    r = _run("import sys; from autograd_core import Value; from visualize import write_stepper\n"
             "x = Value(0.5, 'x'); y = x\n"
             "for _ in range(90): y = (y * 1.1).tanh()\n"
             f"write_stepper(y, {str(tmp_path / 'chain.html')!r})\n")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "chain.html").read_text(encoding="utf-8")
    assert page.count('<template id="panel-') == 180 and len(frame_states(page)) == 180


@needs_dot
@pytest.mark.slow
def test_400_frames(tmp_path):
    x = Value(0.5, "x")
    y = x
    for i in range(200):
        y = (y * 0.9).sin()
    page = write_stepper(y, tmp_path / "big.html").read_text(encoding="utf-8")
    states = frame_states(page)
    assert len(states) == 400 and page.count("<svg") == 1
    assert states[0]["ag_v0"][0] == "unknown" and states[-1]["ag_v0"][0] == "updated"


def test_write_stepper_refuses_a_big_graph_before_explaining_it(tmp_path, monkeypatch):
    import autograd_core.trace as trace_mod
    def boom(*a, **k):
        raise AssertionError("explained before refusing")
    monkeypatch.setattr(trace_mod.Trace, "__init__", boom)
    x = Value(0.5, "x")
    y = x
    for _ in range(20_000):
        y = y + 1.0
    with pytest.raises(ValueError, match="20000 backward steps, more than max_frames=400"):
        write_stepper(y, tmp_path / "big.html")
    assert not list(tmp_path.iterdir())


def test_options_and_bad_input():
    trace, (x, w, b, f) = seed_trace()
    frames = step_frames(f, rankdir="TB", local_grads=False)  # a Value is explained first
    assert len(frames) == 6 and "rankdir=TB" in frames[0].source
    with pytest.raises(TypeError, match="collapse"):
        step_frames(trace, collapse=True)
    with pytest.raises(TypeError, match="Trace"):
        step_frames("h6")
    assert step_frames(explain(Value(3.0, "c"))) == []   # a leaf: nothing to step through


def test_trace_pictures_use_the_trace_gradients():
    trace, (x, w, b, f) = seed_trace()
    dot = parse(draw_graph(trace).source)
    assert dot.by_name("w").row("grad") == "0.25" and dot.by_name("h5").row("grad") == "-0.25"
    assert w.grad == 0.0


@needs_dot
def test_trace_displays_in_jupyter():
    from IPython.core.formatters import DisplayFormatter
    trace, _ = seed_trace()
    data, _ = DisplayFormatter().format(trace)
    assert "<svg" in data["image/svg+xml"] and "grad 0.25" in data["image/svg+xml"]
    assert mimebundle(trace)["text/plain"] == repr(trace)


# ------------------------------------------------------------------ the HTML file

@needs_dot
def test_write_stepper_is_one_self_contained_file(tmp_path):
    trace, _ = seed_trace()
    out = write_stepper(trace, tmp_path / "steps.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.html"]
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count('<template id="panel-') == 6
    # nothing is fetched: no external scripts, styles, fonts or images
    assert not re.search(r"<script[^>]+src|<link|@import|@font-face|url\(|<img|<iframe", page)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    # the arithmetic of step 1: -1/h5^2 = -0.25, times the seed 1
    assert "-1/h5^2 = -0.25" in page and "× 1" in page
    assert "Done. Gradients: ∂h6/∂x = 0, ∂h6/∂w = 0.25, ∂h6/∂b = 0.25" in page


@needs_dot
def test_write_stepper_for_a_leaf_and_limits(tmp_path):
    page = write_stepper(explain(Value(3.0, "c")), tmp_path / "leaf.html").read_text()
    assert "c is a leaf" in page and page.count("<svg") == 1
    x = Value(0.5, "x")
    y = x
    for _ in range(30):
        y = y.tanh()
    with pytest.raises(ValueError, match="max_frames=10"):
        write_stepper(explain(y), tmp_path / "big.html", max_frames=10)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_stepper(explain(y), tmp_path / "no" / "steps.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leaf.html"]


def test_write_stepper_without_dot(tmp_path, monkeypatch):
    """No `dot`: the page carries the DOT text and Graphviz in WebAssembly and
    lays the graph out in the browser (the browser test below draws it)."""
    trace, _ = seed_trace()
    monkeypatch.setenv("PATH", "")
    assert len(step_frames(trace)) == 6        # frames are DOT; no layout needed
    page = write_stepper(trace, tmp_path / "steps.html").read_text(encoding="utf-8")
    assert "<svg" not in page.split("<script")[0]           # no picture made here
    dot = json.loads(re.search(r'<script type="application/json" id="ag-dot">(.*?)</script>',
                               page, re.S).group(1))
    assert dot.startswith("digraph") and 'id="ag_v8"' in dot
    assert "Viz.instance" in page and "Copyright (c) Michael Daines" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.html"]


def test_practice_file_carries_the_explain_data(tmp_path):
    trace, _ = seed_trace()
    page = write_stepper(trace, tmp_path / "p.html", practice=True).read_text(encoding="utf-8")
    doc = json.loads(re.search(r'<script type="application/json" id="ag-practice-doc">(.*?)</script>',
                               page, re.S).group(1))
    assert doc == json.loads(json.dumps(trace.to_dict()))
    assert "AutogradPractice" in page and 'id="practice"' in page
    with pytest.raises(TypeError, match="practice"):
        write_stepper(trace, tmp_path / "q.html", practice="yes")


def test_hostile_labels_stay_data_in_the_page(tmp_path, monkeypatch):
    """Labels end up in the JSON blocks and the DOT text: nothing can close a script."""
    monkeypatch.setenv("PATH", "")
    x = Value(1.0, "</script><script>alert(1)</script>")
    y = (x * 2).exp()
    page = write_stepper(y, tmp_path / "h.html", practice=True).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == page.count("<script")


# ------------------------------------------------------------------ the browser

# the `browser` fixture (headless Chromium) is in tests/conftest.py


@pytest.mark.browser
@pytest.mark.slow
@needs_dot
def test_stepper_in_headless_chromium(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    trace, _ = seed_trace()
    page = write_stepper(trace, tmp_path / "steps.html")
    browser.get(page.resolve().as_uri())

    def current():
        g = browser.find_element(By.CSS_SELECTOR, "#stage svg g.node.current")
        return g.find_element(By.TAG_NAME, "title").get_attribute("textContent")

    def panel():
        return browser.find_element(By.ID, "panel").text

    def counter():
        return browser.find_element(By.ID, "counter").text

    def layout():
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('#stage g.node')).map(function (g) {"
            " var b = g.querySelector('polygon, ellipse, path').getBBox();"
            " return [g.id, b.x, b.y, b.width, b.height]; })")

    def grad_row(node_id):
        return browser.execute_script(
            "var t = Array.from(document.getElementById(arguments[0]).querySelectorAll('text'))"
            ".filter(function (x) { return x.textContent.indexOf('grad ') === 0; });"
            "return t.length ? t[t.length - 1].textContent : null;", node_id)

    prev, nxt = browser.find_element(By.ID, "prev"), browser.find_element(By.ID, "next")
    first_layout = layout()
    assert len(first_layout) == 9 + 6
    assert current() == "v8" and counter() == "step 1 / 6"            # h6, the output
    assert grad_row("ag_v7") == "grad -0.25" and grad_row("ag_v6") == "grad ?"   # h5, h4
    assert "Step 1 of 6: node h6" in panel() and "-1/h5^2 = -0.25" in panel()
    assert not prev.is_enabled() and nxt.is_enabled()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#stage svg")) == 1

    nxt.click()
    assert current() == "v7" and counter() == "step 2 / 6"            # h5
    assert "Step 2 of 6: node h5" in panel() and "= -0.25" in panel()
    assert "-1/h5^2" not in panel()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#stage svg g.edge.active")) == 2

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert current() == "v6" and "exp(h3) = 1" in panel()             # h4 = exp(h3)
    body.send_keys(Keys.ARROW_LEFT)
    assert current() == "v7"
    slider = browser.find_element(By.ID, "slider")
    browser.execute_script("arguments[0].value = 6; arguments[0].dispatchEvent(new Event('input'))",
                           slider)
    assert current() == "v2" and counter() == "step 6 / 6"            # h1 = x*w
    assert "Done. Gradients" in panel() and not nxt.is_enabled()
    assert grad_row("ag_v6") == "grad -0.25" and grad_row("ag_v1") == "grad 0.25"  # h4, w
    assert layout() == first_layout                                   # nothing moved
    prev.click()
    assert current() == "v4" and slider.get_attribute("value") == "5"
    assert grad_row("ag_v0") == "grad ?"                              # x: not known before step 6

    shot = tmp_path / "stepper.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    # no network: the page fetched no resource at all; no console errors
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


@needs_dot
def test_a_dot_failure_is_one_clear_error():
    from visualize.stepper import _dot_svg
    with pytest.raises(ValueError, match="could not lay out the step-through graph: .*syntax error"):
        _dot_svg("digraph { a -> }")


def test_the_page_is_the_same_on_every_run(tmp_path):
    # string hashing differs between interpreter runs (PYTHONHASHSEED): nothing
    # on the page may depend on set order (box sizes among equal-width texts,
    # the order of each step's changes)
    import hashlib
    import os
    root = str(Path(__file__).resolve().parent.parent)
    code = ("import sys\nfrom autograd_core import parse, explain\nfrom visualize import write_stepper\n"
            "out, _ = parse('1/(exp(-(w*x+b))+1) + tanh(w*b)', x=1, w=0, b=0)\n"
            "write_stepper(explain(out), sys.argv[1])\n")
    digests = set()
    for seed in ("1", "2", "3", "4", "5"):
        path = tmp_path / f"s{seed}.html"
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root)
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env, timeout=300)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1
