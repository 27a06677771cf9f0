"""The MNIST lesson's functions: the form's checks, where MNIST comes from, weight pictures, the examples behind
confusion cells and the mistakes gallery (checked against evaluate()), and the runs read back from the store."""

import numpy as np
import pytest

from learnscope.architectures import build_cnn, build_mlp
from learnscope.data.mnist import load_digits
from learnscope.lessons.live_training import TrainingJob
from learnscope.lessons.mnist_lab import (
    MAX_UNIT_PICTURES,
    cell_examples,
    confident_mistakes,
    default_form,
    describe_recorded_run,
    field_error,
    first_layer_picture,
    mnist_status,
    parse_form,
    past_runs,
    run_curves,
    run_progress,
    softmax_confidence,
)
from learnscope.lessons.pictures import NEGATIVE, POSITIVE
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import get_optimizer
from learnscope.recipes import default_recipe
from learnscope.train import evaluate, fit


def test_default_form_is_the_clis_mnist_recipe():
    settings, errors = parse_form(default_form())
    assert errors == {}
    assert settings.dataset == "mnist" and settings.samples is None
    assert settings.recipe == default_recipe("mnist") and settings.recipe.epochs == 2   # ≥ 98%: issue 13


def test_digits_form_is_the_digits_recipe():
    settings, errors = parse_form(default_form("digits"))
    assert errors == {} and settings.recipe == default_recipe("digits")


def test_a_filled_form_becomes_the_recipe():
    form = {**default_form(), "model": "mlp", "hidden": "64, 32", "activation": "tanh", "optimizer": "adam",
            "lr": "0.002", "batch_size": "64", "epochs": "3", "weight_decay": "1e-4", "dropout": "0.2",
            "batch_norm": False, "seed": "7", "samples": "5000"}
    settings, errors = parse_form(form)
    assert errors == {}
    recipe = settings.recipe
    assert (recipe.hidden, recipe.activation, recipe.optimizer, recipe.lr, recipe.batch_size, recipe.epochs) == \
        ((64, 32), "tanh", "adam", 0.002, 64, 3)
    assert (recipe.weight_decay, recipe.dropout, recipe.batch_norm, recipe.seed, settings.samples) == \
        (1e-4, 0.2, False, 7, 5000)


@pytest.mark.parametrize("field, value, expected", [
    ("lr", "-0.1", "Learning rate expected a number more than 0"),
    ("lr", "0", "Learning rate expected a number more than 0"),
    ("lr", "fast", "Learning rate expected a number, got 'fast'"),
    ("lr", "nan", "expected a finite number"),
    ("lr", "", "got an empty field"),
    ("hidden", "0", "Hidden layers expected 1 to 4096 neurons per layer, got 0"),
    ("hidden", "1000000", "got 1,000,000"),
    ("hidden", "12, abc", "got 'abc'"),
    ("hidden", "-5", "got '-5'"),
    ("hidden", "1,1,1,1,1,1,1", "at most 6 layers"),
    ("batch_size", "0", "Batch size expected a whole number from 1 to 60,000, got 0"),
    ("batch_size", "12.5", "Batch size expected a whole number, got 12.5"),
    ("epochs", "-3", "Epochs expected a whole number from 1 to 100, got -3"),
    ("epochs", "many", "Epochs expected a number, got 'many'"),
    ("weight_decay", "-1", "L2 weight decay expected a number at least 0"),
    ("dropout", "1", "Dropout expected a number at least 0 and at most 0.9, got 1"),
    ("seed", "x", "Seed expected a number"),
    ("samples", "5", "Training examples expected a whole number from 100 to 60,000, got 5"),
    ("model", "rnn", "Network expected one of mlp, cnn, got 'rnn'"),
    ("optimizer", "lbfgs", "Optimizer expected one of"),
    ("activation", "", "Activation expected one of"),
])
def test_nonsense_gets_a_message_that_says_what_was_expected_and_how_to_fix_it(field, value, expected):
    settings, errors = parse_form({**default_form(), field: value})
    assert settings is None
    assert list(errors) == [field]
    assert expected in errors[field]
    assert "got" in errors[field] and ("Type" in errors[field] or "Pick" in errors[field])
    assert field_error(field, value) == errors[field]


def test_several_bad_fields_each_get_their_own_message():
    _, errors = parse_form({**default_form(), "lr": "-1", "hidden": "0", "epochs": "zz"})
    assert set(errors) == {"lr", "hidden", "epochs"}
    assert field_error("lr", "0.01") is None


def test_mnist_status_finds_the_shared_copy(shared_data_dir):
    status = mnist_status(shared_data_dir, allow_download=False)
    assert status.mnist_ready and str(shared_data_dir) in status.message


def test_mnist_status_without_the_files_says_how_to_get_them_and_offers_digits(tmp_path):
    # data_dir is searched alone when given (LEARNSCOPE_DATA is not consulted), so an empty folder means "missing"
    status = mnist_status(tmp_path, allow_download=False)
    assert not status.mnist_ready
    assert str(tmp_path) in status.message
    assert "--data-dir" in status.message and "LEARNSCOPE_DATA" in status.message
    assert "8×8 digits" in status.message
    downloading = mnist_status(tmp_path, allow_download=True)
    assert "downloads it" in downloading.message


def test_run_progress_puts_the_epoch_in_the_headline_and_the_moving_numbers_in_the_live_line():
    wall = 1_795_488_225.868                                  # a snapshot's server time, in seconds
    snapshot = {"status": "running", "epoch": 1, "epochs": 3, "step": 985, "total_steps": 1407, "fraction": 0.7,
                "examples_per_second": 23_456.7, "eta_seconds": 3.4, "wall_time": wall}
    progress = run_progress(snapshot)
    assert progress.headline == "Running: epoch 2 of 3"      # changes a few times per run, not with every step
    assert progress.live["detail"] == "step 985 of 1,407 · 23,457 images/s · about 3 s left"
    assert progress.live["fraction"] == 0.7 and progress.live["wall_ms"] == 1_795_488_225_868
    assert "stamp" not in progress.live                      # no debug timestamp on the page (issue 13)
    finished = run_progress({**snapshot, "status": "finished", "epoch": 3, "step": 1407, "fraction": 1.0,
                             "eta_seconds": 0.0, "training_seconds": 5.04})
    assert finished.headline == "Finished: epoch 3 of 3"     # the epoch counter stops at the last one
    assert finished.live["detail"] == "step 1,407 of 1,407 · 23,457 images/s · 5.0 s of training"
    loading = run_progress({"status": "loading", "wall_time": wall})
    assert loading.headline == "Loading" and loading.live["fraction"] is None and loading.live["detail"] == ""


def _tile(grid, index, side, columns=8):
    top, left = divmod(index, columns)
    return grid[top * (side + 1):top * (side + 1) + side, left * (side + 1):left * (side + 1) + side]


def test_first_layer_picture_draws_each_units_weights_as_an_image_in_sign_colours():
    model = build_mlp((1, 28, 28), 10, hidden=(100,), seed=0)
    weights = next(param for name, param, _ in model.named_params() if name.endswith(".W"))
    pattern = np.zeros((28, 28), dtype=np.float32)
    pattern[:14] = 0.5                      # unit 3 looks for ink in the top half, none in the bottom half
    pattern[14:] = -0.25
    weights[:, 3] = pattern.reshape(-1)
    grid, caption = first_layer_picture(model)
    assert grid.shape == (4 * 29 - 1, 8 * 29 - 1, 3)            # 32 units: 4 rows of 8 tiles 28×28, 1 px gaps
    assert "32 of the 100" in caption and MAX_UNIT_PICTURES == 32
    tile = _tile(grid, 3, 28)
    assert (tile[:14] == POSITIVE.astype(np.uint8)).all()      # the largest weight is full orange
    halfway_blue = np.rint(255 - 0.5 * (255 - NEGATIVE)).astype(np.uint8)
    assert (tile[14:] == halfway_blue).all()                    # half the largest magnitude: half-strength blue


def test_first_layer_picture_of_a_cnn_shows_its_filters():
    model = build_cnn((1, 28, 28), 10, seed=0)
    grid, caption = first_layer_picture(model)
    assert grid.shape == (2 * 6 - 1, 8 * 6 - 1, 3)              # 16 filters of 5×5
    assert "16 convolution filters (5×5)" in caption


@pytest.fixture(scope="module")
def digits_evaluation():
    data = load_digits()
    model = build_mlp(data.input_shape, 10, hidden=(16,), seed=0)   # small and short: it still makes mistakes
    loss = SoftmaxCrossEntropy()
    fit(model, loss, get_optimizer("sgd", lr=0.05), data.x_train, data.y_train, epochs=2, batch_size=32, seed=0)
    return data, model, evaluate(model, loss, data.x_test, data.y_test)


def test_confusion_cells_hold_exactly_the_examples_evaluate_counts(digits_evaluation):
    data, model, result = digits_evaluation
    predicted, _ = softmax_confidence(model.predict(data.x_test))
    assert (predicted == result.predictions).all()
    for true_class in range(10):
        for predicted_class in range(10):
            indices = cell_examples(data.y_test, result.predictions, true_class, predicted_class)
            assert len(indices) == result.confusion[true_class, predicted_class]
            assert (data.y_test[indices] == true_class).all() and (result.predictions[indices] == predicted_class).all()
    assert len(cell_examples(data.y_test, result.predictions, 3, 3, limit=5)) == min(5, result.confusion[3, 3])


def test_mistakes_are_the_wrong_predictions_most_confident_first(digits_evaluation):
    data, model, result = digits_evaluation
    _, confidence = softmax_confidence(model.predict(data.x_test))
    n_wrong = len(data.y_test) - int(np.trace(result.confusion))
    assert n_wrong > 5, "the small model should still make mistakes for this test to mean something"
    everything = confident_mistakes(data.y_test, result.predictions, confidence, limit=10_000)
    assert len(everything) == n_wrong
    assert (data.y_test[everything] != result.predictions[everything]).all()
    assert (np.diff(confidence[everything]) <= 0).all()
    assert (confident_mistakes(data.y_test, result.predictions, confidence, limit=5) == everything[:5]).all()


def test_softmax_confidence_is_a_probability_and_stable_for_huge_logits():
    predicted, confidence = softmax_confidence(np.array([[1000.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    assert predicted.tolist() == [0, 0]
    assert confidence[0] == pytest.approx(1.0) and confidence[1] == pytest.approx(1 / 3)


def test_past_runs_lists_a_lab_run_with_its_curves(tmp_path):
    store = tmp_path / "runs.sqlite"
    assert past_runs(store) == []
    settings, _ = parse_form({**default_form("digits"), "epochs": "3"})
    job = TrainingJob(settings, store).start()
    assert job.wait(60)
    runs = past_runs(store)
    assert [run["id"] for run in runs] == [job.run_id]
    assert runs[0]["status"] == "finished" and runs[0]["config"]["source"] == "lab"
    assert runs[0]["accuracy"] == pytest.approx(job.result.accuracy)   # epoch-end test accuracy = the final one
    assert f"{job.result.accuracy:.1%}" in runs[0]["label"]
    curves = run_curves(store, job.run_id)
    assert {"train loss", "train accuracy", "test loss", "test accuracy"} <= set(curves)
    steps, values = curves["test accuracy (epoch end)"]
    assert len(steps) == 3 and values[-1] == pytest.approx(job.result.accuracy)
    assert runs[0]["has_recipe"] and describe_recorded_run(runs[0]) == ""      # a lab run's settings fill the form


def test_a_run_recorded_from_pytorch_is_listed_but_offers_no_recipe(torch, train_watched, tmp_path):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    watcher, accuracy = train_watched(net, torch.optim.SGD(net.parameters(), lr=0.1), tmp_path / "runs.sqlite",
                                      samples=2000)
    (listed,) = past_runs(tmp_path / "runs.sqlite")
    assert listed["id"] == watcher.run_id and listed["accuracy"] == pytest.approx(accuracy)
    assert not listed["has_recipe"] and not listed["can_continue"]
    note = describe_recorded_run(listed)
    assert note.startswith(f"Trained with PyTorch {torch.__version__} and recorded by learnscope.watch")
    assert "cannot fill the form" in note and note.endswith("Its network: Flatten → Linear.")


def test_the_form_of_a_recipe_reads_back_to_the_same_settings():
    from learnscope.lessons.mnist_lab import form_from

    recipe = default_recipe("mnist").with_options(hidden=(64, 32), lr=0.05, epochs=3, dropout=0.25)
    settings, errors = parse_form(form_from("mnist", recipe, samples=3000))
    assert errors == {} and settings.recipe == recipe and settings.samples == 3000 and settings.dataset == "mnist"
