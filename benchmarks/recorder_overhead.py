"""What recording costs: seconds per MNIST epoch without a Recorder, with the default one (every=50), and
recording every step (every=1), plus how much the run store grows per epoch.

MLP 784-256-128-10 (ReLU), batch 128, SGD lr=0.1 momentum=0.9, one epoch per run. The three settings run in
one process, alternated (none, default, every step, none, ...) for `--rounds` rounds, each run on a fresh model
from the same seed, so slow drift of the machine hits every setting alike; the medians are compared.

    PYTHONPATH=src python benchmarks/recorder_overhead.py              # 3 rounds
    PYTHONPATH=src python benchmarks/recorder_overhead.py --rounds 5 --threads 1

Targets: the default recorder adds at most 3 % to the epoch time, recording every step at most 15 %.
The overhead is judged on the median over rounds of each round's paired ratio (setting / none of the same
round); on a busy machine single epochs can take several times their usual time, so the table also shows the
minimum, which such interference can only inflate, never shrink.
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paired import print_overhead_table  # benchmarks/ is the script's folder: on sys.path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_SIZES = (784, 256, 128, 10)
BATCH_SIZE = 128
SEED = 0
SETTINGS = {"none": None, "default (every=50)": 50, "every step (every=1)": 1}
TARGETS = {"default (every=50)": 3.0, "every step (every=1)": 15.0}   # overhead in % of the bare epoch


def default_data_dir() -> Path:
    """$LEARNSCOPE_DATA, else shared/data beside the repository."""
    env = os.environ.get("LEARNSCOPE_DATA")
    return Path(env) if env else REPO_ROOT / ".." / "shared" / "data"


def make_model():
    from learnscope.layers import Dense, ReLU
    from learnscope.model import Sequential

    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(LAYER_SIZES)):
        layers += [Dense(n_in, n_out)] + ([ReLU()] if i < len(LAYER_SIZES) - 2 else [])
    return Sequential(layers, seed=SEED)


def one_epoch(x, y, every, store) -> float:
    """Seconds of one training epoch (fit's own clock) with or without a recorder."""
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.optim import SGD
    from learnscope.train import fit
    from learnscope.train.recorder import Recorder

    callbacks = [] if every is None else [Recorder(store, every=every)]
    history = fit(make_model(), SoftmaxCrossEntropy(), SGD(lr=0.1, momentum=0.9), x, y, epochs=1,
                  batch_size=BATCH_SIZE, seed=SEED, callbacks=callbacks)
    return history["seconds"][0]


def store_bytes(path: Path) -> int:
    """The database and its write-ahead log."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding mnist/ (default: $LEARNSCOPE_DATA, else ../shared/data)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per setting, alternated (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (via threadpoolctl, from scikit-learn); default: NumPy's own choice")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)

    from learnscope.data import load_mnist
    from learnscope.store import RunStore

    data = load_mnist(data_dir=args.data_dir or default_data_dir(), download=False, progress=False)
    x = data.x_train.reshape(len(data.x_train), -1)    # (60000, 784) view, no copy
    y = data.y_train
    print(f"MLP {'-'.join(map(str, LAYER_SIZES))}, batch {BATCH_SIZE}, 1 epoch per run, {args.rounds} round(s); "
          f"NumPy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), "
          f"BLAS threads {args.threads or 'default'}")
    times = {name: [] for name in SETTINGS}
    sizes = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        one_epoch(x[:10 * BATCH_SIZE], y[:10 * BATCH_SIZE], None, None)   # warm-up: BLAS threads, caches
        for round_index in range(args.rounds):
            for name, every in SETTINGS.items():
                path = Path(folder) / f"{round_index}-{every}.sqlite"
                store = RunStore(path) if every is not None else None
                began = time.perf_counter()
                seconds = one_epoch(x, y, every, store)
                if store is not None:
                    store.close()
                    sizes[name].append(store_bytes(path))
                times[name].append(seconds)
                print(f"  round {round_index + 1} {name:<22} {seconds:.3f} s "
                      f"(wall incl. closing the store {time.perf_counter() - began:.3f} s)")
    print()
    sizes_text = {name: f"{statistics.median(sizes[name]) / 1024:.0f} KiB" for name in SETTINGS if sizes[name]}
    met = print_overhead_table(times, TARGETS, 22, "store / epoch", sizes_text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
