"""The `learnscope` command: train, evaluate and predict from the terminal.

Every command is a thin layer over the library (data, recipes, train); errors become one line on
stderr and a non-zero exit code, with the traceback only under --debug.
"""

import contextlib
import errno
import signal
import sqlite3
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from learnscope.core.files import check_output_path
from learnscope.core.functions import softmax
from learnscope.core.version import __version__
from learnscope.data.catalog import DATASET_NAMES, load_training_data
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.optim import OPTIMIZER_LABELS
from learnscope.recipes import MODEL_KINDS, SCHEDULE_NAMES, default_recipe
from learnscope.store import RunStore, default_store_path
from learnscope.train import Callback, Recorder, evaluate, train_recipe
from learnscope.train.diagnostics import diagnose_recorded
from learnscope.train.recorder import RecordingFailed

#: `learnscope train mnist-addition`: the neuro-symbolic lesson's task
ADDITION = "mnist-addition"
#: How many of the most recent runs `learnscope report` covers when no run ids are given
LATEST_RUNS = 3

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="See how a neural network learns: train, evaluate and predict from the terminal.")
data_app = typer.Typer(no_args_is_help=True, help="Where the datasets are, and fetching them.")
app.add_typer(data_app, name="data")
runs_app = typer.Typer(no_args_is_help=True,
                       help="Recorded training runs: list, show with diagnostics, compare, export, delete.")
app.add_typer(runs_app, name="runs")
console = Console()
errors = Console(stderr=True)
_settings = {"debug": False}

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder with the dataset files (or a parent of mnist/ and fashion-mnist/). "
    "Default: $LEARNSCOPE_DATA, then the user cache, then a download.")]

StorePath = Annotated[Path | None, typer.Option(
    "--store", help="The run store file. Default: $LEARNSCOPE_STORE, else runs.sqlite in your user data folder.")]


def _print_version(asked: bool) -> None:
    if asked:
        console.print(f"learnscope {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback when something fails.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
):
    """Global options."""
    _settings["debug"] = debug


# -- train ---------------------------------------------------------------------------------------
@app.command()
def train(
    dataset: Annotated[str, typer.Argument(help=f"What to learn: {', '.join(DATASET_NAMES)}, or mnist-addition "
                                           "(digits learned from sums alone). Ignored with --csv.")] = "mnist",
    data_dir: DataDir = None,
    csv: Annotated[Path | None, typer.Option(help="Train on your own CSV file (numeric features).")] = None,
    label: Annotated[str | None, typer.Option(help="With --csv: the label column (name or index).")] = None,
    task: Annotated[str | None, typer.Option(help="With --csv: classification or regression (a measured number).")]
        = None,
    delimiter: Annotated[str | None, typer.Option(help="With --csv: the cell separator, e.g. ';' (default ',').")]
        = None,
    model: Annotated[str | None, typer.Option(help=f"Network type: {' or '.join(MODEL_KINDS)} (default: mlp; "
                                              "mnist-addition: cnn).")] = None,
    hidden: Annotated[str | None, typer.Option(
        help="Hidden layer sizes of the MLP, comma-separated, e.g. 256,128.")] = None,
    activation: Annotated[str | None, typer.Option(help="relu, leaky_relu, tanh or sigmoid.")] = None,
    optimizer: Annotated[str | None, typer.Option(
        help="sgd, momentum, nesterov, rmsprop, adam or adamw.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate: how big each step downhill is.")] = None,
    schedule: Annotated[str | None, typer.Option(
        help=f"How the learning rate changes over training: {', '.join(SCHEDULE_NAMES)}.")] = None,
    batch_size: Annotated[str | None, typer.Option(
        help="Examples per step: 1 = stochastic, 'full' = batch gradient descent, between = mini-batch.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the training set.")] = None,
    l2: Annotated[float | None, typer.Option(help="L2 weight decay: pulls weights toward 0 (e.g. 1e-4).")] = None,
    dropout: Annotated[float | None, typer.Option(help="Fraction of hidden units silenced while training.")] = None,
    batch_norm: Annotated[bool, typer.Option("--batch-norm", help="Normalise each hidden layer's input.")] = False,
    loss: Annotated[str | None, typer.Option(
        help="cross-entropy (classes) or mse (squared error; on classes it scores each class).")] = None,
    train_samples: Annotated[int | None, typer.Option(
        help="Train on the first N training examples only, e.g. 1000 to watch overfitting.")] = None,
    augment: Annotated[bool, typer.Option(
        "--augment", help="Images: move (±2 px) and turn (±10°) every training image anew each epoch.")] = False,
    early_stopping: Annotated[bool, typer.Option(
        "--early-stopping", help="Hold out the last tenth of the training set and keep the weights of the epoch "
        "with its lowest loss; stop after 10 epochs without a better one.")] = False,
    seed: Annotated[int, typer.Option(help="Same seed, same run.")] = 0,
    samples: Annotated[int | None, typer.Option(help="Toy sets: number of points.")] = None,
    noise: Annotated[float | None, typer.Option(help="Toy sets: how noisy the points are.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to save the trained model.")] = None,
    download: Annotated[bool, typer.Option(help="Download MNIST if it is not found locally.")] = True,
    record: Annotated[bool, typer.Option(help="Record the run (loss, gradients, activations) in the run store, "
                                         "for 'learnscope runs'.")] = True,
    store: StorePath = None,
    resume: Annotated[int | None, typer.Option(help="Go on with a killed or stopped recorded run (its id, from "
                                                   "'learnscope runs list') from its last checkpoint, with its own "
                                                   "settings.")] = None,
    digits: Annotated[int | None, typer.Option(help="mnist-addition: digits per number, 1 (sums 0-18) or 2 "
                                                    "(sums 0-198).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="mnist-addition: also train the same network "
                                           "without the rule (both images in, one class per sum) to compare.")]
        = False,
):
    """Train a network and save it. Defaults reach over 98% on MNIST in seconds."""
    if dataset == ADDITION and csv is None:
        unused = (("--hidden", hidden), ("--activation", activation), ("--optimizer", optimizer),
                  ("--schedule", schedule), ("--batch-size", batch_size), ("--l2", l2), ("--dropout", dropout),
                  ("--loss", loss), ("--samples", samples), ("--noise", noise), ("--resume", resume),
                  ("--batch-norm", batch_norm or None), ("--augment", augment or None),
                  ("--early-stopping", early_stopping or None))
        given = [name for name, value in unused if value is not None]
        if given:
            _fail(f"mnist-addition trains its own recipe; {', '.join(given)} do not apply. It takes --digits, "
                  "--model, --epochs, --lr, --train-samples, --seed and --baseline.")
        _train_mnist_addition(data_dir, download, digits or 1, model, epochs, lr, train_samples, seed, baseline,
                              output, record, store)
        return
    if digits is not None or baseline:
        _fail("--digits and --baseline belong to mnist-addition: learnscope train mnist-addition --digits 1.")
    if csv is None and any(value is not None for value in (label, task, delimiter)):
        _fail("--label, --task and --delimiter describe your own CSV: pass it with --csv FILE too.")
    resumed = None
    if resume is not None:
        settings = (("--hidden", hidden), ("--activation", activation), ("--optimizer", optimizer), ("--lr", lr),
                    ("--schedule", schedule), ("--batch-size", batch_size), ("--epochs", epochs), ("--l2", l2),
                    ("--dropout", dropout), ("--samples", samples), ("--noise", noise), ("--loss", loss),
                    ("--train-samples", train_samples), ("--batch-norm", batch_norm or None),
                    ("--augment", augment or None), ("--early-stopping", early_stopping or None))
        given = [name for name, value in settings if value is not None]
        if given:
            _fail(f"--resume goes on with the run's own settings; leave out {', '.join(given)}.")
        resumed, dataset, recipe, options = _resumed_run(store, resume)
        data = load_training_data(dataset, data_dir=data_dir, csv=csv, download=download, **options)
    else:
        data = load_training_data(dataset, data_dir=data_dir, csv=csv, label=label, samples=samples, noise=noise,
                                  seed=seed, download=download, task=task, delimiter=delimiter)
        recipe = default_recipe(data.family, model or "mlp").with_options(
            hidden=_parse_sizes(hidden), activation=activation, optimizer=optimizer, lr=lr, schedule=schedule,
            batch_size=_parse_batch_size(batch_size, train_samples or len(data.x_train)), epochs=epochs,
            weight_decay=l2, dropout=dropout, batch_norm=batch_norm or None, loss=loss, train_samples=train_samples,
            augment=augment or None, early_stopping=early_stopping or None, seed=seed)
    seed = recipe.seed
    path = output or Path(f"{data.name}-{recipe.model}.safetensors")
    check_output_path(path)                         # a FIFO, a device or a folder fails now, not after training
    console.print(f"[bold]{data.name}[/]: {len(data.x_train):,} training and {len(data.x_test):,} test examples "
                  f"({data.source})")
    intro = (f"{recipe.model.upper()} with {{n_weights:,}} weights; "
             f"{OPTIMIZER_LABELS.get(recipe.optimizer, recipe.optimizer)}, "
             f"learning rate {recipe.lr:g}, "
             f"{recipe.schedule} schedule, batch {recipe.batch_size}, {recipe.epochs} epochs, seed {seed}")
    resumed_from = f" (resumed from run {resume} at epoch {resumed.epochs_done})" if resumed else ""
    recorder = _recorder(store, name=f"{data.name} {recipe.model} seed {seed}{resumed_from}", dataset=data.name,
                         config={**recipe.to_dict(), "n_classes": len(data.class_names) or None,
                                 "class_names": data.class_names, "data_options": data.options,
                                 "resumed_from": resume}) if record else None
    with _progress() as progress, _signals_end_training() as received:
        callbacks = [ProgressBar(progress, intro)] + ([recorder] if recorder else [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RecordingFailed)     # said once below, after the model is saved
            trained = train_recipe(data, recipe, callbacks=callbacks, resume=resumed)
    history, result, seconds = trained.history, trained.evaluation, trained.seconds
    if history.status == "diverged":
        _fail(history.message)
    tested = {} if result is None else {"test_loss": result.loss, "test_accuracy": result.accuracy}
    saved = trained.model.save(path, metadata={**data.metadata(), "recipe": recipe.to_dict(), **tested,
                                               "status": history.status, "training_seconds": round(seconds, 2)})
    table = Table(title=f"{data.name}, after {len(history.epoch)} epoch(s), {seconds:.1f} s of training")
    table.add_column("")
    table.add_column("loss", justify="right")
    if data.is_classification:
        table.add_column("accuracy", justify="right")
    # the training set's numbers are the running averages of the last epoch: evaluating all of it again
    # would cost as much as a tenth of the training
    rows = [] if result is None else [("test", result.loss, result.accuracy)]
    if history.epoch:                               # none if interrupted during the first epoch
        last_accuracy = history["accuracy"][-1] if data.is_classification else None
        rows.insert(0, ("train (last epoch)", history["loss"][-1], last_accuracy))
    for name, loss_value, accuracy in rows:
        table.add_row(name, f"{loss_value:.4f}", *([f"{accuracy:.2%}"] if data.is_classification else []))
    console.print(table)
    if history.status == "interrupted":
        console.print("Training was interrupted; the model as it was at that moment is saved.")
    link = f" (through the link {escape(str(path))})" if Path(saved) != Path(path) else ""
    console.print(f"Model saved to [bold]{escape(str(saved))}[/]{link}")
    if recorder is not None and recorder.error:
        errors.print(f"warning: {recorder.error}", markup=False, highlight=False, soft_wrap=True)
    elif recorder is not None:
        console.print(f"Recorded as run {recorder.run_id}: learnscope runs show {recorder.run_id}")
    if received:                                    # stopped by a signal: saved, and the exit code says so
        raise typer.Exit(128 + received[0])


def _train_mnist_addition(data_dir, download, n_digits, model, epochs, lr, train_samples, seed, baseline, output,
                          record, store):
    """learnscope train mnist-addition: digits learned from sums alone (learnscope.lessons.mnist_addition)."""
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.mnist_addition import (
        ADDITION_RECIPES,
        addition_data,
        describe_addition,
        sum_accuracy_reference,
        train_mnist_addition,
        train_neural_baseline,
    )

    if n_digits not in ADDITION_RECIPES:
        _fail(f"--digits expected 1 or 2 (digits per number), got {n_digits}. Use --digits 1 or --digits 2.")
    recipe = ADDITION_RECIPES[n_digits].with_options(model=model, epochs=epochs, lr=lr, seed=seed)
    path = output or Path(f"mnist-addition-{n_digits}-{recipe.model}.safetensors")
    check_output_path(path)
    mnist = load_mnist(data_dir, download=download)
    data = addition_data(mnist, n_digits, n_train=train_samples, seed=seed)
    console.print(f"[bold]MNIST addition, {n_digits} digit(s) per number[/]: {len(data.x_train):,} training sums and "
                  f"{len(data.x_test):,} test sums, each image used once; no digit label is used ({mnist.source})")
    name = f"mnist-addition {n_digits} {recipe.model} seed {seed}"
    recorder = _recorder(store, name=name, dataset=ADDITION,
                         config={**recipe.to_dict(), "n_digits": n_digits, "n_classes": data.n_sums,
                                 "n_samples": len(data.x_train)}) if record else None
    intro = (f"{recipe.model.upper()} digit reader with {{n_weights:,}} weights, then the rule a + b; Adam, "
             f"learning rate {recipe.lr:g}, batch {recipe.batch_size} sums, {recipe.epochs} epoch(s), seed {seed}")
    with _progress() as progress, _signals_end_training() as received, warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordingFailed)
        callbacks = [ProgressBar(progress, intro)] + ([recorder] if recorder else [])
        result = train_mnist_addition(data, recipe, callbacks=callbacks)
        compared = None
        if baseline and result.status == "finished":
            compared = train_neural_baseline(data, recipe, callbacks=[ProgressBar(
                progress, f"The baseline: a CNN without the rule, one class per sum ({data.n_sums})")])
    if result.status == "diverged":
        _fail(result.history.message)
    if result.status != "finished":
        _fail(f"Training stopped before the end ({result.history.message}); nothing was saved.")
    table = Table(title=f"MNIST addition (N = {n_digits}), {result.seconds:.1f} s of training")
    table.add_column("")
    table.add_column("test accuracy", justify="right")
    table.add_row("sums", f"{result.sum_accuracy:.2%}")
    table.add_row("digits (never labelled)", f"{result.digit_accuracy:.2%}")
    table.add_row("reference: every digit 99% right", f"{sum_accuracy_reference(n_digits):.2%}")
    if compared is not None:
        table.add_row("sums, without the rule", f"{compared.sum_accuracy:.2%}")
    console.print(table)
    console.print(describe_addition(result, compared), markup=False, highlight=False, soft_wrap=True)
    saved = result.model.save(path, metadata={"dataset": ADDITION, "n_digits": n_digits, "recipe": recipe.to_dict(),
                                              "test_sum_accuracy": result.sum_accuracy,
                                              "test_digit_accuracy": result.digit_accuracy,
                                              "training_seconds": round(result.seconds, 2)})
    console.print(f"Model saved to [bold]{escape(str(saved))}[/]")
    if recorder is not None and recorder.error:
        errors.print(f"warning: {recorder.error}", markup=False, highlight=False, soft_wrap=True)
    elif recorder is not None:
        console.print(f"Recorded as run {recorder.run_id}: learnscope runs show {recorder.run_id}")
    if received:
        raise typer.Exit(128 + received[0])


def _resumed_run(store, run_id: int):
    """(the checkpoint to go on from, the dataset, the run's recipe, its data options) of a recorded run."""
    from learnscope.recipes import Recipe
    from learnscope.train.checkpoints import resume_run

    with RunStore(store or default_store_path()) as runs:
        resumed = resume_run(runs, run_id)
    config = resumed.run["config"]
    recipe = Recipe.from_config(config)
    if resumed.epochs_done >= recipe.epochs:
        _fail(f"run {run_id} has done all its {recipe.epochs} epochs already; there is nothing to resume.")
    return resumed, resumed.run["dataset"], recipe, _trusted_data_options(config.get("data_options"))


def _trusted_data_options(options) -> dict:
    """The data settings a model file may pass to the data loader: known names, plain values (the loaders check
    their ranges); never a file path."""
    if not isinstance(options, dict):
        return {}
    kinds = {"samples": int, "noise": (int, float), "seed": int, "label": (int, str), "task": str, "delimiter": str}
    return {key: value for key, value in options.items()
            if key in kinds and isinstance(value, kinds[key]) and not isinstance(value, bool)}


def _recorder(store, name: str, dataset: str, config: dict):
    """The run's Recorder, or None (with a warning) when the store cannot be opened: training goes on without."""
    path = store or default_store_path()
    try:
        return Recorder(path, run_name=name, config=config, dataset=dataset)
    except (sqlite3.Error, OSError, ValueError) as error:
        errors.print(f"warning: not recording this run: the run store {path} cannot be opened ({error}).",
                     markup=False, highlight=False, soft_wrap=True)
        return None


@contextlib.contextmanager
def _signals_end_training():
    """SIGTERM and SIGHUP end training as Ctrl-C does (fit keeps the model, the command saves it); yields the
    list that receives the signal's number, to exit with 128 + it."""
    received = []

    def interrupt(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and threading.current_thread() is threading.main_thread():
            number = getattr(signal, name)
            previous[number] = signal.signal(number, interrupt)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class ProgressBar(Callback):
    """A live progress bar: epoch, loss, accuracy, speed and time left; first the `intro` line about the model
    (its {n_weights} filled in)."""

    def __init__(self, progress: Progress, intro: str = ""):
        self.progress, self.intro = progress, intro

    def on_train_begin(self, trainer):
        if self.intro:
            self.progress.console.print(self.intro.format(n_weights=trainer.model.n_params()))
        remaining = (trainer.epochs - trainer.initial_epoch) * trainer.steps_per_epoch    # a resumed run: the rest
        self.task = self.progress.add_task("training", total=remaining, info="")
        self.started = time.perf_counter()

    def on_batch_end(self, step, logs):
        if step % 20 and step != self.progress.tasks[self.task].total - 1:
            return                                  # redrawing every step would cost more than the step
        speed = logs["examples_seen"] / max(time.perf_counter() - self.started, 1e-9)
        accuracy = f" accuracy {logs['accuracy']:.1%}" if logs.get("accuracy") is not None else ""
        self.progress.update(self.task, completed=step + 1,
                             info=f"epoch {logs['epoch'] + 1} loss {logs['loss']:.4f}{accuracy} {speed:,.0f} ex/s")


def _progress() -> Progress:
    return Progress(BarColumn(bar_width=20), TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console)


# -- the run store ------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(store: StorePath = None):
    """Every recorded run: id, name, status, dataset, test accuracy, when."""
    from learnscope.store import final_test_accuracy

    with RunStore(store or default_store_path()) as runs:
        rows = runs.runs()
        table = Table(title=f"runs in {runs.path}")
        for column in ("id", "name", "status", "dataset", "test acc.", "started"):     # fits 80 columns
            table.add_column(column, justify="right" if column == "test acc." else "left")
        for run in rows:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created"]))
            accuracy = final_test_accuracy(runs, run["id"])
            table.add_row(str(run["id"]), escape(run["name"]), run["status"], escape(run["dataset"] or ""),
                          "—" if accuracy is None else f"{accuracy:.2%}", started)
    console.print(table if rows else f"no runs recorded yet in {runs.path}; 'learnscope train' records one.")


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument(help="The run's id, from 'learnscope runs list'.")],
              store: StorePath = None):
    """One run: its settings, how it ended, its last numbers, and what the diagnostics found."""
    with RunStore(store or default_store_path()) as runs:
        run = runs.run(run_id)
        metrics = runs.metrics(run_id)
    from learnscope.recipes import settings_in_words

    console.print(f"[bold]run {run['id']}[/]: {escape(run['name'])} ({run['status']}), dataset "
                  f"{escape(str(run['dataset']))}")
    settings = Table(show_header=False, box=None, padding=(0, 2))
    for words, text in settings_in_words(run["config"]):
        settings.add_row(words, escape(text))
    console.print(settings)
    last = {name[6:]: values[-1] for name, (_, values) in metrics.items() if name.startswith("epoch/") and len(values)}
    if last:
        console.print("last epoch: " + ", ".join(_metric_in_words(name, value) for name, value in sorted(last.items())))
    findings = diagnose_recorded(run, metrics)
    for finding in findings:
        console.print(f"[bold]{finding.severity}: {escape(finding.title)}[/]\n  {escape(finding.explanation)}\n"
                      f"  Try: {escape(finding.suggestion)}")
    if not findings:
        console.print("diagnostics: nothing unusual (gradients, update sizes, activations and curves look healthy)")


def _metric_in_words(name: str, value: float) -> str:
    """One epoch metric, in the form the train command prints it: accuracies as percentages, speeds as counts."""
    if "accuracy" in name:
        return f"{name.replace('_', ' ')} {value:.2%}"
    if name == "examples_per_second":
        return f"{value:,.0f} examples/s"
    if name == "seconds":
        return f"{value:.2g} s"
    return f"{name.replace('_', ' ')} {value:.4f}"


@runs_app.command("compare")
def runs_compare(
    run_ids: Annotated[list[int], typer.Argument(help="Two or more run ids, from 'learnscope runs list'.")],
    metric: Annotated[str, typer.Option(help="What to compare, e.g. loss, accuracy, epoch/val_accuracy.")] = "loss",
    by: Annotated[str, typer.Option(help="Line the runs up by 'epoch' or by 'examples' seen.")] = "epoch",
    rows: Annotated[int, typer.Option(help="How many points of the shared axis to print.")] = 10,
    store: StorePath = None,
):
    """Put runs side by side (e.g. SGD vs Adam, batch 16 vs 128) on one axis, so different batch sizes compare."""
    from learnscope.store import align, load_history

    with RunStore(store or default_store_path()) as runs:
        histories = [load_history(runs, run_id) for run_id in run_ids]
    grid, curves = align(histories, metric, by=by, points=rows)
    table = Table(title=f"{metric} by {by}")
    table.add_column(by, justify="right")
    for history in histories:
        table.add_column(f"{history.run['id']}: {escape(history.run['name'])}", justify="right")
    for index, position in enumerate(grid):
        table.add_row(f"{position:,.2f}" if by == "epoch" else f"{position:,.0f}",
                      *(f"{curve[index]:.4g}" for curve in curves))
    console.print(table)


@runs_app.command("export")
def runs_export(
    run_id: Annotated[int, typer.Argument(help="The run's id, from 'learnscope runs list'.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .json file to write.")],
    store: StorePath = None,
):
    """Write a run's recorded numbers to CSV (one row per number) or JSON (with settings and events)."""
    from learnscope.store import export_run

    with RunStore(store or default_store_path()) as runs:
        export_run(runs, run_id, output)
    console.print(f"run {run_id} written to {output}")


@runs_app.command("delete")
def runs_delete(run_id: Annotated[int, typer.Argument(help="The run's id, from 'learnscope runs list'.")],
                store: StorePath = None):
    """Delete one run and everything recorded for it."""
    with RunStore(store or default_store_path()) as runs:
        runs.delete_run(run_id)
    console.print(f"run {run_id} deleted")


@app.command()
def report(
    run_ids: Annotated[list[int] | None, typer.Argument(
        help=f"Run ids, from 'learnscope runs list'; none: the latest {LATEST_RUNS} runs.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The .html file to write.")] = Path("report.html"),
    store: StorePath = None,
):
    """Write one self-contained HTML page about the runs: curves, gradient flow, activations, weights, diagnostics."""
    from learnscope.core.files import write_atomically
    from learnscope.report import check_report_path, read_report_run, render_report

    output = check_report_path(output)
    with RunStore(store or default_store_path()) as runs:
        if not run_ids:
            run_ids = [run["id"] for run in runs.runs()[-LATEST_RUNS:]]
            if not run_ids:
                _fail(f"no runs recorded yet in {runs.path}; 'learnscope train' records one.")
        report_runs = []
        for run_id in run_ids:                      # an unknown id: the store's clear error, before any drawing
            report_run = read_report_run(runs, run_id)
            report_run.diagnoses = diagnose_recorded(report_run.history.run, report_run.history.metrics)
            report_runs.append(report_run)
    text = render_report(report_runs)
    try:
        written = write_atomically(output, text.encode("utf-8"))
    except OSError as err:
        where = f" ({err.filename})" if err.filename and str(err.filename) != str(output) else ""
        _fail(f"could not write the report to {output}: {err.strerror or err}{where}. Pick a folder you can write to.")
    console.print(f"report on run(s) {', '.join(map(str, run_ids))} written to {escape(written.describe())} "
                  f"({len(text) / 1e6:.1f} MB)")


# -- evaluate and predict ----------------------------------------------------------------------------
@app.command(name="evaluate")
def evaluate_command(
    model_path: Annotated[Path, typer.Argument(help="A model saved by 'learnscope train'.")],
    data_dir: DataDir = None,
    csv: Annotated[Path | None, typer.Option(help="For a model trained on your own CSV: that file (a path written "
                                             "inside a model file is never opened).")] = None,
    download: Annotated[bool, typer.Option(help="Download the dataset if it is not found locally.")] = True,
):
    """Test a saved model on the test set of the data it was trained on: loss, accuracy, confusion matrix."""
    from learnscope.model import load_model_with_metadata

    network, metadata = load_model_with_metadata(model_path)
    _refuse_addition_model(model_path, metadata)
    if "dataset" not in metadata:
        _fail(f"{model_path} does not say which dataset it was trained on; evaluate works on models saved by "
              "'learnscope train'.")
    options = _trusted_data_options(metadata.get("data_options"))
    if metadata.get("family") == "table":
        if csv is None:
            _fail(f"{model_path} was trained on a CSV file ({metadata['dataset']}); pass it: "
                  f"learnscope evaluate {model_path} --csv FILE.")
        options["csv"] = csv
    data = load_training_data(str(metadata["dataset"]), data_dir=data_dir, download=download, **options)
    loss = SoftmaxCrossEntropy() if data.is_classification else MSE()
    result = evaluate(network, loss, data.x_test, data.y_test)
    console.print(f"{data.name} test set, {len(data.x_test):,} examples: loss {result.loss:.4f}"
                  + (f", accuracy {result.accuracy:.2%}" if result.accuracy is not None else ""))
    if result.confusion is not None:
        table = Table(title="confusion matrix (rows: true class, columns: predicted)")
        table.add_column("")
        for name in data.class_names:
            table.add_column(escape(name[:6]), justify="right")
        for true_class, (name, row) in enumerate(zip(data.class_names, result.confusion)):
            cells = [f"[bold]{count}[/]" if predicted == true_class else str(count)
                     for predicted, count in enumerate(row)]
            table.add_row(escape(name[:12]), *cells)
        console.print(table)


@app.command()
def predict(
    model_path: Annotated[Path, typer.Argument(help="A model trained on MNIST-style images.")],
    image: Annotated[Path, typer.Argument(help="A picture of one digit: any size, colour or background.")],
):
    """Read a digit from a picture: the image is prepared like MNIST (28×28, centred) and classified."""
    from learnscope.data.images import load_image, to_mnist_format
    from learnscope.model import load_model_with_metadata

    network, metadata = load_model_with_metadata(model_path)
    _refuse_addition_model(model_path, metadata)
    shape = tuple(metadata.get("input_shape", ()))
    if shape != (1, 28, 28):
        _fail(f"{model_path} expects inputs of shape {shape or 'unknown'}, not 28×28 images. "
              "Use a model trained with 'learnscope train mnist' (or fashion-mnist).")
    pixels = to_mnist_format(load_image(image))
    if not pixels.any():
        _fail(f"{image} shows no digit: after preparing it like MNIST nothing is left (a blank or fully transparent "
              "picture?). Use a picture of one dark digit on a light background, or light on dark.")
    logits = network.predict(pixels.reshape(1, 1, 28, 28))[0]
    if not np.isfinite(logits).all():
        _fail(f"{model_path} gives NaN/inf outputs (its training diverged), so it cannot read anything. "
              "Train it again with a lower learning rate.")
    probabilities = softmax(logits)
    names = [escape(str(name)) for name in metadata.get("class_names") or range(len(probabilities))]
    best = np.argsort(probabilities)[::-1]
    console.print(f"[bold]{names[best[0]]}[/] ({probabilities[best[0]]:.1%})  "
                  + "  ".join(f"{names[k]} {probabilities[k]:.1%}" for k in best[1:3]))


# -- data ------------------------------------------------------------------------------------------
@data_app.command("info")
def data_info(data_dir: DataDir = None):
    """Where each dataset would be loaded from, without downloading anything."""
    from learnscope.data.catalog import describe_sources

    for line in describe_sources(data_dir):
        console.print(line)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="mnist or fashion-mnist")] = "mnist",
    data_dir: DataDir = None,
):
    """Download a dataset into the user cache (hash-verified), so later runs work offline."""
    from learnscope.data.sources import find_dataset_files

    files = find_dataset_files(name, data_dir=data_dir, download=True, progress=True)
    folder = next(iter(files.values())).parent
    console.print(f"{name}: {len(files)} files ready in {folder}")


# -- demo ------------------------------------------------------------------------------------------
@app.command()
def demo(seed: Annotated[int, typer.Option(help="Same seed, same run.")] = 0):
    """Train XOR and a spiral in the terminal, in seconds, printing what happens."""
    from learnscope.lessons.demo import train_spiral, train_xor

    start = time.perf_counter()
    xor_accuracy = train_xor(seed, console.print)
    spiral_accuracy = train_spiral(seed, console.print)
    console.print(f"\nXOR accuracy {xor_accuracy:.0%}, spiral test accuracy {spiral_accuracy:.1%} (points it never "
                  f"trained on), in {time.perf_counter() - start:.1f} s.")


# -- transfer ----------------------------------------------------------------------------------------
@app.command()
def transfer(
    task: Annotated[str, typer.Argument(help="near: MNIST digits 0-4 -> digits 5-9; far: MNIST -> Fashion-MNIST.")],
    per_class: Annotated[str, typer.Option(help="Label budgets: examples per class, comma-separated; 'all' for "
                                           "every one.")] = "10,100,1000,all",
    seeds: Annotated[int, typer.Option(help="Runs per budget and method, seeds 0, 1, ...", min=1, max=20)] = 3,
    steps: Annotated[int, typer.Option(help="Optimizer steps of every run on the target task.", min=1,
                                       max=100_000)] = 300,
    pretrained: Annotated[Path | None, typer.Option(help="far only: start from this MNIST model (e.g. from "
                                                    "'learnscope train mnist --model cnn') instead of pretraining "
                                                    "one.")] = None,
    data_dir: DataDir = None,
    download: Annotated[bool, typer.Option(help="Download the datasets if they are not found locally.")] = True,
):
    """Transfer learning: from scratch vs frozen pretrained features vs fine-tuning, at several label budgets."""
    from learnscope.data.mnist import load_fashion_mnist, load_mnist
    from learnscope.lessons.transfer import (
        METHOD_LABELS,
        TASK_NAMES,
        budget_words,
        describe_budget,
        pretrain,
        summarize,
        transfer_table,
        transfer_task,
    )
    from learnscope.model import load_model

    if task not in TASK_NAMES:
        _fail(f"unknown transfer task {task!r}; use near (digits 0-4 -> 5-9) or far (MNIST -> Fashion-MNIST).")
    budgets = [_parse_budget(text) for text in per_class.split(",")]
    if pretrained is not None and task == "near":
        _fail("--pretrained works with far only: a model trained on all of MNIST has already seen digits 5-9, "
              "which the near task is meant to learn from few labels.")
    mnist = load_mnist(data_dir, download=download)
    fashion = load_fashion_mnist(data_dir, download=download) if task == "far" else None
    chosen = transfer_task(task, mnist, fashion)
    start = time.perf_counter()
    if pretrained is not None:
        source_model = load_model(pretrained)
        source = f"{pretrained}"
    else:
        source_model = pretrain(chosen)
        source = f"pretrained here in {time.perf_counter() - start:.0f} s"
    console.print(f"[bold]{chosen.description}[/] (the source network: {source}); {steps} steps per run, "
                  f"seeds 0-{seeds - 1}")

    def said(run):
        console.print(f"  {budget_words(run.per_class):>16s}  {run.method:9s}  seed {run.seed}  "
                      f"{run.accuracy:.2%}  {run.seconds:.1f} s", highlight=False)

    runs = transfer_table(chosen, source_model, budgets, range(seeds), n_steps=steps, on_run=said)
    rows = summarize(runs)
    table = Table(title=f"{chosen.description}: test accuracy (mean ± spread over {seeds} seed(s)) and seconds")
    for column in ("labels", "start", "accuracy", "seconds"):
        table.add_column(column, justify="left" if column in ("labels", "start") else "right")
    for row in rows:
        table.add_row(budget_words(row.per_class), METHOD_LABELS[row.method], f"{row.mean:.2%} ± {row.spread:.2%}",
                      f"{row.mean_seconds:.1f}")
    console.print(table)
    for per_class_budget in budgets:
        console.print(describe_budget(rows, per_class_budget), markup=False, highlight=False, soft_wrap=True)


def _refuse_addition_model(model_path, metadata: dict) -> None:
    """An MNIST-addition model reads pairs of images and answers a sum: say so instead of failing on shapes."""
    if metadata.get("dataset") != ADDITION:
        return
    scores = ""
    if isinstance(metadata.get("test_sum_accuracy"), float) and isinstance(metadata.get("test_digit_accuracy"), float):
        scores = (f" Its test numbers are in the file: sums {metadata['test_sum_accuracy']:.2%}, digits "
                  f"{metadata['test_digit_accuracy']:.2%}.")
    _fail(f"{model_path} is an MNIST-addition model: it reads pairs of digit images and answers their sum, not one "
          f"image.{scores} In Python, learnscope.lessons.mnist_addition.digit_classifier(model) reads single digits.")


def _parse_budget(text: str) -> int | None:
    text = text.strip().lower()
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        _fail(f"--per-class expected whole numbers of examples per class or 'all', such as 10,100,all; got {text!r}.")
    return int(text)


# -- lab -------------------------------------------------------------------------------------------
@app.command()
def lab(
    port: Annotated[int, typer.Option(help="The port to serve on (1024–65535).")] = 8080,
    host: Annotated[str, typer.Option(help="The address to serve on. 127.0.0.1 keeps the lab private to this "
                                           "computer; 0.0.0.0 shares it with your network.")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Don't open a browser tab.")] = False,
    data_dir: DataDir = None,
    store: StorePath = None,
    no_download: Annotated[bool, typer.Option("--no-download", help="Never download datasets; offer the "
                                                                    "offline digits when MNIST is missing.")] = False,
):
    """Open the lab in your browser: the playground, MNIST training you can watch, and a digit pad."""
    if not 1024 <= port <= 65535:
        _fail(f"--port expected a number from 1024 to 65535, got {port}. Try e.g. --port 8080.")
    _check_port_free(host, port)
    from learnscope.lab import LabConfig, run_lab

    if host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(f"warning: serving on {host}: anyone who can reach this computer on port {port} can use the "
                     "lab, train on it and upload files. Use --host 127.0.0.1 to keep it private.",
                     markup=False, highlight=False, soft_wrap=True)
    console.print(f"learnscope lab on http://{host}:{port}  (Ctrl-C stops it)")
    run_lab(host=host, port=port, show=not no_browser,
            config=LabConfig(data_dir=data_dir, store=store, allow_download=not no_download))


def _check_port_free(host: str, port: int) -> None:
    """Fail in words before NiceGUI starts, rather than with a server traceback after."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except socket.gaierror:
            _fail(f"--host expected an address of this computer such as 127.0.0.1, got {host!r}.")
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                _fail(f"port {port} on {host} is already in use (another lab?). Open that one, or pass "
                      f"--port {port + 1}.")
            _fail(f"cannot serve on {host}:{port}: {error.strerror or error}. --host must be an address of this "
                  "computer (127.0.0.1 for this computer only).")


# -- plumbing ----------------------------------------------------------------------------------------
def _parse_sizes(text: str | None):
    if text is None:
        return None
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(f"--hidden expected sizes such as 256,128, got {text!r}.") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--hidden expected positive sizes such as 256,128, got {text!r}.")
    return sizes


def _parse_batch_size(text: str | None, n_samples: int):
    if text is None:
        return None
    if text.lower() in ("full", "batch", "all"):
        return n_samples
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--batch-size expected a whole number or 'full', got {text!r}.") from None


def _fail(message: str):
    raise CommandError(message)


class CommandError(Exception):
    """A failure already explained in words: printed as one line, no traceback."""


def main(argv=None) -> int:
    """Entry point: run the app, turn expected failures into one line on stderr and exit code 1."""
    try:
        # NOTE: with standalone_mode=False click returns a command's typer.Exit code instead of raising it
        code = app(args=argv, prog_name="learnscope", standalone_mode=False)
        if isinstance(code, int) and code:
            return code
    except (typer.Exit, SystemExit) as done:
        return getattr(done, "exit_code", None) or getattr(done, "code", 0) or 0
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        return 130
    except Exception as error:
        if isinstance(error, typer.exceptions.TyperException) and hasattr(error, "show"):
            error.show()                            # a usage error: click's own message and exit code 2
            return error.exit_code
        if _settings["debug"]:
            raise
        errors.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
