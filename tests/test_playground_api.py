"""The playground's JSON API and server (Starlette's TestClient), and the CLI command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from autograd_core.playground.app import ASSETS, MAX_BODY, MAX_FORMULA, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        yield c


def cli_json(formula, values, *extra):
    r = subprocess.run([sys.executable, "-m", "autograd_core", "explain", formula,
                        *[f"{k}={v!r}" for k, v in values.items()], "--format", "json", *extra],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_explain_returns_what_the_cli_prints(client):
    seed = {"x": 1.0, "w": 0.0, "b": 0.0}
    r = client.post("/api/explain", json={"formula": "1/(exp(-(x*w+b))+1)", "values": seed})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc == cli_json("1/(exp(-(x*w+b))+1)", seed)
    assert doc["value"] == 0.5 and doc["gradients"] == {"x": 0.0, "w": 0.25, "b": 0.25}
    # the textbook's h5 -> h6 step: ∂(1/h5)/∂h5 = -1/h5^2 = -0.25 at h5 = 2
    first = doc["backward"][0]["contributions"][0]
    assert (first["parent"], first["symbolic"], first["local"]) == ("h5", "-1/h5^2", -0.25)


@pytest.mark.parametrize("mode,wrt,paths", [("both", ["w", "b"], True), ("forward", None, False)])
def test_modes_wrt_and_paths_match_the_cli(client, mode, wrt, paths):
    values = {"x": 2.0, "w": 3.0, "b": 1.0}
    body = {"formula": "tanh(x*w + b) * x", "values": {"x": 2, "w": 3, "b": 1}, "mode": mode,
            "paths": paths}
    extra = ["--mode", mode]
    if wrt:
        body["wrt"] = wrt
        extra += ["--wrt", ",".join(wrt)]
    if paths:
        extra.append("--paths")
    r = client.post("/api/explain", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == cli_json("tanh(x*w + b) * x", values, *extra)


def cli_text(formula, values, *extra):
    r = subprocess.run([sys.executable, "-m", "autograd_core", "explain", formula,
                        *[f"{k}={v!r}" for k, v in values.items()], *extra],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("paths", [False, True])
def test_latex_is_what_the_cli_prints(client, paths):
    """The page's LaTeX export is Trace.to_latex, as `explain --format latex` prints it."""
    values = {"x": 1.0, "w": 0.5, "b": 0.2}
    body = {"formula": "tanh(x*w)*x + b", "values": values, "paths": paths}
    r = client.post("/api/latex", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    latex = r.json()["latex"]
    assert latex == cli_text(body["formula"], values, "--format", "latex",
                             *(["--paths"] if paths else []))
    assert latex.startswith("% autograd-core explain: f = ")
    assert ("Paths from $w$ to $f$" in latex) is paths
    # as the CLI: LaTeX shows the reverse mode; bad formulas get the parser's message
    r = client.post("/api/latex", json=dict(body, mode="both"))
    assert r.status_code == 400 and "'mode' must be 'reverse'" in r.json()["error"]
    r = client.post("/api/latex", json={"formula": "x*+", "values": {"x": 1}})
    assert r.status_code == 400 and r.json()["column"] == 4


def test_names_are_the_parsers(client):
    from autograd_core.parser import CONSTANTS, FUNCTIONS
    r = client.get("/api/names")
    assert r.status_code == 200
    assert r.json() == {"functions": list(FUNCTIONS), "constants": list(CONSTANTS)}
    assert {"hypot", "pi", "e"} <= set(r.json()["functions"] + r.json()["constants"])


@pytest.mark.parametrize("body,status,message", [
    ({"formula": "x*+", "values": {"x": 1}}, 400,
     "expected a number, a name or '(', found the end of the expression at column 4"),
    ({"formula": "x*y", "values": {"x": 1}}, 400, "no value given for 'y' at column 3"),
    ({"formula": "__import__('os').system('id')", "values": {}}, 400, "not allowed"),
    ({"formula": "x.__class__", "values": {"x": 1}}, 400, "attribute access"),
    ({"formula": "log(x)", "values": {"x": -1}}, 400, "log"),
    ({"formula": "1/x", "values": {"x": 0}}, 400, "column"),
    ({"formula": "(" * 150 + "x" + ")" * 150, "values": {"x": 1}}, 400, "nested too deeply"),
    ({"formula": "x" + "+x" * 1000, "values": {"x": 1}}, 400, f"at most {MAX_FORMULA}"),
    ({"formula": "x", "values": {"x": 1, "y": 2}}, 400, "y is given a value but does not appear"),
    ({"formula": "x", "values": {"x": "1"}}, 400, "must be a number"),
    ({"formula": "x", "values": {"x": True}}, 400, "must be a number"),
    ({"formula": "x", "values": {"x y": 1}}, 400, "bad variable name"),
    ({"formula": "x", "values": [1]}, 400, "'values' must be an object"),
    ({"formula": 42}, 400, "'formula' must be a string"),
    ({"formula": "   "}, 400, "empty expression"),
    ({"formula": "x", "values": {"x": 1}, "mode": "sideways"}, 400, "'mode' must be"),
    ({"formula": "x", "values": {"x": 1}, "wrt": "x"}, 400, "'wrt' must be a list"),
    ({"formula": "x", "values": {"x": 1}, "wrt": ["nope"]}, 400, "nope"),
    ({"formula": "x", "values": {"x": 1}, "evil": 1}, 400, "unknown field 'evil'"),
    ({"formula": "x", "values": {f"v{i}": 1 for i in range(65)}}, 400, "too many values"),
    ({"formula": "x\x00+1", "values": {"x": 1}}, 400, "column 2"),
    ({"formula": "ｘ+1", "values": {}}, 400, "column 1"),
    ({"formula": "1e999*x", "values": {"x": 1}}, 400, "too large"),
    ({"formula": "x; import os", "values": {"x": 1}}, 400, "column 2"),
    ({"formula": "lambda: 1", "values": {}}, 400, "column"),
    ({"formula": "x", "values": {"__class__": 1}}, 400, "bad variable name"),
    ({"formula": "pi*x", "values": {"x": 1, "pi": 1}}, 400,
     "pi is a constant; name your variable differently"),
    ({"formula": "π*x", "values": {"x": 1, "π": 3}}, 400, "π is a constant"),
    ({"formula": "exp*x", "values": {"x": 1, "exp": 3}}, 400, "exp is a function"),
    ({"formula": "x", "values": {"x": 1, "if": 3}}, 400, "if is a Python keyword"),
])
def test_bad_requests_get_400_and_one_line(client, body, status, message):
    r = client.post("/api/explain", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert message in err and "\n" not in err and "Traceback" not in err
    if "at column" in message:
        assert r.json()["column"] == int(message.rsplit(" ", 1)[1])


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"x"', b"\xff\xfe",
                                 b'{"formula": "x", "values": {"x": NaN}}',
                                 b'{"formula": "x", "values": {"x": Infinity}}',
                                 b"[" * 100_00 + b"]" * 100_00])
def test_malformed_bodies(client, raw):
    r = client.post("/api/explain", content=raw, headers={"content-type": "application/json"})
    assert r.status_code in (400, 413), r.text
    assert "\n" not in r.json()["error"]


def test_non_finite_results_match_the_cli(client):
    """Overflow is a value, not an error: inf/nan travel as the strings the CLI prints."""
    body = {"formula": "exp(exp(exp(x)))*0 + log(x)", "values": {"x": 10.0}}
    r = client.post("/api/explain", json=body)
    assert r.status_code == 200
    assert r.json() == cli_json(body["formula"], body["values"])
    assert r.json()["value"] == "nan"


def test_huge_numbers_are_refused(client):
    r = client.post("/api/explain", content=b'{"formula": "x", "values": {"x": 1e400}}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "the value of x must be finite"


def test_oversized_bodies_are_refused(client):
    big = json.dumps({"formula": "x", "values": {"x": 1}, "wrt": ["x"] * 10}) + " " * MAX_BODY
    r = client.post("/api/explain", content=big.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(100):
            yield b" " * 1024
    r = client.post("/api/explain", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_only_its_own_assets_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "autograd-core playground" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    for name, media in ASSETS.items():
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == media and r.content
    for path in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/%2e%2e/pyproject.toml",
                 "/static/app.py", "/static/", "/etc/passwd", "/api/explain/../../app.py",
                 "/static/..%5c..%5capp.py"):
        r = client.get(path)
        assert r.status_code in (404, 405), path
        assert "starlette" not in r.text.lower() and "import" not in r.text
    assert client.get("/api/explain").status_code == 405


def test_foreign_host_headers_are_refused():
    # a page elsewhere reaching the local server through DNS rebinding sends its own Host
    with TestClient(create_app(), base_url="http://evil.example") as c:
        assert c.post("/api/explain", json={"formula": "x", "values": {"x": 1}}).status_code == 400
    with TestClient(create_app(["*"]), base_url="http://192.0.2.7") as c:
        assert c.post("/api/explain", json={"formula": "x", "values": {"x": 1}}).status_code == 200


def test_twenty_concurrent_requests(client):
    """Each request builds its own graph: 20 at once give the answers they give alone."""
    formulas = [(f"tanh(x*w{'+b' * (i % 3)})*x + {i}", {"x": 0.1 * i, "w": 1.5, "b": -0.5})
                for i in range(20)]
    alone = []
    for f, v in formulas:
        used = {k: x for k, x in v.items() if k in f}
        alone.append(client.post("/api/explain", json={"formula": f, "values": used}).json())
    results: list = [None] * 20
    barrier = threading.Barrier(20)

    def go(i):
        f, v = formulas[i]
        barrier.wait()
        used = {k: x for k, x in v.items() if k in f}
        results[i] = client.post("/api/explain", json={"formula": f, "values": used})

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None and r.status_code == 200 for r in results)
    assert [r.json() for r in results] == alone
    assert alone[7]["gradients"] != alone[8]["gradients"]


def test_graph_and_examples(client):
    r = client.post("/api/graph", json={"formula": "1/(exp(-(x*w+b))+1)",
                                        "values": {"x": 1, "w": 0, "b": 0}})
    assert r.status_code == 200
    dot = r.json()["dot"]
    assert dot.startswith("digraph") and "grad 0.25" in dot and "-1/h5^2 = -0.25" in dot
    assert client.post("/api/graph", json={"formula": "x*"}).status_code == 400
    ex = client.get("/api/examples").json()
    assert len(ex) >= 5
    for e in ex:  # every example explains as given
        r = client.post("/api/explain", json={"formula": e["formula"], "values": e["values"]})
        assert r.status_code == 200, (e, r.text)
    seed = ex[0]
    assert client.post("/api/explain", json=seed | {"title": None}).status_code == 400


def test_stepper_download_needs_no_dot(client, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no `dot`: the page draws in the browser
    r = client.post("/api/stepper", json={"formula": "x*w", "values": {"x": 2, "w": 3},
                                          "practice": True})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "AutogradPractice" in r.text and "<!DOCTYPE html>" in r.text


# ------------------------------------------------------------------ the command

def test_playground_command_bad_input_is_one_line():
    for args, msg in ((["x*+", "x=1"], "column 4"), (["x", "x=1", "y=2"], "does not appear"),
                      (["x", "x=abc"], "bad number"), (["--port", "70000"], "0..65535")):
        r = subprocess.run([sys.executable, "-m", "autograd_core", "playground", "--no-browser", *args],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_playground_command_on_a_busy_port_is_one_line():
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "autograd_core", "playground", "--no-browser",
                            "--port", str(port)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith(f"autograd-core: error: cannot listen on 127.0.0.1:{port}")
    assert len(r.stderr.strip().splitlines()) == 1


def test_playground_command_serves_and_stops_on_ctrl_c():
    import signal
    import urllib.request
    env = dict(os.environ, PATH="/nonexistent")  # no `dot` on PATH
    p = subprocess.Popen([sys.executable, "-m", "autograd_core", "playground", "x*w", "x=2", "w=3",
                          "--no-browser", "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        line = p.stdout.readline()
        assert line.startswith("autograd-core playground: http://127.0.0.1:"), line
        url = line.split()[2]
        assert url.endswith("/#f=x%2Aw&x=2.0&w=3.0")
        base = url.split("#")[0]
        req = urllib.request.Request(base + "api/explain", method="POST",
                                     data=json.dumps({"formula": "x*w", "values": {"x": 2, "w": 3}}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert json.loads(resp.read())["gradients"] == {"x": 3.0, "w": 2.0}
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=60) == 0
        err = p.stderr.read()
        assert "Traceback" not in err and err.strip().endswith("autograd-core playground: stopped")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_non_loopback_host_warns():
    p = subprocess.Popen([sys.executable, "-m", "autograd_core", "playground", "--no-browser",
                          "--host", "0.0.0.0", "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert "playground: http://" in p.stdout.readline()
    finally:
        p.terminate()
        _, err = p.communicate(timeout=60)
    assert "warning: listening on 0.0.0.0, not loopback" in err
