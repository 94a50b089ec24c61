"""nn.data: toy generators, and load_mnist on real files and on corrupted copies."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

import nn
from nn.data import find_mnist

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "mnist"))
FASHION = "/usr/share/datasets/fashion-mnist"


# ------------------------------------------------------------------ generators

@pytest.mark.parametrize("make", [nn.make_moons, nn.make_circles, nn.make_spirals, nn.make_xor])
def test_generators_are_seeded_and_shaped(make):
    X, y = make(101, noise=0.1, seed=3)
    X2, y2 = make(101, noise=0.1, seed=3)
    X3, _ = make(101, noise=0.1, seed=4)
    assert X.shape == (101, 2) and y.shape == (101,) and y.dtype == np.int64
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and not np.array_equal(X, X3)
    assert set(np.unique(y)) == {0, 1}
    with pytest.raises(ValueError, match="n must be a positive int"):
        make(0)
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=-1)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = nn.make_moons(200, seed=0)
    a, b = X[y == 0], X[y == 1]
    assert len(a) == len(b) == 100
    assert np.allclose(np.hypot(a[:, 0], a[:, 1]), 1.0) and np.all(a[:, 1] >= -1e-12)
    assert np.allclose(np.hypot(b[:, 0] - 1.0, b[:, 1] - 0.5), 1.0) and np.all(b[:, 1] <= 0.5 + 1e-12)


def test_circles_spirals_xor_geometry():
    X, y = nn.make_circles(100, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)
    X, y = nn.make_spirals(90, classes=3, seed=0)
    assert np.bincount(y).tolist() == [30, 30, 30] and np.all(np.hypot(X[:, 0], X[:, 1]) <= 1 + 1e-12)
    X, y = nn.make_xor(500, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


# ------------------------------------------------------------------ MNIST: real files

@pytest.mark.skipif(not os.path.exists(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")),
                    reason="real MNIST test set not present")
def test_load_mnist_real_test_set():
    X, y = nn.load_mnist(MNIST)
    assert X.shape == (10000, 784) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    X2, y2 = nn.load_mnist(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz"), limit=1000,
                           flatten=False)
    assert X2.shape == (1000, 28, 28) and np.array_equal(X2.reshape(1000, -1), X[:1000])
    assert find_mnist() == MNIST


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="dataset-fashion-mnist not installed")
def test_load_fashion_mnist():
    X, y = nn.load_mnist(FASHION, limit=500)
    assert X.shape == (500, 784) and set(np.unique(y)) <= set(range(10))
    Xt, yt = nn.load_mnist(FASHION, split="test")
    assert len(Xt) == 10000 and np.bincount(yt).tolist() == [1000] * 10


# ------------------------------------------------------------------ MNIST: small and corrupted files

def idx_bytes(magic, dims, payload):
    return struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims) + payload


def write_set(folder, n=3, *, gz=True, img_magic=2051, lab_magic=2049, cut_images=0, n_labels=None):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(0)
    pix = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    n_labels = n if n_labels is None else n_labels
    labs = (np.arange(n_labels) % 10).astype(np.uint8)
    img = idx_bytes(img_magic, (n, 28, 28), pix.tobytes())
    if cut_images:
        img = img[:-cut_images]
    lab = idx_bytes(lab_magic, (n_labels,), labs.tobytes())
    suffix = ".gz" if gz else ""
    for name, data in (("t10k-images-idx3-ubyte", img), ("t10k-labels-idx1-ubyte", lab)):
        path = os.path.join(folder, name + suffix)
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if gz else data)
    return pix, labs


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_small_files(tmp_path, gz):
    pix, labs = write_set(tmp_path, gz=gz)
    X, y = nn.load_mnist(tmp_path)
    assert np.array_equal(X, pix.reshape(3, -1) / 255.0) and np.array_equal(y, labs)


def test_missing_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        nn.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        nn.load_mnist(tmp_path / "nowhere")
    write_set(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        nn.load_mnist(tmp_path)


def test_bad_magic_number(tmp_path):
    write_set(tmp_path, img_magic=2049)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: bad magic number 2049 .*expected 2051"):
        nn.load_mnist(tmp_path)
    write_set(tmp_path, lab_magic=1234)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: bad magic number 1234"):
        nn.load_mnist(tmp_path)


def test_truncated_files(tmp_path):
    write_set(tmp_path, cut_images=100)
    with pytest.raises(ValueError, match=r"images-idx3-ubyte.gz: truncated: .*2352 bytes of images "
                                         r"but only 2252 follow"):
        nn.load_mnist(tmp_path)
    with open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(gzip.compress(b"\x00\x00\x08"))
    with pytest.raises(ValueError, match="truncated"):
        nn.load_mnist(tmp_path)
    # a gzip stream cut in the middle
    write_set(tmp_path)
    data = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"images-idx3-ubyte.gz: corrupt or truncated gzip"):
        nn.load_mnist(tmp_path)


def test_count_mismatch(tmp_path):
    write_set(tmp_path, n_labels=2)
    with pytest.raises(ValueError, match="has 3 images but .* has 2 labels"):
        nn.load_mnist(tmp_path)


@pytest.mark.skipif(not os.path.exists(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz")),
                    reason="real MNIST test set not present")
def test_corrupted_copy_of_the_real_labels(tmp_path):
    import shutil
    shutil.copy(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz"), tmp_path)
    raw = gzip.decompress(open(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz"), "rb").read())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte: truncated: .* 10000 bytes of labels "
                                         r"but only 9990 follow"):
        nn.load_mnist(tmp_path)


# ------------------------------------------------------------------ Nielsen's mnist.pkl.gz

def test_nielsen_pickle_with_restricted_unpickler(tmp_path):
    rng = np.random.RandomState(0)
    splits = tuple((rng.rand(n, 784).astype(np.float32), rng.randint(0, 10, n).astype(np.int64))
                   for n in (5, 3, 4))
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(splits, f, protocol=2)
    X, y = nn.load_mnist(path, split="validation")
    assert X.shape == (3, 784) and X.dtype == np.float64
    assert np.array_equal(X, splits[1][0].astype(np.float64)) and np.array_equal(y, splits[1][1])
    assert len(nn.load_mnist(path, split="train")[0]) == 5
    with pytest.raises(ValueError, match="split must be one of"):
        nn.load_mnist(path, split="dev")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickle_with_other_globals_is_refused(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(((Evil(), 1), (2, 3), (4, 5)), f)
    with pytest.raises(ValueError, match=r"mnist.pkl.gz: not a readable mnist.pkl file .*refusing to load"):
        nn.load_mnist(path)
    path.write_bytes(gzip.compress(b"garbage"))
    with pytest.raises(ValueError, match="mnist.pkl.gz"):
        nn.load_mnist(path)


# ------------------------------------------------------------------ limit= still checks the whole file

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cut", [1, 784, 784 * 3 + 5])
def test_limit_still_reports_a_truncated_file(tmp_path, gz, cut):
    """The first image is intact, the file is short: refused with limit=1 as without."""
    write_set(tmp_path, n=5, gz=gz, cut_images=cut)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    for limit in (1, 2, None):
        with pytest.raises(ValueError, match=rf"{name}: truncated: the header says 5 x 28 x 28 = "
                                             rf"3920 bytes of images but only {3920 - cut} follow"):
            nn.load_mnist(tmp_path, limit=limit)


@pytest.mark.parametrize("gz", [True, False])
def test_limit_still_reports_bytes_after_the_data(tmp_path, gz):
    write_set(tmp_path, n=5, gz=gz)
    path = tmp_path / ("t10k-labels-idx1-ubyte" + (".gz" if gz else ""))
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    path.write_bytes(gzip.compress(raw + b"\x00") if gz else raw + b"\x00")
    for limit in (1, None):
        with pytest.raises(ValueError, match=rf"{path.name}: unexpected bytes after the 5 labels"):
            nn.load_mnist(tmp_path, limit=limit)


def test_limit_still_reports_a_corrupt_gzip_file(tmp_path):
    """A byte flipped in the gzip trailer's CRC (data after the first image unchanged):
    only reading the whole stream can tell, and it does, with a limit too."""
    write_set(tmp_path, n=5)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC32 of the uncompressed data
    path.write_bytes(bytes(data))
    for limit in (1, None):
        with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
            nn.load_mnist(tmp_path, limit=limit)
    # and a gzip stream cut after the first images' bytes
    write_set(tmp_path, n=400)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        nn.load_mnist(tmp_path, limit=1)
