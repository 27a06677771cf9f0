"""Model files: weights as safetensors, the architecture as JSON in the same file's header.

This module is the file format only, below the model (it never imports Sequential): save_model writes anything
with layers, named_params() and named_buffers(); read_model_file checks a file and hands back its parts;
learnscope.model.load_model builds the Sequential from them.

Never pickle: loading a pickle runs whatever code it holds. A safetensors file is only numbers
and a JSON header, so a model from a stranger is safe to open. One file, written atomically
(a temporary file renamed into place), so a crash mid-save never leaves half a model.

Header metadata: format, format_version, learnscope_version, architecture (JSON: layer types and
constructor arguments), metadata (JSON: whatever the caller adds, e.g. hyperparameters), and a
SHA-256 over the tensor bytes so that a tampered or bit-flipped file is caught on load.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

from learnscope.core.files import write_atomically
from learnscope.core.validation import describe
from learnscope.core.version import __version__
from learnscope.layers import LAYER_TYPES

FORMAT = "learnscope-model"
FORMAT_VERSION = 1


EXTRA_PREFIX = "extra/"
#: Model files larger than this are refused before they are read (a learnscope MNIST MLP is about 1 MiB)
MAX_MODEL_FILE_BYTES = 512 * 2**20
#: The most layers a model file may list
MAX_LAYERS = 1000


def save_model(model, path, metadata: dict | None = None, extra_tensors: dict | None = None) -> Path:
    """Write the model (architecture, weights, batch-norm statistics) to `path`, atomically.
    extra_tensors: more arrays kept in the same file under "extra/<name>" (a checkpoint's optimizer state)."""
    if not all(hasattr(model, name) for name in ("layers", "named_params", "named_buffers", "dtype")):
        raise TypeError(f"save_model expected a Sequential model, got {describe(model)}.")
    path = Path(path)
    tensors = {name: np.ascontiguousarray(param) for name, param, _ in model.named_params()}
    tensors.update({name: np.ascontiguousarray(value) for name, value in model.named_buffers()})
    tensors.update({EXTRA_PREFIX + name: np.ascontiguousarray(value) for name, value in (extra_tensors or {}).items()})
    architecture = {
        "dtype": str(model.dtype),
        "layers": [{"type": type(layer).__name__, "config": layer.config()} for layer in model.layers],
    }
    try:
        extra = json.dumps(metadata or {})
    except TypeError as err:
        raise TypeError(f"save_model expected JSON-serialisable metadata, got {metadata!r}: {err}") from None
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "learnscope_version": __version__,
        "architecture": json.dumps(architecture),
        "metadata": extra,
        "sha256": _checksum(tensors),
    }
    return write_atomically(path, safetensors.numpy.save(tensors, metadata=header)).path


@dataclass
class ModelFile:
    """A checked model file's parts: the layers it describes (freshly built), and its tensors by name."""

    layers: list
    metadata: dict
    tensors: dict
    extras: dict                            # the extra_tensors given to save_model


def read_model_file(path) -> ModelFile:
    """Read and check a file written by save_model; every kind of damage gives a ValueError naming it.
    A file from a stranger is safe to open: its size is checked before it is read, and the tensors its header
    declares are checked against the tensors it holds before any layer is built (so a 600-byte file cannot ask
    for gigabytes of weights)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}. Check the path, or train one first.")
    size = path.stat().st_size
    if size > MAX_MODEL_FILE_BYTES:
        raise ValueError(f"{path} is {size / 2**20:,.0f} MiB; learnscope opens model files up to "
                         f"{MAX_MODEL_FILE_BYTES / 2**20:,.0f} MiB (a learnscope MNIST model is about 1 MiB). "
                         "Use a smaller model.")
    data = path.read_bytes()
    try:
        tensors = safetensors.numpy.load(data)
        header = _read_header(data)
    except (SafetensorError, ValueError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path} is not a readable model file (truncated or corrupted?): {err}. Save the model again."
        ) from None
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is a safetensors file but not a learnscope model (format {header.get('format')!r}).")
    version = header.get("format_version", "?")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ValueError(
            f"{path} uses model format {version}, written by learnscope {header.get('learnscope_version', '?')}; "
            f"this learnscope ({__version__}) reads format {FORMAT_VERSION}. Upgrade learnscope to open it."
        )
    if header.get("sha256") != _checksum(tensors):
        raise ValueError(f"{path}: the weights do not match the checksum in the header, so the file was modified "
                         "or damaged after saving. Use an untouched copy or save the model again.")
    extras = {name[len(EXTRA_PREFIX):]: tensors.pop(name) for name in list(tensors) if name.startswith(EXTRA_PREFIX)}
    try:
        architecture = json.loads(header["architecture"])
        metadata = json.loads(header.get("metadata", "{}"))
        specs = _layer_specs(architecture, path)
        _check_declared_tensors(specs, tensors, path)          # before any layer allocates its weights
        layers = [layer_type(**config, dtype=architecture["dtype"]) for layer_type, config in specs]
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: the architecture in the header is malformed ({err}). "
                         "Save the model again.") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: the metadata in the header is not a JSON object. Save the model again.")
    return ModelFile(layers, metadata, tensors, extras)


def _layer_specs(architecture: dict, path: Path) -> list[tuple[type, dict]]:
    """(layer class, constructor config) per layer of the header, with known types and JSON-object configs."""
    specs = architecture["layers"]
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_LAYERS:
        raise ValueError(f"{path}: the architecture must list 1 to {MAX_LAYERS} layers, got "
                         f"{len(specs) if isinstance(specs, list) else type(specs).__name__}. Save the model again.")
    found = []
    for spec in specs:
        layer_type = LAYER_TYPES.get(spec["type"])
        if layer_type is None:
            raise ValueError(f"unknown layer type {spec['type']!r}; this learnscope knows {', '.join(LAYER_TYPES)}. "
                             "The file may come from a newer learnscope: upgrade it.")
        if not isinstance(spec["config"], dict):
            raise TypeError(f"layer {len(found)}'s config is not a JSON object")
        found.append((layer_type, spec["config"]))
    return found


def _check_declared_tensors(specs, tensors: dict, path: Path) -> None:
    """The params and buffers the layers would hold (Layer.tensor_shapes, computed from the configs without
    allocating) must be exactly the tensors stored in the file: then building the model costs what the file
    holds, not what its header claims."""
    declared = {f"{index}.{layer_type.__name__.lower()}.{key}": tuple(shape)
                for index, (layer_type, config) in enumerate(specs)
                for key, shape in layer_type.tensor_shapes(config).items()}
    for name, shape in declared.items():
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ValueError(f"{path}: the architecture gives tensor {name!r} the shape {shape}, which is not a "
                             "shape. The file is inconsistent.")
        if name not in tensors:
            raise ValueError(f"{path} has no tensor {name!r}, which its architecture needs ({math.prod(shape):,} "
                             "numbers). The file is incomplete.")
        if tuple(tensors[name].shape) != shape:
            raise ValueError(f"{path}: tensor {name!r} has shape {tensors[name].shape}, the architecture expects "
                             f"{shape}. The file is inconsistent.")
    unexpected = sorted(set(tensors) - set(declared))
    if unexpected:
        raise ValueError(f"{path} holds tensors the architecture does not use: {unexpected}. The file is inconsistent.")


def fill_model(model, tensors: dict, path) -> None:
    """Copy the file's tensors into the model built from its layers (in place: grads and optimizers keep their
    references); a missing, misshapen or unused tensor is a ValueError."""
    expected = [(name, param) for name, param, _ in model.named_params()] + model.named_buffers()
    for name, target in expected:
        if name not in tensors:
            raise ValueError(f"{path} has no tensor {name!r}, which its architecture needs. The file is incomplete.")
        if tensors[name].shape != target.shape:
            raise ValueError(f"{path}: tensor {name!r} has shape {tensors[name].shape}, the architecture expects "
                             f"{target.shape}. The file is inconsistent.")
        target[...] = tensors[name]                     # in place: grads and optimizers keep their references
    unexpected = sorted(set(tensors) - {name for name, _ in expected})
    if unexpected:
        raise ValueError(f"{path} holds tensors the architecture does not use: {unexpected}. The file is inconsistent.")


def _read_header(data: bytes) -> dict:
    """The safetensors layout: 8 bytes little-endian header length, then a JSON header."""
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + length].decode("utf-8")).get("__metadata__") or {}


def _checksum(tensors: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
