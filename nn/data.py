"""Data sets (``nn.data``): seeded toy generators and an MNIST reader.

Every generator returns ``(X, y)``: ``X`` a float array of shape (n, 2),
``y`` an int64 array of class labels, drawn from ``numpy.random.RandomState(seed)``.

``load_mnist`` reads the IDX files of MNIST / Fashion-MNIST (gzip or not) and
Nielsen's ``mnist.pkl.gz``. **About the pickle**: that file is a Python
pickle made by a third party. It is read with a restricted unpickler that
allows only what rebuilds numpy arrays (``numpy.ndarray``, ``numpy.dtype``,
``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``,
``numpy.core.multiarray.scalar``, and ``_codecs.encode``, which protocol-2
pickles use for the raw bytes of an array) and refuses every other global, so a
crafted file cannot run code; it raises ValueError naming the file instead.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import pickle
import stat
import struct
import zlib
from typing import Any

import numpy as np

from .init import make_rng

__all__ = ["make_moons", "make_circles", "make_spirals", "make_xor", "load_mnist", "find_mnist",
           "MNIST_DIRS"]


def _check_n(n: Any, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _shuffle(rng: np.random.RandomState, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(len(y))
    return X[idx], y[idx]


def make_moons(n: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 on (cos t, sin t), class 1 on
    (1 − cos t, 0.5 − sin t), t ∈ [0, π]; Gaussian noise of std ``noise``."""
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = make_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    X = np.vstack([np.column_stack([np.cos(t0), np.sin(t0)]),
                   np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return _shuffle(rng, X, y)


def make_circles(n: int = 100, noise: float = 0.0, factor: float = 0.5,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1)."""
    n = _check_n(n)
    noise = _check_noise(noise)
    if not isinstance(factor, (int, float)) or not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = make_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    X = np.vstack([np.column_stack([np.cos(t0), np.sin(t0)]),
                   factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return _shuffle(rng, X, y)


def make_spirals(n: int = 100, noise: float = 0.0, classes: int = 2, turns: float = 1.0,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms from the origin (radius 0 to 1,
    ``turns`` revolutions); arm k is rotated by 2πk/classes."""
    n = _check_n(n)
    noise = _check_noise(noise)
    classes = _check_n(classes, "classes")
    rng = make_rng(seed)
    counts = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    Xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = r * turns * 2 * np.pi + 2 * np.pi * k / classes
        Xs.append(np.column_stack([r * np.cos(t), r * np.sin(t)]))
        ys.append(np.full(m, k, dtype=np.int64))
    X = np.vstack(Xs)
    y = np.concatenate(ys)
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return _shuffle(rng, X, y)


def make_xor(n: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [−1, 1]²; label 1 when exactly one coordinate is
    positive (XOR of the signs). Noise is added to X after labelling."""
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = make_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X, y


# ------------------------------------------------------------------ MNIST

#: where :func:`find_mnist` looks (relative paths are relative to the repository)
MNIST_DIRS = ("../shared/data/mnist", "/usr/share/datasets/fashion-mnist")

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


#: The most bytes a pickle (after gunzip) may hold: Nielsen's mnist.pkl.gz is
#: about 220 MB unpacked; a small gzip declaring more is refused, not unpacked.
MAX_PICKLE_BYTES = 2 ** 30
#: The most bytes one IDX item (one image) may declare in its header.
_MAX_ITEM_BYTES = 2 ** 24
_CHUNK = 2 ** 20


def _open_data(path: str) -> Any:
    """A binary stream of ``path``'s contents, gunzipped when it is gzip.
    Regular files only (a FIFO or device would block or never end)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    if stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{path}: is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path}: not a regular file (a FIFO, device or socket)")
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f, mode="rb")
    f.seek(0)
    return f


def _read_upto(stream: Any, n: int, path: str) -> bytes:
    """At most ``n`` bytes from ``stream`` (fewer at its end), read in pieces,
    so a header that lies about the size allocates only what the file holds."""
    buf = bytearray()
    try:
        while len(buf) < n:
            chunk = stream.read(min(_CHUNK, n - len(buf)))
            if not chunk:
                break
            buf += chunk
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return bytes(buf)


def _read_idx(path: str, magic: int, limit: int | None = None) -> np.ndarray:
    """The array in an IDX file: its first ``limit`` items (or all of them).

    The whole file is checked against its header either way, in memory that
    ``limit`` bounds: an uncompressed file's size is compared with the header
    before any item is read; a gzip file's bytes after the first ``limit``
    items are streamed through in pieces (counted, never kept), so a truncated
    or corrupt file (gzip's CRC) is reported, naming the file, with a limit too."""
    kind = "images" if magic == _IMAGES_MAGIC else "labels"
    with _open_data(path) as stream:
        try:
            head = stream.read(8)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
        if len(head) < 8:
            raise ValueError(f"{path}: truncated: {len(head)} bytes, too short for an IDX header")
        got = struct.unpack(">I", head[:4])[0]
        if got != magic:
            raise ValueError(f"{path}: bad magic number {got} (0x{got:08x}); expected {magic} "
                             f"(0x{magic:08x}) for an IDX {kind} file")
        ndim = magic & 0xFF
        rest = _read_upto(stream, 4 * ndim - 4, path)
        if len(rest) < 4 * ndim - 4:
            raise ValueError(f"{path}: truncated: the header needs {4 + 4 * ndim} bytes, the file "
                             f"has {8 + len(rest)}")
        dims = struct.unpack(">" + "I" * ndim, head[4:] + rest)
        item = math.prod(dims[1:])  # Python ints: no overflow while checking
        if item > _MAX_ITEM_BYTES:
            raise ValueError(f"{path}: the header declares items of {' x '.join(map(str, dims[1:]))} = "
                             f"{item} bytes each, more than {_MAX_ITEM_BYTES}")
        total = dims[0] * item
        if total > np.iinfo(np.intp).max:
            raise ValueError(f"{path}: the header's dimensions {' x '.join(map(str, dims))} "
                             "overflow: not an MNIST file")
        declared = f"{' x '.join(map(str, dims))} = {total} bytes of {kind}"

        def truncated(have: int) -> ValueError:
            return ValueError(f"{path}: truncated: the header says {declared} but only {have} follow")

        def extra() -> ValueError:
            return ValueError(f"{path}: unexpected bytes after the {dims[0]} {kind} the header declares")

        packed = isinstance(stream, gzip.GzipFile)
        if not packed:  # the file's size says it all, before anything is read
            have = os.fstat(stream.fileno()).st_size - (4 + 4 * ndim)
            if have < total:
                raise truncated(have)
            if have > total:
                raise extra()
        count = dims[0] if limit is None else min(dims[0], limit)
        data = _read_upto(stream, count * item, path)
        if len(data) < count * item:
            raise truncated(len(data))
        if packed:  # the rest, counted in pieces (gzip checks its CRC at the end)
            want, seen = total - count * item, 0
            try:
                while seen <= want:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    seen += len(chunk)
            except (OSError, EOFError, zlib.error) as e:
                raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
            if seen < want:
                raise truncated(count * item + seen)
            if seen > want:
                raise extra()
    return np.frombuffer(data, dtype=np.uint8).reshape((count, *dims[1:]))


def _idx_count(path: str, magic: int) -> int:
    """The item count an IDX file's header declares (first dimension)."""
    with _open_data(path) as stream:
        try:
            head = stream.read(8)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from None
    if len(head) < 8 or struct.unpack(">I", head[:4])[0] != magic:
        return -1  # _read_idx reports it
    return struct.unpack(">I", head[4:8])[0]


def _find_file(folder: str, stem: str) -> str:
    for name in (stem, stem + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    alt = stem.replace("-idx", ".idx")  # some mirrors name them t10k-images.idx3-ubyte
    for name in (alt, alt + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{os.path.join(folder, stem)}[.gz]: file not found")


class _ArraysOnly(pickle.Unpickler):
    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5
        ("_codecs", "encode"),  # how Python 3 pickles bytes at protocol 2 (a pure function)
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            if module.startswith("numpy.core"):
                module = "numpy._core" + module[len("numpy.core"):] if hasattr(np, "_core") else module
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are allowed")


def _load_pickle(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    with _open_data(path) as stream:
        try:
            chunks, n = [], 0
            while n <= MAX_PICKLE_BYTES:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                n += len(chunk)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
        if n > MAX_PICKLE_BYTES:
            raise ValueError(f"{path}: more than {MAX_PICKLE_BYTES} bytes unpacked: not mnist.pkl")
        data = b"".join(chunks)
        del chunks
    try:
        obj = _ArraysOnly(io.BytesIO(data), encoding="latin1").load()
    except Exception as e:  # noqa: BLE001 - a mutated pickle raises anything; only ValueError escapes
        raise ValueError(f"{path}: not a readable mnist.pkl file ({type(e).__name__}: "
                         f"{str(e)[:200]})") from None
    splits = ("train", "validation", "test")
    if not (isinstance(obj, tuple) and len(obj) == 3 and all(
            isinstance(s, tuple) and len(s) == 2 for s in obj)):
        raise ValueError(f"{path}: expected (training, validation, test) pairs of arrays as in "
                         "Nielsen's mnist.pkl.gz")
    if split not in splits:
        raise ValueError(f"split must be one of {splits} for {path}, got {split!r}")
    X, y = obj[splits.index(split)]
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray) or X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"{path}: the {split} split is not an (images, labels) pair of arrays")
    if X.dtype.kind not in "fiu" or y.dtype.kind not in "iu" or y.ndim != 1:
        raise ValueError(f"{path}: the {split} split holds {X.dtype} images and {y.dtype} labels "
                         "(expected numbers and integer labels)")
    with np.errstate(all="ignore"):  # a bad value is reported just below
        X = np.asarray(X, dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{path}: the {split} images hold NaN or infinite values")
    return X, np.asarray(y, dtype=np.int64)


def load_mnist(path: str | os.PathLike[str], split: str = "test", limit: int | None = None,
               flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of MNIST (or Fashion-MNIST).

    ``path``: a folder holding ``t10k-images-idx3-ubyte[.gz]`` and
    ``t10k-labels-idx1-ubyte[.gz]`` (``train-...`` for ``split="train"``), or
    an images file (its labels file is found beside it), or Nielsen's
    ``mnist.pkl.gz`` (splits ``train``/``validation``/``test``).
    Returns ``X`` float64 in [0, 1] (pixels / 255), shape (n, 784) (or
    (n, 28, 28) with ``flatten=False``), and ``y`` int64 labels. ``limit``
    keeps the first ``limit`` images: only they are kept and decoded from IDX
    files, so memory grows with ``limit``, not with the file; the rest of the
    file is still checked against its header (an uncompressed file by its
    size, before reading; a gzip file streamed through in 1 MiB pieces, CRC
    included). The pickle is read whole, at most :data:`MAX_PICKLE_BYTES`
    unpacked. Missing files, bad magic numbers, header dimensions that
    overflow, truncated or corrupt files and count mismatches raise errors
    naming the file, with or without ``limit``; so does a pickle that is
    anything but numpy arrays (ValueError only)."""
    p = os.fspath(path)
    if limit is not None:
        limit = _check_n(limit, "limit")
    if os.path.isfile(p) and (p.endswith(".pkl") or p.endswith(".pkl.gz")):
        X, y = _load_pickle(p, split)
        if not flatten:
            X = X.reshape(len(X), 28, 28)
    else:
        if split not in ("test", "train", "t10k"):
            raise ValueError(f"split must be 'test' or 'train' for IDX files, got {split!r}")
        prefix = "train" if split == "train" else "t10k"
        if os.path.isdir(p):
            img_path = _find_file(p, f"{prefix}-images-idx3-ubyte")
            lab_path = _find_file(p, f"{prefix}-labels-idx1-ubyte")
        elif os.path.isfile(p):
            img_path = p
            folder, base = os.path.split(p)
            lab_path = _find_file(folder, base.replace("images", "labels").replace("idx3", "idx1")
                                  .removesuffix(".gz"))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder (expected MNIST IDX files or mnist.pkl.gz)")
        n_img, n_lab = _idx_count(img_path, _IMAGES_MAGIC), _idx_count(lab_path, _LABELS_MAGIC)
        if n_img >= 0 and n_lab >= 0 and n_img != n_lab:
            raise ValueError(f"{img_path} has {n_img} images but {lab_path} has {n_lab} labels")
        images = _read_idx(img_path, _IMAGES_MAGIC, limit)  # only the first `limit` are read
        labels = _read_idx(lab_path, _LABELS_MAGIC, limit)
        X = images.astype(np.float64) / 255.0
        if flatten:
            X = X.reshape(len(X), -1)
        y = labels.astype(np.int64)
    if limit is not None:
        X, y = X[:limit], y[:limit]
    return X, y


def find_mnist(extra: tuple[str, ...] = ()) -> str | None:
    """The first folder among ``extra`` and :data:`MNIST_DIRS` (relative ones
    taken from the repository root) that holds t10k IDX files, or None."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for d in tuple(extra) + MNIST_DIRS:
        folder = d if os.path.isabs(d) else os.path.normpath(os.path.join(repo, d))
        try:
            _find_file(folder, "t10k-images-idx3-ubyte")
            _find_file(folder, "t10k-labels-idx1-ubyte")
        except FileNotFoundError:
            continue
        return folder
    return None
