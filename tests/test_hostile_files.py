"""Model files from elsewhere: every mutated or hostile file is refused with
a ValueError naming the file, before anything big is built; atomic writes
through symlinks, onto FIFOs/devices/directories, interrupted.

``MODEL_FILE_CASES`` and the ``_io`` cases are counted in issue 15's note."""

from __future__ import annotations

import json
import re
import os
import stat
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_core import _io
from autograd_core._io import write_atomic
from nn.module import MAX_PARAMETERS


def _valid_doc() -> dict:
    m = nn.MLP(2, [3, 1], seed=0)
    return {"format": "autograd-core-nn", "version": 1, "class": "MLP", "config": m.config(),
            "state": m.state_dict()}


def _layer(nin, nout, state=None, **extra):
    return {"format": "autograd-core-nn", "version": 1, "class": "Layer",
            "config": {"nin": nin, "nout": nout, **extra}, "state": state or {"w": 0}}


def _nested(depth: int) -> dict:
    c: dict = {"class": "Neuron", "config": {"nin": 1}}
    for _ in range(depth):
        c = {"class": "Residual", "config": {"block": c}}
    return {"format": "autograd-core-nn", "version": 1, **c, "state": {}}


def _mutate(path: list, value) -> dict:
    doc = _valid_doc()
    d = doc
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    return doc


# (name, file text): each must raise ValueError naming the file
MODEL_FILE_CASES: list[tuple[str, str | bytes]] = [
    ("3000x3000 layer in 114 bytes", json.dumps(_layer(3000, 3000))),
    ("500x500 layer, one state entry", json.dumps(_layer(500, 500))),
    ("1e9-neuron MLP", json.dumps({**_valid_doc(), "config": {"nin": 2, "nouts": [10 ** 9]}})),
    ("MLP of many huge layers", json.dumps({**_valid_doc(), "config": {"nin": 10 ** 6, "nouts": [10 ** 6] * 50}})),
    ("10**400 size", '{"format": "autograd-core-nn", "version": 1, "class": "Layer", "config": '
                     '{"nin": 1' + "0" * 400 + ', "nout": 1}, "state": {}}'),
    ("1e400 size", json.dumps(_layer(1, 1)).replace('"nin": 1', '"nin": 1e400')),
    ("bool size", json.dumps(_layer(True, 1))),
    ("float size", json.dumps(_layer(2.0, 1))),
    ("negative size", json.dumps(_layer(-3, 1))),
    ("zero size", json.dumps(_layer(0, 1))),
    ("string size", json.dumps(_layer("3", 1))),
    ("null size", json.dumps(_layer(None, 1))),
    ("list size", json.dumps(_layer([3], 1))),
    ("object size", json.dumps(_layer({"a": 1}, 1))),
    ("unexpected field weights", json.dumps(_layer(2, 1, weights=[[1.0, 2.0]]))),
    ("unexpected field", json.dumps(_layer(2, 1, evil=1))),
    ("huge string field", json.dumps(_layer(2, 1, activation="x" * 100_000))),
    ("object field", json.dumps(_layer(2, 1, activation={"__class__": "os.system"}))),
    ("unknown activation", json.dumps(_mutate(["config", "activation"], "rm -rf"))),
    ("deep JSON nesting", '{"format": "autograd-core-nn", "version": 1, "state": {}, "config": '
                          + "[" * 100_000 + "]" * 100_000 + "}"),
    ("deep module nesting", json.dumps(_nested(40))),
    ("unknown class", json.dumps(_mutate(["class"], "os.system"))),
    ("class is a list", json.dumps(_mutate(["class"], ["MLP"]))),
    ("class is null", json.dumps(_mutate(["class"], None))),
    ("config is a list", json.dumps(_mutate(["config"], [1, 2]))),
    ("config is null", json.dumps(_mutate(["config"], None))),
    ("Sequential modules not a list", json.dumps({**_valid_doc(), "class": "Sequential", "config": {"modules": 3}})),
    ("Sequential module is a number", json.dumps({**_valid_doc(), "class": "Sequential", "config": {"modules": [3]}})),
    ("Sequential empty", json.dumps({**_valid_doc(), "class": "Sequential", "config": {"modules": []}})),
    ("Residual block missing", json.dumps({**_valid_doc(), "class": "Residual", "config": {}})),
    ("Residual block a string", json.dumps({**_valid_doc(), "class": "Residual", "config": {"block": "x"}})),
    ("nouts not a list", json.dumps(_mutate(["config", "nouts"], 3))),
    ("nouts empty", json.dumps(_mutate(["config", "nouts"], []))),
    ("nouts with a string", json.dumps(_mutate(["config", "nouts"], ["3", 1]))),
    ("state NaN", json.dumps(_valid_doc()).replace(json.dumps(_valid_doc()["state"]["layers.0.neurons.0.b"]), "NaN", 1)),
    ("state Infinity", json.dumps(_valid_doc()).replace(json.dumps(_valid_doc()["state"]["layers.0.neurons.0.b"]), "Infinity", 1)),
    ("state -Infinity", json.dumps(_valid_doc()).replace(json.dumps(_valid_doc()["state"]["layers.0.neurons.0.b"]), "-Infinity", 1)),
    ("state 1e400", json.dumps(_valid_doc()).replace(json.dumps(_valid_doc()["state"]["layers.0.neurons.0.b"]), "1e400", 1)),
    ("state 10**400", json.dumps(_valid_doc()).replace(json.dumps(_valid_doc()["state"]["layers.0.neurons.0.b"]), "1" + "0" * 400, 1)),
    ("state string", json.dumps(_mutate(["state", "layers.0.neurons.0.b"], "0.5"))),
    ("state null", json.dumps(_mutate(["state", "layers.0.neurons.0.b"], None))),
    ("state bool", json.dumps(_mutate(["state", "layers.0.neurons.0.b"], True))),
    ("state list", json.dumps(_mutate(["state", "layers.0.neurons.0.b"], [1.0]))),
    ("state object", json.dumps(_mutate(["state", "layers.0.neurons.0.b"], {"a": 1}))),
    ("state extra key", json.dumps(_mutate(["state", "layers.9.w"], 1.0))),
    ("state not an object", json.dumps(_mutate(["state"], [1.0]))),
    ("state missing", json.dumps({k: v for k, v in _valid_doc().items() if k != "state"})),
    ("wrong format", json.dumps(_mutate(["format"], "pickle"))),
    ("wrong version", json.dumps(_mutate(["version"], 10 ** 30))),
    ("top level a list", "[1, 2, 3]"),
    ("top level a number", "1e400"),
    ("empty file", ""),
    ("truncated JSON", json.dumps(_valid_doc())[:-7]),
    ("not UTF-8", b"\xff\xfe\x00{" + b"\x80" * 50),
    ("NUL bytes", b"\x00" * 100),
    ("pickle bytes", b"\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94."),
    ("duplicate keys hiding a huge layer", '{"format": "autograd-core-nn", "version": 1, "class": "Layer",'
                                           ' "config": {"nin": 2, "nout": 1, "nin": 5000000}, "state": {}}'),
]


@pytest.mark.parametrize("name,text", MODEL_FILE_CASES, ids=[c[0] for c in MODEL_FILE_CASES])
def test_mutated_model_files_are_refused_before_building(tmp_path, name, text):
    p = tmp_path / "model.json"
    if isinstance(text, str):
        p.write_text(text, encoding="utf-8")
    else:
        p.write_bytes(text)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as exc:
            nn.load(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(exc.value)
    assert str(p) in msg and "\n" not in msg.strip(), msg
    assert peak < 64 * 2 ** 20, (name, peak)  # nothing big was allocated


def test_the_valid_file_loads_and_the_limit_is_overridable(tmp_path):
    p = tmp_path / "ok.json"
    p.write_text(json.dumps(_valid_doc()))
    m = nn.load(p)
    assert m.state_dict() == _valid_doc()["state"]
    # 2·3+3 + 3·1+1 = 13 weights and biases
    with pytest.raises(ValueError, match="more than 12 parameters"):
        nn.load(p, max_parameters=12)
    assert nn.load(p, max_parameters=13).state_dict() == m.state_dict()
    assert MAX_PARAMETERS == 1_000_000
    padded = tmp_path / "padded.json"  # 2 MiB of whitespace: more than 128 bytes/parameter + 1 MiB
    padded.write_text(json.dumps(_valid_doc()) + " " * 2 ** 21)
    with pytest.raises(ValueError, match="bytes"):  # refused before reading it
        nn.load(padded, max_parameters=13)
    assert nn.load(padded, max_parameters=10 ** 5).state_dict() == m.state_dict()
    big = nn.Layer(40, 30, seed=0)
    big.save(tmp_path / "big.json")
    with pytest.raises(ValueError, match="nout = 30 is more than max_parameters=1"):
        nn.load(tmp_path / "big.json", max_parameters=1)
    assert nn.load(tmp_path / "big.json").state_dict() == big.state_dict()
    with pytest.raises(ValueError, match="max_parameters"):
        nn.load(p, max_parameters=0)


def test_tensor_model_files_still_load(tmp_path):
    m = nn.MLP(3, [4, 2], seed=1, backend="tensor")
    m.save(tmp_path / "t.json")
    m2 = nn.load(tmp_path / "t.json")
    assert type(m2) is type(m) and m2.state_dict() == m.state_dict()


def test_special_files_are_refused_without_blocking(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        nn.load(tmp_path)  # a directory
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        nn.load(fifo)  # opening it would block
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="not a regular file"):
            nn.load("/dev/zero")  # reading it would never end
    with pytest.raises(FileNotFoundError, match="no such model file"):
        nn.load(tmp_path / "missing.json")


# ---------------------------------------------------------------- load_state_dict

def test_load_state_dict_refuses_non_finite_and_accepts_numpy_scalars():
    m = nn.Layer(2, 1, seed=0)
    before = m.state_dict()
    for bad in (float("nan"), float("inf"), -float("inf"), np.float64("nan"), 10 ** 400):
        key = next(iter(before))
        state = dict(before)
        state[key] = bad
        with pytest.raises(ValueError, match=repr(key)):
            m.load_state_dict(state)
        assert m.state_dict() == before  # nothing changed
    for bad in (np.bool_(True), True, "1.0", None, [1.0], 1j):
        state = dict(before)
        state[next(iter(before))] = bad
        with pytest.raises(TypeError):
            m.load_state_dict(state)
        assert m.state_dict() == before
    state = {k: (np.float32(0.5) if i % 3 == 0 else np.int64(2) if i % 3 == 1 else np.float64(-1.25))
             for i, k in enumerate(before)}
    m.load_state_dict(state)
    assert m.state_dict() == {k: float(v) for k, v in state.items()}
    t = nn.Linear(2, 1, seed=0)
    key = next(iter(t.state_dict()))
    with pytest.raises(ValueError, match="finite"):
        t.load_state_dict(dict(t.state_dict(), **{key: float("nan")}))
    t.load_state_dict({k: np.float32(1.5) for k in t.state_dict()})
    assert set(t.state_dict().values()) == {1.5}


# ---------------------------------------------------------------- atomic writes

def _temps(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_save_through_a_symlink_updates_its_target(tmp_path):
    real = tmp_path / "real" / "model.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    nn.Layer(2, 1, seed=0).save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["class"] == "Layer"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "new.json")
    write_atomic(dangling, "x")
    assert dangling.is_symlink() and (tmp_path / "real" / "new.json").read_text() == "x"
    assert _temps(tmp_path) == [] and _temps(real.parent) == []


def test_writes_onto_fifos_devices_and_directories_are_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        write_atomic(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(ValueError, match="not a regular file"):
        write_atomic("/dev/null", "x")
    link = tmp_path / "to_null"
    link.symlink_to("/dev/null")
    with pytest.raises(ValueError, match="not a regular file"):
        nn.Layer(1, 1, seed=0).save(link)
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "x")
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError])
def test_interrupted_write_removes_its_temporary_file(tmp_path, monkeypatch, exc):
    p = tmp_path / "m.json"
    p.write_text("old")

    def boom(fd):
        raise exc("interrupted")

    monkeypatch.setattr(_io.os, "fsync", boom)
    with pytest.raises(exc):
        write_atomic(p, "new")
    assert p.read_text() == "old" and _temps(tmp_path) == []


def test_concurrent_writers_never_collide(tmp_path):
    p = tmp_path / "m.json"
    errors = []

    def writer(k):
        try:
            for i in range(20):
                write_atomic(p, f"{k}:{i}" * 100)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    text = p.read_text()
    assert text == (text[:len(text) // 100]) * 100  # one whole write, never a mix
    assert _temps(tmp_path) == []


def test_new_file_mode_follows_umask_and_existing_mode_is_kept(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o640
    os.chmod(tmp_path / "a", 0o600)
    write_atomic(tmp_path / "a", "y")
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o600


# ---------------------------------------------------------------- data files (load_mnist)

import gzip  # noqa: E402
import pickle  # noqa: E402
import struct  # noqa: E402


def _idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims) + payload


def _write_mnist(folder: Path, images: bytes, labels: bytes, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    (folder / f"t10k-images-idx3-ubyte{suffix}").write_bytes(gzip.compress(images) if gz else images)
    (folder / f"t10k-labels-idx1-ubyte{suffix}").write_bytes(gzip.compress(labels) if gz else labels)


def _peak(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("gz", [True, False])
def test_limit_bounds_what_is_kept_and_unpacked(tmp_path, gz):
    # 5000 real images (31 MB as float64): with limit=10 the memory stays small while the
    # rest of the file is still checked (size, or streamed through for gzip)
    n = 5000
    pix = (np.arange(n * 784) % 251).astype(np.uint8)
    _write_mnist(tmp_path, _idx(2051, (n, 28, 28), pix.tobytes()),
                 _idx(2049, (n,), bytes(range(10)) * (n // 10)), gz=gz)
    (X, y), peak = _peak(lambda: nn.load_mnist(tmp_path, limit=10))
    assert X.shape == (10, 784) and np.array_equal(X * 255.0, pix[:7840].reshape(10, 784))
    assert y.tolist() == list(range(10))
    assert peak < 8 * 2 ** 20, peak
    (X, y), peak = _peak(lambda: nn.load_mnist(tmp_path))
    assert X.shape == (n, 784) and peak > 8 * 2 ** 20  # the bound above is not vacuous


@pytest.mark.parametrize("gz", [True, False])
def test_limit_does_not_hide_a_truncated_file(tmp_path, gz):
    # the header declares 1.3 M images (7.6 GiB as float64); 20 are really there: refused
    # with a limit too (the first 10 are intact), naming the file, without a big allocation
    n_decl, n_real = 1_300_000, 20
    pix = (np.arange(n_real * 784) % 251).astype(np.uint8)
    _write_mnist(tmp_path, _idx(2051, (n_decl, 28, 28), pix.tobytes()),
                 _idx(2049, (n_decl,), bytes(range(10)) * 2), gz=gz)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    for limit in (10, None):
        with pytest.raises(ValueError, match=rf"{name}: truncated: the header says 1300000 x 28 x 28 "
                                             rf"= 1019200000 bytes of images but only 15680 follow"):
            nn.load_mnist(tmp_path, limit=limit)
        err, peak = _peak(lambda: pytest.raises(ValueError, nn.load_mnist, tmp_path, limit=limit))
        assert peak < 8 * 2 ** 20, peak


DATA_FILE_CASES = [
    ("dims overflowing", (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), "items of"),
    ("huge item", (1, 0xFFFF, 0xFFFF), "items of"),
    ("huge count, tiny file", (0xFFFFFFFF, 28, 28), "truncated"),
    ("zero-size items", (10, 0, 28), None),
]


@pytest.mark.parametrize("name,dims,match", DATA_FILE_CASES, ids=[c[0] for c in DATA_FILE_CASES])
def test_header_dimensions_are_checked_before_reading(tmp_path, name, dims, match):
    _write_mnist(tmp_path, _idx(2051, dims, b"\x00" * 64), _idx(2049, (dims[0],), b"\x00" * 10))
    for limit in (None, 5):
        if match is None:  # a legal, empty-image file: read as such (or refused for the labels)
            try:
                X, y = nn.load_mnist(tmp_path, limit=limit)
            except ValueError as e:
                assert "ubyte" in str(e)
            continue
        (err, peak) = _peak(lambda: pytest.raises(ValueError, nn.load_mnist, tmp_path, limit=limit))
        assert re.search(match, str(err.value)) and "images-idx3-ubyte.gz" in str(err.value)
        assert peak < 8 * 2 ** 20


def test_data_files_that_are_not_regular_files(tmp_path):
    os.mkfifo(tmp_path / "t10k-images-idx3-ubyte")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(2049, (1,), b"\x01"))
    with pytest.raises(ValueError, match="not a regular file"):
        nn.load_mnist(tmp_path)


def _nielsen_like(protocol: int) -> bytes:
    rng = np.random.RandomState(0)
    split = lambda n: (rng.rand(n, 784).astype(np.float32), (np.arange(n) % 10).astype(np.int64))  # noqa: E731
    return pickle.dumps((split(5), split(3), split(4)), protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_valid_pickles_of_every_protocol_load(tmp_path, protocol):
    p = tmp_path / "mnist.pkl.gz"
    p.write_bytes(gzip.compress(_nielsen_like(protocol)))
    X, y = nn.load_mnist(p, split="test")
    assert X.shape == (4, 784) and X.dtype == np.float64 and y.tolist() == [0, 1, 2, 3]
    X, y = nn.load_mnist(p, split="train", limit=2)
    assert X.shape == (2, 784)


#: how many mutated pickles each protocol gets (counted in the closing note)
PICKLE_MUTATIONS = 150


@pytest.mark.parametrize("protocol", [2, 5])
def test_mutated_pickles_raise_only_value_error(tmp_path, protocol):
    good = _nielsen_like(protocol)
    rng = np.random.RandomState(protocol)
    p = tmp_path / "mnist.pkl"
    tried = handled = 0
    cases = [good[:k] for k in range(0, len(good), max(1, len(good) // 40))]  # truncations
    for _ in range(PICKLE_MUTATIONS):
        b = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(b))
            b[pos] = rng.randint(0, 256) if rng.rand() < 0.7 else [0xFF, 0x7F, 0x80, 0x00][rng.randint(4)]
        cases.append(bytes(b))
    for data in cases:
        p.write_bytes(data)
        tried += 1
        try:
            nn.load_mnist(p)
        except ValueError as e:
            assert "mnist.pkl" in str(e)
        handled += 1  # any other exception fails the test here
    assert handled == tried


def test_hostile_pickles_are_refused(tmp_path):
    p = tmp_path / "mnist.pkl"
    evil = [
        b"cos\nsystem\n(S'true'\ntR.",  # os.system
        b"cbuiltins\neval\n(S'1'\ntR.",
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8e" + struct.pack("<Q", 2 ** 62) + b"abc.",  # BINBYTES8 2**62
        b"\x80\x02]q\x00" + b"(" * 100_000 + b".",  # MARK bomb
        b"\x80\x02" + b"]" * 200_000 + b".",  # deep lists
        pickle.dumps({"a": 1}),
        pickle.dumps((1, 2, 3)),
    ]
    for data in evil:
        p.write_bytes(data)
        with pytest.raises(ValueError, match="mnist.pkl"):
            nn.load_mnist(p)
