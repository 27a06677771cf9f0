"""Chapter 11's "Try this" outcomes, read from real maps of a trained model (so other maps read differently)."""

import numpy as np

from learnscope.explain.attributions import integrated_gradients
from learnscope.explain.sanity import SanityStep, cascading_randomization
from learnscope.lessons.inside_lab import INSIDE_EXPERIMENTS, SecondChoice, StepsComparison
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import Adam
from learnscope.recipes import build_from_recipe, default_recipe
from learnscope.train import fit

EXPERIMENTS = {experiment.key: experiment for experiment in INSIDE_EXPERIMENTS}


def trained(mnist):
    model = build_from_recipe(default_recipe("mnist").with_options(hidden=(64,)), (1, 28, 28), 10, mnist.x_train)
    fit(model, SoftmaxCrossEntropy(), Adam(1e-3), mnist.x_train[:20_000], mnist.y_train[:20_000], epochs=1,
        batch_size=128, seed=0)
    return model


def test_each_outcome_reads_its_own_maps(mnist):
    model = trained(mnist)
    x, target = mnist.x_test[0], int(mnist.y_test[0])
    _, saliency = cascading_randomization(model, x, target, "saliency")
    text = EXPERIMENTS["randomize-saliency"].outcome(saliency).text
    assert text.startswith("Yes, beyond recognition") and f"only {saliency[-1].correlation:.2f}" in text
    _, times_input = cascading_randomization(model, x, target, "gradient × input")
    text = EXPERIMENTS["randomize-times-input"].outcome(times_input).text
    assert text.startswith(f"It hardly looks different: {times_input[-1].correlation:.2f}")
    assert f"On the ink alone only {times_input[-1].ink_correlation:.2f}" in text

    coarse = integrated_gradients(model, x, target, n_steps=EXPERIMENTS["few-steps"].setup["steps"])
    fine = integrated_gradients(model, x, target, n_steps=64)
    text = EXPERIMENTS["few-steps"].outcome(StepsComparison(coarse, fine)).text
    assert f"off by {coarse.relative_delta:.1%}. With 64 steps: off by {fine.relative_delta:.1%}" in text
    assert coarse.relative_delta > fine.relative_delta

    scores = model.predict(x[None])[0]
    probabilities = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    answer, runner = (int(k) for k in np.argsort(-probabilities)[:2])
    second = SecondChoice(answer, runner, probabilities, integrated_gradients(model, x, answer),
                          integrated_gradients(model, x, runner), x)
    text = EXPERIMENTS["runner-up"].outcome(second).text
    against = (second.runner_up_map.values[x > 0.1] < 0).mean()
    assert text.startswith(f"The model gives {runner} {probabilities[runner]:.1%} against "
                           f"{probabilities[answer]:.1%} for {answer}")
    assert f"{against:.0%} of the ink counts against {runner}" in text


def test_a_map_that_stays_alike_and_one_that_changes_read_differently():
    alike = [SanityStep(1, "layers 2–5", np.zeros(3), 0.8, 0.7, 0.6)]
    changed = [SanityStep(1, "layers 2–5", np.zeros(3), 0.1, 0.0, 0.1)]
    assert EXPERIMENTS["randomize-saliency"].outcome(alike).text.startswith("Less than you might hope")
    assert EXPERIMENTS["randomize-times-input"].outcome(changed).text.startswith("It changed: 0.10")
    assert EXPERIMENTS["randomize-saliency"].outcome([]).text == "This model has no weights to re-draw."
