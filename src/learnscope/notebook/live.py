"""LiveCurves: training curves that redraw inside a notebook while the cell trains (an anywidget).

The kernel runs the training loop; each new point is kept, and the chart is sent to the browser at most once per
`interval` seconds (and once at the end), each line thinned to a few hundred points: a fast loop does not flood
the notebook's connection, and the last picture is always complete.

Three views, the lab's MNIST page's charts: "training" (loss and accuracy, training and test), "gradients" (each
weight layer's gradient RMS, log scale: the gradient flow) and "updates" (each weight layer's ‖ΔW‖/‖W‖ per step,
log scale, beside the 1e-3 rule of thumb). The last two need a recorder's numbers: follow(recorder) for an engine
run, follow(watcher) for a PyTorch one.
"""

import time
from pathlib import Path

import anywidget
import traitlets

from learnscope.core.validation import check_choice, check_int, check_range, describe
from learnscope.lessons.series import live_series
from learnscope.train.callbacks import Callback

#: What LiveCurves names the metrics it is given by fit() or a watcher
NAMES = {"loss": "train loss", "accuracy": "train accuracy", "val_loss": "test loss",
         "val_accuracy": "test accuracy"}
#: view -> the recorded metric prefix it draws, one line per weight layer ("training" draws NAMES)
LAYER_VIEWS = {"gradients": "grad_rms/", "updates": "update_ratio/"}
VIEWS = ("training", *LAYER_VIEWS)
#: The rule of thumb for a healthy update size, drawn dashed in the "updates" view
UPDATE_RATIO_GUIDE = 1e-3
#: Its line's name
GUIDE = "healthy ≈ 1e-3"


class LiveCurves(anywidget.AnyWidget):
    """A live line chart: add(step, loss=..., ...) adds points; callback() feeds it from fit(); follow(recorder or
    watcher) from what a run records. `view`: "training", "gradients" or "updates" (module docstring). `interval`:
    the least time in seconds between two pictures sent to the browser."""

    _esm = Path(__file__).with_name("live_curves.js")
    title = traitlets.Unicode("Training").tag(sync=True)
    x_label = traitlets.Unicode("step").tag(sync=True)
    log_y = traitlets.Bool(False).tag(sync=True)
    series = traitlets.List([]).tag(sync=True)

    def __init__(self, title: str = "Training", x_label: str = "step", interval: float = 0.5, view: str = "training"):
        self.view = check_choice(view, "view", "LiveCurves", VIEWS)
        super().__init__(title=str(title), x_label=str(x_label), log_y=self.view in LAYER_VIEWS)
        self.interval = float(check_range(interval, "interval", "LiveCurves", minimum=0, maximum=60,
                                          fix="Pass a number of seconds such as interval=0.5."))
        self.points: dict[str, tuple[list, list]] = {}   # every point given, by line
        self.pictures_sent = 0
        self._last_sent = -float("inf")

    def add(self, step: float, **values) -> None:
        """One point per keyword (a line per name) at x = step; sends a picture if `interval` has passed."""
        for name, value in values.items():
            if value is None:
                continue
            xs, ys = self.points.setdefault(NAMES.get(name, name), ([], []))
            xs.append(float(step))
            ys.append(float(value))
        if time.monotonic() - self._last_sent >= self.interval:
            self.send_now()

    def send_now(self) -> None:
        """Send the chart as it is now (the throttle's last word: call it when training ends)."""
        self._last_sent = time.monotonic()
        curves = dict(self.points)
        if self.view == "updates" and curves:
            first = min(xs[0] for xs, _ in curves.values())
            last = max(xs[-1] for xs, _ in curves.values())
            curves[GUIDE] = ([first, last], [UPDATE_RATIO_GUIDE, UPDATE_RATIO_GUIDE])
        self.series = live_series(curves, guides=(GUIDE,))
        self.pictures_sent += 1

    def callback(self, every: int = 10) -> Callback:
        """A fit() callback for the "training" view: the training loss and accuracy every `every` steps, the
        validation numbers at each epoch end, and a last picture when training ends."""
        if self.view != "training":
            raise ValueError(f"LiveCurves.callback draws the training view, this chart shows {self.view!r}. "
                             "Feed it from a recorder instead: curves.follow(recorder).")
        return _FitPoints(self, check_int(every, "every", "LiveCurves.callback", minimum=1,
                                          fix="Pass a number of steps such as every=10."))

    def follow(self, recorder):
        """Draw what an engine Recorder or a learnscope.watch watcher records (each recorded step, and each epoch's
        test numbers), then a last picture when the run ends. Returns what it was given."""
        if not isinstance(getattr(recorder, "listeners", None), list):
            raise TypeError(f"LiveCurves.follow expected a learnscope Recorder or watcher, got {describe(recorder)}. "
                            "Pass Recorder(...) (engine) or learnscope.watch(...) (PyTorch).")
        recorder.listeners.append(self._from_record)
        return recorder

    def _from_record(self, step: int, values: dict, final: bool = False) -> None:
        if self.view == "training":
            self.add(step, **{key: values[key] for key in NAMES if key in values})
        else:
            prefix = LAYER_VIEWS[self.view]
            self.add(step, **{key[len(prefix):]: value for key, value in values.items()
                              if key.startswith(prefix) and key.endswith(".W")})
        if final:
            self.send_now()


class _FitPoints(Callback):
    def __init__(self, curves: LiveCurves, every: int):
        self.curves, self.every = curves, every

    def on_batch_end(self, step: int, logs: dict) -> None:
        if step % self.every == 0:
            self.curves.add(step, loss=logs.get("loss"), accuracy=logs.get("accuracy"))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        step = max(self.trainer.steps_completed - 1, 0)
        self.curves.add(step, val_loss=logs.get("val_loss"), val_accuracy=logs.get("val_accuracy"))

    def on_train_end(self, logs: dict) -> None:
        self.curves.send_now()
