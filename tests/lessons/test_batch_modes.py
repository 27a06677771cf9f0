"""Batch, stochastic and mini-batch gradient descent on two weights: the gradient, the rule, the counters, and
the story the page tells from them."""

import numpy as np
import pytest

from learnscope.gradcheck import numeric_gradient
from learnscope.lessons.batch_modes import (
    compare_batch_modes,
    gradient,
    mean_squared_error,
    regression_data,
)


def test_the_gradient_of_the_mean_squared_error_equals_finite_differences():
    x, y = regression_data(n_samples=30, seed=1)
    for w in (np.array([0.3, -2.0]), np.array([-1.5, 4.0])):
        numeric = numeric_gradient(lambda w=w: float(mean_squared_error(x, y, w)), w, h=1e-4)
        np.testing.assert_allclose(gradient(x, y, w), numeric, rtol=1e-8)


def test_a_stack_of_weights_gets_each_its_own_loss():
    x, y = regression_data(n_samples=20, seed=2)
    stack = np.array([[0.0, 0.0], [2.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(mean_squared_error(x, y, stack), [mean_squared_error(x, y, w) for w in stack])


def test_batch_mode_is_textbook_gradient_descent_on_all_the_data():
    x, y = regression_data(n_samples=50, seed=3)
    comparison = compare_batch_modes(x, y, epochs=4, lr=0.1, start=(-2.0, 3.0))
    w, expected = np.array([-2.0, 3.0]), [np.array([-2.0, 3.0])]
    for _ in range(4):
        w = w - 0.1 * (2.0 / len(x)) * x.T @ (x @ w - y)      # w ← w − lr·∇L(w), every example every step
        expected.append(w)
    np.testing.assert_allclose(comparison.paths["batch"].weights, expected, rtol=1e-12)


def test_the_counters_every_mode_sees_every_example_once_per_epoch():
    x, y = regression_data(n_samples=100, seed=4)
    paths = compare_batch_modes(x, y, mini_batch_size=16, epochs=3).paths
    assert [paths[m].updates for m in ("batch", "stochastic", "mini-batch")] == [3, 300, 3 * 7]
    assert [paths[m].batch_size for m in ("batch", "stochastic", "mini-batch")] == [100, 1, 16]
    for path in paths.values():
        assert path.examples_seen[0] == 0 and path.examples_seen[-1] == 300
        assert np.all(np.diff(path.seconds) >= 0) and path.seconds[-1] > 0
        np.testing.assert_allclose(path.loss, mean_squared_error(x, y, path.weights))


def test_same_examples_seen_batch_is_still_far_stochastic_staggers_mini_batch_gets_close():
    comparison = compare_batch_modes(epochs=3, lr=0.1)
    floor = float(mean_squared_error(comparison.x, comparison.y, comparison.best))
    batch, stochastic, mini = (comparison.paths[m] for m in ("batch", "stochastic", "mini-batch"))
    assert np.all(np.diff(batch.loss) <= 0)                   # all the data: every step goes downhill
    assert np.any(np.diff(stochastic.loss) > 0)               # one example: some steps go uphill on all the data
    assert batch.loss[-1] > 5 * floor                         # 3 updates are not enough
    assert mini.loss[-1] < 1.2 * floor and stochastic.loss.min() < 1.2 * floor


def test_bad_data_gets_a_clear_error():
    with pytest.raises(ValueError, match="exactly two weights"):
        compare_batch_modes(np.ones((10, 3)), np.ones(10))
    with pytest.raises(ValueError, match="at most 200,000"):
        compare_batch_modes(np.ones((100_000, 2)), np.ones(100_000), epochs=3)


def test_the_three_modes_on_real_digits_start_alike_and_count_what_each_step_costs(shared_data_dir):
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.batch_modes import train_batch_modes
    from learnscope.lessons.descent_lab import mnist_modes_summary

    data = load_mnist(shared_data_dir, download=False, progress=False)
    x, y = data.x_train[:3000], data.y_train[:3000]
    curves = train_batch_modes(x, y, data.x_test[:500], data.y_test[:500], seconds=0.6, mini_batch_size=64,
                               hidden=(16,), checkpoints=5)
    first_losses = {curve.loss[0] for curve in curves.values()}
    assert len(first_losses) == 1                                  # the same network at the same start
    batch, stochastic, mini = curves["batch"], curves["stochastic"], curves["mini-batch"]
    assert np.array_equal(batch.examples_seen, batch.updates * 3000)
    assert np.array_equal(stochastic.examples_seen, stochastic.updates)
    assert np.all(mini.examples_seen <= mini.updates * 64) and mini.batch_size == 64
    for curve in curves.values():
        assert np.all(np.diff(curve.seconds) > 0) and curve.seconds[-1] >= 0.6
        assert curve.loss[-1] < curve.loss[0]                      # every mode learned something
    # NOTE: only the full batch's steps are reliably slower (3,000 examples each); one example against 64 is a
    # matter of overhead and load, close enough to swap places on a busy machine (2,991 against 2,999 once)
    assert min(stochastic.updates[-1], mini.updates[-1]) > batch.updates[-1]
    text = mnist_modes_summary(curves, 3000)
    for mode, curve in curves.items():
        assert f"{mode} made {int(curve.updates[-1]):,} update" in text and f"{curve.loss[-1]:.3f}" in text
    assert f"Lowest: {min(curves, key=lambda m: curves[m].loss[-1])}" in text


def test_the_timed_runs_stop_when_asked():
    from learnscope.lessons.batch_modes import train_batch_modes

    x, y = np.random.default_rng(0).random((200, 4)), np.arange(200) % 2
    calls = []
    curves = train_batch_modes(x, y, x, y, seconds=30, hidden=(3,), should_stop=lambda: len(calls) > 3,
                               progress=calls.append)
    assert all(curve.seconds[-1] < 30 for curve in curves.values())


def test_optimizers_race_on_real_digits_from_one_start_and_are_recorded_for_runs_compare(shared_data_dir, tmp_path,
                                                                                         capsys):
    from learnscope.cli import main
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.batch_modes import MNIST_LEARNING_RATES, race_optimizers
    from learnscope.lessons.descent_lab import optimizer_race_summary
    from learnscope.store import RunStore

    data = load_mnist(shared_data_dir, download=False, progress=False)
    store = tmp_path / "runs.sqlite"
    runs = race_optimizers(data.x_train[:4000], data.y_train[:4000], ["sgd", "adam"], steps=60, hidden=(16,),
                           store=store)
    assert [len(run.loss) for run in runs.values()] == [60, 60]
    assert runs["sgd"].loss[0] == runs["adam"].loss[0]              # the same network, the same first batch
    assert runs["adam"].config["lr"] == MNIST_LEARNING_RATES["adam"]
    assert all(run.loss[-10:].mean() < run.loss[0] for run in runs.values())
    with RunStore(store) as recorded:
        assert [run["name"] for run in recorded.runs()] == ["optimizer race: sgd", "optimizer race: adam"]
    text = optimizer_race_summary(runs, last=10)
    assert f"SGD (lr 0.1) {runs['sgd'].loss[-10:].mean():.3f}" in text
    assert f"learnscope runs compare {runs['sgd'].run_id} {runs['adam'].run_id}" in text
    capsys.readouterr()
    assert main(["runs", "compare", str(runs["sgd"].run_id), str(runs["adam"].run_id), "--by", "examples",
                 "--store", str(store)]) == 0
    printed = capsys.readouterr().out
    assert "optimizer race: sgd" in printed and "optimizer race: adam" in printed
