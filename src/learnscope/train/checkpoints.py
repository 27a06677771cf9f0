"""Checkpoints: the model and its optimizer's memory (momentum, Adam's moments) in one safetensors
file, so a run killed mid-training picks up where its last epoch ended."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnscope.model import Sequential, load_model_with_extras
from learnscope.model_io import save_model
from learnscope.optim import Optimizer, get_optimizer
from learnscope.store.runs import RunStore


def save_checkpoint(path, model: Sequential, optimizer: Optimizer, epochs_done: int, metadata: dict | None = None):
    """Write model, optimizer state and progress to one file, atomically (a crash keeps the previous one)."""
    state = optimizer.state_dict()
    extras = {f"optimizer/{name}/{key}": array for name, arrays in state["state"].items()
              for key, array in arrays.items()}
    header = {**(metadata or {}), "checkpoint": {"epochs_done": epochs_done, "optimizer": optimizer.config(),
                                                 "t": state["t"], "lr": state["lr"]}}
    return save_model(model, path, metadata=header, extra_tensors=extras)


def load_checkpoint(path) -> tuple[Sequential, Optimizer, dict]:
    """(model, optimizer with its state restored, metadata) from a file written by save_checkpoint."""
    model, metadata, extras = load_model_with_extras(path)
    if "checkpoint" not in metadata:
        raise ValueError(f"{path} is a model file but not a checkpoint (no optimizer state). "
                         "Resume from a file written by save_checkpoint or a recorded run.")
    info = metadata["checkpoint"]
    optimizer = get_optimizer(info["optimizer"])
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for key, array in extras.items():
        _, name, state_key = key.split("/", 2)
        arrays.setdefault(name, {})[state_key] = array
    optimizer.load_state_dict({"t": info["t"], "lr": info["lr"], "state": arrays})
    return model, optimizer, metadata


@dataclass
class Resumed:
    """What a recorded run needs to go on: model, optimizer, how many epochs were done, the run itself."""

    model: Sequential
    optimizer: Optimizer
    epochs_done: int
    run: dict


def resume_run(store: RunStore, run_id: int) -> Resumed:
    """The last checkpoint of a recorded run (the Recorder writes one at every epoch end)."""
    checkpoints = [event for event in store.events(run_id) if event["kind"] == "checkpoint"]
    if not checkpoints:
        raise ValueError(f"run {run_id} has no checkpoint: it ended before its first epoch did, or was recorded "
                         "with checkpoints=False. Start it again instead.")
    path = Path(checkpoints[-1]["payload"]["path"])
    model, optimizer, metadata = load_checkpoint(path)
    return Resumed(model, optimizer, metadata["checkpoint"]["epochs_done"], store.run(run_id))
