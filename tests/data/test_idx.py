"""read_idx and mnist_files on the real MNIST / Fashion-MNIST copies, on small synthetic IDX files of
every type, and on damaged copies that must each fail with a message naming the file."""

import gzip
import hashlib

import numpy as np
import pytest

from learnscope.data.idx import IDX_TYPES, mnist_files, read_idx

# uncompressed sha256, from shared/data/README.md
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
# digits 0..9 in the canonical MNIST files
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """Encode an array as IDX: magic, type, ndim, big-endian dims, big-endian data."""
    big_endian = array.astype(IDX_TYPES[type_code][1])
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return bytes([0, 0, type_code, array.ndim]) + dims + big_endian.tobytes()


@pytest.fixture(scope="module")
def mnist_dir(shared_data_dir):
    return shared_data_dir / "mnist"


@pytest.fixture(scope="module")
def label_bytes(mnist_dir):
    """The decompressed test-labels file: small, so damaged copies of it are cheap."""
    return gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())


# ---- the real files ----


def test_mnist_train_shapes_and_labels(mnist_dir):
    images_path, labels_path = mnist_files(mnist_dir, "train")
    images, labels = read_idx(images_path), read_idx(labels_path)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert images.flags.writeable and images.flags.c_contiguous
    counts = np.bincount(labels, minlength=10)
    assert len(counts) == 10 and counts.sum() == 60000
    assert counts.min() > 5000
    assert counts.tolist() == MNIST_TRAIN_COUNTS
    assert images.min() == 0 and images.max() == 255


def test_mnist_test_shapes_and_labels(mnist_dir):
    images_path, labels_path = mnist_files(mnist_dir, "test")
    images, labels = read_idx(images_path), read_idx(labels_path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,)
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_COUNTS


def test_fashion_mnist_shapes(shared_data_dir):
    folder = shared_data_dir / "fashion-mnist"
    for split, n_samples in (("train", 60000), ("test", 10000)):
        images_path, labels_path = mnist_files(folder, split)
        images, labels = read_idx(images_path), read_idx(labels_path)
        assert images.shape == (n_samples, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n_samples,)
        assert np.bincount(labels, minlength=10).tolist() == [n_samples // 10] * 10  # balanced classes


@pytest.mark.parametrize("dataset, name", [(dataset, name) for dataset, files in SHA256.items() for name in files])
def test_uncompressed_sha256_matches_readme(shared_data_dir, dataset, name):
    content = gzip.decompress((shared_data_dir / dataset / name).read_bytes())
    assert hashlib.sha256(content).hexdigest() == SHA256[dataset][name]


@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "train-labels-idx1-ubyte"])
def test_gzip_and_raw_give_identical_arrays(mnist_dir, tmp_path, name):
    raw_path = tmp_path / name
    raw_path.write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
    np.testing.assert_array_equal(read_idx(raw_path), read_idx(mnist_dir / f"{name}.gz"))


def test_format_detected_by_magic_not_name(tmp_path, label_bytes):
    gz_named_raw = tmp_path / "labels-raw.gz"
    gz_named_raw.write_bytes(label_bytes)
    raw_named_gz = tmp_path / "labels-compressed"
    raw_named_gz.write_bytes(gzip.compress(label_bytes))
    np.testing.assert_array_equal(read_idx(gz_named_raw), read_idx(raw_named_gz))


# ---- every type code, native byte order ----


@pytest.mark.parametrize("type_code", sorted(IDX_TYPES))
@pytest.mark.parametrize("compress", [False, True])
def test_every_type_round_trips_in_native_order(tmp_path, type_code, compress):
    dtype = IDX_TYPES[type_code][1].newbyteorder("=")
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    values = np.array([info.min, 0, 1, 7, info.max, 3, 2, 1, 0, 5, 6, 4], dtype=dtype).reshape(2, 3, 2)
    content = idx_bytes(values, type_code)
    path = tmp_path / "values.idx"
    path.write_bytes(gzip.compress(content) if compress else content)
    result = read_idx(path)
    assert result.dtype == dtype and result.dtype.isnative
    np.testing.assert_array_equal(result, values)
    result[0, 0, 0] = 1  # writeable


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (1, 2, 3, 2)])
def test_one_to_four_dimensions(tmp_path, shape):
    values = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    path = tmp_path / "values.idx"
    path.write_bytes(idx_bytes(values, 0x0C))
    np.testing.assert_array_equal(read_idx(path), values)


# ---- damaged files: each a ValueError that names the file ----


def _damaged(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _expect_error(path, *fragments):
    with pytest.raises(ValueError) as caught:
        read_idx(path)
    message = str(caught.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message
    return message


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_data(tmp_path, label_bytes, compress):
    content = label_bytes[:-100]
    path = _damaged(tmp_path, "truncated-labels", gzip.compress(content) if compress else content)
    _expect_error(path, "truncated", "expected", "10000 data bytes")


@pytest.mark.parametrize("n_bytes", [0, 3, 6])
def test_truncated_header(tmp_path, label_bytes, n_bytes):
    _expect_error(_damaged(tmp_path, "short-header", label_bytes[:n_bytes]), "truncated")


def test_truncated_gzip_stream(tmp_path, mnist_dir):
    compressed = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    _expect_error(_damaged(tmp_path, "cut.gz", compressed[: len(compressed) // 2]), "gzip")


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_magic(tmp_path, label_bytes, compress):
    content = b"\x01\x00" + label_bytes[2:]
    path = _damaged(tmp_path, "bad-magic", gzip.compress(content) if compress else content)
    _expect_error(path, "magic", "01 00")


def test_unknown_type_code(tmp_path, label_bytes):
    content = label_bytes[:2] + b"\x07" + label_bytes[3:]
    _expect_error(_damaged(tmp_path, "bad-type", content), "type code", "0x07")


@pytest.mark.parametrize("ndim", [0, 5, 255])
def test_wrong_dimension_count(tmp_path, label_bytes, ndim):
    content = label_bytes[:3] + bytes([ndim]) + label_bytes[4:]
    _expect_error(_damaged(tmp_path, "bad-ndim", content), "dimensions", str(ndim))


def test_dimension_count_off_by_one(tmp_path, mnist_dir):
    # images with ndim 3 -> 2: the header now reads (10000, 28) and the rest looks like trailing bytes
    content = bytearray(gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[3] = 2
    _expect_error(_damaged(tmp_path, "images-ndim2", bytes(content)), "trailing")


def test_absurd_dimensions_fail_before_allocating(tmp_path, label_bytes):
    content = label_bytes[:4] + b"\xff\xff\xff\xff" + label_bytes[8:]
    _expect_error(_damaged(tmp_path, "huge-dims", content), "truncated")
    _expect_error(_damaged(tmp_path, "huge-dims.gz", gzip.compress(content)))


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, -6])
def test_flipped_bytes_inside_gzip_stream(tmp_path, mnist_dir, where):
    compressed = bytearray((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    start = int(len(compressed) * where) if where > 0 else len(compressed) + where  # -6: inside the CRC trailer
    for i in range(start, start + 4):
        compressed[i] ^= 0xFF
    _expect_error(_damaged(tmp_path, "flipped.gz", bytes(compressed)), "gzip")


@pytest.mark.parametrize("compress", [False, True])
def test_extra_trailing_bytes(tmp_path, label_bytes, compress):
    content = label_bytes + b"\x00" * 7
    path = _damaged(tmp_path, "trailing-labels", gzip.compress(content) if compress else content)
    _expect_error(path, "trailing")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-file"):
        read_idx(tmp_path / "no-such-file.gz")
    with pytest.raises(FileNotFoundError, match="folder"):
        read_idx(tmp_path)


# ---- mnist_files ----


def test_mnist_files_finds_gz(mnist_dir):
    images, labels = mnist_files(mnist_dir, "test")
    assert (images.name, labels.name) == ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def test_mnist_files_prefers_raw(tmp_path, label_bytes):
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(b"")
    images, labels = mnist_files(tmp_path, "train")
    assert (images.name, labels.name) == ("train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz")


def test_mnist_files_lists_what_it_looked_for(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError) as caught:
        mnist_files(tmp_path, "test")
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message and "LEARNSCOPE_DATA" in message


def test_mnist_files_missing_folder_and_bad_split(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist_files(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split"):
        mnist_files(tmp_path, "validation")


def test_a_small_gzip_whose_header_claims_a_huge_shape_allocates_nothing_like_it(tmp_path):
    import tracemalloc

    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 0x08, 3]) + np.array([60000, 28, 28], dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + bytes(1000)))           # 47 MB promised, 1 kB delivered
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="got 1000: the decompressed data is truncated"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak

    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 3]) + np.array([1_000_000, 28, 28], dtype=">u4").tobytes()))
    with pytest.raises(ValueError, match="learnscope reads IDX files of up to"):
        read_idx(path)
