"""Fuzzing what a stranger can hand learnscope: command-line arguments, CSV files, pictures and model-file headers.
Whatever comes in, the answer is a result or an explained error — no traceback, no hang — and memory stays bounded
(tracemalloc's peak per case)."""

import contextlib
import json
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnscope.cli import main
from learnscope.data.images import load_image
from learnscope.data.table import load_csv
from learnscope.layers import Dense, ReLU
from learnscope.model import Sequential, load_model
from learnscope.model_io import save_model

EXPLAINED = (ValueError, TypeError, FileNotFoundError)
#: No case may take more memory than this (the real data behind each is a few kB)
MEMORY_LIMIT_BYTES = 64 * 2**20
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Bounded:
    """tracemalloc's peak across a case: numpy's arrays are counted too."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, self.peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert self.peak < MEMORY_LIMIT_BYTES, f"a case took {self.peak / 2**20:.0f} MiB"


# -- command-line arguments --------------------------------------------------------------------------------------
numbers_as_text = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=True).map(repr),
                            st.sampled_from(["", "nan", "inf", "-0", "1e400", "full", "1,2", "abc", "[/]"]))
OPTIONS = ["--epochs", "--lr", "--batch-size", "--samples", "--noise", "--hidden", "--l2", "--dropout", "--seed",
           "--model", "--activation", "--optimizer", "--schedule", "--label", "--task", "--delimiter"]


@FUZZ
@given(dataset=st.sampled_from(["xor", "spiral", "moons", "sine", "cifar", "", "../etc"]),
       options=st.lists(st.tuples(st.sampled_from(OPTIONS), numbers_as_text), max_size=4))
def test_train_answers_any_arguments_with_a_result_or_one_line(dataset, options, tmp_path, capsys):
    arguments = ["train", dataset, "--no-record", "-o", str(tmp_path / "out.safetensors")]
    for option, value in options:
        if option == "--epochs" and value.lstrip("-").isdigit() and int(value) > 20:
            value = "20"                                # valid but long runs are not what this fuzzes
        if option == "--samples" and value.lstrip("-").isdigit() and 4 <= int(value) <= 1_000_000:
            value = str(min(int(value), 2000))
        arguments += [option, value]
    code = main(arguments)
    _, err = capsys.readouterr()
    assert code in (0, 1, 2), code
    assert "Traceback" not in err
    if code == 1:
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err


# -- CSV files ---------------------------------------------------------------------------------------------------
cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**6, 10**6).map(str),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6))
rows = st.lists(st.lists(cells, min_size=0, max_size=5), min_size=0, max_size=25)


@FUZZ
@given(table=rows, separator=st.sampled_from([",", ";", "\t"]), label=st.sampled_from([-1, 0, "label", "x"]))
def test_any_csv_gives_a_table_or_an_explained_error(table, separator, label, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("\n".join(separator.join(row) for row in table), encoding="utf-8")
    with Bounded():
        try:
            data = load_csv(path, label)
        except EXPLAINED:
            return
    assert np.isfinite(data.x_train).all() and len(data.x_train) + len(data.x_test) > 0


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_any_bytes_as_a_csv_give_an_explained_error(raw, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    with Bounded(), contextlib.suppress(*EXPLAINED):
        load_csv(path, -1)


# -- pictures ------------------------------------------------------------------------------------------------------
@FUZZ
@given(width=st.integers(1, 300), height=st.integers(1, 300),
       mode=st.sampled_from(["L", "RGB", "RGBA", "1", "P", "LA"]), fmt=st.sampled_from(["PNG", "BMP", "GIF", "TIFF"]),
       seed=st.integers(0, 10))
def test_any_picture_reads_into_zero_to_one_or_is_refused(width, height, mode, fmt, seed, tmp_path):
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    image = Image.fromarray(pixels, "L").convert(mode)
    path = tmp_path / f"picture.{fmt.lower()}"
    image.save(path, format=fmt)
    with Bounded():
        gray = load_image(path)
    assert gray.shape == (height, width) and gray.min() >= 0 and gray.max() <= 1


@FUZZ
@given(raw=st.binary(max_size=4000), prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM"]))
def test_any_bytes_as_a_picture_give_an_explained_error(raw, prefix, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(prefix + raw)
    with Bounded(), contextlib.suppress(*EXPLAINED):
        load_image(path)


# -- model-file headers ----------------------------------------------------------------------------------------------
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(),
                                     st.text(max_size=8)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)
layer_specs = st.fixed_dictionaries({
    "type": st.sampled_from(["Dense", "Conv2D", "BatchNorm", "Perceptron", "ReLU", "Flatten", "MaxPool2D", "Evil"]),
    "config": st.dictionaries(st.sampled_from(["n_in", "n_out", "in_channels", "out_channels", "kernel_size",
                                               "padding", "stride", "n_features", "pool_size", "p", "alpha"]),
                              st.one_of(st.integers(-5, 10**9), json_values), max_size=5)})


@pytest.fixture(scope="module")
def real_model_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "real.safetensors"
    save_model(Sequential([Dense(3, 2), ReLU(), Dense(2, 1)]), path)
    return path.read_bytes()


@FUZZ
@given(architecture=st.one_of(st.fixed_dictionaries({"dtype": st.sampled_from(["float32", "float64", "int8", "x"]),
                                                     "layers": st.lists(layer_specs, max_size=4)}), json_values),
       metadata=json_values)
def test_any_header_gives_a_model_or_an_explained_error(architecture, metadata, real_model_bytes, tmp_path):
    data = real_model_bytes
    tensors = safetensors.numpy.load(data)
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]
    header["architecture"] = json.dumps(architecture)
    header["metadata"] = json.dumps(metadata)
    path = tmp_path / "forged.safetensors"
    path.write_bytes(safetensors.numpy.save(tensors, metadata=header))
    with Bounded():
        try:
            model = load_model(path)
        except EXPLAINED:
            return
    assert isinstance(model, Sequential)


@FUZZ
@given(cut=st.integers(0, 400), flip=st.integers(0, 400))
def test_a_damaged_model_file_gives_an_explained_error(cut, flip, real_model_bytes, tmp_path):
    data = bytearray(real_model_bytes[:max(cut, 0)] if cut < len(real_model_bytes) else real_model_bytes)
    if flip < len(data):
        data[flip] ^= 0xFF
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(bytes(data))
    with Bounded(), contextlib.suppress(*EXPLAINED):
        load_model(path)
