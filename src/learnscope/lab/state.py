"""What the lab's pages share: its settings, and the models trained in it.

Each browser tab gets its own page objects; the LabState is the one thing all tabs see (the MNIST training,
the latest trained digit model), so a second tab shows the same run and the draw page can use its model.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

from learnscope.lessons.drawing import DIGIT_CLASS_NAMES
from learnscope.model import Sequential

#: Uploaded files larger than this are refused before they are parsed (a CSV of 2D points is a few kB)
UPLOAD_LIMIT_BYTES = 2 * 1024 * 1024


@dataclass
class LabConfig:
    """Where the lab reads and writes: data_dir for the datasets (else $LEARNSCOPE_DATA, the cache, a
    download), store for the run store (else $LEARNSCOPE_STORE or the user data folder), models_dir for
    models saved from the lab (else a 'models' folder beside the store)."""

    data_dir: Path | None = None
    store: Path | None = None
    models_dir: Path | None = None
    upload_limit_bytes: int = UPLOAD_LIMIT_BYTES
    allow_download: bool = True

    def store_path(self) -> Path:
        from learnscope.store import default_store_path

        return Path(self.store) if self.store is not None else default_store_path()

    def models_path(self) -> Path:
        return Path(self.models_dir) if self.models_dir is not None else self.store_path().parent / "models"


@dataclass
class TrainedModel:
    """A model trained (or loaded) in the lab, ready for the draw page: what it is and how good it was."""

    model: Sequential
    name: str                       # e.g. "MLP trained on the MNIST page (97.9% test accuracy)"
    class_names: list[str]
    test_accuracy: float | None = None


def trained_model_from_file(found) -> TrainedModel | None:
    """lessons.drawing.newest_digit_model's (path, model, metadata), or None, as a TrainedModel."""
    if found is None:
        return None
    path, model, metadata = found
    accuracy = metadata.get("test_accuracy")
    return TrainedModel(model, f"saved file {path.name}", list(DIGIT_CLASS_NAMES),
                        accuracy if isinstance(accuracy, (int, float)) else None)


@dataclass
class LabState:
    """Shared by every tab of one lab server."""

    config: LabConfig = field(default_factory=LabConfig)
    jobs: dict = field(default_factory=dict)            # page name -> its long-running job (one MNIST training)
    drawn_digit: object = None                          # the last (28, 28) digit drawn on the draw page, for 'One step'
    _trained: TrainedModel | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pretrained: dict = field(default_factory=dict, repr=False)
    _pretraining: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def pretrained(self, key: str, build):
        """The network pretrained for `key` (a transfer task), built by build() the first time any tab asks: one
        pretraining per lab, never two at once. Call from a worker thread. Pages train copies, never this one."""
        with self._pretraining:
            if key not in self._pretrained:
                self._pretrained[key] = build()
            return self._pretrained[key]

    @property
    def trained_model(self) -> TrainedModel | None:
        with self._lock:
            return self._trained

    def publish_model(self, trained: TrainedModel) -> None:
        """Make `trained` the lab's current digit model (the MNIST page calls this when a run ends)."""
        with self._lock:
            self._trained = trained
