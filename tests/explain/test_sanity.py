"""The sanity check of Adebayo et al.: re-drawing the weights from the top changes a gradient map beyond
recognition, while maps multiplied by the input keep their look; rank correlation itself."""

import numpy as np
import pytest

from learnscope.explain.sanity import cascading_randomization, randomized_from_top, rank_correlation


def test_randomizing_the_weights_drops_the_gradient_maps_rank_correlation_below_half(trained_mlp, trained_cnn,
                                                                                     mnist):
    for model in (trained_mlp, trained_cnn):
        for index in range(3):
            x, target = mnist.x_test[index], int(mnist.y_test[index])
            original, steps = cascading_randomization(model, x, target, "saliency")
            assert steps[-1].lowest == min(i for i, layer in enumerate(model.layers) if layer.params)
            assert abs(steps[-1].signed_correlation) < 0.5
            assert rank_correlation(original, original) == pytest.approx(1.0)
    _, mlp_steps = cascading_randomization(trained_mlp, mnist.x_test[0], int(mnist.y_test[0]), "saliency")
    assert abs(mlp_steps[-1].correlation) < 0.5                 # an MLP's gradient sizes lose their pattern too


def test_a_cnns_gradient_sizes_keep_the_shape_its_architecture_gives_them(trained_cnn, mnist):
    """Adebayo et al.'s caution: a map's look can come from the architecture. A random CNN's |gradient| is still
    largest where most filters overlap, so the sizes keep some rank correlation that the signs do not."""
    _, steps = cascading_randomization(trained_cnn, mnist.x_test[0], int(mnist.y_test[0]), "saliency")
    assert steps[-1].correlation > abs(steps[-1].signed_correlation) + 0.2


def test_gradient_times_input_keeps_its_look_on_the_blank_background_but_not_on_the_ink(trained_mlp, mnist):
    x, target = mnist.x_test[0], int(mnist.y_test[0])
    _, steps = cascading_randomization(trained_mlp, x, target, "gradient × input")
    assert steps[-1].correlation > 0.9                # both maps are 0 wherever the digit is blank
    assert steps[-1].ink_correlation < steps[-1].correlation - 0.3


def test_randomized_copies_leave_the_model_alone(trained_mlp):
    before = [param.copy() for _, param, _ in trained_mlp.named_params()]
    copies = randomized_from_top(trained_mlp)
    assert [np.array_equal(a, param) for a, (_, param, _) in zip(before, trained_mlp.named_params())] == \
        [True] * len(before)
    last = copies[-1][1]
    changed = [not np.array_equal(a, param) for a, (_, param, _) in zip(before, last.named_params())]
    assert all(changed[i] for i, (name, _, _) in enumerate(last.named_params()) if name.endswith(".W"))


def test_rank_correlation_reads_rankings_not_values():
    values = np.arange(10.0)
    assert rank_correlation(values, values ** 3) == pytest.approx(1.0)           # same order, other values
    assert rank_correlation(values, -values, absolute=False) == pytest.approx(-1.0)
    assert rank_correlation(values, np.ones(10)) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        rank_correlation(values, values[:5])


def test_the_sanity_sentence_reads_the_fully_randomized_step(trained_mlp, mnist):
    from learnscope.explain.sanity import describe_sanity

    x, target = mnist.x_test[0], int(mnist.y_test[0])
    _, saliency = cascading_randomization(trained_mlp, x, target, "saliency")
    text = describe_sanity("saliency", saliency)
    assert f"correlates {saliency[-1].correlation:.2f}" in text and "beyond recognition" in text
    _, times_input = cascading_randomization(trained_mlp, x, target, "gradient × input")
    text = describe_sanity("gradient × input", times_input)
    assert f"the digit's ink alone: {times_input[-1].ink_correlation:.2f}" in text and "still looks alike" in text


@pytest.mark.parametrize(("everywhere", "signed", "ink", "verdict"), [
    (0.1, -0.2, 0.3, "beyond recognition"),
    (0.99, 0.98, 0.3, "on the ink it does not"),
    (0.99, 0.98, 0.6, "on the ink it only partly does"),
    (0.99, 0.98, 0.9, "barely changed, even on the ink"),
    (0.45, 0.7, 0.2, "on the ink it does not"),             # the signs kept their pattern: not a pass
])
def test_each_verdict_follows_its_correlations(everywhere, signed, ink, verdict):
    from learnscope.explain.sanity import SanityStep, describe_sanity

    step = SanityStep(2, "layers 3–5", np.zeros(3), everywhere, signed, ink)
    assert verdict in describe_sanity("saliency", [step])
    assert describe_sanity("saliency", []).startswith("The model has no parameters")


def test_a_model_trained_on_shuffled_labels_has_other_gradient_maps(trained_mlp, mnist):
    from learnscope.explain.attributions import saliency_map
    from learnscope.explain.sanity import compare_maps, describe_sanity, trained_on_shuffled_labels

    noise = trained_on_shuffled_labels(trained_mlp, mnist.x_train[:5000], mnist.y_train[:5000], epochs=3)
    assert (noise.predict(mnist.x_test[:2000]).argmax(axis=1) == mnist.y_test[:2000]).mean() < 0.2   # learned no digits
    assert [np.array_equal(a, b) for (_, a, _), (_, b, _) in zip(noise.named_params(), trained_mlp.named_params())] \
        == [False] * len(noise.named_params())                   # its own weights; the trained model kept its own
    x, target = mnist.x_test[1], int(mnist.y_test[1])
    original, step = compare_maps(trained_mlp, noise, x, target, "saliency", "trained on shuffled labels")
    assert np.array_equal(original, saliency_map(trained_mlp, x, target, signed=True))
    assert abs(step.signed_correlation) < 0.5 and abs(step.correlation) < 0.5
    assert describe_sanity("saliency", [step], what="Trained on shuffled labels").startswith(
        "Trained on shuffled labels, the saliency map's ranking")


def test_a_step_counts_as_changed_only_when_sizes_and_signs_both_lost_their_ranking():
    from learnscope.explain.sanity import SanityStep

    assert SanityStep(0, "", np.zeros(1), 0.1, -0.2, 0.9).changed
    assert not SanityStep(0, "", np.zeros(1), 0.1, 0.7, 0.1).changed
    assert SanityStep(0, "", np.zeros(1), 0.1, 0.7, 0.1).sizes_changed
    assert not SanityStep(0, "", np.zeros(1), -0.6, 0.0, 0.1).sizes_changed
