"""Attributions on trained digit models: saliency against finite differences of the class score (float64),
integrated gradients' completeness and its integral, occlusion against a brute-force loop, and refusals."""

import numpy as np
import pytest

from learnscope.explain.attributions import (
    baseline_input,
    gradient_times_input,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)


def score(model, x, target) -> float:
    return float(model.forward(x[None], train=False)[0, target])


@pytest.mark.parametrize("kind", ["trained_mlp", "trained_cnn"])
def test_saliency_equals_finite_differences_of_the_class_score(kind, request, mnist):
    model = request.getfixturevalue(kind).astype(np.float64)
    x = mnist.x_test[7].astype(np.float64)
    target = int(mnist.y_test[7])
    signed = saliency_map(model, x, target, signed=True)
    rng = np.random.default_rng(0)
    # NOTE: on the ink. Over blank background a CNN's conv outputs are all equal, so every max-pool window there
    # is a tie: a kink at nearly every background pixel, where no derivative exists to compare with
    ink = np.flatnonzero(x.ravel() > 0.1)
    strongest = ink[np.argsort(np.abs(signed).ravel()[ink])[-10:]]            # the ink's largest gradients
    pixels = list(rng.choice(ink, 30, replace=False)) + list(strongest)
    eps, kinks = 1e-6, 0
    here = score(model, x, target)
    for flat in pixels:
        up, down = x.copy(), x.copy()
        up.flat[flat] += eps
        down.flat[flat] -= eps
        right, left = (score(model, up, target) - here) / eps, (here - score(model, down, target)) / eps
        if right == pytest.approx(left, rel=1e-3, abs=1e-6):
            assert signed.flat[flat] == pytest.approx((right + left) / 2, rel=1e-4, abs=1e-7)
        else:                                                   # a kink: a ReLU at 0 or a max-pool tie
            kinks += 1
    assert kinks <= 3
    assert np.array_equal(saliency_map(model, x, target), np.abs(signed))
    assert np.allclose(gradient_times_input(model, x, target), x * signed)


def test_integrated_gradients_add_up_to_the_score_change_within_1_percent_at_64_steps(trained_mlp, trained_cnn,
                                                                                       mnist):
    for model in (trained_mlp, trained_cnn):
        for index in range(20):
            x, target = mnist.x_test[index], int(mnist.y_test[index])
            result = integrated_gradients(model, x, target, baseline="black", n_steps=64)
            change = score(model, x, target) - score(model, np.zeros_like(x), target)
            assert result.score - result.baseline_score == pytest.approx(change, rel=1e-5)
            assert result.delta == pytest.approx(result.values.sum() - change, abs=1e-5)
            assert abs(result.values.sum() - change) < 0.01 * abs(change), index


def test_integrated_gradients_is_the_path_integral_of_the_gradient(trained_mlp, mnist):
    x, target = mnist.x_test[3], int(mnist.y_test[3])
    baseline = baseline_input(x, "blur")
    result = integrated_gradients(trained_mlp, x, target, baseline=baseline, n_steps=64)
    n = 2000                                               # a midpoint sum, one gradient at a time
    total = np.zeros(x.shape)
    for alpha in (np.arange(n) + 0.25) / n:                      # other points than the 64 of the method
        total += saliency_map(trained_mlp, baseline + alpha * (x - baseline), target, signed=True)
    expected = (x - baseline) * total / n
    assert np.abs(result.values - expected).max() < 0.02 * np.abs(expected).max()


def brute_force_occlusion(model, x, target, window, stride):
    """Each pixel on its own: every window position that covers it, the score with that window blanked."""
    height, width = x.shape[1:]
    tops = sorted(set(range(0, height - window + 1, stride)) | {height - window})
    lefts = sorted(set(range(0, width - window + 1, stride)) | {width - window})
    full = score(model, x, target)
    attribution = np.zeros(x.shape[1:])
    for row in range(height):
        for column in range(width):
            drops = []
            for top in (t for t in tops if t <= row < t + window):
                for left in (c for c in lefts if c <= column < c + window):
                    blanked = x.copy()
                    blanked[:, top:top + window, left:left + window] = 0
                    drops.append(full - score(model, blanked, target))
            attribution[row, column] = np.mean(drops)
    return attribution


def test_occlusion_equals_a_brute_force_loop(trained_cnn, mnist):
    x, target = mnist.x_test[0], int(mnist.y_test[0])
    found = occlusion_map(trained_cnn, x, target, window=6, stride=4)   # 28 = 6 + 4·5 + 2: a flush last window
    expected = brute_force_occlusion(trained_cnn, x, target, 6, 4)
    assert np.allclose(found[0], expected, atol=1e-5)
    blank = found[0][:4, :4]                                      # MNIST's corners are black: blanking changes 0
    assert np.abs(blank).max() < 1e-6


def test_baselines_and_refusals():
    x = np.random.default_rng(0).uniform(0, 1, (1, 28, 28)).astype(np.float32)
    assert np.all(baseline_input(x, "black") == 0)
    blurred = baseline_input(x, "blur")
    assert blurred.shape == x.shape and blurred.std() < x.std() / 2    # a 5×5 box flattens the noise
    noise = baseline_input(x, "noise")
    assert noise.min() >= x.min() and noise.max() <= x.max() and not np.array_equal(noise, x)
    with pytest.raises(ValueError, match="black, blur, noise"):
        baseline_input(x, "grey")
    with pytest.raises(ValueError, match="needs an image"):
        baseline_input(np.ones(5, np.float32), "blur")


def test_bad_targets_and_inputs_say_what_to_pass(trained_mlp):
    x = np.zeros((1, 28, 28), np.float32)
    with pytest.raises(ValueError, match="0 to 9"):
        saliency_map(trained_mlp, x, 10)
    with pytest.raises(TypeError, match="engine model"):
        saliency_map("model", x, 0)
    with pytest.raises(ValueError, match="expected an image"):
        occlusion_map(trained_mlp, np.zeros(784, np.float32), 0)


def test_the_completeness_sentence_carries_the_check(trained_mlp, mnist):
    from learnscope.explain.attributions import describe_integrated_gradients

    x, target = mnist.x_test[0], int(mnist.y_test[0])
    fine = integrated_gradients(trained_mlp, x, target, n_steps=64)
    text = describe_integrated_gradients(fine, str(target), "black")
    assert f"add up to {fine.values.sum():.3f}" in text
    assert f"a change of {fine.score - fine.baseline_score:.3f}" in text
    assert "within 1%" in text
    coarse = integrated_gradients(trained_mlp, x, target, n_steps=1)
    assert coarse.relative_delta > 0.01 and "use more steps" in describe_integrated_gradients(coarse, "7", "black")


def test_the_prediction_sentence_names_the_answer_and_the_class_explained():
    from learnscope.explain.attributions import describe_prediction

    probabilities = np.array([0.01, 0.9, 0.09])
    assert describe_prediction(probabilities, 1) == ("The model says 1 (90.0%). The maps explain its answer: F is "
                                                     "the model's score for it.")
    assert "The maps explain class 2 (9.0%)" in describe_prediction(probabilities, 2)
