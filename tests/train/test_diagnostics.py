"""Diagnostics: each one fires on a real training run built to show it, and none fires on a healthy MNIST run.

The metrics come from RecordingCallback below, which records exactly the format the Recorder stores, so these
tests do not depend on the recorder or the run store."""

import math
import re

import numpy as np
import pytest

from learnscope.data import load_mnist
from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, ReLU, Sigmoid, Tanh
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train import Callback, fit
from learnscope.train.diagnostics import KINDS, Diagnosis, diagnose


class RecordingCallback(Callback):
    """Records diagnose()'s metrics format every `every` steps of fit(): loss, accuracy, lr, and per weight
    parameter grad_rms, update_ratio (‖ΔW‖/‖W‖ of that step), weight_rms; per activation layer dead_fraction
    (ReLU) or saturated_fraction (tanh, sigmoid) from a forward hook; per epoch epoch/loss ... epoch/val_accuracy."""

    def __init__(self, every: int = 5):
        self.every = every
        self.rows: dict[str, tuple[list, list]] = {}
        self._activations: dict[str, float] = {}
        self._before: dict[str, np.ndarray] = {}
        self._armed = False
        self._handle = None

    def _add(self, name, step, value) -> None:
        steps, values = self.rows.setdefault(name, ([], []))
        steps.append(step)
        values.append(float(value))

    def _snapshot(self) -> None:
        """The weights before the next step's update: the update ratio compares against them."""
        self._before = {name: param.copy() for name, param, _ in self.trainer.model.named_params()}

    def _hook(self, index, layer, x, out) -> None:
        if not self._armed:                             # only the forward pass of a recording step
            return
        name = f"{index}.{type(layer).__name__.lower()}"
        if isinstance(layer, ReLU):
            units = out.reshape(len(out), -1)
            self._activations[f"dead_fraction/{name}"] = np.mean(np.all(units <= 0, axis=0))
        elif isinstance(layer, Tanh):
            self._activations[f"saturated_fraction/{name}"] = np.mean(np.abs(out) > 0.97)
        elif isinstance(layer, Sigmoid):
            self._activations[f"saturated_fraction/{name}"] = np.mean((out < 0.03) | (out > 0.97))

    def on_train_begin(self, trainer) -> None:
        self._handle = trainer.model.register_hook("forward", self._hook)
        self._armed = True
        self._snapshot()

    def on_batch_end(self, step, logs) -> None:
        if self._armed:
            for key in ("loss", "accuracy", "lr"):
                if key in logs:
                    self._add(key, step, logs[key])
            with np.errstate(over="ignore", invalid="ignore"):
                for name, param, grad in self.trainer.model.named_params():   # grads of the step just taken
                    self._add(f"grad_rms/{name}", step, np.sqrt(np.mean(np.square(grad, dtype=np.float64))))
                    self._add(f"weight_rms/{name}", step, np.sqrt(np.mean(np.square(param, dtype=np.float64))))
                    before = self._before[name]
                    self._add(f"update_ratio/{name}", step,
                              np.linalg.norm(param - before) / max(float(np.linalg.norm(before)), 1e-12))
            for name, value in self._activations.items():
                self._add(name, step, value)
            self._activations = {}
        self._armed = (step + 1) % self.every == 0
        if self._armed:
            self._snapshot()

    def on_epoch_end(self, epoch, logs) -> None:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in logs:
                self._add(f"epoch/{key}", epoch, logs[key])

    def on_train_end(self, logs) -> None:
        self._handle.remove()

    def metrics(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {name: (np.asarray(steps), np.asarray(values)) for name, (steps, values) in self.rows.items()}


@pytest.fixture(scope="module")
def mnist(shared_data_dir):
    """Flattened MNIST: (x_train, y_train, x_val, y_val) with 2,000 test images for validation."""
    data = load_mnist(data_dir=shared_data_dir, progress=False)
    x_train = data.x_train.reshape(len(data.x_train), -1)
    return x_train, data.y_train, data.x_test[:2000].reshape(2000, -1), data.y_test[:2000]


def record(layers, optimizer, x, y, *, epochs=1, batch_size=32, validation_data=None, every=5):
    """Train a seeded model on (x, y) with a RecordingCallback; return (metrics, History)."""
    recorder = RecordingCallback(every)
    history = fit(Sequential(layers, seed=0), SoftmaxCrossEntropy(), optimizer, x, y, epochs=epochs,
                  batch_size=batch_size, seed=0, validation_data=validation_data, callbacks=[recorder])
    return recorder.metrics(), history


def by_kind(found: list[Diagnosis]) -> dict[str, list[Diagnosis]]:
    kinds: dict[str, list[Diagnosis]] = {}
    for diagnosis in found:
        kinds.setdefault(diagnosis.kind, []).append(diagnosis)
    return kinds


def check_wording(diagnosis: Diagnosis) -> None:
    assert diagnosis.kind in KINDS and diagnosis.severity in ("problem", "warning")
    assert diagnosis.title and len(diagnosis.explanation) > 80 and len(diagnosis.suggestion) > 40
    assert diagnosis.evidence


# -- runs built to show one failure ---------------------------------------------------------------------------------
def test_deep_sigmoid_net_with_a_small_init_has_vanishing_gradients(mnist):
    x, y, _, _ = mnist
    small = {"name": "normal", "std": 0.05}
    layers = [Dense(784, 64, init=small), Sigmoid()]
    for _ in range(4):
        layers += [Dense(64, 64, init=small), Sigmoid()]
    layers.append(Dense(64, 10, init=small))
    metrics, history = record(layers, SGD(lr=0.1), x[:2000], y[:2000])

    found = by_kind(diagnose(metrics, history.status, n_classes=10))
    vanishing = found["vanishing_gradients"][0]
    check_wording(vanishing)
    assert vanishing.severity == "problem"
    assert vanishing.evidence["ratio"] < 1e-4                # measured: ~3e-6, five sigmoid layers deep
    assert vanishing.layers[0] == "0.dense.W" and "10.dense.W" not in vanishing.layers
    assert "0.dense.W" in vanishing.suggestion
    assert vanishing.fix == {"activation": "relu"} and vanishing.fix_label == "Use the activation relu"
    share = int(re.search(r"gets 1/([\d,]+) of the gradient", vanishing.title).group(1).replace(",", ""))
    assert share == pytest.approx(1 / vanishing.evidence["ratio"], rel=0.01)      # the title says it in words

    assert "underfitting" in found                          # the consequence: stuck at log(10)
    assert not {"lr_too_high", "exploding_gradients", "divergence", "lr_too_low"} & set(found)


def test_a_far_too_high_learning_rate_diverges_explodes_and_saturates(mnist):
    x, y, _, _ = mnist
    metrics, history = record([Dense(784, 64), Tanh(), Dense(64, 10)], SGD(lr=5), x[:2000], y[:2000], every=2)

    found = by_kind(diagnose(metrics, history.status, n_classes=10))
    for kind in ("divergence", "exploding_gradients", "lr_too_high", "saturated_units"):
        check_wording(found[kind][0])
    assert found["divergence"][0].evidence["growth"] > 10        # measured: loss 2.5 -> ~130
    assert found["lr_too_high"][0].evidence["median_update_ratio"] > 0.1
    assert "lr=5 → lr=0.5" in found["lr_too_high"][0].suggestion
    assert found["divergence"][0].fix == {"lr": 0.5}                  # the one-click form of the suggestion
    assert found["divergence"][0].fix_label == "Set the learning rate to 0.5"
    growth = found["divergence"][0].evidence["growth"]
    assert f"growth {growth:.4g}" in found["divergence"][0].evidence_text        # the numbers, in words
    assert "2.dense.W: start grad rms" in found["exploding_gradients"][0].evidence_text
    assert "2.dense.W" in found["exploding_gradients"][0].layers
    assert found["saturated_units"][0].layers == ["1.tanh"]
    assert "underfitting" not in found                          # a diverged run is not said to underfit


def test_a_run_the_guard_stopped_is_diagnosed_as_divergence():
    x, y = make_spiral(n_samples=300, seed=0)
    layers = [Dense(2, 16), ReLU(), Dense(16, 16), ReLU(), Dense(16, 3)]
    metrics, history = record(layers, SGD(lr=1e4), x, y, epochs=20, batch_size=16, every=1)
    assert history.status == "diverged"

    divergence = by_kind(diagnose(metrics, history.status, n_classes=3))["divergence"][0]
    assert divergence.evidence["status"] == "diverged" and "lr=1e+04 → lr=1e+03" in divergence.suggestion


def test_relus_behind_a_large_negative_bias_are_dead(mnist):
    x, y, _, _ = mnist
    negative = {"name": "constant", "value": -5}
    layers = [Dense(784, 64, init="he_normal", bias_init=negative), ReLU(),
              Dense(64, 64, init="he_normal", bias_init=negative), ReLU(), Dense(64, 10)]
    metrics, history = record(layers, SGD(lr=0.1, momentum=0.9), x[:2000], y[:2000])

    found = by_kind(diagnose(metrics, history.status, n_classes=10))
    dead = found["dead_relus"]
    assert [d.layers for d in dead] == [["1.relu"], ["3.relu"]]
    assert all(d.severity == "problem" and d.evidence["dead_fraction"] == 1.0 for d in dead)
    check_wording(dead[0])
    # zero gradients come from the dead units: not blamed on the learning rate or on vanishing
    assert not {"lr_too_low", "vanishing_gradients", "lr_too_high"} & set(found)


def test_a_wide_net_on_200_images_overfits(mnist):
    x, y, x_val, y_val = mnist
    layers = [Dense(784, 256, init="he_normal"), ReLU(), Dense(256, 256, init="he_normal"), ReLU(),
              Dense(256, 10, init="he_normal")]
    # NOTE: one hidden layer overfits too, but its val_loss rises by only 3-8% for some seeds: two make it clear
    metrics, history = record(layers, SGD(lr=0.1, momentum=0.9), x[:200], y[:200], epochs=15,
                              validation_data=(x_val, y_val), every=2)

    found = by_kind(diagnose(metrics, history.status, n_classes=10))
    overfitting = found["overfitting"][0]
    check_wording(overfitting)
    evidence = overfitting.evidence
    assert evidence["best_epoch"] <= 5 and evidence["val_loss_rise"] > 1.2     # measured: epoch 0-4, 1.27-1.43
    assert evidence["final_train_loss"] < 0.01 < evidence["train_loss_at_best"]
    assert f"epoch {evidence['best_epoch']}" in overfitting.suggestion
    assert "underfitting" not in found and "dead_relus" not in found


def test_a_learning_rate_of_1e_6_is_too_low_and_underfits(mnist):
    x, y, _, _ = mnist
    layers = [Dense(784, 64, init="he_normal"), ReLU(), Dense(64, 10, init="he_normal")]
    # every step recorded: "flat" compares the median loss of the first and last thirds, which needs enough batches
    metrics, history = record(layers, SGD(lr=1e-6), x[:2000], y[:2000], every=1)

    found = by_kind(diagnose(metrics, history.status, n_classes=10))
    low = found["lr_too_low"][0]
    check_wording(low)
    assert low.evidence["largest_update_ratio"] < 1e-6                 # measured: ~2e-7
    assert "lr=1e-06 → lr=0.0001" in low.suggestion
    assert found["underfitting"][0].evidence["final_loss"] > 0.8 * math.log(10)
    assert not {"lr_too_high", "vanishing_gradients", "divergence"} & set(found)


def test_a_healthy_mnist_run_gets_no_diagnosis(mnist):
    x, y, x_val, y_val = mnist
    layers = [Dense(784, 128, init="he_normal"), ReLU(), Dense(128, 64, init="he_normal"), ReLU(),
              Dense(64, 10, init="he_normal")]
    metrics, history = record(layers, SGD(lr=0.1, momentum=0.9), x[:10_000], y[:10_000], epochs=2, batch_size=64,
                              validation_data=(x_val, y_val), every=10)
    assert history["val_accuracy"][-1] > 0.9

    found = diagnose(metrics, history.status, n_classes=10)
    assert found == [], [(d.kind, d.evidence) for d in found]


# -- the boundary ---------------------------------------------------------------------------------------------------
def test_problems_come_first_then_warnings():
    steps = np.arange(30)
    metrics = {"dead_fraction/1.relu": (steps, np.full(30, 0.6)), "dead_fraction/3.relu": (steps, np.ones(30))}
    found = diagnose(metrics)
    assert [(d.severity, d.layers) for d in found] == [("problem", ["3.relu"]), ("warning", ["1.relu"])]


def test_loss_spikes_above_the_running_median_mean_the_learning_rate_is_too_high():
    steps = np.arange(40)
    falling = 2.3 * np.exp(-steps / 10) + 0.05 * (steps % 3)            # a noisy but healthy descent
    assert diagnose({"loss": (steps, falling)}) == []
    spiky = falling.copy()
    spiky[[20, 28, 36]] = 2.2                                             # three jumps back to near the start
    too_high = diagnose({"loss": (steps, spiky), "lr": (steps, np.full(40, 0.5))})[0]
    assert too_high.kind == "lr_too_high" and too_high.evidence["loss_spikes"] == 3
    assert "lr=0.5 → lr=0.05" in too_high.suggestion


def test_no_metrics_no_diagnosis():
    assert diagnose({}) == []
    assert diagnose({"loss": (np.arange(2), np.array([2.3, 2.2]))}, status="finished", n_classes=10) == []


@pytest.mark.parametrize(("args", "error", "match"), [
    (([1, 2],), TypeError, "metrics to be a dict"),
    (({"loss": np.ones(3)},), TypeError, r"metrics\['loss'\] to be a pair"),
    (({"loss": (np.arange(3), np.ones(4))},), ValueError, "as many steps as values, got 3 and 4"),
    (({}, 3), TypeError, "status to be a str"),
    (({}, None, 1), ValueError, "n_classes"),
])
def test_bad_input_is_refused_with_a_clear_message(args, error, match):
    with pytest.raises(error, match=match):
        diagnose(*args)


def test_a_first_layer_with_no_gradient_at_all_is_said_in_words():
    steps = np.arange(30)
    metrics = {"grad_rms/0.dense.W": (steps, np.zeros(30)), "grad_rms/2.dense.W": (steps, np.full(30, 0.5))}
    vanishing = by_kind(diagnose(metrics))["vanishing_gradients"][0]
    assert vanishing.title == "Vanishing gradients: 0.dense.W gets none of the gradient of 2.dense.W"
