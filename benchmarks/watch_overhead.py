"""What learnscope.watch costs a PyTorch training loop: seconds per MNIST epoch of a PyTorch MLP without watching,
watched at the default interval (every=50), and watched at every step (every=1).

MLP 784-256-128-10 (ReLU) in torch, batch 128, SGD lr=0.1 momentum=0.9, one epoch per run, on the CPU. The loop is
the one of watch's docstring (watcher.log(loss=, accuracy=) after every optimizer.step()); the bare loop is the same
code without the watcher (it computes the batch accuracy too: that is the user's number, the watcher only keeps it).
The settings run in one process, alternated for `--rounds` rounds, each on a fresh model
from the same seed, so slow drift of the machine hits every setting alike; the paired ratios' medians are compared.

    PYTHONPATH=src python benchmarks/watch_overhead.py                          # 15 rounds, 1 thread
    PYTHONPATH=src python benchmarks/watch_overhead.py --rounds 25 --threads 2

Target: watching at the default interval adds at most 3 % to the epoch time (issue 20), judged on the median of
the paired ratios. Per step the watcher costs a few microseconds (two optimizer hooks, a forward pre-hook, log());
a recorded step about half a millisecond; each run about 10 ms to open the store, write the epoch's histograms
and close it. Single epochs on a shared machine vary by more than that, hence the many rounds.
Needs PyTorch (pip install torch==2.13.0, the CPU wheel).
"""

import argparse
import contextlib
import functools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from paired import print_overhead_table  # benchmarks/ is the script's folder: on sys.path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_SIZES = (784, 256, 128, 10)
BATCH_SIZE = 128
SEED = 0
SETTINGS = {"none": None, "watch (every=50)": 50, "watch (every=1)": 1}
TARGETS = {"watch (every=50)": 3.0}   # overhead in % of the bare epoch


def default_data_dir() -> Path:
    """$LEARNSCOPE_DATA, else shared/data beside the repository."""
    env = os.environ.get("LEARNSCOPE_DATA")
    return Path(env) if env else REPO_ROOT / ".." / "shared" / "data"


def one_epoch(torch, x, y, every, store_path) -> float:
    """Seconds of one epoch of the user's loop, watched every `every` steps (None: not watched)."""
    import learnscope

    torch.manual_seed(SEED)
    nn = torch.nn
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SEED))
    began = time.perf_counter()
    watcher = None if every is None else learnscope.watch(net, optimizer, store=store_path, every=every)
    for start in range(0, len(x), BATCH_SIZE):
        batch = order[start:start + BATCH_SIZE]
        inputs, labels = x[batch], y[batch]
        optimizer.zero_grad()
        output = net(inputs)
        loss = nn.functional.cross_entropy(output, labels)
        loss.backward()
        optimizer.step()
        accuracy = (output.argmax(1) == labels).float().mean()
        if watcher is not None:
            watcher.log(loss=loss, accuracy=accuracy)
    if watcher is not None:
        watcher.end_epoch()
        watcher.close()
    return time.perf_counter() - began


#: The Watcher's methods a training loop runs (directly or through its hooks)
WATCHER_METHODS = ("__init__", "log", "end_epoch", "close", "_before_step", "_after_step", "_count_examples", "_watch")


@contextlib.contextmanager
def timing_the_watcher(spent: dict):
    """Add the seconds spent inside each Watcher method to spent[name] (a second, noise-free view of the cost:
    it leaves out only torch's own dispatch of the hooks)."""
    from learnscope.bridge.watch import Watcher

    originals = {name: getattr(Watcher, name) for name in WATCHER_METHODS}

    def timed(name, method):
        @functools.wraps(method)
        def run(*args, **kwargs):
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began
        return run

    for name, method in originals.items():
        setattr(Watcher, name, timed(name, method))
    try:
        yield spent
    finally:
        for name, method in originals.items():
            setattr(Watcher, name, method)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding mnist/ (default: $LEARNSCOPE_DATA, else ../shared/data)")
    parser.add_argument("--rounds", type=int, default=15, help="runs per setting, alternated (default 15)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: less noise)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 (the CPU wheel)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)

    from learnscope.data import load_mnist

    data = load_mnist(data_dir=args.data_dir or default_data_dir(), download=False, progress=False)
    x = torch.from_numpy(data.x_train.reshape(len(data.x_train), -1))
    y = torch.from_numpy(data.y_train)
    print(f"PyTorch MLP {'-'.join(map(str, LAYER_SIZES))}, batch {BATCH_SIZE}, 1 epoch per run, {args.rounds} "
          f"round(s); torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPU(s), load average "
          f"{os.getloadavg()[0]:.2f}")
    times = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        one_epoch(torch, x[:20 * BATCH_SIZE], y[:20 * BATCH_SIZE], 1, Path(folder) / "warm.sqlite")   # warm-up
        for round_index in range(args.rounds):
            for name, every in SETTINGS.items():
                seconds = one_epoch(torch, x, y, every, Path(folder) / f"{round_index}-{every}.sqlite")
                times[name].append(seconds)
                print(f"  round {round_index + 1} {name:<18} {seconds:.3f} s")
    print()
    met = print_overhead_table(times, TARGETS, 18)
    with tempfile.TemporaryDirectory() as folder, timing_the_watcher({}) as spent:
        one_epoch(torch, x, y, 50, Path(folder) / "timed.sqlite")
    inside = sum(spent.values())
    print(f"\ninside the watcher's own code, one timed epoch at every=50: {inside * 1000:.1f} ms = "
          f"{100 * inside / statistics.median(times['none']):.1f}% of the bare epoch's median "
          f"({100 * inside / min(times['none']):.1f}% of the fastest); per part (ms): "
          + ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in spent.items()))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
