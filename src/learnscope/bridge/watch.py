"""watch: record a PyTorch model's training into the run store, in the schema of the engine's Recorder.

    watcher = learnscope.watch(model, optimizer, store="runs.sqlite", every=50)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            output = model(x)
            loss = F.cross_entropy(output, y)
            loss.backward()
            optimizer.step()
            watcher.log(loss=loss, accuracy=(output.argmax(1) == y).float().mean())
        watcher.end_epoch(val_loss=..., val_accuracy=...)
    watcher.close()                         # or: with learnscope.watch(...) as watcher: ...

Steps are the optimizer's steps, counted from 0; steps 0, every, 2·every, ... are recorded (what the Recorder's
module docstring lists: loss, accuracy, lr, grad_rms / weight_rms / update_ratio per parameter, act_mean / act_std
and dead or saturated fractions per activation module), so `learnscope runs show`, `learnscope report`, the
diagnostics and the lab's past-run views read a PyTorch run like an engine run.

Where each number comes from, and why there:
- gradients: an optimizer step pre-hook, i.e. after backward() (and after any clipping), before the update reads
  them; no module backward hooks, which break on in-place operations;
- the update ‖W_k − W_{k−1}‖ / ‖W_{k−1}‖: a copy of the weights in the pre-hook, compared in the post-hook;
- activations: forward hooks on the activation modules (nn.ReLU, nn.Tanh, ...; a function such as F.relu has no
  module to hook), armed only for a recorded step's first training forward pass and removed after it, each
  output taken with detach().cpu(). On every other step the watcher costs three hook calls that count (the
  optimizer's two, and the model's forward pre-hook counting examples) and log()'s list append: microseconds;
- norms are computed on the tensors' device in their own dtype (as the Recorder sums in the array's dtype; a
  float64 copy of every tensor would triple a recorded step's cost) and brought over in one transfer per recorded
  step, so a GPU model is synchronised once per recorded step, not once per parameter.

Parameters are named like the engine's, "<i>.<module type>.<key>": i is the module's position among the model's
leaf modules, key W and b for weight and bias (gamma and beta for normalization layers), e.g. "0.linear.W",
"3.conv2d.b", "1.batchnorm1d.gamma". The torch names are kept in the run's config ("parameter_names").

Under DistributedDataParallel only rank 0 records (one run per training, not one per process); on other ranks
the watcher does nothing. PyTorch is imported only when watch() is called.
"""

import contextlib
import math
import sqlite3
import time
import warnings

import numpy as np

from learnscope.bridge.torch_models import _torch
from learnscope.core.validation import check_int, describe
from learnscope.store.runs import default_store_path, open_store
from learnscope.train.recorder import (
    HISTOGRAM_BINS,
    RecordingFailed,
    activation_summary,
    histogram,
    let_go_of_store,
    recording_stopped,
)

#: torch activation modules the watcher watches (class names); relu, tanh and sigmoid also get a health fraction
ACTIVATIONS = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus",
               "Hardtanh", "Hardswish", "Tanh", "Sigmoid")


def watch(model, optimizer, store=None, every: int = 50, name: str | None = None, dataset: str | None = None,
          config: dict | None = None, tensors_every: int | None = None) -> "Watcher":
    """Record the training of a torch nn.Module (optionally wrapped in DistributedDataParallel) driven by
    `optimizer` into a RunStore (a store or a path; default: learnscope's store), every `every` optimizer steps.
    Call watcher.log(loss=..., accuracy=...) after each optimizer.step(), watcher.end_epoch(...) after each epoch
    and watcher.close() at the end (or use it as a context manager). `tensors_every` also keeps the first weight
    matrix every that many steps; `dataset` names the data ("mnist" shows the run on the lab's MNIST page)."""
    return Watcher(model, optimizer, store, every, name, dataset, config, tensors_every)


class Watcher:
    """One PyTorch training run being recorded; see the module docstring. `run_id` is None on ranks other than 0."""

    def __init__(self, model, optimizer, store, every, name, dataset, config, tensors_every):
        torch = _torch()
        owner = "watch"
        if isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
            model = model.module                        # hooks go on the real network; the wrapper only syncs
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"{owner} expected a torch.nn.Module, got {describe(model)}. For an engine model use "
                            "learnscope.train.Recorder instead.")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{owner} expected a torch.optim.Optimizer, got {describe(optimizer)}. Pass the optimizer "
                            "that updates the model, e.g. torch.optim.SGD(model.parameters(), lr=0.1).")
        self.every = check_int(every, "every", owner, minimum=1, fix="Pass a number of steps such as every=50.")
        self.tensors_every = None if tensors_every is None else check_int(
            tensors_every, "tensors_every", owner, minimum=1, fix="Pass e.g. tensors_every=500, or None.")
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"{owner} expected config to be a dict, got {describe(config)}.")
        if dataset is not None and not isinstance(dataset, str):
            raise TypeError(f"{owner} expected dataset to be a name such as 'mnist', got {describe(dataset)}.")
        self._torch, self.model, self.optimizer = torch, model, optimizer
        self._params = _named_parameters(model)
        optimized = {id(param) for group in optimizer.param_groups for param in group["params"]}
        if not any(id(param) in optimized for _, _, param in self._params):
            raise ValueError(f"{owner}: the optimizer updates none of the model's parameters. Pass the optimizer built "
                             "from this model, e.g. torch.optim.Adam(model.parameters()).")
        self.rank = _rank(torch)
        self.run_id: int | None = None
        self.error = ""                                 # why recording stopped ("" while it works)
        self.latest: dict[str, float] = {}              # the last recorded step's values
        self.listeners: list = []                       # listener(step, values, final=False): a live chart, say
        self.steps_completed = 0
        self.epoch = 0
        self.examples_seen = 0
        self.status = "running"
        self._handles: list = []
        self._activation_handles: list = []
        self._pending: tuple[int, dict] | None = None   # a recorded step's values, waiting for its loss
        self._previous: list = []                       # W_{k−1} of a recorded step, on the model's device
        self._activations: dict[str, float] = {}
        self._seen: set[str] = set()                    # activation labels the armed hooks have seen
        self._grad_norms: dict[int, float] = {}         # parameter index -> ‖g‖ of the recorded step
        self._diverged_at: int | None = None
        self._losses: list = []                         # this epoch's logged losses (0-d tensors or floats)
        self._accuracies: list = []
        self._epoch_started = time.perf_counter()
        self._epoch_examples = 0
        if self.rank != 0:
            return
        self.store, self._owns_store = open_store(store if store is not None else default_store_path(), "watch",
                                                  "Pass e.g. store='runs.sqlite'.")
        self._labels = {module: (f"{index}.{type(module).__name__.lower()}", type(module).__name__.lower())
                        for index, module in enumerate(_leaves(model)) if type(module).__name__ in ACTIVATIONS}
        run_config = {"framework": f"PyTorch {torch.__version__}", **_optimizer_config(optimizer),
                      "every": self.every, "tensors_every": self.tensors_every,
                      "n_classes": _n_classes(model),
                      "parameter_names": {recorded: torch_name for recorded, torch_name, _ in self._params},
                      **(config or {})}
        architecture = [{"type": type(module).__name__, "config": {"module": path or type(module).__name__,
                                                                     "repr": repr(module)}}
                        for path, module in _named_leaves(model)]
        run_name = name or f"torch-{type(model).__name__.lower()}-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            self.run_id = self.store.create_run(run_name, run_config, dataset, architecture)
        except (sqlite3.Error, OSError) as error:
            self._fail(error)
            return
        self._handles = [optimizer.register_step_pre_hook(_Hook(self._before_step)),
                         optimizer.register_step_post_hook(_Hook(self._after_step)),
                         model.register_forward_pre_hook(_Hook(self._count_examples))]
        self._arm()                                     # step 0 is recorded

    # -- what the user calls ---------------------------------------------------------------------------------
    def log(self, loss=None, accuracy=None) -> None:
        """The last optimizer step's training loss and accuracy (floats or 0-d tensors; a tensor is read only on
        recorded steps, so logging every step does not synchronise a GPU). Call it after optimizer.step()."""
        if self.run_id is None or self.error:          # not rank 0, or the store has failed: nothing to keep
            return
        if loss is not None:                            # kept as given: summed once, at the epoch's end
            self._losses.append(loss.detach() if hasattr(loss, "detach") else float(loss))
        if accuracy is not None:
            self._accuracies.append(accuracy.detach() if hasattr(accuracy, "detach") else float(accuracy))
        if self._pending is None or self._pending[0] != self.steps_completed - 1:
            return
        step, values = self._pending
        if loss is not None:
            values["loss"] = _number(loss)
            if not math.isfinite(values["loss"]):
                self._diverged(step, f"the loss became {values['loss']}")
        if accuracy is not None:
            values["accuracy"] = _number(accuracy)
        self._write_pending()

    def end_epoch(self, val_loss=None, val_accuracy=None) -> None:
        """Close an epoch: its mean logged loss and accuracy, the held-out numbers if given (also as val_loss and
        val_accuracy at the epoch's last step, where the lab's curves read them), its seconds and examples per
        second (epoch/* metrics), and histograms of every weight matrix and its gradient."""
        if self.run_id is None or self.error:
            self.epoch += 1
            return
        seconds = time.perf_counter() - self._epoch_started
        values = {"epoch/seconds": seconds}
        if self._losses:
            values["epoch/loss"] = _mean(self._torch, self._losses)
        if self._accuracies:
            values["epoch/accuracy"] = _mean(self._torch, self._accuracies)
        for key, value in (("val_loss", val_loss), ("val_accuracy", val_accuracy)):
            if value is not None:
                values[f"epoch/{key}"] = _number(value)
        if seconds > 0 and self._epoch_examples:
            values["epoch/examples_per_second"] = self._epoch_examples / seconds
        step = max(self.steps_completed - 1, 0)
        held_out = {key[6:]: values[key] for key in ("epoch/val_loss", "epoch/val_accuracy") if key in values}
        with self._guard():
            self._write_pending()
            self.store.log_metrics(self.run_id, step, values, epoch=self.epoch, examples_seen=self.examples_seen)
            if held_out:                                # a test point on the per-step curves too, like the lab's runs
                self.store.log_metrics(self.run_id, step, held_out, epoch=self.epoch,
                                       examples_seen=self.examples_seen)
                self._tell(step, held_out)
            summary = ", ".join(f"{key[6:]} {value:.4g}" for key, value in values.items() if key != "epoch/seconds")
            self.store.log_event(self.run_id, step, "epoch_end", f"Epoch {self.epoch} ended: {summary}.",
                                 {key[6:]: value for key, value in values.items()})
            self._histograms(step)
            self.store.flush()
        if "epoch/loss" in values and not math.isfinite(values["epoch/loss"]):
            self._diverged(step, f"the epoch's mean loss became {values['epoch/loss']}")
        self.epoch += 1
        self._losses, self._accuracies = [], []
        self._epoch_started, self._epoch_examples = time.perf_counter(), 0

    def close(self, status: str | None = None) -> None:
        """End the run (status "finished" unless it diverged or another is given) and remove every hook."""
        for handle in self._handles + self._activation_handles:
            handle.remove()
        self._handles, self._activation_handles = [], []
        if self.run_id is None or self.status != "running":
            return
        self.status = status or ("diverged" if self._diverged_at is not None else "finished")
        if self.error:
            let_go_of_store(self.store, self.run_id, self.error, self._owns_store)
            return
        with self._guard():
            self._write_pending()
            self.store.log_event(self.run_id, max(self.steps_completed - 1, 0), "train_end",
                                 f"Training ended ({self.status}) after {self.steps_completed:,} steps.",
                                 {"status": self.status, "steps_completed": self.steps_completed})
            self.store.finish_run(self.run_id, self.status)
            if self._owns_store:
                self.store.close()
        if self.error:
            let_go_of_store(self.store, self.run_id, self.error, self._owns_store)
        self._tell(max(self.steps_completed - 1, 0), {}, final=True)

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = None if exc_type is None else ("stopped" if issubclass(exc_type, KeyboardInterrupt)
                                                else "interrupted")
        self.close(status)

    def __repr__(self) -> str:
        where = f"run {self.run_id}" if self.run_id is not None else f"rank {self.rank}, not recording"
        return f"Watcher({where}, every={self.every}, steps={self.steps_completed})"

    # -- hooks -----------------------------------------------------------------------------------------------
    def _count_examples(self, module, args) -> None:
        if module is self.model and module.training and args and hasattr(args[0], "shape") and len(args[0].shape):
            self.examples_seen += int(args[0].shape[0])
            self._epoch_examples += int(args[0].shape[0])

    def _before_step(self, optimizer, args, kwargs) -> None:
        """After backward(), before the update: the gradients, and W_{k−1} for the update ratio."""
        if self.steps_completed % self.every or self.error:
            return
        self._disarm()                                  # this step's forward pass is over
        torch = self._torch
        with torch.no_grad():
            grads = [param.grad for _, _, param in self._params]
            with_grad = [index for index, grad in enumerate(grads) if grad is not None]
            norms = _norms(torch, [grads[index] for index in with_grad])
            self._grad_norms = dict(zip(with_grad, norms, strict=True))
            self._previous = [param.detach().clone() for _, _, param in self._params]

    def _after_step(self, optimizer, args, kwargs) -> None:
        step = self.steps_completed
        self.steps_completed += 1
        if self.error:
            return
        snapshot = self.tensors_every is not None and step % self.tensors_every == 0
        if self._pending is not None or step % self.every == 0 or snapshot:      # most steps have nothing to do
            with self._guard():
                if self._pending is not None:           # the last recorded step was never log()ged
                    self._write_pending()
                if step % self.every == 0 and self._previous:
                    self._record(step)
                if snapshot:
                    self._snapshot(step)
        if (step + 1) % self.every == 0:
            self._arm()

    def _watch(self, module, args, output) -> None:
        """Forward hook: statistics of an activation module's output in the first training pass after arming."""
        if module not in self._labels or not module.training or self._labels[module][0] in self._seen:
            return                                      # a copy of the model, an eval pass, or a second pass
        label, kind = self._labels[module]
        self._seen.add(label)
        if isinstance(output, self._torch.Tensor):
            values = output.detach().cpu().float().numpy()
            self._activations.update(activation_summary(label, kind, values))

    # -- the work of a recorded step ------------------------------------------------------------------------
    def _record(self, step: int) -> None:
        torch = self._torch
        with torch.no_grad():
            weights = [param.detach() for _, _, param in self._params]
            changes = [param.detach() - before for param, before in zip(weights, self._previous, strict=True)]
            weight_norms, change_norms, before_norms = (
                _norms(torch, tensors) for tensors in (weights, changes, self._previous))
        self._previous = []
        values = {"lr": float(self.optimizer.param_groups[0]["lr"])}
        for index, (name, _, param) in enumerate(self._params):
            size = max(param.numel(), 1)
            if index in self._grad_norms:
                values[f"grad_rms/{name}"] = self._grad_norms[index] / math.sqrt(size)
            values[f"weight_rms/{name}"] = weight_norms[index] / math.sqrt(size)
            if before_norms[index] > 0:                 # a bias starting at zero has no relative change yet
                values[f"update_ratio/{name}"] = change_norms[index] / before_norms[index]
        values.update(self._activations)
        self._activations = {}
        self._pending = (step, values)
        broken = [name for index, (name, _, _) in enumerate(self._params)
                  if not math.isfinite(self._grad_norms.get(index, 0.0)) or not math.isfinite(weight_norms[index])]
        if broken:
            self._diverged(step, f"the gradient or weights of {broken[0]} are no longer finite")

    def _write_pending(self) -> None:
        if self._pending is None:
            return
        step, values = self._pending
        self._pending = None
        self.latest = values
        self.store.log_metrics(self.run_id, step, values, epoch=self.epoch, examples_seen=self.examples_seen)
        self._tell(step, values)

    def _tell(self, step: int, values: dict, final: bool = False) -> None:
        for listener in self.listeners:
            listener(step, values, final)

    def _arm(self) -> None:
        """Watch the next training forward pass (a recorded step's)."""
        self._disarm()
        self._seen, self._activations = set(), {}
        hook = _Hook(self._watch)
        self._activation_handles = [module.register_forward_hook(hook) for module in self._labels]

    def _disarm(self) -> None:
        for handle in self._activation_handles:
            handle.remove()
        self._activation_handles = []

    def _snapshot(self, step: int) -> None:
        """The first weight matrix, in the engine's layout (a Linear's (in, out): a column per unit)."""
        first = next(((name, param) for name, _, param in self._params if name.endswith(".W")), None)
        if first is not None:
            array = first[1].detach().cpu().float().numpy()
            self.store.log_tensor(self.run_id, step, first[0], array.T if array.ndim == 2 else array)

    def _histograms(self, step: int) -> None:
        """Each weight matrix and its last gradient as "histogram/weights|grads/<param>" (see the Recorder)."""
        for name, _, param in self._params:
            if not name.endswith(".W"):
                continue
            for kind, tensor in (("weights", param), ("grads", param.grad)):
                if tensor is None:
                    continue
                counts, edges = _histogram(self._torch, tensor.detach())
                self.store.log_tensor(self.run_id, step, f"histogram/{kind}/{name}",
                                      np.stack([edges, np.append(counts, 0.0)]))

    # -- ending badly ----------------------------------------------------------------------------------------
    def _diverged(self, step: int, what: str) -> None:
        """Say once, as a warning and an event, that the run stopped being finite; the run ends "diverged"."""
        if self._diverged_at is not None:
            return
        self._diverged_at = step
        message = (f"Training diverged at step {step}: {what}. Usually the steps were too large for this network: "
                   "lower the learning rate (by 10×) or clip the gradients (torch.nn.utils.clip_grad_norm_); if the "
                   "data holds NaN or infinite values, clean them first.")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        with self._guard():
            self.store.log_event(self.run_id, step, "diverged", message, {"reason": what})

    @contextlib.contextmanager
    def _guard(self):
        """A failing store turns recording off with a RecordingFailed warning (once); training goes on."""
        try:
            yield
        except (sqlite3.Error, OSError) as error:
            if not self.error:
                self._fail(error)

    def _fail(self, error: Exception) -> None:
        self._disarm()
        self.error = recording_stopped(self.store, error, self.run_id)
        warnings.warn(self.error, RecordingFailed, stacklevel=4)


# -- helpers ---------------------------------------------------------------------------------------------------
class _Hook:
    """A hook that a copied or saved model carries harmlessly: copy.deepcopy shares it (it ignores modules it does
    not watch) and pickle (torch.save(model)) stores a hook that does nothing, instead of failing on the watcher."""

    def __init__(self, method):
        self.method = method

    def __call__(self, *args):
        return self.method(*args)

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return _Ignored, ()


class _Ignored:
    """What a saved model's hook becomes when it is loaded again: a hook that does nothing."""

    def __call__(self, *args) -> None:
        return None


def _rank(torch) -> int:
    distributed = torch.distributed
    return distributed.get_rank() if distributed.is_available() and distributed.is_initialized() else 0


def _named_leaves(model) -> list[tuple[str, object]]:
    """(path, module) of the modules without children, in registration order (the model itself if it has none)."""
    leaves = [(path, module) for path, module in model.named_modules() if not any(True for _ in module.children())]
    return leaves or [("", model)]


def _leaves(model) -> list:
    return [module for _, module in _named_leaves(model)]


def _named_parameters(model) -> list[tuple[str, str, object]]:
    """(recorded name, torch name, parameter) for every parameter, named like the engine's (module docstring)."""
    named, seen = [], set()
    for index, (path, module) in enumerate(_named_leaves(model)):
        kind = type(module).__name__
        norm = "Norm" in kind
        for key, param in module.named_parameters(recurse=False):
            short = {"weight": "gamma" if norm else "W", "bias": "beta" if norm else "b"}.get(key, key)
            named.append((f"{index}.{kind.lower()}.{short}", f"{path}.{key}" if path else key, param))
            seen.add(id(param))
    for torch_name, param in model.named_parameters():     # parameters held by a parent module, not a leaf
        if id(param) not in seen:
            named.append((torch_name, torch_name, param))
    return named


def _optimizer_config(optimizer) -> dict:
    """The settings the run store's readers know (optimizer, lr, momentum, weight_decay) from the first group."""
    group = optimizer.param_groups[0]
    config = {"optimizer": type(optimizer).__name__.lower(), "lr": float(group["lr"])}
    for key in ("momentum", "weight_decay", "betas", "nesterov"):
        if key in group:
            value = group[key]
            config[key] = [float(item) for item in value] if isinstance(value, tuple) else value
    return config


def _n_classes(model) -> int | None:
    """The last Linear's outputs: what chance accuracy the diagnostics compare with; None if the model ends
    otherwise."""
    linears = [module for module in _leaves(model) if type(module).__name__ == "Linear"]
    return int(linears[-1].out_features) if linears else None


def _norms(torch, tensors) -> list[float]:
    """‖t‖₂ of each tensor, on its device in its dtype, brought to the host in one transfer."""
    if not tensors:
        return []
    norms = [torch.linalg.vector_norm(tensor) for tensor in tensors]
    if len({norm.device for norm in norms}) > 1:        # a model split over devices: one transfer per device
        norms = [norm.cpu() for norm in norms]
    return torch.stack(norms).cpu().tolist()


def _histogram(torch, tensor) -> tuple[np.ndarray, np.ndarray]:
    """The Recorder's histogram (40 bins over a range symmetric around 0) counted by torch on the tensor's device:
    half numpy's time on the CPU, and a GPU tensor is not copied whole. Non-finite values: the Recorder's own."""
    low, high = (float(value) for value in torch.aminmax(tensor))
    reach = max(abs(low), abs(high))
    if not math.isfinite(reach):                        # NaN or inf inside: numpy's path leaves them out
        return histogram(tensor.cpu().float().numpy())
    reach = reach if reach > 0 else 1.0
    counts = torch.histc(tensor.float(), bins=HISTOGRAM_BINS, min=-reach, max=reach)
    return counts.cpu().double().numpy(), np.linspace(-reach, reach, HISTOGRAM_BINS + 1)


def _mean(torch, values: list) -> float:
    """The mean of logged floats or 0-d tensors, in float64; tensors on one device are stacked there and brought
    over once for the whole epoch."""
    if all(hasattr(value, "device") for value in values) and len({value.device for value in values}) == 1:
        return float(torch.stack([value.reshape(()) for value in values]).double().mean())
    return float(np.mean([_number(value) for value in values]))


def _number(value) -> float:
    return float(value.item() if hasattr(value, "item") else value)
