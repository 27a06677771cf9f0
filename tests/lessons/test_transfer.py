"""Transfer learning: the tasks, the label budgets, and the three ways to start (scratch, frozen, fine-tune)."""

import copy

import numpy as np
import pytest

from learnscope.lessons.transfer import (
    TableRow,
    TransferRun,
    accuracy_at,
    cached_features,
    curve_steps,
    describe_budget,
    early_accuracy,
    per_class_examples,
    pretrain,
    scratch_final,
    steps_to_catch_up,
    steps_to_reach,
    summarize,
    train_on_target,
    transfer_task,
)
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.recipes import default_recipe
from learnscope.train import fit

#: A small, quick network for the tests (the lesson's CNN takes seconds per run)
QUICK = default_recipe("mnist").with_options(hidden=(64,), epochs=1)


@pytest.fixture(scope="module")
def near(mnist):
    return transfer_task("near", mnist)


@pytest.fixture(scope="module")
def pretrained(near):
    return pretrain(near, QUICK)


def test_the_near_task_splits_mnist_into_digits_0_to_4_and_5_to_9(mnist, near):
    assert near.source.class_names == ["0", "1", "2", "3", "4"] and near.target.class_names == list("56789")
    assert len(near.source.x_train) == int(np.isin(mnist.y_train, range(5)).sum())
    assert len(near.target.x_test) == int(np.isin(mnist.y_test, range(5, 10)).sum())
    # the target's images are MNIST's 5–9 in order, relabelled 0–4
    fives = mnist.x_train[mnist.y_train >= 5]
    np.testing.assert_array_equal(near.target.x_train[:50], fives[:50])
    np.testing.assert_array_equal(near.target.y_train, mnist.y_train[mnist.y_train >= 5] - 5)
    with pytest.raises(ValueError, match="load_fashion_mnist"):
        transfer_task("far", mnist)
    with pytest.raises(ValueError, match="near"):
        transfer_task("farther", mnist)


def test_the_far_task_pairs_mnist_with_fashion(mnist, shared_data_dir):
    from learnscope.data.mnist import load_fashion_mnist

    fashion = load_fashion_mnist(shared_data_dir, download=False, progress=False)
    far = transfer_task("far", mnist, fashion)
    assert far.source.n_classes == 10 and far.target.class_names == list(fashion.class_names)
    assert far.target.x_train is fashion.x_train


def test_a_label_budget_takes_exactly_that_many_examples_of_every_class():
    y = np.repeat(np.arange(5), [30, 12, 50, 11, 40])
    chosen = per_class_examples(y, 10, seed=3)
    assert len(chosen) == 50 and len(set(chosen)) == 50
    np.testing.assert_array_equal(np.bincount(y[chosen]), [10] * 5)
    assert sorted(per_class_examples(y, None)) == list(range(len(y)))
    assert not np.array_equal(per_class_examples(y, 10, seed=4), chosen)
    with pytest.raises(ValueError, match="class 3 has 11 examples"):
        per_class_examples(y, 12)


def test_training_the_head_on_cached_features_is_training_the_frozen_network(near, pretrained):
    """Caching the frozen body's features is only a speed-up: the head learns the same weights."""
    start = pretrained.replace_head(5, seed=7)
    x, y = near.target.x_train[:512], near.target.y_train[:512]
    frozen = copy.deepcopy(start).freeze(len(start.layers) - 1)
    fit(frozen, SoftmaxCrossEntropy(), SGD(lr=0.1, momentum=0.9), x, y, epochs=2, batch_size=64, seed=1)
    head = Sequential(copy.deepcopy(start.layers[-1:]))
    features = cached_features(Sequential(start.layers[:-1]), x)
    fit(head, SoftmaxCrossEntropy(), SGD(lr=0.1, momentum=0.9), features, y, epochs=2, batch_size=64, seed=1)
    np.testing.assert_allclose(head.layers[0].params["W"], frozen.layers[-1].params["W"], rtol=1e-4, atol=1e-6)
    assert not np.allclose(head.layers[0].params["W"], start.layers[-1].params["W"])   # it did learn


def test_each_method_starts_where_it_says_and_the_pretrained_network_is_never_touched(near, pretrained):
    before = [param.copy() for _, param, _ in pretrained.named_params()]
    runs = {method: train_on_target(near, method, 10, pretrained, seed=0, n_steps=60, recipe=QUICK)
            for method in ("scratch", "frozen", "fine-tune")}
    for (_, param, _), original in zip(pretrained.named_params(), before):
        np.testing.assert_array_equal(param, original)
    body = [param for _, param, _ in pretrained.named_params()][:-2]
    frozen_body = [param for _, param, _ in runs["frozen"].model.named_params()][:-2]
    tuned_body = [param for _, param, _ in runs["fine-tune"].model.named_params()][:-2]
    scratch_body = [param for _, param, _ in runs["scratch"].model.named_params()][:-2]
    assert all(np.array_equal(a, b) for a, b in zip(frozen_body, body))          # frozen: bit-identical
    assert not np.array_equal(tuned_body[0], body[0])                            # fine-tuned: moved ...
    assert np.abs(tuned_body[0] - body[0]).max() < np.abs(scratch_body[0] - body[0]).max()   # ... not far
    for run in runs.values():
        assert run.status == "finished" and run.n_examples == 50
        assert [step for step, _ in run.curve] == curve_steps(60)
        assert run.curve[-1][1] > run.curve[0][1] + 0.3 and run.accuracy > 0.5


def test_the_table_averages_seeds_and_says_what_wins():
    rows = [TableRow(10, "scratch", [0.80, 0.84], [3.0, 3.2]), TableRow(10, "frozen", [0.86, 0.86], [0.4, 0.4]),
            TableRow(10, "fine-tune", [0.88, 0.90], [2.9, 3.1]), TableRow(None, "scratch", [0.99], [6.0]),
            TableRow(None, "frozen", [0.95], [3.0])]
    assert rows[0].mean == pytest.approx(0.82) and rows[0].spread == pytest.approx(0.02)
    text = describe_budget(rows, 10)
    assert "With 10 per class, from scratch reaches 82.0%" in text
    assert "fine-tuned (all layers, from pretrained) 89.0% (+7.0 points, 3.0 s against 3.1 s)" in text
    assert text.endswith("Best: fine-tuned (all layers, from pretrained).")
    assert describe_budget(rows, None).endswith("Here learning from scratch does best: the pretrained network gives "
                                                "this task no head start.")
    with pytest.raises(ValueError, match="needs 'scratch'"):
        describe_budget(rows[1:3], 10)


def test_summarize_groups_runs_by_budget_and_method(near, pretrained):
    runs = [train_on_target(near, "frozen", 10, pretrained, seed=seed, n_steps=20, recipe=QUICK) for seed in (0, 1)]
    (row,) = summarize(runs)
    assert (row.per_class, row.method) == (10, "frozen") and row.accuracies == [run.accuracy for run in runs]


def test_curves_are_measured_densely_at_the_start():
    steps = curve_steps(300, 16)
    assert steps[:4] == [0, 1, 2, 3] and steps[-1] == 300 and steps == sorted(set(steps))
    assert 14 <= len(steps) <= 17 and sum(step <= 30 for step in steps) >= len(steps) // 2


def test_the_early_accuracy_is_read_a_tenth_of_the_way_in():
    curve = [(0, 0.1), (10, 0.5), (31, 0.7), (45, 0.8), (300, 0.9)]
    assert accuracy_at(curve, 30) == 0.5 and accuracy_at(curve, 31) == 0.7 and accuracy_at(curve, 300) == 0.9
    runs = [TransferRun("near", "frozen", 10, seed, 50, [(0, 0.1), (30, 0.6 + seed / 10), (300, 0.9)], 0.9, 1.0,
                        "finished") for seed in (0, 1)]
    assert early_accuracy(runs, "frozen") == (30, pytest.approx(0.65))
    with pytest.raises(ValueError, match="starts after step"):
        accuracy_at([(5, 0.2)], 3)


def test_steps_to_reach_reads_the_first_step_at_an_accuracy():
    curve = [(0, 0.2), (25, 0.7), (50, 0.9), (75, 0.85)]
    assert steps_to_reach(curve, 0.85) == 50 and steps_to_reach(curve, 0.95) is None


def test_catching_up_is_the_median_runs_step_a_run_that_never_does_counting_as_last():
    def run(method, seed, curve):
        return TransferRun("near", method, 10, seed, 50, curve, curve[-1][1], 1.0, "finished")

    scratch = [run("scratch", 0, [(0, 0.1), (300, 0.80)]), run("scratch", 1, [(0, 0.1), (300, 0.84)])]  # ends 82%
    tuned = [run("fine-tune", 0, [(0, 0.1), (10, 0.83)]), run("fine-tune", 1, [(0, 0.1), (40, 0.83)]),
             run("fine-tune", 2, [(0, 0.1), (300, 0.81)])]
    assert scratch_final(scratch) == pytest.approx(0.82)
    assert steps_to_catch_up(scratch + tuned, "fine-tune") == 40
    assert steps_to_catch_up(scratch + tuned[1:], "fine-tune") is None      # the median run never does
    with pytest.raises(ValueError, match="from-scratch run"):
        scratch_final(tuned)
