"""The loaders on the real files: MNIST, Fashion-MNIST, scikit-learn's digits; the Dataset helpers;
damaged copies; and the peak memory of a process that loads MNIST."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from learnscope.data import Dataset, load_dataset, load_digits, load_fashion_mnist, load_mnist, read_idx

MNIST_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# sums of all uint8 pixels: the mean pixel 1567298545 / (60000·784) / 255 = 0.1307, MNIST's well-known mean
MNIST_TRAIN_PIXEL_SUM = 1_567_298_545
MNIST_TEST_PIXEL_SUM = 264_923_200
FASHION_TRAIN_PIXEL_SUM = 3_431_114_169                         # mean 0.2860, Fashion-MNIST's known mean


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Only the folders a test names: no LEARNSCOPE_DATA, an empty cache, a mirror nobody serves."""
    monkeypatch.delenv("LEARNSCOPE_DATA", raising=False)
    monkeypatch.setenv("LEARNSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LEARNSCOPE_MIRROR", "http://127.0.0.1:9/")  # the discard port: refused, never the internet


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ---- MNIST ----


def test_mnist_shapes_dtypes_and_range(mnist):
    assert mnist.x_train.shape == (60000, 1, 28, 28) and mnist.x_train.dtype == np.float32
    assert mnist.x_test.shape == (10000, 1, 28, 28) and mnist.x_test.dtype == np.float32
    assert mnist.y_train.shape == (60000,) and mnist.y_train.dtype == np.int64
    assert mnist.y_test.shape == (10000,) and mnist.y_test.dtype == np.int64
    assert mnist.x_train.flags.c_contiguous
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == MNIST_TEST_COUNTS
    assert mnist.n_classes == 10 and mnist.input_shape == (1, 28, 28)
    assert mnist.class_names == [str(d) for d in range(10)] and mnist.name == "mnist"


def test_mnist_pixels_are_the_file_bytes_over_255(mnist, shared_data_dir):
    raw_test = read_idx(shared_data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(np.rint(mnist.x_test[:, 0] * 255).astype(np.uint8), raw_test)
    assert int(raw_test.sum(dtype=np.int64)) == MNIST_TEST_PIXEL_SUM
    # the training set, in chunks so the check itself stays small
    total = sum(int(np.rint(mnist.x_train[i:i + 10000] * 255).sum(dtype=np.float64)) for i in range(0, 60000, 10000))
    assert total == MNIST_TRAIN_PIXEL_SUM
    assert int(read_idx(shared_data_dir / "mnist" / MNIST_NAMES[0]).sum(dtype=np.int64)) == MNIST_TRAIN_PIXEL_SUM


def test_repr_and_describe_give_sizes(mnist):
    text = repr(mnist)
    assert "train=60000" in text and "test=10000" in text and "(1, 28, 28)" in text and "n_classes=10" in text
    description = mnist.describe()
    assert "60000 × (1, 28, 28) float32" in description and "10000 × (1, 28, 28)" in description
    assert "5421..6742 per class" in description and "MiB" in description and "mnist" in description


# ---- Fashion-MNIST ----


def test_fashion_mnist(shared_data_dir):
    fashion = load_fashion_mnist(data_dir=shared_data_dir / "fashion-mnist")
    assert fashion.class_names == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert fashion.x_train.shape == (60000, 1, 28, 28) and fashion.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    total = sum(int(np.rint(fashion.x_train[i:i + 10000] * 255).sum(dtype=np.float64)) for i in range(0, 60000, 10000))
    assert total == FASHION_TRAIN_PIXEL_SUM
    assert fashion.name == "fashion-mnist" and "fashion-mnist" in fashion.source


# ---- digits, the offline stand-in ----


def test_digits_shapes_range_and_stratified_split(digits):
    assert len(digits.x_train) + len(digits.x_test) == 1797
    assert digits.x_train.shape == (1437, 1, 8, 8) and digits.x_test.shape == (360, 1, 8, 8)
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0   # 0..16 scaled by 1/16
    assert digits.n_classes == 10 and digits.input_shape == (1, 8, 8)
    whole = np.bincount(np.concatenate([digits.y_train, digits.y_test]))
    held = np.bincount(digits.y_test, minlength=10)
    assert np.all(np.abs(held - 0.2 * whole) <= 1)                     # stratified: 20% of every class
    assert "scikit-learn" in digits.source


def test_digits_is_repeatable(digits):
    again = load_digits()
    np.testing.assert_array_equal(again.x_test, digits.x_test)
    np.testing.assert_array_equal(again.y_train, digits.y_train)


# ---- load_dataset ----


def test_load_dataset_dispatches(shared_data_dir):
    assert load_dataset("digits").name == "digits"
    assert load_dataset("Fashion_MNIST", data_dir=shared_data_dir).class_names[-1] == "Ankle boot"


def test_load_dataset_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="'mnist', 'fashion-mnist', 'digits', got 'cifar10'"):
        load_dataset("cifar10")
    with pytest.raises(TypeError, match="dataset name"):
        load_dataset(3)


def test_mnist_offline_points_to_digits():
    from learnscope.data import DatasetUnavailable

    with pytest.raises(DatasetUnavailable, match=r"load_digits\(\) \('learnscope train digits'\)"):
        load_mnist(progress=False)


# ---- Dataset helpers ----


def numbered(n_train=100, n_test=30) -> Dataset:
    """A tiny dataset whose every example holds its own index, so subsets can be traced back."""
    x_train = np.arange(n_train, dtype=np.float32).reshape(-1, 1, 1, 1)
    x_test = np.arange(n_test, dtype=np.float32).reshape(-1, 1, 1, 1)
    return Dataset("numbered", x_train, np.arange(n_train) % 3, x_test, np.arange(n_test) % 3, ["a", "b", "c"], "test")


def test_subset_is_random_sorted_and_seeded():
    data = numbered()
    small = data.subset(10, n_test=5, seed=1)
    picked = small.x_train.ravel().astype(int)
    assert len(picked) == 10 and len(set(picked)) == 10 and list(picked) == sorted(picked)
    assert picked.tolist() != list(range(10))                             # not just the first ten
    np.testing.assert_array_equal(small.y_train, picked % 3)              # labels travel with their images
    assert len(small.x_test) == 5
    np.testing.assert_array_equal(data.subset(10, seed=1).x_train, small.x_train)
    assert not np.array_equal(data.subset(10, seed=2).x_train, small.x_train)
    assert data.subset(10).x_test is data.x_test                          # n_test=None keeps the test set


def test_subset_of_mnist(mnist):
    small = mnist.subset(500, 100)
    assert small.x_train.shape == (500, 1, 28, 28) and small.x_test.shape == (100, 1, 28, 28)
    assert small.class_names == mnist.class_names and small.x_train.dtype == np.float32
    with pytest.raises(ValueError, match="60000 examples"):
        mnist.subset(60001)


def test_validation_split_partitions_the_training_set():
    data = numbered()
    rest, (x_val, y_val) = data.validation_split(0.2, seed=3)
    kept, held = rest.x_train.ravel().astype(int), x_val.ravel().astype(int)
    assert len(kept) == 80 and len(held) == 20
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(100))
    np.testing.assert_array_equal(y_val, held % 3)
    assert rest.x_test is data.x_test
    again = data.validation_split(0.2, seed=3)[1][0]
    np.testing.assert_array_equal(again, x_val)


def test_validation_split_without_shuffle_holds_out_the_end_as_views():
    data = numbered()
    rest, (x_val, _) = data.validation_split(0.1, shuffle=False)
    assert x_val.ravel().tolist() == list(range(90, 100))
    assert np.shares_memory(x_val, data.x_train) and np.shares_memory(rest.x_train, data.x_train)
    for bad in (0, 1, 1.5, 0.001):
        with pytest.raises(ValueError, match="fraction"):
            data.validation_split(bad)


def test_dataset_checks_its_arrays():
    x, y = np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="4 examples and 3 labels"):
        Dataset("d", x, y[:3], x, y, ["a", "b"], "test")
    with pytest.raises(ValueError, match="y_test in 0..1"):
        Dataset("d", x, y, x, y + 1, ["a", "b"], "test")
    with pytest.raises(TypeError, match="integer class indices"):
        Dataset("d", x, y.astype(np.float32), x, y, ["a", "b"], "test")
    with pytest.raises(ValueError, match="one shape"):
        Dataset("d", x, y, x[:, :, :1], y, ["a", "b"], "test")
    assert Dataset("d", x, y.astype(np.uint8), x, y, ["a", "b"], "test").y_train.dtype == np.int64


# ---- damaged copies in a folder you name: a ValueError that names the file ----


def damaged_copy(tmp_path, mnist_dir, name, content) -> Path:
    folder = tmp_path / "damaged"
    folder.mkdir()
    for other in MNIST_NAMES:
        if other != name:
            (folder / other).symlink_to(mnist_dir / other)
    (folder / name).write_bytes(content)
    return folder


def _test_images(shared_data_dir) -> tuple[bytes, bytes]:
    compressed = (shared_data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    return compressed, gzip.decompress(compressed)


def _damage(kind, compressed, raw) -> bytes:
    if kind == "truncated":
        return compressed[: len(compressed) * 2 // 3]
    if kind == "flipped bytes":
        content = bytearray(compressed)
        for i in range(len(content) // 2, len(content) // 2 + 3):
            content[i] ^= 0xFF
        return bytes(content)
    if kind == "wrong magic":
        return gzip.compress(b"\x08\x03" + raw[2:], compresslevel=1)
    # wrong count: the header says 9999 images, and one image is gone
    header = bytearray(raw[:16])
    header[4:8] = (9999).to_bytes(4, "big")
    return gzip.compress(bytes(header) + raw[16:-784], compresslevel=1)


@pytest.mark.parametrize("kind, fragment", [("truncated", "gzip"), ("flipped bytes", "gzip"),
                                            ("wrong magic", "magic"), ("wrong count", "(9999, 28, 28)")])
def test_damaged_file_is_named(tmp_path, shared_data_dir, kind, fragment):
    compressed, raw = _test_images(shared_data_dir)
    folder = damaged_copy(tmp_path, shared_data_dir / "mnist", "t10k-images-idx3-ubyte.gz",
                          _damage(kind, compressed, raw))
    with pytest.raises(ValueError) as caught:
        load_mnist(data_dir=folder)
    message = str(caught.value)
    assert str(folder / "t10k-images-idx3-ubyte.gz") in message
    assert fragment in message and "expected" in message
    assert "--data-dir" in message


def test_missing_file_is_named(tmp_path, shared_data_dir):
    folder = damaged_copy(tmp_path, shared_data_dir / "mnist", "train-labels-idx1-ubyte.gz", b"")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="missing train-labels-idx1-ubyte.gz"):
        load_mnist(data_dir=folder)


# ---- memory ----


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_loading_mnist_peaks_well_under_300_mib(shared_data_dir):
    """uint8 file (45 MiB) + float32 images (179 MiB) + Python and NumPy (~35 MiB): no room for a
    third copy. A fresh process, so nothing else this test session allocated counts."""
    # NOTE: VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (this test run)
    script = (
        "from pathlib import Path\n"
        "from learnscope.data import load_mnist\n"
        f"data = load_mnist(data_dir={str(shared_data_dir)!r}, download=False)\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(int(line.split()[1]) for line in status if line.startswith('VmHWM:')) / 1024)\n"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    peak_mib = float(result.stdout.strip())
    assert peak_mib < 290, f"peak RSS {peak_mib:.0f} MiB"
