"""Rosenblatt's perceptron (1958) learning points of the plane with its own rule, one example at a time.

    run = PerceptronRun(separable_points(), lr=1.0)     # starts from w = 0, b = 0
    step = run.step()                                   # one example: what it said, and the update if it was wrong
    run.run_epochs(1000)                                # until it converges (or cycles), at most 1,000 epochs
    margin = best_margin(points)                        # Novikoff (1962): at most (R/γ)² mistakes, ever

The rule itself is the engine's (layers.Perceptron.learn); this module hands it one example at a time, in a fixed
order, and watches what it does: how many mistakes, whether an epoch passes without one (converged), and whether
an epoch starts with weights an earlier epoch started with (then the same epochs repeat forever: a cycle).
"""

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from learnscope.core.validation import check_int, check_range
from learnscope.data.toy2d import make_xor
from learnscope.layers.perceptron import Perceptron

#: where the lesson's points lie: the square [-POINTS_LIMIT, POINTS_LIMIT]², inside the playground's drawn plane
POINTS_LIMIT = 1.5
#: best_margin's exact search looks at every triple of points: more points than this would take too long
MAX_MARGIN_POINTS = 100
#: run_epochs runs at most this many epochs in one call
MAX_EPOCHS = 10_000
#: a cycle of at most this many states is told state by state
MAX_STATES_TOLD = 12
#: weights are compared to this many decimals when looking for a state seen before (exact for the lesson's sets)
STATE_DECIMALS = 9


@dataclass(frozen=True)
class PointSet:
    """Points of the plane and their 0/1 classes. line: (w, b) of the line the set was made with, if any."""

    key: str
    x: np.ndarray                                      # (N, 2) float64
    y: np.ndarray                                      # (N,) int64, 0 or 1
    description: str
    line: tuple | None = field(default=None, repr=False)
    gap: float | None = None                           # separable_points' margin: no point is closer to its line


def separable_points(n_points: int = 24, margin: float = 0.1, seed: int = 2) -> PointSet:
    """n_points in the square, each at least `margin` away from a random line, labelled by its side: a linearly
    separable set (the perceptron's home ground). The defaults take the rule a few epochs and mistakes to settle."""
    n_points = check_int(n_points, "n_points", "separable_points", minimum=4, maximum=MAX_MARGIN_POINTS)
    margin = check_range(margin, "margin", "separable_points", minimum=0.01, maximum=0.6)
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi)
    w, b = np.array([np.cos(angle), np.sin(angle)]), rng.uniform(-0.3, 0.3)
    candidates = rng.uniform(-POINTS_LIMIT, POINTS_LIMIT, (60 * n_points, 2))
    distance = candidates @ w + b                      # w is a unit vector: this is the signed distance
    x = candidates[np.abs(distance) >= margin][:n_points]
    y = (x @ w + b > 0).astype(np.int64)
    if len(x) < n_points or len(set(y.tolist())) < 2:  # only a wide margin with a line near an edge gets here
        raise ValueError(f"separable_points could not place {n_points} points of both classes {margin} away from "
                         f"the line of seed {seed}. Use a smaller margin or another seed.")
    return PointSet("separable", x, y, f"{n_points} points, each at least {margin:g} from a straight line",
                    line=(w, b), gap=margin)


def xor_points() -> PointSet:
    """The four corners (±1, ±1), class 1 where the signs differ: XOR (the playground's XOR without noise)."""
    x, y = make_xor(4)
    return PointSet("xor", x.astype(np.float64), y, "XOR: the four corners, class 1 where x₁ and x₂ differ in sign")


def flip_label(points: PointSet) -> PointSet:
    """The same points with one label flipped: the point deepest inside its class (farthest from the set's line)
    changes sides, so no straight line separates the set any more."""
    if points.line is None:
        raise ValueError(f"flip_label needs a set made along a line (separable_points), got {points.key!r}.")
    w, b = points.line
    index = int(np.argmax(np.abs(points.x @ w + b)))
    y = points.y.copy()
    y[index] = 1 - y[index]
    return PointSet("flipped", points.x, y, f"{points.description}, but point {index + 1}'s class flipped",
                    line=points.line, gap=points.gap)


# ---- Novikoff's bound ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Margin:
    """How far the best line stays from the points. The bias counts as a weight on a constant input 1, so the
    perceptron's weights are (w₁, w₂, b) and each point is (x₁, x₂, 1): radius R = the longest of those,
    gamma γ = the largest margin min yᵢ·(w·xᵢ + b) of any (w, b) of length 1 (yᵢ = ±1); 0 when no line separates."""

    gamma: float
    radius: float
    w: tuple[float, float] | None = None               # the best line, when there is one
    b: float | None = None

    @property
    def separable(self) -> bool:
        return self.gamma > 0

    @property
    def bound(self) -> float | None:
        """Novikoff's (1962) most mistakes the perceptron can make from w = 0, at any learning rate: (R/γ)²."""
        return (self.radius / self.gamma) ** 2 if self.separable else None


def best_margin(points: PointSet) -> Margin:
    """The widest margin of any line through the plane (with its bias as a weight), found exactly.

    It is 1/‖u‖ for the shortest u with zᵢ·u ≥ 1 for every zᵢ = yᵢ·(xᵢ, 1). That u rests on at most three of the
    constraints with equality, so it is among the u solving zᵢ·u = 1 exactly for one, two or three points; the
    shortest of those that satisfy every constraint is the answer (none does: not separable)."""
    n = check_int(len(points.x), "the number of points", "best_margin", minimum=1, maximum=MAX_MARGIN_POINTS)
    augmented = np.column_stack([points.x, np.ones(n)])
    z = np.where(points.y == 1, 1.0, -1.0)[:, None] * augmented
    radius = float(np.sqrt((augmented ** 2).sum(axis=1).max()))
    candidates = [z / (z ** 2).sum(axis=1, keepdims=True)]                 # one point: u = z / ‖z‖²
    if n >= 2:
        i, j = np.array(list(combinations(range(n), 2))).T
        gram = np.einsum("kd,ld->kl", z, z)
        a, c, off = gram[i, i], gram[j, j], gram[i, j]
        determinant = a * c - off ** 2
        keep = determinant > 1e-12 * a * c                                  # two points on one ray give no pair
        weights_i = (c - off)[keep] / determinant[keep]                     # (Gram)⁻¹ · (1, 1)
        weights_j = (a - off)[keep] / determinant[keep]
        candidates.append(weights_i[:, None] * z[i[keep]] + weights_j[:, None] * z[j[keep]])
    if n >= 3:
        triples = z[np.array(list(combinations(range(n), 3)))]             # (K, 3, 3)
        keep = np.abs(np.linalg.det(triples)) > 1e-12
        candidates.append(np.linalg.solve(triples[keep], np.ones((int(keep.sum()), 3, 1)))[..., 0])
    candidates = np.concatenate(candidates)
    feasible = candidates[(candidates @ z.T >= 1 - 1e-9).all(axis=1)]
    if len(feasible) == 0:
        return Margin(0.0, radius)
    best = feasible[np.argmin((feasible ** 2).sum(axis=1))]
    unit = best / np.linalg.norm(best)
    return Margin(float((z @ unit).min()), radius, (float(unit[0]), float(unit[1])), float(unit[2]))


# ---- the rule, one example at a time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PerceptronStep:
    """One example shown to the perceptron: what it said, and its weights before and after (changed on a mistake:
    w ← w + η·(y − ŷ)·x, b ← b + η·(y − ŷ))."""

    epoch: int
    index: int                                         # which point, counting from 0
    x: tuple[float, float]
    label: int
    prediction: int
    lr: float
    w_before: tuple[float, float]
    b_before: float
    w_after: tuple[float, float]
    b_after: float

    @property
    def mistake(self) -> bool:
        return self.prediction != self.label

    @property
    def error(self) -> int:
        """y − ŷ: +1 (said 0, should be 1), −1 (said 1, should be 0), 0 (right)."""
        return self.label - self.prediction


@dataclass(frozen=True)
class Cycle:
    """The weights an epoch started with came back at the start of a later epoch. The examples come in the same
    order every epoch, so from there the same updates repeat forever."""

    first_epoch: int
    repeat_epoch: int
    states: tuple[tuple[float, float, float], ...]     # (w₁, w₂, b) after each update of one round, both ends included
    mistakes: int                                      # mistakes in one round

    @property
    def epochs(self) -> int:
        return self.repeat_epoch - self.first_epoch


class PerceptronRun:
    """A two-input Perceptron learning `points` with Rosenblatt's rule from w = 0, b = 0 (Novikoff's bound counts
    from there), one example at a time in the points' order, every epoch the same order."""

    def __init__(self, points: PointSet, lr: float = 1.0):
        self.points = points
        self.lr = float(check_range(lr, "lr", "PerceptronRun", minimum=0, maximum=100, inclusive=(False, True)))
        self.perceptron = Perceptron(2, dtype=np.float64)
        for value in self.perceptron.params.values():
            value[...] = 0.0
        self.epoch = 0                                 # the epoch under way, counting from 0
        self.position = 0                              # the next example
        self.mistakes_per_epoch: list[int] = []        # of the finished epochs
        self.mistakes_this_epoch = 0
        self.total_mistakes = 0
        self.path = [self.state]                       # (w₁, w₂, b) at the start and after every update
        self._epoch_starts = {self._key(): (0, 0)}     # rounded state -> (epoch, its index in path)
        self.converged_epoch: int | None = None        # the first epoch without a mistake
        self.cycle: Cycle | None = None

    def plot(self):
        """The points and the line the perceptron has now (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_perceptron

        return plot_perceptron(self)

    @property
    def state(self) -> tuple[float, float, float]:
        w, b = self.perceptron.params["W"], self.perceptron.params["b"]
        return float(w[0]), float(w[1]), float(b[0])

    def _key(self) -> tuple:
        return tuple(np.round(self.state, STATE_DECIMALS) + 0.0)       # + 0.0: -0.0 and 0.0 are one state

    @property
    def finished(self) -> bool:
        """Converged, or caught in a cycle: either way nothing new can happen."""
        return self.converged_epoch is not None or self.cycle is not None

    def step(self) -> PerceptronStep:
        """Show the next example; on a mistake the perceptron's rule moves the weights."""
        index, points = self.position, self.points
        x, y = points.x[index:index + 1], points.y[index:index + 1]
        before = self.state
        prediction = int(self.perceptron.forward(x)[0])
        self.perceptron.learn(x, y, self.lr)
        after = self.state
        if prediction != y[0]:
            self.mistakes_this_epoch += 1
            self.total_mistakes += 1
            self.path.append(after)
        step = PerceptronStep(self.epoch, index, (float(x[0, 0]), float(x[0, 1])), int(y[0]), prediction, self.lr,
                              before[:2], before[2], after[:2], after[2])
        self.position += 1
        if self.position == len(points.x):
            self._end_epoch()
        return step

    def _end_epoch(self) -> None:
        self.mistakes_per_epoch.append(self.mistakes_this_epoch)
        if self.mistakes_this_epoch == 0 and self.converged_epoch is None:
            self.converged_epoch = self.epoch
        self.epoch, self.position, self.mistakes_this_epoch = self.epoch + 1, 0, 0
        if self.finished:
            return
        key = self._key()
        if key in self._epoch_starts:
            first, start = self._epoch_starts[key]
            self.cycle = Cycle(first, self.epoch, tuple(self.path[start:]), sum(self.mistakes_per_epoch[first:]))
        else:
            self._epoch_starts[key] = (self.epoch, len(self.path) - 1)

    def run_epochs(self, n_epochs: int, until_cycle: bool = True, should_stop=None) -> None:
        """Finish the epoch under way, then run whole epochs until it converges, `n_epochs` have ended in this call,
        or (until_cycle) a cycle is found. should_stop(): checked after each epoch (a page that closed)."""
        n_epochs = check_int(n_epochs, "n_epochs", "PerceptronRun.run_epochs", minimum=1, maximum=MAX_EPOCHS)
        target = self.epoch + n_epochs + (1 if self.position else 0)
        while self.epoch < target and self.converged_epoch is None and not (until_cycle and self.cycle):
            self.step()
            if self.position == 0 and should_stop is not None and should_stop():
                return


# ---- in words and on the plane ---------------------------------------------------------------------------------


def number(value: float) -> str:
    """A weight or coordinate as the page writes it: three significant digits, a real minus sign, no '-0'."""
    text = f"{value + 0.0:.3g}"
    return "0" if text in ("0", "-0") else text.replace("-", "−")


def pair(values) -> str:
    return f"({number(values[0])}, {number(values[1])})"


def describe_step(step: PerceptronStep) -> str:
    """The step in words and numbers: the example, the answer, and the update it caused."""
    seen = f"Point {step.index + 1} at {pair(step.x)}, class {step.label}: the perceptron says {step.prediction}"
    if not step.mistake:
        return f"{seen}. Right, so nothing changes."
    sign = "+1" if step.error > 0 else "−1"
    return (f"{seen}, a mistake, so y − ŷ = {sign}. w ← w + η·(y − ŷ)·x = {pair(step.w_before)} + "
            f"{number(step.lr)}·({sign})·{pair(step.x)} = {pair(step.w_after)}; b ← b + η·(y − ŷ) = "
            f"{number(step.b_before)} + {number(step.lr)}·({sign}) = {number(step.b_after)}.")


def describe_weights(run: PerceptronRun) -> str:
    """Where the weights are, before a step is shown (at the start, or after a run of whole epochs)."""
    w1, w2, b = run.state
    if run.path == [(0.0, 0.0, 0.0)]:
        return "w = (0, 0), b = 0: the perceptron says 0 everywhere and draws no line yet. Press Step."
    return f"Now w = ({number(w1)}, {number(w2)}), b = {number(b)}. Press Step to show it the next point."


def describe_bound(margin: Margin, mistakes: int) -> str:
    """Novikoff's bound with its numbers, beside the mistakes made so far."""
    if not margin.separable:
        return (f"No straight line separates these points, so there is no margin γ and no bound: the rule can go on "
                f"making mistakes forever. {mistakes} so far.")
    return (f"Novikoff's bound (1962): at most (R/γ)² = ({margin.radius:.2f} / {margin.gamma:.3f})² = "
            f"{margin.bound:,.0f} mistakes, ever, from w = 0 and at any learning rate. So far: {mistakes}.")


def describe_run(run: PerceptronRun) -> str:
    """Where the run is: converged, cycling (with the repeated weights), or still going."""
    w1, w2, b = run.state
    if run.converged_epoch is not None:
        return (f"Converged: epoch {run.converged_epoch + 1} passed without a mistake, so every point is on its "
                f"side of the line {number(w1)}·x₁ + {number(w2)}·x₂ + {number(b)} = 0. It made "
                f"{run.total_mistakes} mistakes on the way.")
    if run.cycle is not None:
        cycle = run.cycle
        w1, w2, b = cycle.states[0]
        rounds = "that epoch repeats" if cycle.epochs == 1 else f"those {cycle.epochs} epochs repeat"
        return (f"A cycle: epoch {cycle.repeat_epoch + 1} starts with exactly the weights epoch "
                f"{cycle.first_epoch + 1} started with, w = ({number(w1)}, {number(w2)}), b = {number(b)}. The points "
                f"come in the same order, so {rounds} forever, {cycle.mistakes} mistakes each time round: it will "
                "never stop." + (" Round and round, (w₁, w₂, b) = " + " → ".join(
                    f"({number(w1)}, {number(w2)}, {number(b)})" for w1, w2, b in cycle.states) + "."
                    if len(cycle.states) <= MAX_STATES_TOLD else ""))
    last = f", {run.mistakes_per_epoch[-1]} in the last one" if run.mistakes_per_epoch else ""
    return (f"Epoch {run.epoch + 1}, point {run.position + 1} of {len(run.points.x)}: {run.total_mistakes} mistakes "
            f"so far{last}.")


def describe_cycle(run: PerceptronRun) -> str:
    """The weight path's caption: the cycle found, or why there is none (yet)."""
    if run.cycle is not None:
        return describe_run(run)
    if run.converged_epoch is not None:
        return "No cycle: it converged, so its weights stopped moving."
    return "No cycle found yet: an epoch has not yet started with the weights of an earlier one."


def line_across_square(w, b: float, limit: float) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The two ends of the line w·x + b = 0 inside the square [-limit, limit]², or None where it misses it
    (or w = 0: no line at all)."""
    if not np.any(w):
        return None
    ends = [point for point, _ in _crossings(w, b, limit)]
    return (ends[0], ends[1]) if len(ends) >= 2 and ends[0] != ends[1] else None


def positive_side(w, b: float, limit: float) -> list[tuple[float, float]]:
    """The corners of the part of the square where w·x + b > 0 (the perceptron says 1), in order; [] if none."""
    corners = _square(limit)
    inside = [(corner, float(np.dot(w, corner) + b) > 0) for corner in corners]
    polygon = []
    for k, (corner, is_inside) in enumerate(inside):
        if is_inside:
            polygon.append(corner)
        following, following_inside = inside[(k + 1) % 4]
        if is_inside != following_inside:
            polygon.append(_cross(w, b, corner, following))
    return polygon


def _square(limit: float) -> list[tuple[float, float]]:
    return [(-limit, -limit), (limit, -limit), (limit, limit), (-limit, limit)]


def _cross(w, b, p, q) -> tuple[float, float]:
    """Where w·x + b = 0 crosses the segment from p to q (their values have opposite signs)."""
    fp, fq = float(np.dot(w, p) + b), float(np.dot(w, q) + b)
    t = fp / (fp - fq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _crossings(w, b, limit):
    corners = _square(limit)
    found = []
    for k, corner in enumerate(corners):
        following = corners[(k + 1) % 4]
        fp, fq = float(np.dot(w, corner) + b), float(np.dot(w, following) + b)
        if fp == 0:
            found.append((corner, k))
        elif fp * fq < 0:
            found.append((_cross(w, b, corner, following), k))
    return found
