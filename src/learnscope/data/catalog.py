"""Every dataset by name, in one shape: what the CLI's `train` and the lab's pickers load.

Images (MNIST, Fashion-MNIST, the 8×8 digits), 2-D toy sets and the user's CSV all come back as a
TrainingData: train and test arrays, class names, the task, and how to load the same data again.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnscope.data.mnist import load_dataset
from learnscope.data.sources import DatasetUnavailable, find_dataset_files
from learnscope.data.splits import train_test_split
from learnscope.data.table import load_csv
from learnscope.data.toy2d import TOY_DATASETS, make_toy

IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")
DATASET_NAMES = (*IMAGE_DATASETS, *TOY_DATASETS, "csv")


@dataclass(eq=False)
class TrainingData:
    """Train/test arrays plus what a model file must remember to load the same data again."""

    name: str
    family: str                     # "mnist", "fashion-mnist", "digits", "toy" or "table": picks the recipe
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]          # empty for regression
    source: str
    options: dict = field(default_factory=dict)   # keyword arguments that reload this data

    @property
    def is_classification(self) -> bool:
        return bool(self.class_names)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        """Units of the last layer: one per class, or one per regression target."""
        return len(self.class_names) if self.is_classification else int(np.prod(self.y_train.shape[1:]))

    def metadata(self) -> dict:
        """JSON-able facts saved in the model file (evaluate and predict read them back)."""
        return {"dataset": self.name, "family": self.family, "class_names": self.class_names,
                "input_shape": list(self.input_shape), "task": "classification" if self.class_names else "regression",
                "data_options": self.options}


def load_training_data(name: str = "mnist", data_dir=None, csv=None, label=None, samples=None, noise=None,
                       seed: int = 0, download: bool = True, progress=True, task=None,
                       delimiter=None) -> TrainingData:
    """Load a dataset by name ("mnist", "fashion-mnist", "digits", a toy set such as "spiral"), or the
    CSV file `csv` with its `label` column (task and delimiter as load_csv takes them). Toy sets are split 80/20,
    stratified by class. samples: the number of toy points, or of training images to keep (a random subset)."""
    if csv is not None or name == "csv":
        return _from_csv(csv, label, seed, task, delimiter)
    if not isinstance(name, str):
        raise TypeError(f"expected a dataset name such as 'mnist', got {type(name).__name__}.")
    key = name.strip().lower().replace("_", "-")
    if key in IMAGE_DATASETS:
        if noise is not None:
            raise ValueError(f"--noise applies to the toy sets, not to {name}: leave it out.")
        images = load_dataset(key, data_dir=data_dir, download=download, progress=progress)
        options = {}
        if samples is not None:                 # a smaller training set, e.g. to see overfitting
            images, options = images.subset(samples, seed=seed), {"samples": samples, "seed": seed}
        return TrainingData(images.name, key, images.x_train, images.y_train, images.x_test, images.y_test,
                            list(images.class_names), images.source, options)
    if key in TOY_DATASETS:
        return _from_toy(key, samples, noise, seed)
    raise ValueError(f"unknown dataset {name!r}. Choose one of {', '.join(DATASET_NAMES)}, "
                     "or train on your own file with --csv FILE --label COLUMN.")


def _from_toy(key: str, samples, noise, seed: int) -> TrainingData:
    entry = TOY_DATASETS[key]
    x, y = make_toy(key, n_samples=samples, noise=noise, seed=seed)
    split = train_test_split(x, y, test_fraction=0.2, seed=seed, stratify=entry.is_classification)
    class_names = [str(k) for k in range(int(y.max()) + 1)] if entry.is_classification else []
    options = {"samples": samples, "noise": noise, "seed": seed}
    return TrainingData(key, "toy", split.x_train, split.y_train, split.x_test, split.y_test, class_names,
                        f"generated: {entry.description}", options)


def _from_csv(csv, label, seed: int, task=None, delimiter=None) -> TrainingData:
    if csv is None:
        raise ValueError("the csv dataset needs a file: pass --csv FILE --label COLUMN.")
    if label is None:
        raise ValueError(f"--csv {csv} needs --label COLUMN: the name (or index) of the column to predict.")
    label = int(label) if isinstance(label, str) and label.lstrip("-").isdigit() else label
    table = load_csv(csv, label, seed=seed, **{key: value for key, value in (("task", task), ("delimiter", delimiter))
                                               if value is not None})
    path = Path(csv)
    return TrainingData(path.stem, "table", table.x_train, table.y_train, table.x_test, table.y_test,
                        list(table.class_names), f"{path} (label column {table.label_name!r})",
                        {"csv": str(path.resolve()), "label": label, "seed": seed, "task": table.task,
                         "delimiter": delimiter or ","})


def describe_sources(data_dir=None) -> list[str]:
    """One line per downloadable dataset saying where it would be loaded from; downloads nothing."""
    lines = []
    for name in ("mnist", "fashion-mnist"):
        try:
            files = find_dataset_files(name, data_dir=data_dir, download=False, progress=False)
            lines.append(f"{name}: ready, {files.source}")
        except (DatasetUnavailable, FileNotFoundError, ValueError) as err:
            lines.append(f"{name}: not available without a download. {err}")
    lines.append("digits: always available (ships with scikit-learn, 8×8 pixels)")
    lines.append(f"toy sets: {', '.join(TOY_DATASETS)} (generated)")
    return lines
