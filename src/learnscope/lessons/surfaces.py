"""Loss surfaces of two parameters, the racetracks of the optimizer race (chapter 6).

A real network has millions of weights, so its loss cannot be drawn; a function of two numbers can. Each
surface here is one of the classic test functions of optimization, chosen for one difficulty a real loss
has too: a long narrow valley (ill-conditioning), a curved valley (Rosenbrock), flat plateaus with steep
walls (Beale), a saddle point. Each gives its value and its gradient, the only thing an optimizer sees.

    value(x, y) works on numbers or on whole grids (for the contour plot); gradient(point) -> array (2,).
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from learnscope.core.validation import check_hyperparameter, check_name


@dataclass(frozen=True)
class Surface:
    """One racetrack: the function, its gradient, where the race starts and where the minimum is."""

    key: str
    title: str
    formula: str                                  # LaTeX
    start: tuple[float, float]
    minimum: tuple[float, float]                  # the global minimum (one of them, for the saddle)
    bounds: tuple[tuple[float, float], tuple[float, float]]   # the drawn window: (x_min, x_max), (y_min, y_max)
    lr: dict = field(default_factory=dict)        # a learning rate per optimizer that races well here
    difficulty: str = ""                          # what this surface teaches, in one sentence

    def plot(self):
        """Its contours, start and minimum (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_surface

        return plot_surface(self)

    def value(self, x, y):
        raise NotImplementedError

    def gradient(self, point) -> np.ndarray:
        raise NotImplementedError

    def grid(self, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs, ys, values): the surface on an n × n grid over its bounds, values[i, j] at (xs[j], ys[i])."""
        (x_min, x_max), (y_min, y_max) = self.bounds
        xs, ys = np.linspace(x_min, x_max, n), np.linspace(y_min, y_max, n)
        return xs, ys, self.value(xs[None, :], ys[:, None])


@dataclass(frozen=True)
class Valley(Surface):
    """f = ½(x² + κ·y²): a quadratic bowl κ times steeper across than along. κ is the condition number."""

    condition: float = 50.0

    def value(self, x, y):
        return 0.5 * (x * x + self.condition * y * y)

    def gradient(self, point):
        x, y = point
        return np.array([x, self.condition * y])


@dataclass(frozen=True)
class Rosenbrock(Surface):
    """f = (1 − x)² + 100·(y − x²)²: a curved banana-shaped valley with its minimum at (1, 1)."""

    def value(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def gradient(self, point):
        x, y = point
        return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@dataclass(frozen=True)
class Beale(Surface):
    """f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: flat plateaus, steep walls, minimum (3, ½)."""

    def value(self, x, y):
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2

    def gradient(self, point):
        x, y = point
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        return np.array([2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
                         2 * a * x + 4 * b * x * y + 6 * c * x * y**2])


@dataclass(frozen=True)
class Saddle(Surface):
    """f = x² + y⁴/4 − y²/2: a saddle point at (0, 0) between two minima at (0, ±1). Started on the ridge, plain
    gradient descent creeps, since the gradient across the ridge is almost 0."""

    def value(self, x, y):
        return x * x + y**4 / 4 - y * y / 2

    def gradient(self, point):
        x, y = point
        return np.array([2 * x, y**3 - y])


#: The racetracks, by key. Learning rates are ones at which each optimizer races well on that surface.
SURFACES = {
    "valley": Valley(
        "valley", "Narrow valley (ill-conditioned)", r"f = \tfrac12\,(x^2 + \kappa\, y^2)", start=(-4.0, 1.0),
        minimum=(0.0, 0.0), bounds=((-4.5, 4.5), (-1.5, 1.5)),
        lr={"sgd": 0.02, "momentum": 0.02, "nesterov": 0.02, "rmsprop": 0.05, "adam": 0.2, "adamw": 0.2},
        difficulty="Steep across, shallow along: a learning rate small enough for the steep walls crawls along "
                   "the floor. Momentum builds speed along the floor; Adam and RMSprop rescale each axis."),
    "rosenbrock": Rosenbrock(
        "rosenbrock", "Rosenbrock's banana", r"f = (1 - x)^2 + 100\,(y - x^2)^2", start=(-1.5, 2.0),
        minimum=(1.0, 1.0), bounds=((-2.0, 2.0), (-1.0, 3.0)),
        lr={"sgd": 0.0005, "momentum": 0.0002, "nesterov": 0.0002, "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05},
        difficulty="The valley floor is easy to reach and hard to follow: it curves, and it is almost flat."),
    "beale": Beale(
        "beale", "Beale's plateaus", r"f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        start=(1.0, 1.4), minimum=(3.0, 0.5), bounds=((-4.5, 4.5), (-4.5, 4.5)),
        lr={"sgd": 0.001, "momentum": 0.0005, "nesterov": 0.0005, "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05},
        difficulty="Gradients span orders of magnitude: tiny on the plateaus, huge on the walls."),
    "saddle": Saddle(
        "saddle", "A saddle point", r"f = x^2 + \tfrac14 y^4 - \tfrac12 y^2", start=(-2.0, 0.001),
        minimum=(0.0, 1.0), bounds=((-2.5, 2.5), (-1.6, 1.6)),
        lr={"sgd": 0.05, "momentum": 0.05, "nesterov": 0.05, "rmsprop": 0.02, "adam": 0.05, "adamw": 0.05},
        difficulty="At a saddle the gradient vanishes without a minimum: escaping takes a push across the ridge."),
}


def get_surface(surface, condition=None) -> Surface:
    """A Surface from its key (or a Surface itself); condition=κ sets the valley's condition number."""
    if isinstance(surface, Surface):
        chosen = surface
    else:
        chosen = SURFACES[check_name(surface, "get_surface", SURFACES, what="surface")]
    if condition is not None:
        if not isinstance(chosen, Valley):
            raise ValueError(f"get_surface expected condition only for the valley, got it for {chosen.key!r}. "
                             "Drop condition=, or race on surface='valley'.")
        condition = check_hyperparameter(condition, "condition", "get_surface", minimum=1, maximum=1e6,
                                         fix="Use a condition number between 1 (a round bowl) and e.g. 1000.")
        fields = {name: getattr(chosen, name) for name in chosen.__dataclass_fields__}
        chosen = Valley(**{**fields, "condition": float(condition)})
    return chosen


@dataclass(frozen=True, eq=False)
class ModelSlice(Surface):
    """A real network's loss as a racetrack: L(θ + α·d₁ + β·d₂) on a fixed set of examples, θ its trained weights,
    d₁ and d₂ two directions through all its weights (e.g. explain.filter_normalized_direction). The gradient an
    optimizer sees is the network's own, from backpropagation, projected on the two directions:
    ∂L/∂α = Σ ∇θL · d₁, ∂L/∂β = Σ ∇θL · d₂. Built by model_slice(); the model is a private copy."""

    model: object = None
    loss: object = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    directions: tuple = ()
    base: dict = field(default_factory=dict)
    grid_points: int = 25                          # each point is a forward pass: a coarse grid for the contours

    def _move_to(self, alpha: float, beta: float) -> None:
        first, second = self.directions
        for name, param, _ in self.model.named_params():
            np.copyto(param, self.base[name] + alpha * first[name] + beta * second[name], casting="same_kind")

    def _loss_at(self, alpha: float, beta: float) -> float:
        self._move_to(alpha, beta)
        return float(self.loss.forward(self.model.forward(self.x), self.y))

    def value(self, x, y):
        points = np.broadcast(x, y)
        values = np.fromiter((self._loss_at(a, b) for a, b in points), dtype=np.float64, count=points.size)
        return values.reshape(points.shape) if points.shape else float(values[0])

    def gradient(self, point):
        alpha, beta = point
        self._loss_at(alpha, beta)
        self.model.backward(self.loss.backward(), need_input_grad=False)
        first, second = self.directions
        pairs = [(float(np.sum(grad * first[name])), float(np.sum(grad * second[name])))
                 for name, _, grad in self.model.named_params()]
        return np.array([sum(a for a, _ in pairs), sum(b for _, b in pairs)])

    def grid(self, n: int = 101):
        return super().grid(min(n, self.grid_points))


def model_slice(model, loss, x, y, directions, span: float = 1.0) -> ModelSlice:
    """The racetrack of `model`'s loss on (x, y) around its weights, ±span along `directions` (d₁, d₂)."""
    own = copy.deepcopy(model)                     # the racers move these weights; the caller's stay put
    base = {name: param.astype(np.float64) for name, param, _ in own.named_params()}
    return ModelSlice(
        "your-model", "A slice of your MNIST model", r"L(\theta + \alpha d_1 + \beta d_2)",
        start=(-0.8 * span, 0.6 * span), minimum=(0.0, 0.0), bounds=((-span, span), (-span, span)),
        lr={"sgd": 0.05, "momentum": 0.01, "nesterov": 0.01, "rmsprop": 0.005, "adam": 0.02, "adamw": 0.02},
        difficulty="A real loss: no formula, every gradient a backward pass through the network. The centre is "
                   "where training left the weights.",
        model=own, loss=loss, x=x, y=y, directions=tuple(directions), base=base)
