"""MNIST, Fashion-MNIST and scikit-learn's 8×8 digits as Datasets: images (N, 1, H, W) float32 in
[0, 1], labels int64. sources.py decides where the files come from; this module turns them into arrays."""

import numpy as np

from learnscope.data.dataset import Dataset
from learnscope.data.idx import read_idx
from learnscope.data.sources import DataFile, DatasetSource, find_dataset_files, get_source

MNIST_CLASS_NAMES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DATASET_NAMES = ("mnist", "fashion-mnist", "digits")


def load_mnist(data_dir=None, download: bool = True, progress=True, verify: bool = False) -> Dataset:
    """MNIST handwritten digits: 60000 train + 10000 test images (N, 1, 28, 28) float32 in [0, 1], labels 0..9.
    Files come from data_dir, $LEARNSCOPE_DATA, the cache or a download (see learnscope.data.sources)."""
    return _load_idx_dataset("mnist", MNIST_CLASS_NAMES, data_dir, download, progress, verify)


def load_fashion_mnist(data_dir=None, download: bool = True, progress=True, verify: bool = False) -> Dataset:
    """Fashion-MNIST clothing: 60000 train + 10000 test images (N, 1, 28, 28) float32 in [0, 1], 10 classes
    (T-shirt/top ... Ankle boot). Same files, shapes and sources as load_mnist."""
    return _load_idx_dataset("fashion-mnist", FASHION_MNIST_CLASS_NAMES, data_dir, download, progress, verify)


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's 1797 8×8 digits (no download: they ship inside scikit-learn), (N, 1, 8, 8) float32 in
    [0, 1], split train/test stratified by class with a fixed seed. The offline stand-in for MNIST."""
    from sklearn.datasets import load_digits as sklearn_digits  # scikit-learn is needed only here
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    # pixel values are whole numbers 0..16 (counts of set pixels in 4×4 blocks of the 32×32 originals)
    images = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=test_fraction,
                                                        stratify=labels, random_state=seed)
    return Dataset("digits", x_train, y_train, x_test, y_test, MNIST_CLASS_NAMES,
                   "scikit-learn load_digits() (UCI optical digits, 8×8, bundled with scikit-learn)")


def load_dataset(name: str, data_dir=None, download: bool = True, progress=True) -> Dataset:
    """Load "mnist", "fashion-mnist" or "digits" by name (case and _/- don't matter)."""
    if not isinstance(name, str):
        raise TypeError(f"load_dataset expected a dataset name, got {type(name).__name__}. "
                        f"Use one of {', '.join(DATASET_NAMES)}.")
    key = name.strip().lower().replace("_", "-")
    if key == "digits":
        return load_digits()
    if key == "mnist":
        return load_mnist(data_dir, download, progress)
    if key == "fashion-mnist":
        return load_fashion_mnist(data_dir, download, progress)
    raise ValueError(f"load_dataset expected one of {', '.join(repr(n) for n in DATASET_NAMES)}, got {name!r}. "
                     "'digits' needs no download.")


def _load_idx_dataset(name, class_names, data_dir, download, progress, verify) -> Dataset:
    source = get_source(name)
    files = find_dataset_files(name, data_dir=data_dir, download=download, progress=progress, verify=verify)
    # train images first: the largest array is converted while nothing else is held, which sets the peak
    x_train = _read_images(files["train_images"], source, source.file("train_images"))
    y_train = _read_labels(files["train_labels"], source, source.file("train_labels"))
    x_test = _read_images(files["test_images"], source, source.file("test_images"))
    y_test = _read_labels(files["test_labels"], source, source.file("test_labels"))
    return Dataset(name, x_train, y_train, x_test, y_test, list(class_names), files.source)


def _read_images(path, source: DatasetSource, data_file: DataFile) -> np.ndarray:
    """uint8 (N, H, W) file -> float32 (N, 1, H, W) in [0, 1], without a second full-size temporary."""
    pixels = _read_checked(path, source, data_file)
    images = np.empty((pixels.shape[0], 1, *pixels.shape[1:]), dtype=np.float32)
    # NOTE: the ufunc casts uint8 -> float32 in small buffered blocks straight into `images`, so the peak is
    # 4 bytes + 1 byte per pixel (235 MB for MNIST), not the 3 copies of `pixels.astype(np.float32) / 255`
    np.divide(pixels[:, None], np.float32(255), out=images, casting="unsafe")
    del pixels
    return images


def _read_labels(path, source: DatasetSource, data_file: DataFile) -> np.ndarray:
    labels = _read_checked(path, source, data_file)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{path}: expected {source.title} labels 0..9, got values up to {labels.max()}. "
                         f"{_fix(source)}")
    return labels.astype(np.int64)


def _read_checked(path, source: DatasetSource, data_file: DataFile) -> np.ndarray:
    """read_idx (which checks the structure) plus the shape and type this file must have."""
    array = read_idx(path)
    if array.shape != data_file.shape or array.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected the {source.title} file {data_file.name} of shape {data_file.shape} uint8, got shape "
            f"{array.shape} {array.dtype}: the file is damaged, incomplete or another file renamed. {_fix(source)}"
        )
    return array


def _fix(source: DatasetSource) -> str:
    return (f"Fix: replace it with a fresh copy (from {source.mirrors[0]}), point --data-dir / LEARNSCOPE_DATA at "
            f"a folder with intact {source.title} files, or delete it if it is in the cache to download it again.")
