"""What the playground names as it happens: the project's diagnostics, run on a live session's own numbers, plus
the perceptron's limit. Each setup is trained for real; none of the numbers are made up."""

import pytest

from learnscope.lessons.playground import PlaygroundSession, PlaygroundSetup


def trained(epochs=100, **settings) -> PlaygroundSession:
    session = PlaygroundSession(PlaygroundSetup(**settings))
    for _ in range(epochs):
        session.train_epochs(1)
        if session.diverged:
            break
    return session


def kinds(session) -> list[str]:
    return [finding.kind for finding in session.findings()]


@pytest.mark.parametrize("dataset", ["xor", "spiral", "circles"])
def test_a_healthy_default_run_is_not_flagged(dataset):
    # the spiral's gradients grow 10x in its first epochs while its loss falls: not an explosion (it was flagged)
    assert kinds(trained(dataset=dataset)) == []


def test_a_learning_rate_of_ten_is_named_as_divergence_with_a_lower_rate_as_the_fix():
    session = trained(dataset="spiral", lr=10)
    first = session.findings()[0]
    assert first.kind == "divergence"
    assert first.evidence["growth"] > 3                      # the loss ended several times above where it began
    assert first.fix == {"lr": 1.0} and first.fix_label == "Set the learning rate to 1"
    assert "divergence" not in kinds(trained(dataset="spiral", lr=1))     # the fix, applied, no longer diverges


def test_six_sigmoid_layers_show_vanishing_gradients_and_relu_is_the_fix():
    session = trained(dataset="spiral", hidden=(4,) * 6, activation="sigmoid", epochs=50)
    vanishing = next(f for f in session.findings() if f.kind == "vanishing_gradients")
    assert vanishing.evidence["ratio"] < 1e-2
    assert vanishing.layers[0] == "0.dense.W"
    assert vanishing.fix == {"activation": "relu"}
    assert "vanishing_gradients" not in kinds(trained(dataset="spiral", hidden=(4,) * 6, activation="relu",
                                                      epochs=50))


def test_no_hidden_layer_on_xor_names_the_perceptron_and_offers_a_hidden_layer():
    session = trained(dataset="xor", hidden=())
    first = session.findings()[0]
    assert first.kind == "linear_limit" and "perceptron" in first.explanation
    assert first.evidence["train_accuracy"] < 0.9 and first.fix == {"hidden": (4,)}
    assert "linear_limit" not in kinds(trained(dataset="xor", hidden=(4,)))
    # a straight line is enough for two gaussian blobs: no finding there
    assert "linear_limit" not in kinds(trained(dataset="gaussians", hidden=()))


def test_a_small_noisy_training_share_is_named_as_overfitting_with_l2_as_the_fix():
    session = trained(dataset="spiral", train_fraction=0.1, noise=0.5, hidden=(12, 12, 12), activation="relu",
                      lr=0.1)
    overfitting = next(f for f in session.findings() if f.kind == "overfitting")
    assert overfitting.evidence["val_loss_rise"] > 1.1 and overfitting.fix == {"l2": 0.001}


def test_nothing_is_judged_before_training():
    assert PlaygroundSession(PlaygroundSetup(dataset="spiral", lr=10)).findings() == []
