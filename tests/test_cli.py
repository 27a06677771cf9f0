"""The learnscope command, run in-process: every command, and the errors a user will meet."""

import re

import numpy as np
import pytest
from PIL import Image

from learnscope.cli import main
from learnscope.data.idx import mnist_files, read_idx
from learnscope.model import load_model_with_metadata


def run(capsys, *args):
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_a_toy_set_saves_a_model_that_remembers_its_data(capsys, tmp_path):
    path = tmp_path / "spiral.safetensors"
    code, out, err = run(capsys, "train", "spiral", "--epochs", "60", "--samples", "300", "-o", path)
    assert code == 0, err
    assert "spiral" in out and "Model saved to" in out
    _, metadata = load_model_with_metadata(path)
    assert metadata["dataset"] == "spiral" and metadata["data_options"]["samples"] == 300
    assert metadata["test_accuracy"] > 0.9
    code, out, err = run(capsys, "evaluate", path)
    assert code == 0, err
    assert f"accuracy {metadata['test_accuracy']:.2%}" in out and "confusion matrix" in out


def test_regression_toy_set_reports_loss_without_accuracy(capsys, tmp_path):
    code, out, err = run(capsys, "train", "plane", "--epochs", "30", "-o", tmp_path / "plane.safetensors")
    assert code == 0, err
    assert "loss" in out and "accuracy" not in out.split("Model saved")[0].split("┃")[-1]


def test_train_on_a_csv_file(capsys, tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((120, 3))
    labels = np.where(rows[:, 0] + rows[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,answer"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{lab}" for r, lab in zip(rows, labels)]
    (tmp_path / "mine.csv").write_text("\n".join(lines))
    code, _, err = run(capsys, "train", "--csv", tmp_path / "mine.csv", "--label", "answer", "--epochs", "40",
                         "-o", tmp_path / "mine.safetensors")
    assert code == 0, err
    _, metadata = load_model_with_metadata(tmp_path / "mine.safetensors")
    assert metadata["class_names"] == ["no", "yes"] and metadata["test_accuracy"] >= 0.85


def test_mnist_train_evaluate_and_predict_a_drawn_digit(capsys, tmp_path, shared_data_dir):
    path = tmp_path / "mnist.safetensors"
    code, _, err = run(capsys, "train", "mnist", "--data-dir", shared_data_dir, "--epochs", "1", "-o", path)
    assert code == 0, err
    _, metadata = load_model_with_metadata(path)
    assert metadata["test_accuracy"] > 0.95
    # a real test digit, enlarged and drawn dark on light like a photo of paper: preprocessing must undo that
    images, labels = (read_idx(p) for p in mnist_files(shared_data_dir / "mnist", "test"))
    picture = Image.fromarray(255 - images[0]).resize((140, 140), Image.Resampling.BILINEAR)
    picture.save(tmp_path / "digit.png")
    code, out, err = run(capsys, "predict", path, tmp_path / "digit.png")
    assert code == 0, err
    assert out.split()[0] == str(labels[0])
    code, out, err = run(capsys, "evaluate", path, "--data-dir", shared_data_dir)
    assert code == 0, err
    assert f"accuracy {metadata['test_accuracy']:.2%}" in out


def test_mnist_addition_learns_digits_from_sums_and_saves_a_model_that_reads_them(capsys, tmp_path,
                                                                                  shared_data_dir):
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.mnist_addition import digit_classifier

    path = tmp_path / "addition.safetensors"
    code, out, err = run(capsys, "train", "mnist-addition", "--digits", "1", "--model", "mlp", "--epochs", "3",
                         "--train-samples", "3000", "--baseline", "--data-dir", shared_data_dir, "-o", path)
    assert code == 0, err
    assert "3,000 training sums" in out and "never saw a digit label" in out and "without the rule" in out
    model, metadata = load_model_with_metadata(path)
    assert metadata["dataset"] == "mnist-addition" and metadata["n_digits"] == 1
    mnist = load_mnist(shared_data_dir, download=False, progress=False)
    read = digit_classifier(model).predict(mnist.x_test).argmax(axis=1)
    assert (read == mnist.y_test).mean() == pytest.approx(metadata["test_digit_accuracy"])
    assert metadata["test_digit_accuracy"] > 0.85
    assert f"{metadata['test_digit_accuracy']:.2%}" in out
    code, out, _ = run(capsys, "runs", "list")
    assert "mnist-addition" in out and f"{metadata['test_sum_accuracy']:.2%}" in out
    Image.new("L", (28, 28)).save(tmp_path / "blank.png")
    for args in (("predict", path, tmp_path / "blank.png"), ("evaluate", path)):
        code, _, err = run(capsys, *args)
        assert code == 1 and "is an MNIST-addition model: it reads pairs of digit images" in err


def test_mnist_addition_trains_its_own_recipes_cnn_unless_told_otherwise(capsys, tmp_path, shared_data_dir):
    """`train` defaults to an MLP for datasets; mnist-addition's recipe is a CNN (an MLP tops out below the
    published sums), and leaving --model out must not turn it into an MLP."""
    path = tmp_path / "addition.safetensors"
    code, out, err = run(capsys, "train", "mnist-addition", "--epochs", "1", "--train-samples", "300", "--no-record",
                         "--data-dir", shared_data_dir, "-o", path)
    assert code == 0, err
    _, metadata = load_model_with_metadata(path)
    assert metadata["recipe"]["model"] == "cnn" and out.startswith("MNIST addition")
    assert "CNN digit reader" in out


def test_transfer_races_the_three_starts_from_a_model_the_user_trained(capsys, tmp_path, shared_data_dir):
    path = tmp_path / "mnist.safetensors"
    code, _, err = run(capsys, "train", "mnist", "--hidden", "32", "--epochs", "1", "--no-record",
                       "--data-dir", shared_data_dir, "-o", path)
    assert code == 0, err
    code, out, err = run(capsys, "transfer", "far", "--per-class", "10", "--seeds", "2", "--steps", "30",
                         "--pretrained", path, "--data-dir", shared_data_dir)
    assert code == 0, err
    assert "Pretrained on MNIST digits, learning Fashion-MNIST clothes" in out and str(path) in out
    runs = re.findall(r"10 per class\s+(scratch|frozen|fine-tune)\s+seed (\d)\s+([\d.]+)%", out)
    assert sorted((method, seed) for method, seed, _ in runs) == sorted(
        (method, seed) for method in ("scratch", "frozen", "fine-tune") for seed in "01")
    assert "With 10 per class, from scratch reaches" in out
    code, _, err = run(capsys, "transfer", "near", "--pretrained", path, "--data-dir", shared_data_dir)
    assert code == 1 and "already seen digits 5-9" in err
    code, _, err = run(capsys, "transfer", "near", "--per-class", "10,lots")
    assert code == 1 and "--per-class expected whole numbers" in err


def test_the_overfitting_and_remedy_options_reach_the_training(capsys, tmp_path, shared_data_dir):
    path = tmp_path / "few.safetensors"
    code, out, err = run(capsys, "train", "mnist", "--data-dir", shared_data_dir, "--epochs", "2", "--train-samples",
                         "1000", "--augment", "--early-stopping", "--loss", "mse", "--lr", "0.1", "-o", path)
    assert code == 0, err
    _, metadata = load_model_with_metadata(path)
    assert {key: metadata["recipe"][key] for key in ("train_samples", "augment", "early_stopping", "loss")} == {
        "train_samples": 1000, "augment": True, "early_stopping": True, "loss": "mse"}
    assert 0.3 < metadata["test_accuracy"] < 0.95             # learnt something from 1,000 images, not everything
    code, out, err = run(capsys, "runs", "show", "1")
    assert code == 0, err
    assert "mean squared error" in out and "augmented images" in out and "1,000" in out


def test_data_info_says_where_each_dataset_is(capsys, shared_data_dir):
    code, out, _ = run(capsys, "data", "info", "--data-dir", shared_data_dir)
    assert code == 0
    assert "mnist: ready" in out and "fashion-mnist: ready" in out and "digits" in out


def test_data_fetch_finds_local_files(capsys, shared_data_dir):
    code, out, err = run(capsys, "data", "fetch", "fashion-mnist", "--data-dir", shared_data_dir)
    assert code == 0, err
    assert "4 files ready" in out


@pytest.mark.parametrize("args, message", [
    (["train", "cifar"], "unknown dataset 'cifar'"),
    (["train", "xor", "--lr", "-1"], "lr"),
    (["train", "xor", "--batch-size", "lots"], "--batch-size expected a whole number or 'full'"),
    (["train", "xor", "--hidden", "8,x"], "--hidden expected sizes"),
    (["train", "xor", "--optimizer", "adamm"], "Did you mean 'adam'"),
    (["train", "--csv", "missing.csv", "--label", "y"], "missing.csv"),
    (["train", "--csv", "x.csv"], "--label"),
    (["train", "mnist-addition", "--digits", "3"], "--digits expected 1 or 2"),
    (["train", "mnist-addition", "--hidden", "8"], "--hidden do not apply"),
    (["train", "xor", "--digits", "1"], "belong to mnist-addition"),
    (["evaluate", "nothing.safetensors"], "no model file"),
    (["predict", "nothing.safetensors", "x.png"], "no model file"),
])
def test_errors_are_one_line_on_stderr_with_exit_code_1(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_predict_refuses_a_model_that_does_not_take_images(capsys, tmp_path):
    run(capsys, "train", "xor", "--epochs", "5", "-o", tmp_path / "xor.safetensors")
    Image.new("L", (28, 28)).save(tmp_path / "blank.png")
    code, _, err = run(capsys, "predict", tmp_path / "xor.safetensors", tmp_path / "blank.png")
    assert code == 1 and "not 28×28 images" in err


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="unknown dataset"):
        main(["--debug", "train", "cifar"])


#: what each command's help must name: its arguments and options (a lost option fails here)
HELP_MENTIONS = {
    (): ("train", "evaluate", "predict", "report", "demo", "lab", "data", "runs", "--debug", "--version"),
    ("train",): ("--data-dir", "--optimizer", "--lr", "--schedule", "--batch-size", "--epochs", "--l2", "--dropout",
                 "--batch-norm", "--seed", "--output", "--csv", "--label", "--task", "--delimiter", "--resume"),
    ("evaluate",): ("model_path", "--data-dir", "--csv", "--download"),
    ("predict",): ("model_path", "image"),
    ("data", "info"): ("--data-dir",),
    ("data", "fetch"): ("name", "mnist or fashion-mnist", "--data-dir"),
    ("demo",): ("--seed",),
    ("lab",): ("--port", "--host", "--no-browser", "--data-dir", "--store"),
}


@pytest.mark.parametrize("command", list(HELP_MENTIONS), ids=lambda command: " ".join(command) or "learnscope")
def test_help_explains_every_option(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert f"Usage: learnscope {' '.join(command)}".strip() in " ".join(out.split())
    for mention in HELP_MENTIONS[command]:
        assert mention in out, f"'learnscope {' '.join(command)} --help' does not mention {mention}"


def test_unknown_option_is_a_usage_error(capsys):
    code, _, err = run(capsys, "train", "--colour", "blue")
    assert code == 2 and "--colour" in err


def test_demo_learns_xor_and_the_spiral(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "XOR accuracy 100%" in out
    assert "x = (-1, -1)  target -1  network says -0.9" in out            # the targets it trained on: −1 and +1
    test_accuracy = float(out.split("spiral test accuracy ")[1].split("%")[0])
    assert test_accuracy > 90                                           # on the 60 points it never trained on


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No dataset anywhere: no LEARNSCOPE_DATA, an empty cache, and a mirror at a closed local port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.delenv("LEARNSCOPE_DATA", raising=False)
    monkeypatch.setenv("LEARNSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LEARNSCOPE_MIRROR", f"http://127.0.0.1:{port}/")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("args", [["train", "mnist"], ["data", "fetch", "mnist"]])
def test_offline_without_mnist_says_how_to_fix_it_and_offers_the_digits(capsys, offline, args):
    code, _, err = run(capsys, *args)
    assert code == 1 and err.startswith("error: ")
    assert "--data-dir" in err and "digits" in err


def test_offline_data_info_reports_without_downloading(capsys, offline):
    code, out, _ = run(capsys, "data", "info")
    assert code == 0 and "mnist: not available without a download" in out


def test_the_offline_stand_in_trains(capsys, offline, tmp_path):
    code, _, err = run(capsys, "train", "digits", "-o", tmp_path / "digits.safetensors")
    assert code == 0, err
    _, metadata = load_model_with_metadata(tmp_path / "digits.safetensors")
    assert metadata["input_shape"] == [1, 8, 8] and metadata["test_accuracy"] > 0.9


def test_fashion_mnist_trains_with_its_class_names(capsys, tmp_path, shared_data_dir):
    path = tmp_path / "fashion.safetensors"
    code, _, err = run(capsys, "train", "fashion-mnist", "--data-dir", shared_data_dir, "--epochs", "1", "-o", path)
    assert code == 0, err
    _, metadata = load_model_with_metadata(path)
    assert metadata["class_names"][0] == "T-shirt/top" and metadata["test_accuracy"] > 0.8


def test_training_is_recorded_and_the_runs_commands_show_it(capsys, tmp_path):
    store = tmp_path / "runs.sqlite"
    code, out, err = run(capsys, "train", "spiral", "--epochs", "30", "--store", store,
                         "-o", tmp_path / "s.safetensors")
    assert code == 0, err
    assert "Recorded as run 1" in out
    test_accuracy = re.search(r"test\s*│\s*[\d.]+\s*│\s*([\d.]+%)", out).group(1)     # the table train prints
    code, out, _ = run(capsys, "runs", "list", "--store", store)
    assert code == 0 and "spiral mlp seed 0" in out and "finished" in out
    assert test_accuracy in out                                       # runs list shows the same test accuracy
    code, out, _ = run(capsys, "runs", "show", "1", "--store", store)
    assert code == 0 and "last epoch:" in out and re.search(r"accuracy \d+\.\d\d%", out)
    assert re.search(r"learning rate\s+0\.01\s*\n", out) and re.search(r"optimizer\s+Adam\s*\n", out)  # in words
    assert "None" not in out and "class_names" not in out and "e+0" not in out
    checkpoint = tmp_path / "checkpoints" / "run-1.safetensors"
    assert checkpoint.is_file()                         # written at every epoch end, beside the store
    code, out, _ = run(capsys, "runs", "delete", "1", "--store", store)
    assert code == 0 and "run 1 deleted" in out and not checkpoint.exists()
    code, _, err = run(capsys, "runs", "show", "1", "--store", store)
    assert code == 1 and "no run with id 1" in err
    assert "List them with 'learnscope runs list'" in err and "()" not in err     # a command, not a Python call


def test_runs_show_reports_what_the_diagnostics_find(capsys, tmp_path):
    store = tmp_path / "runs.sqlite"
    code, _, err = run(capsys, "train", "moons", "--samples", "2000", "--epochs", "20", "--optimizer", "sgd",
                       "--lr", "1e-6", "--store", store, "-o", tmp_path / "x.safetensors")
    assert code == 0, err
    code, out, _ = run(capsys, "runs", "show", "1", "--store", store)
    assert code == 0
    assert "problem: The learning rate is too low" in out and "problem: Underfitting" in out


def test_no_record_leaves_the_store_empty(capsys, tmp_path):
    store = tmp_path / "runs.sqlite"
    code, out, _ = run(capsys, "train", "xor", "--epochs", "3", "--no-record", "--store", store,
                       "-o", tmp_path / "x.safetensors")
    assert code == 0 and "Recorded" not in out
    code, out, _ = run(capsys, "runs", "list", "--store", store)
    assert code == 0 and "no runs recorded yet" in out


def test_runs_compare_and_export(capsys, tmp_path):
    store = tmp_path / "runs.sqlite"
    for batch_size in ("16", "64"):
        code, _, err = run(capsys, "train", "spiral", "--epochs", "20", "--batch-size", batch_size, "--store", store,
                           "-o", tmp_path / f"s{batch_size}.safetensors")
        assert code == 0, err
    code, out, err = run(capsys, "runs", "compare", "1", "2", "--metric", "epoch/loss", "--rows", "5",
                         "--store", store)
    assert code == 0, err
    assert "1: spiral mlp seed 0" in out and "2: spiral mlp seed 0" in out and "20.00" in out
    code, out, err = run(capsys, "runs", "export", "2", "-o", tmp_path / "run2.csv", "--store", store)
    assert code == 0, err
    assert (tmp_path / "run2.csv").read_text().startswith("metric,step,examples_seen,value")
    code, _, err = run(capsys, "runs", "compare", "1", "2", "--metric", "nonsense", "--store", store)
    assert code == 1 and "has no metric 'nonsense'" in err


@pytest.mark.parametrize(("args", "expected"), [
    (["--port", "80"], "--port expected a number from 1024 to 65535, got 80"),
    (["--host", "no-such-host.invalid"], "--host expected an address of this computer"),
])
def test_lab_refuses_a_bad_address_in_one_line(capsys, args, expected):
    code, _, err = run(capsys, "lab", "--no-browser", *args)
    assert code == 1
    assert expected in err and "Traceback" not in err


def test_lab_refuses_a_port_already_in_use_and_names_a_free_one(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "lab", "--no-browser", "--port", port)
    assert code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in err and f"--port {port + 1}" in err


# -- nothing lost: signals and a failing store -----------------------------------------------------------------
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_ends_training_with_the_model_saved_and_a_nonzero_exit(tmp_path, signal_name):
    import signal
    import subprocess
    import sys
    import time

    model_path = tmp_path / "spiral.safetensors"
    process = subprocess.Popen([sys.executable, "-m", "learnscope", "train", "spiral", "--epochs", "10000",
                                "--store", str(tmp_path / "runs.sqlite"), "-o", str(model_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "runs.sqlite").exists():
        time.sleep(0.1)
    time.sleep(1.5)                                         # well into training
    process.send_signal(getattr(signal, signal_name))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + getattr(signal, signal_name), err
    assert "interrupted" in out and "Model saved to" in out and "Traceback" not in err
    _, metadata = load_model_with_metadata(model_path)
    assert metadata["status"] == "interrupted" and metadata["recipe"]["epochs"] == 10000


def test_a_locked_store_costs_the_record_not_the_model(tmp_path, capsys):
    import sqlite3

    store = tmp_path / "runs.sqlite"
    assert main(["runs", "list", "--store", str(store)]) == 0               # the store exists
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")                                        # another process holds its lock
    try:
        code, out, err = run(capsys, "train", "xor", "--epochs", "50", "--store", store, "-o",
                             tmp_path / "xor.safetensors")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 0 and "Model saved to" in out and "Recorded as run" not in out
    assert err.startswith("warning: ") and "database is locked" in err and "the store is fine" in err
    _, metadata = load_model_with_metadata(tmp_path / "xor.safetensors")
    assert metadata["test_accuracy"] == 1.0


def test_a_store_on_a_disk_that_fills_up_mid_run_costs_the_record_not_the_model(tmp_path, capsys, small_disk):
    # 100 epochs of the spiral record ~780 KB: the 384 KiB disk under the store runs out part-way through
    store = small_disk / "runs.sqlite"
    code, out, err = run(capsys, "train", "spiral", "--epochs", "100", "--store", store, "-o",
                         tmp_path / "spiral.safetensors")
    assert code == 0 and "Model saved to" in out, err
    assert err.startswith("warning: recording stopped") and "No space left on device" in err
    _, metadata = load_model_with_metadata(tmp_path / "spiral.safetensors")
    assert metadata["test_accuracy"] > 0.9
    code, out, err = run(capsys, "runs", "list", "--store", store)          # a full store can still be read
    assert code == 0 and "spiral mlp seed 0" in out, err


def test_a_huge_sample_count_is_refused_at_once(capsys):
    code, _, err = run(capsys, "train", "spiral", "--samples", "1000000000", "--no-record")
    assert code == 1 and "n_samples" in err and "1000000" in err and len(err.strip().splitlines()) == 1


def test_evaluate_never_trusts_a_model_files_data_options(tmp_path, capsys):
    import json

    import safetensors.numpy

    path = tmp_path / "spiral.safetensors"
    assert run(capsys, "train", "spiral", "--epochs", "5", "--no-record", "-o", path)[0] == 0

    def with_options(options):
        data = path.read_bytes()
        tensors = safetensors.numpy.load(data)
        header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]
        metadata = json.loads(header["metadata"])
        header["metadata"] = json.dumps({**metadata, "data_options": options})
        forged = tmp_path / "forged.safetensors"
        forged.write_bytes(safetensors.numpy.save(tensors, metadata=header))
        return forged

    code, _, err = run(capsys, "evaluate", with_options({"samples": 10**9}))
    assert code == 1 and "n_samples" in err                                  # refused, not generated
    code, out, err = run(capsys, "evaluate", with_options({"samples": 300, "csv": "/etc/passwd", "label": "x"}))
    assert code == 0 and "spiral test set" in out                           # the path inside the file is ignored


def test_evaluate_asks_for_the_csv_of_a_table_model(tmp_path, capsys):
    table = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.normal(size=(80, 2))]
    table.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    model = tmp_path / "points.safetensors"
    code, _, err = run(capsys, "train", "--csv", table, "--label", "label", "--epochs", "20", "--no-record",
                       "-o", model)
    assert code == 0, err
    code, _, err = run(capsys, "evaluate", model)
    assert code == 1 and "--csv FILE" in err
    code, out, _ = run(capsys, "evaluate", model, "--csv", table)
    assert code == 0 and "accuracy" in out


@pytest.mark.parametrize(("args", "says"), [
    (["train", "xor", "--epochs", "99999999999999999999999"], "expected epochs in [1, 10000], got 9999"),
    (["train", "xor", "--model", "xyz"], "expected model to be one of 'mlp', 'cnn', got 'xyz'"),
    (["train", "xor", "--label", "species"], "--label, --task and --delimiter describe your own CSV"),
    (["train", "mnist", "--noise", "0.3"], "--noise applies to the toy sets, not to mnist"),
    (["runs", "show", str(2**70)], "run ids are whole numbers from 1"),
    (["train", "--resume", "1", "--epochs", "3"], "--resume goes on with the run's own settings; leave out --epochs"),
    (["train", "--resume", "1", "--augment"], "--resume goes on with the run's own settings; leave out --augment"),
    (["train", "spiral", "--augment"], "augmentation moves and turns images, and spiral holds rows of features"),
    (["train", "spiral", "--loss", "hinge"], "expected loss to be one of 'auto', 'cross-entropy', 'mse'"),
    (["train", "plane", "--loss", "cross-entropy"], "Use --loss mse"),
    (["train", "xor", "--train-samples", "0"], "train_samples"),
])
def test_numbers_and_options_that_cannot_apply_are_refused_in_one_line(capsys, tmp_path, args, says):
    code, _, err = run(capsys, *args, *(["--store", tmp_path / "runs.sqlite"] if args[0] == "runs" else
                                        ["--no-record"]))
    assert code == 1 and err.startswith("error: ") and says in " ".join(err.split())
    assert len(err.strip().splitlines()) == 1


def test_version_prints_the_version(capsys):
    from learnscope import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"learnscope {__version__}"


def test_samples_keeps_a_random_subset_of_the_training_images(capsys, tmp_path, shared_data_dir):
    path = tmp_path / "few.safetensors"
    code, out, err = run(capsys, "train", "mnist", "--samples", "1000", "--epochs", "1", "--data-dir",
                         shared_data_dir, "--no-record", "-o", path)
    assert code == 0, err
    assert "1,000 training and 10,000 test examples" in out
    _, metadata = load_model_with_metadata(path)
    assert metadata["data_options"] == {"samples": 1000, "seed": 0}


def test_evaluate_without_the_data_says_so_in_one_line_naming_real_options(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LEARNSCOPE_DATA", raising=False)
    (tmp_path / "empty").mkdir()
    model = _digit_model(tmp_path, [str(digit) for digit in range(10)])
    code, _, err = run(capsys, "evaluate", model, "--data-dir", tmp_path / "empty", "--no-download")
    assert code == 1 and len(err.strip().splitlines()) == 1 and len(err) < 400, err
    assert "--data-dir" in err and "LEARNSCOPE_DATA" in err and "t10k-labels-idx1-ubyte.gz" in err
    assert "data_dir /" not in err and "leave it out" not in err              # no Python names, no advice it can't take


def _digit_model(tmp_path, class_names, nan=False):
    from learnscope.architectures import build_mlp

    model = build_mlp((1, 28, 28), 10, hidden=(8,), seed=0)
    if nan:
        model.layers[-1].params["b"][0] = np.nan
    path = tmp_path / "digits.safetensors"
    model.save(path, metadata={"input_shape": [1, 28, 28], "class_names": class_names, "dataset": "mnist"})
    return path


def _picture(tmp_path, blank=False):
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (100, 100), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)
    path = tmp_path / "digit.png"
    image.save(path)
    return path


def test_predict_refuses_a_blank_picture_and_a_diverged_model_and_escapes_class_names(tmp_path, capsys):
    names = ["[/]", "[bold]1", *map(str, range(2, 10))]
    code, _, err = run(capsys, "predict", _digit_model(tmp_path, names), _picture(tmp_path, blank=True))
    assert code == 1 and "shows no digit" in err
    code, _, err = run(capsys, "predict", _digit_model(tmp_path, names, nan=True), _picture(tmp_path))
    assert code == 1 and "NaN/inf outputs" in err
    code, out, err = run(capsys, "predict", _digit_model(tmp_path, names), _picture(tmp_path))
    assert code == 0, err
    assert "%" in out and "nan" not in out.lower()


def test_a_host_that_is_not_this_computer_is_not_called_a_busy_port(capsys):
    code, _, err = run(capsys, "lab", "--host", "192.0.2.1", "--no-browser")     # TEST-NET-1: never local
    assert code == 1 and "cannot serve on 192.0.2.1:8080" in err and "in use" not in err
