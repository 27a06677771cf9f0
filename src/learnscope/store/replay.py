"""Replay and compare recorded runs: read a run back as curves, step through it, and line several
runs up on a common axis (epochs, or examples seen, which is fair across batch sizes)."""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_choice, check_int
from learnscope.store.runs import RunStore

AXES = ("step", "epoch", "examples")


@dataclass
class RunHistory:
    """Everything recorded for one run: its description (`run`), its metrics {name: (steps, values)},
    and how far training was at each of those recordings: examples_seen {name: array}."""

    run: dict
    metrics: dict[str, tuple[np.ndarray, np.ndarray]]
    examples_seen: dict[str, np.ndarray]

    def curve(self, name: str, by: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """(x, values) of metric `name`. x is the step; or training done, in epochs (fractional) or in
        examples seen, which lines up runs with different batch sizes. Per-epoch metrics ("epoch/loss")
        sit at the end of their epoch."""
        by = check_choice(by, "by", "RunHistory.curve", AXES)
        if name not in self.metrics:
            raise ValueError(f"run {self.run['id']} has no metric {name!r}; it has {', '.join(sorted(self.metrics))}.")
        steps, values = self.metrics[name]
        if by == "step":
            return steps.astype(np.float64), values
        examples = self.examples_seen[name].astype(np.float64)
        if (examples < 0).any():
            raise ValueError(f"run {self.run['id']} did not record how far training was at every step of "
                             f"{name!r}. Compare it by='step'.")
        return (examples / self._n_samples() if by == "epoch" else examples), values

    def _n_samples(self) -> int:
        n_samples = self.run["config"].get("n_samples")
        if not n_samples:
            raise ValueError(f"run {self.run['id']} does not record its training set size (n_samples), so its "
                             "progress cannot be put in epochs or examples. Compare it by='step'.")
        return n_samples

    def replay(self, names=None) -> Iterator[tuple[int, dict[str, float]]]:
        """Yield (step, {metric: value}) in step order, as the run recorded them: training watched again."""
        names = [n for n in (names or self.metrics) if not n.startswith("epoch/")]
        by_step: dict[int, dict[str, float]] = {}
        for name in names:
            steps, values = self.metrics[name]
            for step, value in zip(steps.tolist(), values.tolist()):
                by_step.setdefault(step, {})[name] = value
        yield from sorted(by_step.items())


def load_history(store: RunStore, run_id: int) -> RunHistory:
    """Read a recorded run back from the store."""
    metrics = store.metrics(run_id)
    examples_seen = {name: store.positions(run_id, name)[2] for name in metrics}
    return RunHistory(store.run(run_id), metrics, examples_seen)


def align(histories: list[RunHistory], name: str, by: str = "epoch", points: int = 200):
    """Put metric `name` of several runs on one shared x grid (by epoch or by examples seen), linearly
    interpolated, over the range every run covers. Returns (grid, [values per run])."""
    by = check_choice(by, "by", "align", ("epoch", "examples"))
    points = check_int(points, "points", "align", minimum=2, maximum=100_000)
    if not histories:
        raise ValueError("align expected at least one run, got none.")
    curves = [history.curve(name, by=by) for history in histories]
    low = max(x.min() for x, _ in curves)
    high = min(x.max() for x, _ in curves)
    if not high > low:
        raise ValueError(f"align: the runs share no stretch of the {by} axis for {name!r}; record longer runs.")
    grid = np.linspace(low, high, points)
    return grid, [np.interp(grid, x, values) for x, values in curves]


def final_test_accuracy(store: RunStore, run_id: int) -> float | None:
    """A run's accuracy on its test set: from the test confusion matrix stored at the end of training (the share on
    its diagonal), else the last epoch's validation accuracy; None when the run recorded neither."""
    _, matrices = store.tensors(run_id, "confusion/test")
    if matrices and matrices[-1].sum() > 0:
        return float(np.trace(matrices[-1]) / matrices[-1].sum())
    history = store.metrics(run_id, ["epoch/val_accuracy"]).get("epoch/val_accuracy")
    if history is not None and len(history[1]) and np.isfinite(history[1][-1]):
        return float(history[1][-1])
    return None
