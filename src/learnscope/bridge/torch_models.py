"""Model exchange with PyTorch: an engine Sequential as a torch nn.Sequential with the same outputs, and back.

    net = to_torch(model)            # train it on a GPU, with DistributedDataParallel, ...
    model = from_torch(net)          # then open it in Draw, One step or the explainability pages

Both directions copy the numbers (no sharing). The layouts differ in one place only: Dense keeps W as (n_in, n_out)
(y = x @ W + b, as the lessons write it) where nn.Linear keeps weight as (out, in), so W is transposed on the way.
Convolution filters (F, C, kh, kw), batch norm's running statistics (PyTorch's momentum convention, unbiased running
variance) and max-pool windows already match. Standardize, which torch.nn lacks, becomes a small module of ours.
"""

import functools

import numpy as np

from learnscope.core.validation import describe
from learnscope.layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Standardize,
    Tanh,
)
from learnscope.model import Sequential

SUPPORTED = ("Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "BatchNorm", "Dropout", "ReLU", "LeakyReLU",
             "Tanh", "Sigmoid", "Softmax", "Identity", "Standardize")


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch is not installed. Install the optional extra: pip install 'learnscope[torch]' "
                          "(on a CPU-only machine: pip install torch==2.13.0).") from None
    return torch


@functools.cache
def _standardize_module():
    """torch.nn has no fixed (x − mean) / std layer: this one, defined once, when torch is first needed."""
    torch = _torch()

    class StandardizeModule(torch.nn.Module):
        """y = (x − mean) · (1 / std), with fixed numbers: learnscope's Standardize in PyTorch."""

        def __init__(self, mean: float, std: float):
            super().__init__()
            self.mean, self.std = float(mean), float(std)

        def forward(self, x):
            return (x - self.mean) * (1.0 / self.std)

        def extra_repr(self):
            return f"mean={self.mean:.4g}, std={self.std:.4g}"

    return StandardizeModule


def _tensor(array, dtype):
    torch = _torch()
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)


def to_torch(model: Sequential):
    """A torch nn.Sequential computing what `model` computes, with copies of its weights and batch-norm statistics,
    in eval mode, in the model's float dtype. Layers PyTorch cannot express the same way give a ValueError."""
    torch = _torch()
    nn = torch.nn
    if not isinstance(model, Sequential):
        raise TypeError(f"to_torch expected a learnscope Sequential, got {describe(model)}.")
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    modules, spatial = [], False                # spatial: the data still has (C, H, W) axes (BatchNorm2d, not 1d)
    for index, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if isinstance(layer, Dense):
            module = nn.Linear(layer.n_in, layer.n_out)
            module.weight.data = _tensor(layer.params["W"].T, dtype)
            module.bias.data = _tensor(layer.params["b"], dtype)
            spatial = False
        elif isinstance(layer, Conv2D):
            module = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                               padding=layer.padding)
            module.weight.data = _tensor(layer.params["W"], dtype)
            module.bias.data = _tensor(layer.params["b"], dtype)
            spatial = True
        elif isinstance(layer, (MaxPool2D, AvgPool2D)):
            pool = nn.MaxPool2d if isinstance(layer, MaxPool2D) else nn.AvgPool2d
            module = pool(layer.pool_size, stride=layer.stride)
        elif isinstance(layer, Flatten):
            module, spatial = nn.Flatten(), False
        elif isinstance(layer, BatchNorm):
            norm = nn.BatchNorm2d if spatial else nn.BatchNorm1d
            module = norm(layer.n_features, eps=layer.eps, momentum=layer.momentum)
            module.weight.data = _tensor(layer.params["gamma"], dtype)
            module.bias.data = _tensor(layer.params["beta"], dtype)
            module.running_mean.data = _tensor(layer.buffers["running_mean"], dtype)
            module.running_var.data = _tensor(layer.buffers["running_var"], dtype)
        elif isinstance(layer, Dropout):
            module = nn.Dropout(layer.p)
        elif isinstance(layer, LeakyReLU):
            module = nn.LeakyReLU(layer.alpha)
        elif isinstance(layer, Softmax):
            module = nn.Softmax(dim=1)
        elif isinstance(layer, Standardize):
            module = _standardize_module()(layer.mean, layer.std)
        elif type(layer) in _SIMPLE:
            module = _SIMPLE[type(layer)](nn)
        else:
            raise ValueError(f"to_torch: layer {index} is a {kind}, which has no PyTorch counterpart here. Supported: "
                             f"{', '.join(SUPPORTED)}.")
        modules.append(module)
    return nn.Sequential(*modules).to(dtype).eval()


_SIMPLE = {ReLU: lambda nn: nn.ReLU(), Tanh: lambda nn: nn.Tanh(), Sigmoid: lambda nn: nn.Sigmoid(),
           Identity: lambda nn: nn.Identity()}


def from_torch(module, dtype=np.float32) -> Sequential:
    """An engine Sequential computing what a torch nn.Sequential of supported layers computes (its eval mode), with
    copies of its weights and statistics. Anything else (other layers, groups, dilation, ceil mode, ...) gives a
    ValueError naming it."""
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch expected a torch.nn.Sequential, got {describe(module)}. Wrap your layers: "
                        "nn.Sequential(...).")
    layers = []
    for index, child in enumerate(module):
        layers.append(_from_child(index, child, nn))
    model = Sequential(layers).astype(dtype)
    for layer, child in zip(model.layers, module):
        _copy_numbers(layer, child)
    return model


def _from_child(index, child, nn):
    def refuse(why):
        raise ValueError(f"from_torch: module {index} ({child}) {why}. Supported: Linear, Conv2d (groups 1, dilation "
                         "1, zero padding), MaxPool2d / AvgPool2d (no padding, dilation or ceil mode), Flatten, "
                         "BatchNorm1d/2d (affine, with running statistics), Dropout, ReLU, LeakyReLU, Tanh, Sigmoid, "
                         "Softmax(dim=1), Identity.")

    if isinstance(child, nn.Linear):
        if child.bias is None:
            refuse("has no bias")
        return Dense(child.in_features, child.out_features)
    if isinstance(child, nn.Conv2d):
        if child.groups != 1 or tuple(child.dilation) != (1, 1) or child.padding_mode != "zeros" \
                or isinstance(child.padding, str) or child.bias is None:
            refuse("uses groups, dilation, string padding, another padding mode or no bias")
        return Conv2D(child.in_channels, child.out_channels, tuple(child.kernel_size), stride=tuple(child.stride),
                      padding=tuple(child.padding))
    if isinstance(child, (nn.MaxPool2d, nn.AvgPool2d)):
        padding = child.padding if isinstance(child.padding, tuple) else (child.padding, child.padding)
        dilation = getattr(child, "dilation", 1)
        if any(padding) or child.ceil_mode or dilation not in (1, (1, 1)):
            refuse("pads, dilates or rounds up")
        pool = MaxPool2D if isinstance(child, nn.MaxPool2d) else AvgPool2D
        return pool(child.kernel_size, stride=child.stride)
    if isinstance(child, nn.Flatten):
        if child.start_dim != 1 or child.end_dim != -1:
            refuse("flattens other axes than all but the batch")
        return Flatten()
    if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if not child.affine or not child.track_running_stats or child.momentum is None:
            refuse("has no scale and shift, no running statistics or a cumulative average")
        return BatchNorm(child.num_features, momentum=child.momentum, eps=child.eps)
    if isinstance(child, nn.Dropout):
        return Dropout(child.p)
    if isinstance(child, nn.LeakyReLU):
        return LeakyReLU(child.negative_slope)
    if isinstance(child, nn.Softmax):
        if child.dim not in (1, -1):
            refuse("is taken over another axis than the classes")
        return Softmax()
    simple = {nn.ReLU: ReLU, nn.Tanh: Tanh, nn.Sigmoid: Sigmoid, nn.Identity: Identity}
    if type(child) in simple:
        return simple[type(child)]()
    if isinstance(child, _standardize_module()):
        return Standardize(child.mean, child.std)
    refuse("has no learnscope counterpart")


def _copy_numbers(layer, child) -> None:
    """Copy a torch module's parameters and buffers into the engine layer built for it, in place."""
    def array(tensor, transpose=False):
        values = tensor.detach().cpu().double().numpy()
        return values.T if transpose else values

    if isinstance(layer, Dense):
        layer.params["W"][...] = array(child.weight, transpose=True)
        layer.params["b"][...] = array(child.bias)
    elif isinstance(layer, Conv2D):
        layer.params["W"][...] = array(child.weight)
        layer.params["b"][...] = array(child.bias)
    elif isinstance(layer, BatchNorm):
        layer.params["gamma"][...] = array(child.weight)
        layer.params["beta"][...] = array(child.bias)
        layer.buffers["running_mean"][...] = array(child.running_mean)
        layer.buffers["running_var"][...] = array(child.running_var)
