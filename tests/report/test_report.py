"""The HTML report: every section, figures that decode, the diagnoses, no network references; and the CLI command."""

import base64
import html
import io
import re

import pytest
from PIL import Image

from learnscope.cli import main
from learnscope.data.mnist import load_mnist
from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, Flatten, ReLU, Sigmoid
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam
from learnscope.report import read_report_run, render_report
from learnscope.store import RunStore
from learnscope.train import Recorder, diagnose, fit

SECTIONS = ("Loss and accuracy", "Gradient flow", "Update ratios", "Activation health", "First-layer weights",
            "Confusion matrix",
            "Diagnostics", "Events")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def report_run(store, run_id):
    run = read_report_run(store, run_id)
    run.diagnoses = diagnose(run.history.metrics, run.history.run["status"], run.history.run["config"]["n_classes"])
    return run


def images(text: str) -> list[Image.Image]:
    found = []
    for data in re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text):
        raw = base64.b64decode(data, validate=True)
        assert raw.startswith(PNG_SIGNATURE)
        picture = Image.open(io.BytesIO(raw))
        picture.load()
        found.append(picture)
    return found


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, shared_data_dir):
    """Two real MNIST runs with weight snapshots: a healthy ReLU net, and a deep sigmoid net whose gradients vanish."""
    data = load_mnist(shared_data_dir, download=False, progress=False)
    x, y = data.x_train[:2000], data.y_train[:2000]
    validation = (data.x_test[:400], data.y_test[:400])
    path = tmp_path_factory.mktemp("report") / "runs.sqlite"
    models = [("relu <b>net</b>", [Flatten(), Dense(784, 32), ReLU(), Dense(32, 10)], Adam(lr=1e-3), 32),
              ("deep sigmoid", [Flatten(), Dense(784, 32), Sigmoid(), Dense(32, 32), Sigmoid(), Dense(32, 32),
                                Sigmoid(), Dense(32, 10)], SGD(lr=0.01), 64)]
    with RunStore(path) as store:
        run_ids = []
        for name, layers, optimizer, batch_size in models:
            recorder = Recorder(store, run_name=name, every=5, tensors_every=40, dataset="mnist",
                                config={"n_classes": 10})
            fit(Sequential(layers, seed=0), SoftmaxCrossEntropy(), optimizer, x, y, epochs=2, batch_size=batch_size,
                seed=0, validation_data=validation, callbacks=[recorder])
            run_ids.append(recorder.run_id)
        runs = [report_run(store, run_id) for run_id in run_ids]
    return path, run_ids, runs


def test_one_run_report_has_every_section_figure_and_diagnosis(recorded):
    _, _, (healthy, vanishing) = recorded
    for run in (healthy, vanishing):
        text = render_report([run])
        for heading in SECTIONS:
            assert f">{heading}</h" in text
        pictures = images(text)
        # curves, gradient flow, update ratios, activations, weight histogram, weight images, confusion matrix
        assert text.count("data:image/png;base64,") == len(pictures) == 7
        assert all(p.format == "PNG" and 200 <= p.width <= 1200 and 100 <= p.height <= 1200 for p in pictures)
        assert text.count("<figcaption>") == 7
        for finding in run.diagnoses:
            assert html.escape(finding.title) in text
        assert "http://" not in text and "https://" not in text
        assert "<script" not in text.lower()
    assert [d.kind for d in vanishing.diagnoses if d.kind == "vanishing_gradients"]   # the sigmoid net shows it
    assert healthy.diagnoses == [] and "Nothing unusual" in render_report([healthy])


def test_store_text_is_escaped(recorded):
    _, _, (healthy, _) = recorded
    text = render_report([healthy])
    assert "relu &lt;b&gt;net&lt;/b&gt;" in text and "<b>net</b>" not in text


def test_two_runs_are_overlaid_by_examples_seen(recorded):
    _, _, runs = recorded
    text = render_report(runs)
    assert text.count("<figure class='overlay'>") == 1 and "<figure class='curves'>" not in text
    assert len(images(text)) == 1 + 2 * 6
    assert text.count("<section class='run'>") == 2
    assert len(text) < 2_000_000


def test_a_run_without_snapshots_or_activations_says_so(tmp_path):
    x, y = make_spiral(n_samples=120, n_classes=3, seed=0)
    with RunStore(tmp_path / "runs.sqlite") as store:
        recorder = Recorder(store, run_name="linear", every=2, config={"n_classes": 3})
        fit(Sequential([Dense(2, 3)], seed=0), SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=2, batch_size=30,
            seed=0, callbacks=[recorder])
        text = render_report([report_run(store, recorder.run_id)])
    assert "No snapshots of the first layer" in text and "tensors_every" in text
    assert "No ReLU, tanh or sigmoid layers" in text
    assert len(images(text)) == 3


def test_unknown_run_and_no_runs_are_clear_errors(recorded):
    path, _, _ = recorded
    with RunStore(path) as store, pytest.raises(ValueError, match="no run with id 999"):
        read_report_run(store, 999)
    with pytest.raises(ValueError, match="at least one run"):
        render_report([])


def run_cli(capsys, *args):
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_report_writes_one_self_contained_file(recorded, capsys, tmp_path):
    path, run_ids, _ = recorded
    output = tmp_path / "out" / "report.html"
    code, out, err = run_cli(capsys, "report", *run_ids, "-o", output, "--store", path)
    assert code == 0, err
    assert "written to" in out
    text = output.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and len(images(text)) == 13
    assert not list(output.parent.glob(".*.tmp"))                     # written atomically, nothing left over


@pytest.mark.parametrize("problem", ["suffix", "folder", "unknown run"])
def test_cli_report_failures_are_one_line(recorded, capsys, tmp_path, problem):
    path, run_ids, _ = recorded
    (tmp_path / "a-file").write_text("not a folder")
    output = {"suffix": tmp_path / "report.pdf", "folder": tmp_path / "a-file" / "report.html",
              "unknown run": tmp_path / "report.html"}[problem]
    ids = [999] if problem == "unknown run" else run_ids[:1]
    code, _, err = run_cli(capsys, "report", *ids, "-o", output, "--store", path)
    assert code == 1
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    expected = {"suffix": "ending in .html", "folder": "could not write the report",
                "unknown run": "no run with id 999"}
    assert expected[problem] in " ".join(err.split())
    assert not output.exists()


def test_report_shows_the_recorded_confusion_matrix(tmp_path, capsys):
    from learnscope.cli import main

    store = tmp_path / "runs.sqlite"
    model_path = str(tmp_path / "m.safetensors")
    assert main(["train", "spiral", "--epochs", "20", "--store", str(store), "-o", model_path]) == 0
    with RunStore(store) as runs:
        _, (confusion,) = runs.tensors(1, "confusion/test")
    assert confusion.shape == (3, 3) and confusion.sum() == 60                   # the 60 test points of spiral
    report = tmp_path / "report.html"
    assert main(["report", "1", "--store", str(store), "-o", str(report)]) == 0
    html = report.read_text()
    assert "<h3>Confusion matrix</h3>" in html and "class='confusion'" in html
    assert f"accuracy {confusion.trace() / confusion.sum():.2%}" in html
    capsys.readouterr()
    for _ in range(3):                                       # four runs in all: the report takes the latest three
        assert main(["train", "xor", "--epochs", "5", "--store", str(store), "-o", model_path]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, "report", "--store", store, "-o", tmp_path / "latest.html")
    assert code == 0 and "report on run(s) 2, 3, 4 written to" in " ".join(out.split()), err


def test_a_report_without_run_ids_on_an_empty_store_says_so(tmp_path, capsys):
    code, _, err = run_cli(capsys, "report", "--store", tmp_path / "runs.sqlite", "-o", tmp_path / "r.html")
    assert code == 1 and "no runs recorded yet" in err and not (tmp_path / "r.html").exists()
