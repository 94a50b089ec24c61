"""``pause_gc()``: the cyclic collector is off inside and its state on entry
is restored exactly (also on exceptions, nested, from several threads); the
library never changes it otherwise (import, backward, fit restore it)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading

import pytest

import autograd_core as ac


@pytest.fixture(autouse=True)
def _restore_collector():
    was = gc.isenabled()
    thresholds = gc.get_threshold()
    yield
    assert gc.get_threshold() == thresholds  # never touched
    (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_restores_the_state_on_entry(enabled):
    (gc.enable if enabled else gc.disable)()
    with ac.pause_gc():
        assert not gc.isenabled()
        with ac.pause_gc():  # nested
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() is enabled
    with pytest.raises(ZeroDivisionError):
        with ac.pause_gc():
            1 / 0
    assert gc.isenabled() is enabled


def test_decorator_and_threads():
    gc.enable()

    @ac.pause_gc()
    def work(started, release):
        started.set()
        release.wait(5)
        return gc.isenabled()

    s1, s2, release = threading.Event(), threading.Event(), threading.Event()
    out = []
    t1 = threading.Thread(target=lambda: out.append(work(s1, release)))
    t1.start()
    s1.wait(5)
    with ac.pause_gc():  # overlaps the thread's block; leaves first
        assert not gc.isenabled()
    assert not gc.isenabled()  # the thread's block is still open
    release.set()
    t1.join()
    assert out == [False] and gc.isenabled()


def test_import_backward_and_fit_leave_the_collector_alone():
    code = ("import gc; gc.set_threshold(123, 4, 5); gc.disable(); "
            "import autograd_core as ac, nn; "
            "x = ac.Value(1.0); (x * x).backward(); "
            "m = nn.MLP(2, [3, 1], seed=0); "
            "nn.fit(m, [[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0], loss='quadratic', optimizer=nn.SGD(m.parameters(), 0.1), "
            "epochs=1, batch_size=2, progress=False); "
            "print(gc.isenabled(), gc.get_threshold())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "False (123, 4, 5)"
