"""Sequential: layers applied one after another. The only loop over layers, and so the only place
hooks fire: layers never know they are being watched."""

import copy
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from learnscope.core.dtype import resolve_dtype
from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_finite, check_int, describe
from learnscope.layers.base import Flops, Layer
from learnscope.layers.dense import Dense
from learnscope.model_io import fill_model, read_model_file, save_model

HOOK_KINDS = ("forward", "backward")


class HookHandle:
    """Returned by register_hook; `remove()` detaches the hook (calling it twice is harmless)."""

    def __init__(self, hooks: list, fn: Callable):
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class Sequential:
    """A stack of layers.   forward: x -> layer_1 -> ... -> layer_L;  backward: the chain rule in reverse."""

    def __init__(self, layers: Iterable[Layer], seed=None):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential expected at least one layer, got none. Pass e.g. [Dense(2, 4), Tanh(), ...].")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential expected Layer objects, got {describe(layer)} at position {index}. "
                    "Create layers with e.g. Dense(2, 4) (note the parentheses)."
                )
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) > 1:
            raise ValueError(f"Sequential expected all layers to share one dtype, got {sorted(map(str, dtypes))}. "
                             "Build them with the same dtype, or call model.astype(np.float32) afterwards.")
        self.layers = layers
        self.dtype = layers[0].dtype
        self._hooks = {kind: [] for kind in HOOK_KINDS}
        if seed is not None:
            self.reset(seed)

    def reset(self, seed=None) -> None:
        """Redraw every layer's parameters and random stream from one seed: same seed, same run."""
        children = make_rng(seed).spawn(len(self.layers))
        for layer, rng in zip(self.layers, children):
            if hasattr(layer, "reset"):
                layer.reset(rng)

    # -- the passes ----------------------------------------------------------------------------
    def forward(self, x, train: bool = False) -> np.ndarray:
        """Output of the whole network. `train=True` turns on dropout and batch statistics (not in frozen layers)."""
        x = check_array(x, "x", "Sequential.forward", dtype=self.dtype)
        check_finite(x, "x", "Sequential.forward", hint="Remove or impute the missing values in the input.")
        hooks = self._hooks["forward"]
        if not hooks:                                   # fast path: nobody is watching
            for layer in self.layers:
                x = layer.forward(x, train and not layer.frozen)
            return x
        for index, layer in enumerate(self.layers):
            out = layer.forward(x, train and not layer.frozen)
            for hook in list(hooks):
                hook(index, layer, x, out)
            x = out
        return x

    def backward(self, grad, need_input_grad: bool = True):
        """Send d(loss)/d(output) back through every layer, filling each layer's `grads`.
        Returns d(loss)/d(input) (saliency needs it), or None with need_input_grad=False (faster)."""
        hooks = self._hooks["backward"]
        # Without an input gradient, the chain can stop at the first layer with parameters: the layers
        # before it (a Flatten, say) have nothing to learn, and that layer's own dL/dx would be thrown away.
        stop = 0 if need_input_grad else self._first_trainable
        for index in range(len(self.layers) - 1, stop - 1, -1):
            layer = self.layers[index]
            grad_in = layer.backward(grad, need_input_grad or index > stop)
            for hook in list(hooks):
                hook(index, layer, grad, grad_in)
            grad = grad_in
        return grad if need_input_grad else None

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """Outputs in eval mode (no dropout, running batch-norm statistics), computed in batches."""
        batch_size = check_int(batch_size, "batch_size", "Sequential.predict", minimum=1)
        x = check_array(x, "x", "Sequential.predict", dtype=self.dtype)
        if len(x) == 0:
            raise ValueError("Sequential.predict expected at least one example, got an empty array.")
        outputs = [self.forward(x[start:start + batch_size]) for start in range(0, len(x), batch_size)]
        return np.concatenate(outputs)

    @property
    def min_batch_size(self) -> int:
        """The fewest examples a training batch may hold: 2 with batch norm, else 1 (see minibatch_indices)."""
        return max(layer.min_batch_size for layer in self.layers)

    # -- parameters ----------------------------------------------------------------------------
    @property
    def _first_trainable(self) -> int:
        """Index of the first layer with parameters that are not frozen (the last layer if there is none)."""
        return next((i for i, layer in enumerate(self.layers) if layer.params and not layer.frozen),
                    len(self.layers) - 1)

    def named_params(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """[("0.dense.W", W, dW), ...]: every parameter, frozen or not: what model files hold and the recorder
        samples."""
        return [
            (f"{index}.{type(layer).__name__.lower()}.{key}", param, layer.grads[key])
            for index, layer in enumerate(self.layers)
            for key, param in layer.params.items()
        ]

    def trainable_params(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """named_params() without the frozen layers': what the optimizer walks."""
        return [(name, param, grad) for name, param, grad in self.named_params()
                if not self.layers[int(name.split(".", 1)[0])].frozen]

    # -- transfer learning -----------------------------------------------------------------------
    def freeze(self, n_layers: int) -> "Sequential":
        """Freeze the first n_layers layers (the rest learn): training leaves their weights bit for bit as they are
        and runs them in eval mode (no dropout; batch norm keeps its running statistics), so they compute the
        same features for an example every time. Backpropagation stops below the first layer that learns."""
        n_layers = check_int(n_layers, "n_layers", "Sequential.freeze", minimum=0, maximum=len(self.layers),
                             fix=f"Pass how many layers from the input to freeze, 0 to {len(self.layers)}.")
        for index, layer in enumerate(self.layers):
            layer.frozen = index < n_layers
            if layer.frozen:
                layer.zero_grad()           # backward no longer reaches it: no stale gradient for the recorder to show
        return self

    def unfreeze(self) -> "Sequential":
        """Let every layer learn again (fine-tuning)."""
        return self.freeze(0)

    @property
    def n_frozen(self) -> int:
        """How many layers from the input are frozen."""
        return next((i for i, layer in enumerate(self.layers) if not layer.frozen), len(self.layers))

    def replace_head(self, n_outputs: int, seed=None) -> "Sequential":
        """A new model: a copy of this one's layers up to its last Dense (the body: its features), then a fresh
        Dense(n_in, n_outputs) drawn from `seed` (the head) for a new task. This model is left untouched.
        (N, ...) -> (N, n_outputs)"""
        n_outputs = check_int(n_outputs, "n_outputs", "Sequential.replace_head", minimum=1,
                              fix="Pass the number of classes of the new task, e.g. 10.")
        last = next((i for i in range(len(self.layers) - 1, -1, -1) if isinstance(self.layers[i], Dense)), None)
        if last is None:
            raise ValueError(f"Sequential.replace_head expected a model ending in a Dense layer (its head), got "
                             f"{self!r}. Build the model with a Dense output layer.")
        old = self.layers[last]
        head = Dense(old.n_in, n_outputs, init=old.init.config(), bias_init=old.bias_init.config(),
                     rng=make_rng(seed), dtype=self.dtype)
        body = copy.deepcopy(self.layers[:last])
        for layer in body:
            layer.frozen = False
            layer.zero_grad()               # the copied gradients belong to the old task's last step
        return Sequential([*body, head])

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """Non-trained state saved with the model, e.g. ("2.batchnorm.running_mean", array)."""
        return [
            (f"{index}.{type(layer).__name__.lower()}.{key}", value)
            for index, layer in enumerate(self.layers)
            for key, value in layer.buffers.items()
        ]

    def n_params(self) -> int:
        """Number of trainable numbers in the network."""
        return sum(param.size for _, param, _ in self.named_params())

    def astype(self, dtype) -> "Sequential":
        """Convert every layer to float32 or float64 in place (gradient checks use float64).
        NOTE: build the optimizer afterwards; it holds references to the old arrays."""
        self.dtype = resolve_dtype(dtype)
        for layer in self.layers:
            layer.astype(self.dtype)
        return self

    # -- watching --------------------------------------------------------------------------------
    def register_hook(self, kind: str, fn: Callable) -> HookHandle:
        """Call fn(index, layer, input, output) after each layer's forward ("forward"), or
        fn(index, layer, grad_output, grad_input) after its backward ("backward")."""
        if kind not in HOOK_KINDS:
            raise ValueError(f"register_hook expected kind 'forward' or 'backward', got {kind!r}.")
        if not callable(fn):
            raise TypeError(f"register_hook expected a function, got {describe(fn)}.")
        self._hooks[kind].append(fn)
        return HookHandle(self._hooks[kind], fn)

    # -- description -----------------------------------------------------------------------------
    def output_shapes(self, input_shape: tuple) -> list[tuple]:
        """Per-layer output shape of one example (no batch axis)."""
        shapes, shape = [], tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
            shapes.append(shape)
        return shapes

    def flops(self, input_shape: tuple) -> list[Flops]:
        """Per-layer operations for one example of `input_shape` (no batch axis): forward, and backward split
        into parameter gradients and input gradient (see Layer.flops)."""
        shapes = [tuple(input_shape), *self.output_shapes(input_shape)[:-1]]
        return [layer.flops(shape) for layer, shape in zip(self.layers, shapes)]

    def summary(self, input_shape: tuple | None = None) -> str:
        """A table: layer, output shape (when input_shape is given), parameter count."""
        shapes = self.output_shapes(input_shape) if input_shape is not None else [None] * len(self.layers)
        rows = [("#", "layer", "output shape", "params")]
        for index, (layer, shape) in enumerate(zip(self.layers, shapes)):
            count = sum(p.size for p in layer.params.values())
            rows.append((str(index), repr(layer), "?" if shape is None else str(shape), f"{count:,}"))
        widths = [max(len(row[col]) for row in rows) for col in range(4)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total trainable parameters: {self.n_params():,}  (dtype {self.dtype})")
        return "\n".join(lines)

    # -- files ---------------------------------------------------------------------------------
    def save(self, path, metadata: dict | None = None):
        """Write architecture and weights to one safetensors file (never pickle), atomically."""
        return save_model(self, path, metadata)

    @classmethod
    def load(cls, path) -> "Sequential":
        """Rebuild a model written by save(); damaged or foreign files give a clear ValueError."""
        return load_model(path)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


# -- model files (the format itself is learnscope.model_io) -------------------------------------------------------
def load_model(path) -> Sequential:
    """Rebuild a model saved by save_model; every kind of damage gives a ValueError naming it."""
    model, _ = load_model_with_metadata(path)
    return model


def load_model_with_metadata(path) -> tuple[Sequential, dict]:
    """Like load_model, and also return the metadata dict given to save_model."""
    model, metadata, _ = load_model_with_extras(path)
    return model, metadata


def load_model_with_extras(path) -> tuple[Sequential, dict, dict]:
    """Like load_model_with_metadata, and also return the extra_tensors given to save_model."""
    file = read_model_file(path)
    model = Sequential(file.layers)
    fill_model(model, file.tensors, Path(path))
    return model, file.metadata, file.extras
