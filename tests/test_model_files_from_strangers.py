"""A model file from a stranger is safe to open: a few hundred bytes that ask for gigabytes are refused before
anything is allocated (checked in a child process under a 1 GiB address-space limit), and every layer declares
the tensors it will hold without building them."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import safetensors.numpy

from learnscope.layers import LAYER_TYPES, BatchNorm, Conv2D, Dense, Perceptron, Residual
from learnscope.model import Sequential, load_model
from learnscope.model_io import MAX_MODEL_FILE_BYTES, save_model

LOAD_UNDER_ONE_GIB = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from learnscope.model import load_model
try:
    load_model(sys.argv[1])
except ValueError as error:
    print("refused:", error)
else:
    print("loaded")
"""


def forged(tmp_path, name: str, layers: list[dict], real=None) -> str:
    """A real small model file (one Dense unit unless `real` is given) whose header's architecture is replaced:
    its checksum (over the tensors) still holds."""
    path = tmp_path / f"{name}.safetensors"
    save_model(real or Sequential([Dense(1, 1)]), path)
    with open(path, "rb") as file:
        data = file.read()
    tensors = safetensors.numpy.load(data)
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]
    header["architecture"] = json.dumps({"dtype": "float32", "layers": layers})
    path.write_bytes(safetensors.numpy.save(tensors, metadata=header))
    return str(path)


@pytest.mark.parametrize(("name", "layers", "says"), [
    ("four-huge-dense", [{"type": "Dense", "config": {"n_in": 11585, "n_out": 11585}}] * 4,
     "tensor '0.dense.W' has shape (1, 1), the architecture expects (11585, 11585)"),
    ("huge-perceptron", [{"type": "Perceptron", "config": {"n_in": 500_000_000}}],
     "has no tensor '0.perceptron.W', which its architecture needs (500,000,000 numbers)"),
    ("huge-padding", [{"type": "Conv2D", "config": {"in_channels": 1, "out_channels": 1, "kernel_size": 3,
                                                    "padding": 12000}}], "padding of at most the kernel size"),
])
def test_a_tiny_file_asking_for_gigabytes_is_refused_within_a_gib(tmp_path, name, layers, says):
    real = Sequential([Conv2D(1, 1, 3)]) if name == "huge-padding" else None     # its tensors match: the config lies
    path = forged(tmp_path, name, layers, real)
    assert os.path.getsize(path) < 1000
    result = subprocess.run([sys.executable, "-c", LOAD_UNDER_ONE_GIB, path], capture_output=True, text=True,
                            timeout=60, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]                  # no MemoryError, no traceback
    assert result.stdout.startswith("refused:") and says in result.stdout, result.stdout


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as file:
        file.truncate(MAX_MODEL_FILE_BYTES + 1)                            # sparse: no disk used
    with pytest.raises(ValueError, match="learnscope opens model files up to 512 MiB"):
        load_model(path)


EXAMPLE_CONFIGS = {
    Dense: {"n_in": 3, "n_out": 5}, Conv2D: {"in_channels": 2, "out_channels": 4, "kernel_size": [3, 2]},
    BatchNorm: {"n_features": 6}, Perceptron: {"n_in": 7}, Residual: {"width": 4, "activation": "sigmoid"},
}


@pytest.mark.parametrize("layer_type", list(LAYER_TYPES.values()), ids=list(LAYER_TYPES))
def test_every_layer_declares_exactly_the_tensors_it_builds(layer_type):
    config = EXAMPLE_CONFIGS.get(layer_type, {})
    layer = layer_type(**config)
    built = {**{key: value.shape for key, value in layer.params.items()},
             **{key: value.shape for key, value in layer.buffers.items()}}
    assert layer_type.tensor_shapes(layer.config()) == built
    assert all(isinstance(value, np.ndarray) for value in layer.params.values())
