"""What the Gradient descent page (chapter 6) draws and concludes: contour pictures of a loss over two numbers,
paths mapped onto them, and the "Try this" experiments with outcomes read from the race or the three batch modes.

    contour_picture(values)          (H, W) loss values -> (H, W, 3) banded colours, one band per factor of √10
    to_pixels(points, bounds, size)  (k, 2) points -> (k, 2) pixel coordinates, y pointing up as on paper
    RACE_EXPERIMENTS, BATCH_EXPERIMENTS
"""

from dataclasses import dataclass

import numpy as np

from learnscope.lessons.batch_modes import BatchModes, OptimizerRun, TrainingCurve, mean_squared_error
from learnscope.lessons.experiments import Experiment, Outcome
from learnscope.lessons.race import Race, steps_to_reach
from learnscope.optim import OPTIMIZER_LABELS

LOW = np.array([255, 255, 255], dtype=np.float32)     # the bottom of the bowl: white
HIGH = np.array([148, 163, 184], dtype=np.float32)    # high loss: slate grey, so coloured paths stand out on it
BANDS_PER_DECADE = 2
GOAL = 1e-3                                           # "reached the bottom": the valley's loss below this


def contour_picture(values: np.ndarray) -> np.ndarray:
    """Loss values (H, W) -> RGB (H, W, 3) uint8: light at the lowest value, dark at the highest, on a log scale
    (these surfaces span many orders of magnitude) cut into bands, so each band's edge is a contour line."""
    values = np.asarray(values, dtype=np.float64)
    shifted = values - np.nanmin(values) + 1e-6 * (np.nanmax(values) - np.nanmin(values) + 1e-12)
    levels = np.log10(shifted)
    low, high = np.nanmin(levels), np.nanmax(levels)
    bands = np.floor((levels - low) * BANDS_PER_DECADE) / max((high - low) * BANDS_PER_DECADE, 1e-12)
    t = np.clip(np.nan_to_num(bands, nan=1.0), 0.0, 1.0)[..., None]
    return np.rint(LOW + t * (HIGH - LOW)).astype(np.uint8)


def to_pixels(points: np.ndarray, bounds, size: int) -> np.ndarray:
    """(k, 2) points in the surface's coordinates -> (k, 2) pixels of a size × size picture of `bounds`; the y axis
    points up, as on paper (row 0 of the picture is the top, y_max)."""
    (x_min, x_max), (y_min, y_max) = bounds
    points = np.asarray(points, dtype=np.float64)
    column = (points[:, 0] - x_min) / (x_max - x_min) * (size - 1)
    row = (y_max - points[:, 1]) / (y_max - y_min) * (size - 1)
    return np.column_stack([column, row])


# -- the race ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepReport:
    """What one racer did at one step: where it is, the gradient it stepped on, the step it took per axis, and the
    learning rate that step amounts to per axis (−step ÷ gradient): lr on both axes for plain SGD, each axis its own
    for RMSprop and Adam, whatever momentum has built up for SGD with momentum."""

    step: int
    position: tuple[float, float]
    loss: float
    gradient: tuple[float, float]
    moved: tuple[float, float]
    rate: tuple[float | None, float | None]


def step_report(race: Race, name: str, step: int) -> StepReport:
    """The report of racer `name` after `step` steps (clamped to what it ran; step 0 is the start)."""
    positions, gradients = race[name], race.gradients[name]
    last = race.diverged_at[name] - 1 if race.diverged_at[name] is not None else len(positions) - 1
    step = max(0, min(step, last))
    gradient = gradients[step - 1] if step else gradients[0]
    moved = positions[step] - positions[step - 1] if step else np.zeros(2)
    rate = tuple(float(-m / g) if step and abs(g) > 1e-12 else None for m, g in zip(moved, gradient))
    return StepReport(step, tuple(float(v) for v in positions[step]), float(race.values[name][step]),
                      tuple(float(v) for v in gradient), tuple(float(v) for v in moved), rate)


def _name(key: str) -> str:
    return OPTIMIZER_LABELS.get(key, key)


def momentum_in_the_valley(race: Race) -> Outcome:
    played = len(race["sgd"]) - 1
    sgd, momentum = steps_to_reach(race, "sgd", GOAL), steps_to_reach(race, "momentum", GOAL)
    if momentum is None:
        return Outcome(f"Press Play: after {played} steps neither has the loss below {GOAL:g} yet.", settled=False)
    if sgd is None:
        return Outcome(f"Momentum has the loss below {GOAL:g} after {momentum} steps; plain SGD, at the same learning "
                       f"rate, is still at {race.values['sgd'][-1]:.3g} after {played}. Keep playing.", settled=False)
    return Outcome(f"Plain SGD needed {sgd} steps to get the loss below {GOAL:g}, momentum {momentum}: "
                   f"{sgd / momentum:.1f}× fewer at the same learning rate. Along the valley floor every gradient "
                   "points the same way, so the velocity keeps adding them up (up to 1/(1 − 0.9) = 10× one step), "
                   "while across the valley the gradients flip sign and cancel.")


def adam_on_rosenbrock(race: Race) -> Outcome:
    played = len(race["adam"]) - 1
    bottom = np.array(race.surface.minimum)
    near = np.linalg.norm(race["adam"] - bottom, axis=1) < 0.1
    sgd_distance = float(np.linalg.norm(race["sgd"][-1] - bottom))
    if not near.any():
        adam_distance = float(np.linalg.norm(race["adam"][-1] - bottom))
        return Outcome(f"Press Play: after {played} steps Adam is still {adam_distance:.2f} from the bottom at (1, 1).",
                       settled=False)
    arrived = int(np.argmax(near))
    return Outcome(f"Adam came within 0.1 of the bottom at (1, 1) after {arrived} steps; after {played}, plain SGD "
                   f"is still {sgd_distance:.2f} away. On the valley floor the gradient is tiny, so SGD's steps, "
                   "proportional to it, crawl; Adam divides each step by the gradient's recent size, so a small but "
                   "steady gradient still gets a full-sized step.")


def learning_rate_too_big(race: Race) -> Outcome:
    condition = getattr(race.surface, "condition", None)
    limit = f"2/κ = {2 / condition:.3g}" if condition else "2 divided by the steepest curvature"
    stop = race.diverged_at.get("sgd")
    if stop is None:
        played = len(race["sgd"]) - 1
        return Outcome(f"Press Play: after {played} steps it is at loss {race.values['sgd'][-1]:.3g}.", settled=False)
    return Outcome(f"It left the map at step {stop}. Across the valley the loss curves κ = {condition:g} times more "
                   f"steeply than along it, and a step larger than {limit} overshoots the far wall by more than it "
                   "started from: each bounce is bigger than the last. Along the gentle floor the same step would "
                   "have been fine; the steepest direction sets the largest learning rate that works.")


def four_learning_rates(race: Race) -> Outcome:
    labels = sorted(race, key=lambda label: race.configs[label]["lr"])
    played = len(race[labels[0]]) - 1
    condition = getattr(race.surface, "condition", None)
    limit = 2 / condition if condition else None
    verdicts, fastest = [], None
    for label in labels:
        lr, reached, left = race.configs[label]["lr"], steps_to_reach(race, label, GOAL), race.diverged_at[label]
        if left is not None:
            verdicts.append(f"lr {lr:g} left the map at step {left}")
        elif reached is not None:
            verdicts.append(f"lr {lr:g} got below {GOAL:g} in {reached} steps")
            fastest = label if fastest is None or reached < steps_to_reach(race, fastest, GOAL) else fastest
        else:
            climbing = race.values[label][-1] > race.values[label][0]
            verdicts.append(f"lr {lr:g} is {'climbing, at' if climbing else 'still at'} {race.values[label][-1]:.3g}")
    undecided = any(race.diverged_at[label] is None and steps_to_reach(race, label, GOAL) is None for label in labels)
    if undecided and played < race.steps:
        return Outcome(f"Press Play (step {played} of {race.steps}): " + "; ".join(verdicts) + ".", settled=False)
    text = f"After {played} steps: " + "; ".join(verdicts) + "."
    if fastest is not None:
        text += f" Fastest: {fastest}"
        if limit is not None:
            text += (f", just under the limit 2/κ = {limit:.3g}: on a bowl like this the best step is nearly the "
                     "largest that does not diverge, even though it zig-zags across the valley on the way")
        text += ". Too small crawls; too large bounces off the steep walls ever higher."
    return Outcome(text)


#: setup: surface, condition (valley), racers {optimizer: lr} or an optimizer raced at several learning_rates, steps
RACE_EXPERIMENTS = (
    Experiment("momentum-valley", 6, "Race SGD and momentum down the narrow valley",
               "How many steps does momentum save at the same learning rate?",
               {"surface": "valley", "condition": 50.0, "racers": {"sgd": 0.02, "momentum": 0.02}, "steps": 300},
               momentum_in_the_valley),
    Experiment("adam-rosenbrock", 6, "Send Adam and SGD along Rosenbrock's banana",
               "Who reaches the bottom at (1, 1)?",
               {"surface": "rosenbrock", "racers": {"sgd": 0.0005, "adam": 0.05}, "steps": 1500}, adam_on_rosenbrock),
    Experiment("four-learning-rates", 6, "Four learning rates in the valley",
               "Too small, about right, too big: which gets down fastest?",
               {"surface": "valley", "condition": 50.0, "optimizer": "sgd",
                "learning_rates": (0.002, 0.02, 0.039, 0.045), "steps": 300}, four_learning_rates),
    Experiment("learning-rate-too-big", 6, "Give SGD a learning rate of 0.05 in the valley",
               "What happens when the step is too big for the steepest direction?",
               {"surface": "valley", "condition": 50.0, "racers": {"sgd": 0.05}, "steps": 100}, learning_rate_too_big),
)


# -- batch, stochastic, mini-batch -------------------------------------------------------------------------------
def same_examples_seen(modes: BatchModes) -> Outcome:
    floor = float(mean_squared_error(modes.x, modes.y, modes.best))
    paths = modes.paths
    seen = int(paths["batch"].examples_seen[-1])
    parts = [f"{name} made {paths[name].updates:,} update{'s' if paths[name].updates != 1 else ''} and ended at loss "
             f"{paths[name].loss[-1]:.2f}" for name in ("batch", "stochastic", "mini-batch")]
    fewer = paths["stochastic"].updates / max(paths["mini-batch"].updates, 1)
    return Outcome(f"Each saw {seen:,} examples. {'; '.join(parts).capitalize()} (the lowest possible is "
                   f"{floor:.2f}). The batch path is smooth but slow: one step per pass over all the data. The "
                   "stochastic one takes a step per example, many steps but staggering, since one example's gradient "
                   f"is a noisy guess. Mini-batches of {paths['mini-batch'].batch_size} average the noise away with "
                   f"{fewer:.0f}× fewer steps, each one vectorised product: "
                   f"{paths['stochastic'].seconds[-1] * 1e3:.1f} ms for all the stochastic updates here, "
                   f"{paths['mini-batch'].seconds[-1] * 1e3:.1f} ms for the mini-batch ones.")


def bigger_steps_for_the_batch(modes: BatchModes) -> Outcome:
    floor = float(mean_squared_error(modes.x, modes.y, modes.best))
    batch, stochastic = modes.paths["batch"], modes.paths["stochastic"]
    start = float(batch.loss[0])
    batch_text = (f"At a learning rate of {modes.lr:g} the batch path went from loss {start:.2f} to "
                  f"{batch.loss[-1]:.2f} in {batch.updates} updates (lowest possible {floor:.2f}): an exact gradient "
                  "can take big steps.")
    highest = float(np.nanmax(np.where(np.isfinite(stochastic.loss), stochastic.loss, np.inf)))
    if highest > 100 * start:
        return Outcome(f"{batch_text} The stochastic path blew up: its loss on all the data reached {highest:.3g}. "
                       "One example's gradient can point far off and be large (an example unlike the rest), and a "
                       "big step on it overshoots. Noisy gradients need small steps, which is why stochastic training "
                       "lowers its learning rate as it goes.")
    wobble = float(np.ptp(stochastic.loss[-len(modes.x):]))
    return Outcome(f"{batch_text} The stochastic path, with the same step on one-example guesses, keeps jumping: "
                   f"over its last epoch its loss on all the data swung by {wobble:.2f}. Noisy gradients need small "
                   "steps, which is why stochastic training lowers its learning rate as it goes.")


#: setup: mini_batch_size, epochs, lr
BATCH_EXPERIMENTS = (
    Experiment("same-examples", 6, "Three epochs each", "With the same examples seen, which gets closest?",
               {"mini_batch_size": 16, "epochs": 3, "lr": 0.1}, same_examples_seen),
    Experiment("bigger-steps", 6, "A learning rate of 0.5", "Who can take big steps, and who cannot?",
               {"mini_batch_size": 16, "epochs": 3, "lr": 0.5}, bigger_steps_for_the_batch),
)


# -- the three modes on MNIST --------------------------------------------------------------------------------------
def mnist_modes_summary(curves: dict[str, TrainingCurve], n_train: int) -> str:
    """What the three timed MNIST runs show, from their own numbers: per mode the updates made, the epochs' worth
    of examples seen and the held-out loss reached in the same time, and which mode got lowest."""
    parts = []
    for mode in ("batch", "stochastic", "mini-batch"):
        curve = curves[mode]
        epochs = curve.examples_seen[-1] / n_train
        parts.append(f"{mode} made {int(curve.updates[-1]):,} update{'s' if curve.updates[-1] != 1 else ''} "
                     f"({epochs:.2g} epochs' worth of examples) and reached loss {curve.loss[-1]:.3f}")
    best = min(curves, key=lambda mode: curves[mode].loss[-1])
    seconds = max(float(curve.seconds[-1]) for curve in curves.values())
    why = {"mini-batch": "each of its steps is one fast matrix product over a batch, so it takes many steps, each "
                         "on an averaged, steadier gradient",
           "stochastic": "it took by far the most steps; at a smaller learning rate its noise would matter less",
           "batch": "its exact gradient made every one of its few steps count"}[best]
    return (f"In about {seconds:.0f} s of training each: {'; '.join(parts)}. Lowest: {best}, because {why}. A "
            "batch step has to read all the examples before it moves at all; a stochastic step is cheap but "
            "noisy and cannot use the fast vectorised products.")


def optimizer_race_summary(runs: dict[str, OptimizerRun], last: int = 50) -> str:
    """The optimizers' race on a real network, from the runs' own losses: each one's average training loss over its
    last `last` steps, the lowest, and how to see the recorded runs again."""
    steps = min(len(run.loss) for run in runs.values())
    window = max(1, min(last, steps))
    averages = {label: float(np.mean(run.loss[steps - window:steps])) for label, run in runs.items()}
    parts = [f"{_name(label)} (lr {runs[label].config['lr']:g}) {value:.3f}" for label, value in averages.items()]
    best = min(averages, key=averages.get)
    text = (f"After {steps} steps, the average training loss over the last {window}: {', '.join(parts)}. Lowest: "
            f"{_name(best)}. The ranking on a real network need not match the drawn surfaces: a loss of 50,000 "
            "weights has its own valleys, and each optimizer here has its own usual learning rate.")
    ids = [run.run_id for run in runs.values() if run.run_id is not None]
    if ids:
        text += f" Each run is recorded: learnscope runs compare {' '.join(map(str, ids))}"
    return text
