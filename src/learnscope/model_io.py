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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

from learnscope import __version__
from learnscope.core.files import write_atomically
from learnscope.core.validation import describe
from learnscope.layers import LAYER_TYPES

FORMAT = "learnscope-model"
FORMAT_VERSION = 1


EXTRA_PREFIX = "extra/"


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
    """Read and check a file written by save_model; every kind of damage gives a ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}. Check the path, or train one first.")
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
    try:
        architecture = json.loads(header["architecture"])
        metadata = json.loads(header.get("metadata", "{}"))
        layers = _build(architecture)
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: the architecture in the header is malformed ({err}). "
                         "Save the model again.") from None
    extras = {name[len(EXTRA_PREFIX):]: tensors.pop(name) for name in list(tensors) if name.startswith(EXTRA_PREFIX)}
    return ModelFile(layers, metadata, tensors, extras)


def _build(architecture: dict) -> list:
    layers = []
    for spec in architecture["layers"]:
        layer_type = LAYER_TYPES.get(spec["type"])
        if layer_type is None:
            raise ValueError(f"unknown layer type {spec['type']!r}; this learnscope knows {', '.join(LAYER_TYPES)}. "
                             "The file may come from a newer learnscope: upgrade it.")
        layers.append(layer_type(**spec["config"], dtype=architecture["dtype"]))
    return layers


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
