"""Deep features of trained digit models (filters, feature maps, strongest examples, layer representations) and
their 2-D embeddings: one point per example, in the examples' order."""

import numpy as np
import pytest

from learnscope.explain.embeddings import MAX_TSNE_POINTS, embed
from learnscope.explain.features import conv_filters, layer_outputs, layer_representation, top_activating
from learnscope.layers import Conv2D


def test_conv_filters_are_copies_of_every_conv_layers_weights(trained_cnn):
    filters = conv_filters(trained_cnn)
    convs = [i for i, layer in enumerate(trained_cnn.layers) if isinstance(layer, Conv2D)]
    assert [index for index, _ in filters] == convs and len(convs) == 2
    for index, weights in filters:
        assert np.array_equal(weights, trained_cnn.layers[index].params["W"])
        weights[...] = 0                                       # a copy: the model keeps its filters
        assert np.abs(trained_cnn.layers[index].params["W"]).sum() > 0
    assert filters[0][1].shape[1] == 1 and filters[1][1].shape[1] == filters[0][1].shape[0]


def test_layer_outputs_follow_one_digit_through_every_layer(trained_cnn, mnist):
    x = mnist.x_test[0]
    outputs = layer_outputs(trained_cnn, x)
    assert [index for index, _, _ in outputs] == list(range(len(trained_cnn.layers)))
    assert [output.shape for _, _, output in outputs] == trained_cnn.output_shapes((1, 28, 28))
    assert np.allclose(outputs[-1][2], trained_cnn.forward(x[None])[0])
    assert not trained_cnn._hooks["forward"]                  # the hook is gone again


def test_a_layers_representation_has_one_row_per_example_in_order(trained_mlp, mnist):
    x = mnist.x_test[:1200]                                     # more than one batch
    index = 3
    rows = layer_representation(trained_mlp, x, index)
    assert rows.shape[0] == 1200
    for i in (0, 517, 1199):
        single = layer_outputs(trained_mlp, x[i])[index][2].ravel()
        assert np.allclose(rows[i], single, atol=1e-5)


def test_top_activating_examples_are_each_units_strongest(trained_cnn, mnist):
    x = mnist.x_test[:600]
    index = next(i for i, layer in enumerate(trained_cnn.layers) if isinstance(layer, Conv2D))
    top = top_activating(trained_cnn, index, x, k=5)
    n_filters = trained_cnn.layers[index].params["W"].shape[0]
    assert top.indices.shape == top.responses.shape == (n_filters, 5)
    maps = np.stack([layer_outputs(trained_cnn, x[i])[index][2] for i in range(len(x))])     # (N, F, H, W)
    means = maps.mean(axis=(2, 3))
    for unit in range(n_filters):
        assert np.allclose(top.responses[unit], means[top.indices[unit], unit], atol=1e-5)
        assert top.responses[unit, -1] >= np.sort(means[:, unit])[-5] - 1e-5       # nothing stronger left out


def test_pca_is_the_projection_on_the_two_main_directions_in_order():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 6)) * [5, 3, 1, 0.5, 0.2, 0.1]
    points = embed(features, "pca")
    centred = features - features.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ directions[:2].T
    assert np.allclose(np.abs(points), np.abs(expected), atol=1e-4)
    order = rng.permutation(300)
    assert np.allclose(np.abs(embed(features[order], "pca")), np.abs(points[order]), atol=1e-4)


def test_tsne_keeps_each_examples_neighbours_at_its_own_row():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 20)) * 10
    labels = rng.permutation(np.repeat(np.arange(3), 40))
    features = centres[labels] + rng.normal(size=(120, 20))
    points = embed(features, "tsne", seed=0)
    assert points.shape == (120, 2)
    distances = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (labels[distances.argmin(axis=1)] == labels).all()


def test_embed_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="'pca', 'tsne'"):
        embed(np.zeros((10, 3)), "umap")
    with pytest.raises(ValueError, match=f"{MAX_TSNE_POINTS:,}"):
        embed(np.zeros((MAX_TSNE_POINTS + 1, 2)), "tsne")
    with pytest.raises(ValueError, match="at least 3"):
        embed(np.zeros((2, 3)), "pca")


def test_neighbour_agreement_tells_apart_from_mixed():
    from learnscope.explain.embeddings import describe_embedding, neighbour_agreement

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 300)
    apart = np.array([[10, 0], [0, 10], [-10, 0], [0, -10]])[labels] + rng.normal(size=(1200, 2))
    assert neighbour_agreement(apart, labels) == 1.0
    mixed = rng.normal(size=(1200, 2))
    assert abs(neighbour_agreement(mixed, labels) - 0.25) < 0.05
    assert describe_embedding("layer 3", "tsne", 0.93, 10).endswith(
        "93% of the digits have a nearest neighbour of their own class (mixed-up classes would give about 10%).")
    with pytest.raises(ValueError, match="one label per point"):
        neighbour_agreement(apart, labels[:5])


def test_the_classes_separate_while_a_fresh_copy_learns(trained_mlp, mnist):
    from learnscope.explain.embeddings import embedding_while_training
    from learnscope.lessons.drawing import shown_layers

    before = [param.copy() for _, param, _ in trained_mlp.named_params()]
    layer = shown_layers(trained_mlp)[-2]
    result = embedding_while_training(trained_mlp, mnist.x_train[:5000], mnist.y_train[:5000], mnist.x_test[:500],
                                      mnist.y_test[:500], layer, n_snapshots=5)
    assert result.points.shape == (5, 500, 2) and result.steps[0] == 0 and result.steps[-1] == 40   # 5,000 / 128
    assert result.agreements[-1] > result.agreements[0] + 0.2          # random weights mix the classes; training sorts
    assert np.all(np.diff(result.steps) > 0)
    assert [np.array_equal(a, param) for a, (_, param, _) in zip(before, trained_mlp.named_params())] == \
        [True] * len(before)                                            # the page's model is left alone
