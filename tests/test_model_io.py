"""Model files: round trip, and every kind of damage named clearly."""

import json

import numpy as np
import pytest

from learnscope.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Residual
from learnscope.model import Sequential, load_model, load_model_with_metadata
from learnscope.model_io import save_model


def cnn(seed=0):
    return Sequential([Conv2D(1, 4, 3, padding=1), BatchNorm(4), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(4 * 4 * 4, 16), Dropout(0.3), ReLU(), Dense(16, 3)], seed=seed)


def images(n=6):
    return np.random.default_rng(0).standard_normal((n, 1, 8, 8)).astype(np.float32)


@pytest.fixture
def saved(tmp_path):
    model = cnn()
    model.forward(images(), train=True)                 # moves batch-norm running statistics
    path = save_model(model, tmp_path / "model.safetensors", metadata={"lr": 0.1, "dataset": "toy"})
    return model, path


def test_round_trip_gives_identical_predictions_and_metadata(saved):
    model, path = saved
    loaded, metadata = load_model_with_metadata(path)
    np.testing.assert_array_equal(loaded.predict(images()), model.predict(images()))
    assert metadata == {"lr": 0.1, "dataset": "toy"}
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    for (name, a, _), (_, b, _) in zip(model.named_params(), loaded.named_params()):
        assert a.tobytes() == b.tobytes(), name
    np.testing.assert_array_equal(loaded.layers[1].buffers["running_mean"], model.layers[1].buffers["running_mean"])


def test_a_residual_net_round_trips_with_its_activation_and_weights(tmp_path):
    model = Sequential([Dense(3, 4), Residual(4, "sigmoid"), Residual(4, "tanh"), Dense(4, 2)], seed=1)
    loaded = load_model(save_model(model, tmp_path / "residual.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert [layer.activation for layer in loaded.layers[1:3]] == ["sigmoid", "tanh"]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_method_form_and_float64_round_trip(tmp_path):
    model = Sequential([Dense(3, 2)], seed=0).astype(np.float64)
    model.save(tmp_path / "m.safetensors")
    loaded = Sequential.load(tmp_path / "m.safetensors")
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.layers[0].params["W"], model.layers[0].params["W"])


def test_the_file_contains_no_pickle(saved):
    _, path = saved
    data = path.read_bytes()
    assert b"\x80\x04\x95" not in data and b"cnumpy" not in data   # pickle protocol 4 opcode / class refs


def test_saving_over_a_file_is_atomic_and_leaves_no_temporaries(saved, tmp_path):
    model, path = saved
    save_model(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_truncated_file(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load_model(path)


def test_garbage_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"this is not a model")
    with pytest.raises(ValueError, match="not a readable model file"):
        load_model(path)


def test_flipped_weight_bytes_are_caught_by_the_checksum(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF                                    # one byte inside the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        load_model(path)


def rewrite_header(path, change):
    """Edit the JSON header the way a tamperer or a future version would, keeping the file valid."""
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    change(header)
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data[8 + length:])


def test_newer_format_version_says_upgrade(saved):
    _, path = saved
    rewrite_header(path, lambda h: h["__metadata__"].update(format_version="99"))
    with pytest.raises(ValueError, match="format 99.*Upgrade learnscope"):
        load_model(path)


def test_unknown_layer_type(saved):
    _, path = saved

    def rename_layer(header):
        architecture = json.loads(header["__metadata__"]["architecture"])
        architecture["layers"][2]["type"] = "Swish"
        header["__metadata__"]["architecture"] = json.dumps(architecture)

    rewrite_header(path, rename_layer)
    with pytest.raises(ValueError, match="unknown layer type 'Swish'"):
        load_model(path)


def test_architecture_that_does_not_fit_the_tensors(saved):
    _, path = saved

    def widen(header):
        architecture = json.loads(header["__metadata__"]["architecture"])
        architecture["layers"][-1]["config"]["n_out"] = 5
        header["__metadata__"]["architecture"] = json.dumps(architecture)

    rewrite_header(path, widen)
    with pytest.raises(ValueError, match=r"'8.dense.W' has shape \(16, 3\).*expects \(16, 5\)"):
        load_model(path)


def test_missing_tensor(tmp_path):
    small = Sequential([Dense(3, 2)], seed=0)
    path = save_model(small, tmp_path / "small.safetensors")

    def add_layer(header):
        architecture = json.loads(header["__metadata__"]["architecture"])
        architecture["layers"].append({"type": "Dense", "config": {"n_in": 2, "n_out": 2}})
        header["__metadata__"]["architecture"] = json.dumps(architecture)

    rewrite_header(path, add_layer)
    with pytest.raises(ValueError, match="no tensor '1.dense.W'"):
        load_model(path)


def test_foreign_safetensors_file(tmp_path):
    import safetensors.numpy

    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.ones(3, dtype=np.float32)}, str(path))
    with pytest.raises(ValueError, match="not a learnscope model"):
        load_model(path)


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_model(tmp_path / "nope.safetensors")
    with pytest.raises(TypeError, match="Sequential"):
        save_model("not a model", tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="JSON"):
        save_model(Sequential([Dense(1, 1)]), tmp_path / "x.safetensors", metadata={"f": object()})
