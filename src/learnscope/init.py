"""Weight initializers, selectable by name. The 'bad' ones (zeros, large normal) stay on purpose:
the lessons show why a network starting from them cannot learn.

Each initializer draws an array of a given shape from `fan_in` (inputs feeding one unit) and
`fan_out` (units one input feeds). For Dense, fan_in = n_in; for Conv2D, fan_in = C * kh * kw.
"""

import numpy as np

from learnscope.core.validation import check_range, describe


class Initializer:
    """Base: `init(shape, fan_in, fan_out, rng, dtype) -> array`; `config()` is JSON for model files."""

    name = "initializer"

    def __call__(self, shape, fan_in: int, fan_out: int, rng: np.random.Generator, dtype) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config()})"


class Zeros(Initializer):
    """All zeros. For weights this is a trap: every unit in a layer stays identical forever."""

    name = "zeros"

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return np.zeros(shape, dtype=dtype)


class Constant(Initializer):
    """Every entry equals `value` (biases, or the dead-ReLU lesson's negative bias)."""

    name = "constant"

    def __init__(self, value: float = 0.0):
        self.value = float(check_range(value, "value", "Constant"))

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return np.full(shape, self.value, dtype=dtype)

    def config(self):
        return {"name": self.name, "value": self.value}


class Normal(Initializer):
    """N(0, std²). With a fixed std that ignores the layer size, deep nets vanish or explode."""

    name = "normal"

    def __init__(self, std: float = 0.01):
        self.std = float(check_range(std, "std", "Normal", minimum=0))

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return (rng.standard_normal(shape) * self.std).astype(dtype)

    def config(self):
        return {"name": self.name, "std": self.std}


class Uniform(Initializer):
    """U(-scale, scale)."""

    name = "uniform"

    def __init__(self, scale: float = 0.05):
        self.scale = float(check_range(scale, "scale", "Uniform", minimum=0))

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return rng.uniform(-self.scale, self.scale, shape).astype(dtype)

    def config(self):
        return {"name": self.name, "scale": self.scale}


class XavierUniform(Initializer):
    """Glorot & Bengio (2010): U(-a, a), a = sqrt(6 / (fan_in + fan_out)); keeps the variance of
    activations and gradients steady through tanh/sigmoid layers."""

    name = "xavier_uniform"

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype(dtype)


class XavierNormal(Initializer):
    """Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out))."""

    name = "xavier_normal"

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


class HeNormal(Initializer):
    """He et al. (2015): N(0, 2 / fan_in); the factor 2 makes up for ReLU zeroing half its inputs."""

    name = "he_normal"

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


class HeUniform(Initializer):
    """He et al. (2015): U(-a, a), a = sqrt(6 / fan_in)."""

    name = "he_uniform"

    def __call__(self, shape, fan_in, fan_out, rng, dtype):
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, shape).astype(dtype)


INITIALIZERS = {
    cls.name: cls
    for cls in (Zeros, Constant, Normal, Uniform, XavierUniform, XavierNormal, HeNormal, HeUniform)
}
ALIASES = {"glorot": "xavier_uniform", "xavier": "xavier_uniform", "glorot_normal": "xavier_normal",
           "he": "he_normal", "kaiming": "he_normal", "kaiming_uniform": "he_uniform"}


def get_initializer(spec) -> Initializer:
    """Resolve 'he_normal', {'name': 'normal', 'std': 1.0} or an Initializer to an Initializer."""
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise TypeError(
            f"expected an initializer name, a dict like {{'name': 'normal', 'std': 0.1}} or an Initializer, "
            f"got {describe(spec)}. Try init='he_normal'."
        )
    options = dict(spec)
    name = ALIASES.get(options.pop("name"), spec["name"])
    if name not in INITIALIZERS:
        known = ", ".join(sorted([*INITIALIZERS, *ALIASES]))
        raise ValueError(f"unknown initializer {spec['name']!r}. Known initializers: {known}.")
    try:
        return INITIALIZERS[name](**options)
    except TypeError as err:
        raise TypeError(f"initializer {name!r} got unexpected options {sorted(options)}: {err}") from None
