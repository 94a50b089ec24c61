"""autograd-core demo: the report's files, numbers and links; the CLI; headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograd_core import PRIMITIVES
from autograd_core.cli import main
from autograd_core.demo import _md_to_html, build_demo

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")

PICTURES = ["seed_graph.svg", "seed_steps.html", "moons_loss.png", "moons_boundary.png",
            "vanishing_speeds.png", "exploding_chain.svg", "vanishing_chain.svg"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag in ("img", "iframe", "script", "link") and ("src" in a or "href" in a):
            self.srcs.append(a.get("src") or a.get("href"))


def links(page: str) -> _Links:
    p = _Links()
    p.feed(page)
    return p


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "report"      # does not exist yet: created
    messages: list[str] = []
    result = build_demo(out, quick=True, progress=messages.append)
    return result, messages


@needs_dot
def test_quick_demo_writes_every_file_with_relative_links(quick):
    result, messages = quick
    out = result.out_dir
    assert result.index == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == sorted(PICTURES + ["index.html"])
    assert sorted(p.name for p in result.files) == sorted(PICTURES + ["index.html"])
    assert result.files[-1] == result.index            # the page is written last
    for p in result.files:
        assert p.stat().st_size > 1000, p
    assert result.notes == []
    page = result.index.read_text(encoding="utf-8")
    found = links(page)
    targets = [h for h in found.hrefs if not h.startswith("#")] + found.srcs
    assert sorted(set(targets)) == sorted(PICTURES)
    for t in targets:                                  # relative, inside DIR, existing
        assert "/" not in t and (out / t).is_file()
    for h in found.hrefs:
        if h.startswith("#"):
            assert h[1:] in found.ids
    # nothing is fetched from the network
    assert not re.search(r"<script[^>]+src|<link|@import|url\(", page)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == set()
    # progress went through the callback, one message per stage
    assert len(messages) >= 6 and messages[-1] == f"wrote {result.index}"
    assert any(m.startswith("vanishing gradients") for m in messages)


@needs_dot
def test_quick_demo_numbers(quick):
    result, _ = quick
    fig = result.figures
    page = result.index.read_text(encoding="utf-8")
    # 1. the seed's example: f = 0.5, ∂f/∂w = ∂f/∂b = 0.25, ∂f/∂x = 0; the path product
    assert fig["seed_value"] == 0.5
    assert fig["seed_gradients"] == {"x": 0.0, "w": 0.25, "b": 0.25}
    assert "-1/h5^2 = -0.25" in page
    assert "1 × (-0.25) × 1 × 1 × (-1) × 1 × 1 = 0.25" in page
    # 2. both modes: 3 forward passes against 1 reverse pass
    assert "forward mode: 3 passes (one per input)" in page
    # 3. the correct rule passes at order 2; the wrong one fails in every row, both modes
    assert fig["gradcheck_correct_ok"] is True
    assert fig["gradcheck_wrong_failures"] == fig["gradcheck_wrong_rows"] == 4
    assert "gradcheck PASSED: 12 of 12" in page and "gradcheck FAILED: 0 of 4" in page
    assert "caught: 4 of 4 derivatives fail" in page
    # the demo's own softsign is not registered; the table's built-in one has the same rule
    from autograd_core import demo
    assert PRIMITIVES["softsign"] is not demo.SOFTSIGN and "softsign_wrong" not in PRIMITIVES
    for x in (-1.3, 0.0, 0.7):
        (v1, (d1,)), (v2, (d2,)) = demo.SOFTSIGN.rule(x), PRIMITIVES["softsign"].rule(x)
        assert (v1, d1) == pytest.approx((v2, d2), rel=1e-15)
    # 4. moons (quick: 8 epochs)
    assert fig["moons_epochs"] == 8 and fig["moons_accuracy"] > 0.85
    # 5. vanishing: the speeds on the page are nn.experiments.vanishing's, increasing with depth
    from nn import experiments
    ref = experiments.vanishing(fig["vanishing_sizes"], fig["vanishing_images"],
                                seeds=fig["vanishing_seeds"], backend="tensor")
    assert fig["vanishing_mean"] == ref.mean
    assert fig["vanishing_scalar_vs_tensor"] < 1e-10  # seed 0 again on scalar Values
    assert fig["vanishing_mean"][0] < fig["vanishing_mean"][1] < fig["vanishing_mean"][2]
    for v in ref.mean:
        assert f"{v:.5f}" in page
    if ref.data.source == "mnist":
        assert result.data_source == "mnist" and "Data: the real MNIST test set" in page
    # 6. the exploding chain: 25³ and (1/4)³
    assert fig["exploding_ratio"] == 15625.0 and fig["vanishing_chain_ratio"] == 1 / 64
    assert "25 × 25 × 25 = 15625" in page


@pytest.fixture(scope="module")
def no_dot(tmp_path_factory):
    """A quick demo built with no MNIST found and no Graphviz on PATH."""
    from nn import experiments
    out = tmp_path_factory.mktemp("nodot")
    mp = pytest.MonkeyPatch()
    mp.setattr(experiments, "find_data", lambda: None)
    mp.setenv("PATH", "")
    try:
        return build_demo(out, quick=True)
    finally:
        mp.undo()


def test_synthetic_stand_in_is_said(no_dot):
    result = no_dot
    page = result.index.read_text(encoding="utf-8")
    assert result.data_source == "synthetic"
    assert "synthetic stand-in" in page and "The numbers will differ from the book" in page
    assert "real MNIST" not in page


def test_graphs_without_dot_are_laid_out_in_the_browser(no_dot):
    """No dot: the graph pictures are DOT texts on the page, laid out by viz-js
    (written once next to the page); the step-through viewer lays out its own."""
    from visualize import draw_graph
    from nn import experiments
    out = no_dot.out_dir
    page = no_dot.index.read_text(encoding="utf-8")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["index.html", "moons_boundary.png", "moons_loss.png", "seed_steps.html",
                     "vanishing_speeds.png", "viz-global.js"]
    assert sorted(p.name for p in no_dot.files) == names
    assert "Viz.instance" in (out / "seed_steps.html").read_text(encoding="utf-8")
    assert no_dot.notes == [] and "not drawn" not in page and page.count("<iframe") == 1
    found = links(page)
    assert sorted(set(found.srcs)) == ["moons_boundary.png", "moons_loss.png", "seed_steps.html",
                                       "vanishing_speeds.png", "viz-global.js"]
    assert {"graph-1", "graph-2", "graph-3"} <= found.ids
    # each graph's DOT text is the one render() would have drawn
    dots = [json.loads(m) for m in re.findall(
        r'<script type="application/json" id="graph-\d-dot">(.*?)</script>', page)]
    big = experiments.exploding(100.0)
    assert len(dots) == 3
    assert dots[1] == draw_graph(big.output, parameters=big.parameters).source
    assert "grad 0.25" in dots[0] and "-1/h5^2" in dots[0]


def test_markdown_tables_are_escaped():
    out = _md_to_html("### a <b> & c\n\n| x | <script>alert(1)</script> |\n|---|---|\n"
                      "| **1** | `a<b` |\n\n- item <i>\n\npara \"q\" **bold**")
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<h4>a &lt;b&gt; &amp; c</h4>" in out
    assert "<td><strong>1</strong></td><td><code>a&lt;b</code></td>" in out
    assert "<li>item &lt;i&gt;</li>" in out and "<p>para &quot;q&quot; <strong>bold</strong></p>" in out


def test_bad_arguments(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        build_demo(f)
    with pytest.raises(TypeError, match="progress"):
        build_demo(tmp_path / "d", progress="loud")
    assert not (tmp_path / "d").exists()


# ------------------------------------------------------------------ the command

def test_cli_default_directory_progress_and_open(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert main(["demo", "--quick", "--open"]) == 0
    out = capsys.readouterr().out
    index = tmp_path / "autograd-demo" / "index.html"
    assert index.is_file()
    lines = out.splitlines()
    assert lines[0] == "autograd-core demo: writing into autograd-demo/"
    assert any(re.match(r"\[\s*\d+\.\d s\] chain rule", ln) for ln in lines)
    assert any("vanishing gradients" in ln for ln in lines)
    assert re.search(r"^done in \d+\.\d s: \d+ files; open autograd-demo/index.html$", out, re.M)
    # headless: --open does not start anything and does not fail
    assert opened == [] and lines[-1] == f"no display: open {index.resolve().as_uri()} in a browser"


def test_cli_open_with_a_display_and_a_broken_browser(tmp_path, monkeypatch, capsys):
    import webbrowser
    monkeypatch.setenv("DISPLAY", ":99")

    def broken(url):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr("webbrowser.open", broken)
    assert main(["demo", "--quick", "--out", str(tmp_path / "o"), "--open"]) == 0
    assert "could not start a browser (could not locate runnable browser)" in capsys.readouterr().out
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    from autograd_core.commands.demo import open_in_browser
    assert open_in_browser(tmp_path / "o" / "index.html").startswith("no browser found: open file://")
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert open_in_browser(tmp_path / "o" / "index.html").startswith("opened file://")
    assert opened == [(tmp_path / "o" / "index.html").resolve().as_uri()]


def test_cli_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "f"
    f.write_text("x")
    assert main(["demo", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists and is not a directory" in err


# ------------------------------------------------------------------ the default run, in a browser

@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    return build_demo(out)


@pytest.mark.slow
@needs_dot
def test_default_demo(full):
    fig = full.figures
    assert fig["moons_epochs"] == 25 and fig["moons_accuracy"] >= 0.97
    assert fig["vanishing_images"] == 1000 and fig["vanishing_seeds"] == list(range(10))
    m = fig["vanishing_mean"]
    assert m[0] < m[1] < m[2]
    assert fig["vanishing_scalar_vs_tensor"] < 1e-10
    if full.data_source == "mnist":
        # the independent numpy run of network2's equations (issue 7): 0.0136, 0.0632, 0.297
        assert (round(m[0], 4), round(m[1], 4), round(m[2], 3)) == (0.0136, 0.0632, 0.297)
    assert sorted(p.name for p in full.out_dir.iterdir()) == sorted(PICTURES + ["index.html"])


@pytest.mark.browser
@pytest.mark.slow
@needs_dot
def test_index_in_headless_chromium(full, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(full.index.resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && "
        "Array.from(document.images).every(i => i.complete)"))
    imgs = browser.find_elements(By.TAG_NAME, "img")
    assert len(imgs) == 6
    for img in imgs:
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0, \
            img.get_attribute("src")
    base = full.index.resolve().parent
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")]
    assert hrefs
    for h in hrefs:
        assert h.startswith("file://"), h
        path = Path(h.split("#")[0][len("file://"):])
        assert path.is_file() and path.parent == base, h
        if "#" in h:
            assert browser.find_elements(By.ID, h.split("#", 1)[1]), h
    # the embedded step-through viewer runs
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe.stepper"))
    assert browser.find_element(By.ID, "counter").text == "step 1 / 6"
    browser.find_element(By.ID, "next").click()
    assert browser.find_element(By.ID, "counter").text == "step 2 / 6"
    browser.switch_to.default_content()
    # nothing was fetched from outside the folder (file:// loads are not timed: none from http)
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(u.startswith(base.as_uri() + "/") for u in urls), urls
    srcs = [i.get_attribute("src") for i in imgs]
    assert all(s.startswith(base.as_uri() + "/") for s in srcs), srcs
    # no console errors
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


@pytest.mark.browser
def test_graphs_without_dot_in_headless_chromium(no_dot, browser):
    """Built with no dot on PATH: every graph is drawn in the page, no console errors."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(no_dot.index.resolve().as_uri())
    WebDriverWait(browser, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "div.ag-graph svg")) == 3)
    svgs = browser.find_elements(By.CSS_SELECTOR, "div.ag-graph svg")
    seed = svgs[0].get_attribute("outerHTML")
    assert "grad 0.25" in seed and "-1/h5^2 = -0.25" in seed
    assert all(s.size["width"] > 100 and s.size["height"] > 50 for s in svgs)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#exploding div.ag-graph svg g.node")) > 10
    # the embedded step-through viewer lays its graph out too
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe.stepper"))
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stage svg"))
    assert browser.find_element(By.ID, "counter").text == "step 1 / 6"
    browser.switch_to.default_content()
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
