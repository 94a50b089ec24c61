"""The playground page and the practice/dot-less stepper driven in headless Chromium.

The server and the stepper files are made with no Graphviz `dot` on PATH: every
graph here is laid out in the browser (viz-js)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from autograd_core.parser import parse  # noqa: E402
from autograd_core.trace import explain  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = "1/(exp(-(x*w+b))+1)"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def num(x):
    """As the page prints numbers (6 significant digits)."""
    return "0" if x == 0 else repr(float(f"{x:.6g}")).removesuffix(".0")


@pytest.fixture
def server():
    env = dict(os.environ, PATH="/nonexistent")  # no `dot` anywhere
    p = subprocess.Popen([sys.executable, "-m", "autograd_core", "playground", SEED, "x=1", "w=0",
                          "b=0", "--no-browser", "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        line = p.stdout.readline()
        assert "playground: http://127.0.0.1:" in line, line + p.stderr.read()
        yield line.split()[2]
    finally:
        p.terminate()
        p.communicate(timeout=60)


def wait(browser, cond, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(lambda d: cond())


def updates(browser):
    return int(browser.execute_script("return document.body.dataset.updates || '0'"))


def text(browser, id_):
    return browser.execute_script("return document.getElementById(arguments[0]).textContent", id_)


def gradients_text(formula, **values):
    out, _ = parse(formula, **values)
    t = explain(out)
    return t, [f"∂{t.output_name}/∂{n} = {num(g)}" for n, g in t.gradients.items()]


def no_console_errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_type_a_formula_move_a_slider(server, browser):
    from selenium.webdriver.common.by import By
    browser.get(server)
    wait(browser, lambda: updates(browser) >= 1 and browser.find_elements(By.CSS_SELECTOR, "#graph svg"))
    assert text(browser, "result") == "f = 0.5"  # the output is called f (issue 17)
    _, expect = gradients_text(SEED, x=1, w=0, b=0)
    assert text(browser, "gradients") == "\n".join(expect)
    svg = browser.find_element(By.CSS_SELECTOR, "#graph svg").get_attribute("outerHTML")
    assert "grad 0.25" in svg and "-1/h5^2 = -0.25" in svg     # drawn in the browser, no dot
    assert "node h6" in text(browser, "step-panel")

    # type a formula: new variables get sliders, everything follows
    box = browser.find_element(By.ID, "formula")
    box.clear()
    n = updates(browser)
    box.send_keys("tanh(x*w)*x + b")
    wait(browser, lambda: updates(browser) > n and text(browser, "result").startswith("f ="))  # output called f
    names = [e.get_attribute("data-name") for e in browser.find_elements(By.CSS_SELECTOR, "#vars .var")]
    assert names == ["x", "w", "b"]
    vals = {"x": 1.0, "w": 0.0, "b": 0.0}
    t, expect = gradients_text("tanh(x*w)*x + b", **vals)
    assert text(browser, "gradients") == "\n".join(expect)

    # move a slider: values and gradients change and match explain
    slider = browser.find_element(By.ID, "slider-w")
    n = updates(browser)
    browser.execute_script("arguments[0].value = '0.75'; arguments[0].dispatchEvent(new Event('input'))",
                           slider)
    wait(browser, lambda: updates(browser) > n and not browser.execute_script("return false"))
    wait(browser, lambda: browser.find_element(By.ID, "value-w").get_attribute("value") == "0.75")
    vals["w"] = 0.75
    t, expect = gradients_text("tanh(x*w)*x + b", **vals)
    wait(browser, lambda: text(browser, "gradients") == "\n".join(expect))
    assert text(browser, "result") == f"f = {num(t.value)}"
    svg = browser.find_element(By.CSS_SELECTOR, "#graph svg").get_attribute("outerHTML")
    assert f"grad {t.gradients['w']:.4g}" in svg
    forward = text(browser, "forward")
    assert num(t.forward_rows[3].value) in forward            # tanh(x*w)

    # while dragging, the numbers are rewritten in the same picture; on release the
    # picture is laid out again from the server's DOT: both show the same texts and colours
    def picture():
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('#graph g.node, #graph g.edge')).map("
            "function (g) { var s = g.querySelector('polygon, path, ellipse');"
            " return [g.querySelector('title').textContent, s && s.getAttribute('fill')].concat("
            " Array.from(g.querySelectorAll('text')).map(function (x) {"
            "  return x.textContent + '/' + (x.getAttribute('fill') || 'black'); })); })")
    n = updates(browser)
    browser.execute_script("arguments[0].value = '-1.3'; arguments[0].dispatchEvent(new Event('input'))",
                           slider)
    wait(browser, lambda: updates(browser) > n)
    wait(browser, lambda: browser.find_element(By.ID, "value-w").get_attribute("value") == "-1.3")
    t, expect = gradients_text("tanh(x*w)*x + b", **dict(vals, w=-1.3))
    wait(browser, lambda: text(browser, "gradients") == "\n".join(expect))
    in_place = picture()
    before = browser.find_element(By.CSS_SELECTOR, "#graph svg")
    n = updates(browser)
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", slider)
    wait(browser, lambda: updates(browser) > n)
    wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#graph svg") != before)
    assert picture() == in_place
    assert any(f"grad {t.gradients['w']:.4g}/" in x for row in in_place for x in row[2:])

    # exports: a link that encodes formula and values, LaTeX of the current state
    browser.find_element(By.ID, "export-link").click()
    link = browser.find_element(By.ID, "export-text").get_attribute("value")
    assert link.endswith("#f=tanh(x*w)*x%20%2B%20b&x=1&w=-1.3&b=0")
    # the LaTeX is Trace.to_latex of the current state (the page asks for the paths too),
    # exactly what `explain --format latex --paths` prints
    browser.find_element(By.ID, "export-latex").click()
    expect_latex = t.to_latex(paths=[t.paths(n) for n in t.wrt])
    wait(browser, lambda: browser.find_element(By.ID, "export-text").get_attribute("value") == expect_latex)
    assert f"\\frac{{\\partial f}}{{\\partial w}} &= " in expect_latex

    # a textbook example from the list
    from selenium.webdriver.support.ui import Select
    n = updates(browser)
    Select(browser.find_element(By.ID, "examples")).select_by_index(3)   # exploding gradients
    wait(browser, lambda: updates(browser) > n and text(browser, "result").startswith("f ="))
    t, expect = gradients_text("sigmoid(w2*sigmoid(w1*a0+b1)+b2)", a0=1, w1=100, b1=-100, w2=100, b2=-50)
    wait(browser, lambda: text(browser, "gradients") == "\n".join(expect))
    assert "∂f/∂w1 = 6.25" in text(browser, "gradients")      # 25 · 1/4 · a0: the chain explodes
    assert no_console_errors(browser) == []

    # the parser's constants get no slider: pi is π, not a variable
    box.clear()
    n = updates(browser)
    box.send_keys("pi*x + e")
    wait(browser, lambda: updates(browser) > n and text(browser, "result").startswith("f ="))
    names = [e.get_attribute("data-name") for e in browser.find_elements(By.CSS_SELECTOR, "#vars .var")]
    x = float(browser.find_element(By.ID, "value-x").get_attribute("value"))
    assert names == ["x"] and text(browser, "result") == f"f = {num(math.pi * x + math.e)}"

    # notes: the trace's annotations (a kink here), the lines explain prints
    box.clear()
    n = updates(browser)
    box.send_keys("relu(x - 1) + x")
    wait(browser, lambda: updates(browser) > n and text(browser, "result").startswith("f ="))
    x = float(browser.find_element(By.ID, "value-x").get_attribute("value"))
    out, _ = parse("relu(x - 1) + x", x=x)
    t = explain(out)
    notes = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#notes p")]
    assert x == 1 and notes == [f"{k}: {v}" for k, vs in t.annotations.items() for v in vs]
    assert len(notes) == 1 and "on a kink: relu'(0) taken as 0" in notes[0]

    # a bad formula: the parser's message and a caret under its column
    box.clear()
    box.send_keys("x*+")
    wait(browser, lambda: browser.find_element(By.ID, "error").is_displayed())
    assert "at column 4" in text(browser, "error-text")
    assert text(browser, "error-where") == "x*+\n   ^"
    # Chromium logs every HTTP 400 as a failed resource load; those are the API's
    # documented answer to bad input, and nothing else may be logged
    others = [e for e in no_console_errors(browser) if not (
        e["source"] == "network" and "/api/" in e["message"] and "status of 400" in e["message"])]
    assert others == []


def test_practice_on_the_page(server, browser):
    from selenium.webdriver.common.by import By
    browser.get(server)
    wait(browser, lambda: updates(browser) >= 1 and browser.find_elements(By.CSS_SELECTOR, "#graph svg"))
    browser.find_element(By.ID, "practice-start").click()
    # numbers of computed nodes are hidden while practising
    hidden = browser.execute_script(
        "return Array.from(document.querySelectorAll('#graph text.ag-grad'))"
        ".every(t => getComputedStyle(t).visibility === 'hidden')")
    assert hidden

    def answer(a):
        field = browser.find_element(By.ID, "ag-answer")
        field.clear()
        field.send_keys(a)
        browser.find_element(By.ID, "ag-check").click()
        return text(browser, "ag-feedback")

    assert text(browser, "ag-prompt") == "(1/19) Forward: h1 = x·w = ?"
    fb = answer("1")
    assert fb.startswith("✗") and "Hint: h1 = x·w; x = 1, w = 0" in fb
    assert answer("0").startswith("✓")
    for a in ("0", "0", "1", "2"):                  # h2 .. h5
        assert answer(a).startswith("✓")
    assert answer("1/2").startswith("✓")          # h6, as a fraction
    assert text(browser, "ag-prompt").endswith("local derivative ∂h6/∂h5 (h6 = 1/h5) = ?")
    fb = answer("0.25")
    assert fb.startswith("✗") and "Hint: ∂(1/h5)/∂h5 = -1/h5^2; h5 = 2" in fb
    assert answer("-0.2501").startswith("✓")      # within the stated tolerance
    fb = answer("2")                               # upstream gradient of h5
    assert fb.startswith("✗") and "∂h6/∂h5" in fb
    current = browser.find_element(By.CSS_SELECTOR, "#graph g.node.current title")
    assert current.get_attribute("textContent") == "v7"   # h5, the step asked about, is highlighted
    assert "score: 7 / 19 correct (5 at the first try), 3 wrong answers" in text(browser, "ag-score")
    assert no_console_errors(browser) == []


def _stepper_without_dot(tmp_path, practice):
    code = ("from autograd_core.parser import parse; from autograd_core.trace import explain\n"
            "from visualize import write_stepper\n"
            f"out, _ = parse({SEED!r}, x=1, w=0, b=0)\n"
            f"write_stepper(explain(out), {str(tmp_path / 'steps.html')!r}, practice={practice})\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       cwd=ROOT, env=dict(os.environ, PATH="/nonexistent"))
    assert r.returncode == 0, r.stderr
    return tmp_path / "steps.html"


def test_stepper_without_dot_in_the_browser(tmp_path, browser):
    from selenium.webdriver.common.by import By
    page = _stepper_without_dot(tmp_path, False)
    browser.get(page.resolve().as_uri())
    wait(browser, lambda: browser.execute_script("return document.body.dataset.ready") == "true")

    def current():
        g = browser.find_element(By.CSS_SELECTOR, "#stage svg g.node.current")
        return g.find_element(By.TAG_NAME, "title").get_attribute("textContent")

    assert current() == "v8" and "-1/h5^2 = -0.25" in browser.find_element(By.ID, "panel").text
    browser.find_element(By.ID, "next").click()
    assert current() == "v7"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert no_console_errors(browser) == []


def test_practice_file_without_dot(tmp_path, browser):
    from selenium.webdriver.common.by import By
    page = _stepper_without_dot(tmp_path, True)
    browser.get(page.resolve().as_uri())
    wait(browser, lambda: browser.execute_script("return document.body.dataset.ready") == "true")
    field = browser.find_element(By.ID, "ag-answer")
    field.send_keys("5")
    browser.find_element(By.ID, "ag-check").click()
    assert "Hint: h1 = x·w; x = 1, w = 0" in text(browser, "ag-feedback")
    field.clear()
    field.send_keys("0")
    browser.find_element(By.ID, "ag-check").click()
    assert text(browser, "ag-feedback") == "✓ right: 0"
    assert "score: 1 / 19 correct (0 at the first try), 1 wrong answer" in text(browser, "ag-score")
    browser.find_element(By.ID, "ag-reveal").click()
    assert text(browser, "ag-feedback").startswith("The answer: 0")
    for _ in range(4):                              # h3 .. h6 shown: now the first backward question
        browser.find_element(By.ID, "ag-reveal").click()
    assert "local derivative ∂h6/∂h5" in text(browser, "ag-prompt")
    current = browser.find_element(By.CSS_SELECTOR, "#stage g.node.current title")
    assert current.get_attribute("textContent") == "v8"   # h6's step
    browser.find_element(By.ID, "ag-reveal").click()      # ∂h6/∂h5 shown; next: upstream of h5
    assert "upstream gradient ∂f/∂h5" in text(browser, "ag-prompt")
    current = browser.find_element(By.CSS_SELECTOR, "#stage g.node.current title")
    assert current.get_attribute("textContent") == "v7"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert no_console_errors(browser) == []
