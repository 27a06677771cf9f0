"""The example notebooks run from top to bottom in a real Jupyter kernel (nbclient), so they cannot rot; what they
print and the live chart's final state (the widget state nbclient saves) are checked against the runs they made."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from learnscope.lessons.drawing import load_digit_model
from learnscope.store import RunStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_notebook(nbclient, name: str, folder: Path):
    """Execute examples/<name> in a fresh python3 kernel, working in `folder`; returns the executed notebook."""
    import nbformat

    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", store_widget_state=True,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def printed(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.output_type == "stream")


def widget_series(notebook) -> list[list[dict]]:
    """The `series` of every LiveCurves widget, as the kernel last sent it."""
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [model["state"]["series"] for model in state.values() if "series" in model.get("state", {})]


def shown(notebook, mime: str) -> int:
    return sum(mime in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))


def test_the_engine_notebook_trains_mnist_and_its_live_chart_holds_the_run(nbclient, tmp_path):
    notebook = run_notebook(nbclient, "01-train-and-watch-an-engine-model.ipynb", tmp_path)
    accuracy = float(re.search(r"test accuracy after 938 steps: ([\d.]+)%", printed(notebook)).group(1)) / 100
    assert accuracy >= 0.98                                        # the recipe's promise, in a notebook
    series, gradient_series = widget_series(notebook)
    lines = {line["name"]: line for line in series}
    assert list(lines) == ["train loss", "train accuracy", "test loss", "test accuracy"]
    assert lines["train loss"]["xs"][:3] == [0, 20, 40] and len(lines["train loss"]["xs"]) == 47   # every 20th step
    assert lines["test accuracy"]["ys"][-1] == pytest.approx(accuracy, abs=5e-5)
    with RunStore(os.environ["LEARNSCOPE_STORE"]) as store:
        (run,) = store.runs()
        assert store.metrics(run["id"], "epoch/val_accuracy")["epoch/val_accuracy"][1][-1] == pytest.approx(
            accuracy, abs=5e-5)
        first_layer = store.metrics(run["id"], "grad_rms/2.dense.W")["grad_rms/2.dense.W"]
    gradients = {line["name"]: line for line in gradient_series}          # the live gradient flow: one line a layer
    assert list(gradients) == ["2.dense.W", "5.dense.W", "8.dense.W"]
    assert gradients["2.dense.W"]["xs"] == first_layer[0].tolist()
    assert gradients["2.dense.W"]["ys"] == pytest.approx(first_layer[1].tolist())
    assert shown(notebook, "text/html") >= 1 and "Gradient flow" in json.dumps(notebook.cells[-1].outputs)


def test_the_optimizer_race_notebook_draws_its_races(nbclient, tmp_path):
    notebook = run_notebook(nbclient, "02-the-optimizer-race.ipynb", tmp_path)
    text = printed(notebook)
    assert re.search(r"momentum: \d+ steps to get below 0.001", text)
    assert re.search(r"adam: loss 2\.\d+ -> 0\.\d+", text)
    assert shown(notebook, "image/png") == 3                            # two surfaces and the MNIST race


def test_the_pytorch_notebook_watches_its_run_and_opens_the_model_in_the_engine(nbclient, tmp_path, torch,
                                                                                 mnist):
    notebook = run_notebook(nbclient, "03-watch-a-pytorch-model.ipynb", tmp_path)
    text = printed(notebook)
    match = re.search(r"run (\d+): test accuracy ([\d.]+)% after 938 steps", text)
    assert match and float(match.group(2)) > 96
    difference = float(re.search(r"largest difference of the scores: (\S+)", text).group(1))
    assert difference < 1e-4
    (series,) = widget_series(notebook)
    lines = {line["name"]: line for line in series}
    assert lines["train loss"]["xs"] == list(range(0, 938, 50))        # the watcher's recorded steps
    assert lines["test accuracy"]["ys"][-1] == pytest.approx(float(match.group(2)) / 100, abs=5e-5)
    with RunStore(os.environ["LEARNSCOPE_STORE"]) as store:
        run = store.run(int(match.group(1)))
    assert run["status"] == "finished" and run["config"]["framework"].startswith("PyTorch")
    # the imported model, saved where the lab looks, passes the Draw page's loader and reads raw test pictures as
    # well as the PyTorch network read standardized ones
    saved = Path(re.search(r"saved for the lab: (\S+)", text).group(1))
    assert saved.parent == Path(os.environ["LEARNSCOPE_STORE"]).parent / "models"
    model, _ = load_digit_model(saved)
    predictions = model.predict(mnist.x_test).argmax(axis=1)
    assert np.mean(predictions == mnist.y_test) == pytest.approx(float(match.group(2)) / 100, abs=2e-4)
