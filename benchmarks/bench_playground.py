"""Time one playground update (a slider moved) for formulas of 5 to 50 operations.

While a slider is dragged the page sends ``POST /api/explain`` (``mode: both``,
``paths: true``, as the page asks) and rewrites the numbers and colours of the
picture it already has; when the slider is released (or the formula changes)
it also fetches ``POST /api/graph`` and lays the graph out again in the
browser. Both are timed against a real uvicorn server on 127.0.0.1
(keep-alive connections, like a browser), each update with new values. With
``--browser`` the whole update is also timed in headless Chromium, from the
slider's event to the page showing the new numbers (and the new layout).

Target: a drag update within 100 ms for formulas of up to 50 operations.

    python3 benchmarks/bench_playground.py [--updates 40] [--browser]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from autograd_core.parser import parse

TARGET_MS = 100.0
SIZES = (5, 10, 20, 35, 50)


def formula(ops: int) -> tuple[str, dict[str, float]]:
    """A neuron-chain formula with exactly ``ops`` operations (computed nodes)."""
    pieces = ["sigmoid(({f})*w{i}+b{i})", "tanh(({f})*w{i})", "exp(-({f})*({f}))", "({f})*x+b{i}"]
    f, i = "x", 0
    while True:
        nxt = pieces[i % len(pieces)].format(f="{f}", i=i).replace("{f}", f)
        if _ops(nxt) > ops:
            break
        f, i = nxt, i + 1
    while _ops(f) < ops:  # top up with cheap operations
        f = f"({f})*x"
    values = {"x": 0.7, **{f"w{j}": 0.9 for j in range(i)}, **{f"b{j}": 0.1 for j in range(i)}}
    values = {k: v for k, v in values.items() if k in _names(f)}
    return f, values


def _names(f: str) -> set[str]:
    import re
    return set(re.findall(r"[A-Za-z_]\w*", f))


def _ops(f: str) -> int:
    vals = {n: 0.5 for n in _names(f) if n not in ("sigmoid", "tanh", "exp")}
    out, _ = parse(f, **vals)
    from autograd_core.engine import topological_order
    return sum(1 for v in topological_order(out) if v._parents)


def _post(conn: http.client.HTTPConnection, path: str, body: dict) -> dict:
    conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read())
    if r.status != 200:
        raise RuntimeError(f"{path}: {r.status} {data}")
    return data


def _start_server() -> tuple[subprocess.Popen, str, int]:
    p = subprocess.Popen([sys.executable, "-m", "autograd_core", "playground", "--no-browser",
                          "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # type: ignore[union-attr]
    url = line.split()[2]
    host_port = url.split("//")[1].split("/")[0]
    host, port = host_port.rsplit(":", 1)
    return p, url, int(port)


def api_latency(port: int, f: str, values: dict[str, float], n: int, graph: bool) -> list[float]:
    """Milliseconds per update: /api/explain (and /api/graph at the same time if ``graph``)."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(2)]
    times = []
    for k in range(n + 3):  # 3 warm-up updates
        vals = {name: v + 0.01 * k for name, v in values.items()}
        out: list = [None, None if graph else True]

        def go(j: int, path: str, body: dict) -> None:
            out[j] = _post(conns[j], path, body)

        t0 = time.perf_counter()
        ts = [threading.Thread(target=go, args=(0, "/api/explain",
                                                {"formula": f, "values": vals, "mode": "both", "paths": True}))]
        if graph:
            ts.append(threading.Thread(target=go, args=(1, "/api/graph", {"formula": f, "values": vals})))
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = (time.perf_counter() - t0) * 1000
        if out[0] is None or out[1] is None:
            raise RuntimeError("a request failed")
        if k >= 3:
            times.append(dt)
    for c in conns:
        c.close()
    return times


def compute_latency(f: str, values: dict[str, float], n: int) -> list[float]:
    """Milliseconds the server spends on one drag update in-process (parse,
    explain, forward mode, paths, the JSON text), without HTTP."""
    from autograd_core.commands.explain import build, json_document
    times = []
    for k in range(n + 3):
        vals = {name: v + 0.01 * k for name, v in values.items()}
        t0 = time.perf_counter()
        _, trace, tables, sums = build(f, vals, None, "both", True)
        json.dumps(json_document(f, vals, "both", trace, tables, sums), ensure_ascii=False)
        if k >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def browser_latency(url: str, f: str, values: dict[str, float], n: int) -> tuple[list[float], list[float]] | None:
    """Milliseconds from a slider's event to the page updated: (drag: numbers and
    colours in the same picture, release: with a new layout)."""
    if not all(os.access(p, os.X_OK) for p in ("/usr/bin/chromium", "/usr/bin/chromedriver")):
        return None
    from urllib.parse import quote

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        frag = "f=" + quote(f, safe="") + "".join(f"&{k}={v}" for k, v in values.items())
        d.get(url.split("#")[0] + "#" + frag)
        d.set_script_timeout(60)
        d.execute_async_script("""
            var done = arguments[arguments.length - 1];
            (function wait() { if (+document.body.dataset.updates >= 1 && document.querySelector('#graph svg'))
              { done(); } else { setTimeout(wait, 20); } })();""")
        first = sorted(values)[0]
        drag, release = [], []
        for k in range(n + 2):
            for event, times in (("input", drag), ("change", release)):
                ms = d.execute_async_script("""
                    var done = arguments[arguments.length - 1], name = arguments[0], value = arguments[1];
                    var s = document.getElementById('slider-' + name);
                    var before = +document.body.dataset.updates, t0 = performance.now();
                    s.value = String(value); s.dispatchEvent(new Event(arguments[2]));
                    (function wait() { if (+document.body.dataset.updates > before) {
                      requestAnimationFrame(function () { done(performance.now() - t0); }); }
                      else { setTimeout(wait, 1); } })();""", first, values[first] + 0.01 * (k + 1), event)
                if k >= 2:
                    times.append(ms)
        return drag, release
    finally:
        d.quit()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--updates", type=int, default=40, help="updates timed per formula")
    ap.add_argument("--browser", action="store_true", help="also time the page in headless Chromium")
    args = ap.parse_args(argv)
    proc, url, port = _start_server()
    rows = []
    try:
        for ops in SIZES:
            f, values = formula(ops)
            compute = compute_latency(f, values, args.updates)
            drag = api_latency(port, f, values, args.updates, graph=False)
            release = api_latency(port, f, values, max(10, args.updates // 2), graph=True)
            page = browser_latency(url, f, values, max(10, args.updates // 4)) if args.browser else None
            rows.append((ops, len(values), compute, drag, release, page))
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]

    med = statistics.median
    head = ("| operations | inputs | server compute ms | API drag median ms | API drag p95 ms "
            "| API release median ms |")
    sep = "|---:|---:|---:|---:|---:|---:|"
    if args.browser:
        head += " page drag median ms | page drag p95 ms | page release median ms |"
        sep += "---:|---:|---:|"
    print(f"One playground update per slider move; {args.updates} drag updates per formula; "
          f"target: drag <= {TARGET_MS:.0f} ms")
    print(head)
    print(sep)
    worst = 0.0
    for ops, nin, compute, drag, release, page in rows:
        line = (f"| {ops} | {nin} | {med(compute):.1f} | {med(drag):.1f} | {p95(drag):.1f} "
                f"| {med(release):.1f} |")
        worst = max(worst, med(drag))
        if args.browser:
            if page:
                line += f" {med(page[0]):.1f} | {p95(page[0]):.1f} | {med(page[1]):.1f} |"
                worst = max(worst, med(page[0]))
            else:
                line += " n/a | n/a | n/a |"
        print(line)
    print(f"worst drag median: {worst:.1f} ms ({worst / TARGET_MS:.2f}x the {TARGET_MS:.0f} ms target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
