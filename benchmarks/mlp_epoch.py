"""Seconds per training epoch of an MLP 784-256-128-10 on MNIST: learnscope vs PyTorch vs plain NumPy.

Same model (ReLU, softmax cross-entropy), same data (60,000 images as one float32 array in [0, 1]),
same batches (batch 128, a seeded permutation per epoch, `X[idx]` per batch), same optimizer
(SGD lr=0.1, momentum=0.9, PyTorch's form), same thread count for NumPy's BLAS and PyTorch.

Each framework runs in its own fresh subprocess, so its peak RSS is its own and one run's caches
and allocator state do not leak into the next. A child loads the data, trains one warm-up epoch,
times `--repeats` epochs, then reports epoch times, test accuracy and peak RSS as one JSON line.
The parent alternates the children (learnscope, torch, numpy, learnscope, ...) for `--rounds`
rounds, so slow drift of the machine hits every framework alike, and prints medians.

    PYTHONPATH=src python benchmarks/mlp_epoch.py                 # 2 rounds x 3 epochs each
    PYTHONPATH=src python benchmarks/mlp_epoch.py --quick         # smoke run: 50 steps, 1 round
    PYTHONPATH=src python benchmarks/mlp_epoch.py --json out.json # also save the raw child reports

Targets: learnscope's epoch time at most 0.8 x PyTorch's (TARGET_RATIO) and at most 1.1 x the plain NumPy
loop's (TARGET_NUMPY_RATIO), each the median over rounds of the ratio within a round (the children of one round
run back to back, so they meet the same machine); and the learnscope child's peak RSS at most 300 MiB
(TARGET_RSS_MIB). PyTorch is optional and never a dependency of the package: without it the torch rows are
left out.
"""

import argparse
import importlib.util
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYER_SIZES = (784, 256, 128, 10)
BATCH_SIZE = 128
LR = 0.1
MOMENTUM = 0.9
SEED = 0
QUICK_STEPS = 50  # steps per "epoch" in --quick mode
TARGET_RATIO = 0.8  # learnscope epoch time / torch epoch time
TARGET_NUMPY_RATIO = 1.1  # learnscope epoch time / plain NumPy epoch time: what the engine's layers and checks cost
TARGET_RSS_MIB = 300  # learnscope child's peak RSS
FRAMEWORKS = ("learnscope", "torch", "numpy")
LABELS = {"learnscope": "learnscope", "torch": "PyTorch", "numpy": "plain NumPy (inline)"}


# -- data ----------------------------------------------------------------------------------------
def default_data_dir() -> Path:
    """$LEARNSCOPE_DATA, else shared/data beside the repository."""
    env = os.environ.get("LEARNSCOPE_DATA")
    return Path(env) if env else REPO_ROOT / ".." / "shared" / "data"


def mnist_folder(data_dir: Path) -> Path:
    """The data root holds mnist/; accept the mnist folder itself too."""
    data_dir = Path(data_dir).resolve()
    return data_dir / "mnist" if (data_dir / "mnist").is_dir() else data_dir


def load_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, 784) float32 in [0, 1] and (N,) int64 labels, without a float64 detour."""
    from learnscope.data.idx import mnist_files, read_idx

    images_path, labels_path = mnist_files(folder, split)
    images = read_idx(images_path)  # (N, 28, 28) uint8: 47 MB for the training set
    n_samples = len(images)
    x = np.empty((n_samples, images[0].size), dtype=np.float32)  # 188 MB, the only float copy
    np.multiply(images.reshape(n_samples, -1), np.float32(1 / 255), out=x, dtype=np.float32)
    del images
    y = read_idx(labels_path).astype(np.int64)
    return x, y


def epoch_order(n_samples: int, epoch: int) -> np.ndarray:
    """The same shuffled order for every framework: a permutation seeded by (SEED, epoch)."""
    return np.random.default_rng([SEED, epoch]).permutation(n_samples)


# -- the three trainers: each gives step(xb, yb) and predict(x) -> labels -------------------------
def make_learnscope(n_threads: int):
    from learnscope.layers import Dense, ReLU
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.model import Sequential
    from learnscope.optim import SGD
    from learnscope.train import train_step

    sizes = LAYER_SIZES
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers += [Dense(n_in, n_out)] + ([ReLU()] if i < len(sizes) - 2 else [])
    model = Sequential(layers, seed=SEED)
    loss = SoftmaxCrossEntropy()
    opt = SGD(lr=LR, momentum=MOMENTUM)

    def step(xb, yb):
        train_step(model, loss, opt, xb, yb)           # the engine's one learning step, as fit() runs it

    def predict(x):
        return model.predict(x).argmax(axis=1)

    return step, predict, {}


def make_torch(n_threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(n_threads)
    torch.manual_seed(SEED)
    sizes = LAYER_SIZES
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    model = nn.Sequential(*layers)
    criterion = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        criterion(model(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
        opt.step()

    def predict(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).argmax(dim=1).numpy()

    return step, predict, {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}


def make_numpy(n_threads: int):
    """The same network written the way one would without an engine: about 30 lines, no checks."""
    rng = np.random.default_rng(SEED)
    weights, biases = [], []
    for n_in, n_out in itertools.pairwise(LAYER_SIZES):
        limit = np.sqrt(6.0 / (n_in + n_out))  # Glorot uniform, as learnscope's Dense default
        weights.append(rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32))
        biases.append(np.zeros(n_out, dtype=np.float32))
    params = weights + biases
    velocities = [np.zeros_like(p) for p in params]
    lr, momentum = np.float32(LR), np.float32(MOMENTUM)

    def forward(x):
        activations = [x]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            z = activations[-1] @ w
            z += b
            if i < len(weights) - 1:
                np.maximum(z, 0, out=z)
            activations.append(z)
        return activations

    def step(xb, yb):
        activations = forward(xb)
        logits = activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        _ = -(shifted[np.arange(len(yb)), yb] - np.log(sum_exp[:, 0])).mean()  # the loss, as the others compute
        grad = exp / sum_exp
        grad[np.arange(len(yb)), yb] -= 1
        grad *= np.float32(1 / len(yb))
        grads = [None] * len(params)
        for i in range(len(weights) - 1, -1, -1):
            grads[i] = activations[i].T @ grad
            grads[len(weights) + i] = grad.sum(axis=0)
            if i > 0:
                grad = grad @ weights[i].T
                grad *= activations[i] > 0  # ReLU': its output is positive exactly where its input was
        for p, g, v in zip(params, grads, velocities, strict=True):
            v *= momentum
            v += g
            p -= lr * v

    def predict(x):
        return forward(x)[-1].argmax(axis=1)

    return step, predict, {}


TRAINERS = {"learnscope": make_learnscope, "torch": make_torch, "numpy": make_numpy}


# -- one child: one framework, fresh process ------------------------------------------------------
def rss_now_mib() -> float | None:
    """Current resident set size from /proc (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak RSS of this process. NOTE: ru_maxrss is KiB on Linux but bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_epoch(step, x, y, epoch: int, max_steps: int | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) for one pass over the shuffled data."""
    order = epoch_order(len(x), epoch)
    starts = range(0, len(x), BATCH_SIZE)
    if max_steps is not None:
        starts = starts[:max_steps]
    wall, cpu = time.perf_counter(), time.process_time()
    for start in starts:
        idx = order[start : start + BATCH_SIZE]
        step(x[idx], y[idx])
    return time.perf_counter() - wall, time.process_time() - cpu


def run_child(framework: str, folder: Path, repeats: int, n_threads: int, max_steps: int | None) -> dict:
    step, predict, info = TRAINERS[framework](n_threads)
    rss_after_imports = rss_now_mib()
    began = time.perf_counter()
    x_train, y_train = load_split(folder, "train")
    load_seconds = time.perf_counter() - began
    peak_after_load = peak_rss_mib()

    load_before = os.getloadavg()[0]
    warmup_seconds, _ = run_epoch(step, x_train, y_train, epoch=0, max_steps=max_steps)
    timed = [run_epoch(step, x_train, y_train, epoch, max_steps) for epoch in range(1, repeats + 1)]
    load_after = os.getloadavg()[0]

    x_test, y_test = load_split(folder, "test")
    accuracy = float(np.mean(predict(x_test) == y_test))
    return {
        "framework": framework,
        "epoch_seconds": [wall for wall, _ in timed],
        "epoch_cpu_seconds": [cpu for _, cpu in timed],
        # NOTE: the machine's 1-minute load, this child included; far above --threads means others competed
        "load_average": [load_before, load_after],
        "warmup_seconds": warmup_seconds,
        "steps_per_epoch": len(range(0, len(x_train), BATCH_SIZE)) if max_steps is None else max_steps,
        "load_seconds": load_seconds,
        "test_accuracy": accuracy,
        "peak_rss_mib": peak_rss_mib(),
        "peak_rss_after_load_mib": peak_after_load,
        "rss_after_imports_mib": rss_after_imports,
        "threads": n_threads,
        "numpy_version": np.__version__,
        **info,
    }


# -- the parent: alternate children, summarise ----------------------------------------------------
def spawn(framework: str, args, folder: Path) -> dict:
    env = dict(os.environ)
    # NOTE: BLAS reads its thread count when NumPy is imported, so it must be set before the child starts
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT / "src"), env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", framework, "--data-dir", str(folder),
               "--repeats", str(args.repeats), "--threads", str(args.threads)]
    if args.quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n    ".join(result.stderr.strip().splitlines()[-8:])
        print(f"  {framework} child failed (exit {result.returncode}):\n    {tail}", file=sys.stderr)
        return {"framework": framework, "error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def summarise(reports: list[dict]) -> dict:
    summary = {}
    for framework in FRAMEWORKS:
        runs = [r for r in reports if r["framework"] == framework and "error" not in r]
        if not runs:
            continue
        times = [t for r in runs for t in r["epoch_seconds"]]
        summary[framework] = {
            "median_epoch_seconds": statistics.median(times),
            "min_epoch_seconds": min(times),
            "max_epoch_seconds": max(times),
            "median_epoch_cpu_seconds": statistics.median(t for r in runs for t in r["epoch_cpu_seconds"]),
            "max_load_average": max(max(r["load_average"]) for r in runs),
            "n_epochs_timed": len(times),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            "peak_rss_after_load_mib": max(r["peak_rss_after_load_mib"] for r in runs),
            "test_accuracy": [r["test_accuracy"] for r in runs],
        }
    return summary


def print_table(summary: dict, paired: list[dict], args) -> None:
    """The table of medians, then each target's verdict from the paired ratios (one dict per round)."""
    torch_row = summary.get("torch")
    print(f"{'framework':<22} {'median s/epoch':>14} {'min':>7} {'max':>7} {'CPU s':>7} {'vs torch':>9} "
          f"{'min vs torch':>12} {'peak RSS MiB':>13} test accuracy")
    for framework, row in summary.items():
        ratio = f"{row['median_epoch_seconds'] / torch_row['median_epoch_seconds']:.2f}" if torch_row else "n/a"
        min_ratio = f"{row['min_epoch_seconds'] / torch_row['min_epoch_seconds']:.2f}" if torch_row else "n/a"
        accuracy = ", ".join(f"{a:.4f}" for a in row["test_accuracy"])
        print(f"{LABELS[framework]:<22} {row['median_epoch_seconds']:>14.3f} {row['min_epoch_seconds']:>7.3f} "
              f"{row['max_epoch_seconds']:>7.3f} {row['median_epoch_cpu_seconds']:>7.2f} {ratio:>9} {min_ratio:>12} "
              f"{row['peak_rss_mib']:>13.1f} {accuracy}")
    engine = summary.get("learnscope")
    if engine is None:
        return
    print()
    for other, target in (("torch", TARGET_RATIO), ("numpy", TARGET_NUMPY_RATIO)):
        ratios = [pair[other] for pair in paired if other in pair]
        if ratios:
            ratio = statistics.median(ratios)
            verdict = "met" if ratio <= target else "NOT met"
            print(f"learnscope / {LABELS[other]} epoch time: median {ratio:.3f} over {len(ratios)} paired round(s) "
                  f"({', '.join(f'{r:.2f}' for r in ratios)}; target <= {target}): {verdict}")
    verdict = "met" if engine["peak_rss_mib"] <= TARGET_RSS_MIB else "NOT met"
    print(f"learnscope peak RSS: {engine['peak_rss_mib']:.1f} MiB, {engine['peak_rss_after_load_mib']:.1f} "
          f"after loading the data (target <= {TARGET_RSS_MIB} MiB): {verdict}")
    busiest = max(row["max_load_average"] for row in summary.values())
    if busiest > args.threads + 1:
        print(f"WARNING: the 1-minute load average reached {busiest:.1f} on {os.cpu_count()} CPU(s): other processes "
              "competed for the CPU, so these times are inflated and noisy. Trust 'min' more than 'median', or rerun "
              "on a quiet machine.")
    if args.quick:
        print("(--quick: a fraction of an epoch, accuracies are not meaningful)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding mnist/ (default: $LEARNSCOPE_DATA, else ../shared/data)")
    parser.add_argument("--rounds", type=int, default=None, help="children per framework, alternated (default 2)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per child (default 3)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for NumPy's BLAS and PyTorch (default: os.cpu_count())")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_STEPS} steps per epoch, 1 round")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="comma-separated subset to run")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw child reports here")
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.repeats = args.repeats or (1 if args.quick else 3)
    folder = mnist_folder(args.data_dir or default_data_dir())
    max_steps = QUICK_STEPS if args.quick else None

    if args.child:
        print(json.dumps(run_child(args.child, folder, args.repeats, args.threads, max_steps)))
        return 0

    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        parser.error(f"--frameworks expected names from {', '.join(FRAMEWORKS)}, got {', '.join(unknown)}")
    if "torch" in frameworks and importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: running without it.", file=sys.stderr)
        frameworks.remove("torch")
    print(f"MLP {'-'.join(map(str, LAYER_SIZES))}, batch {BATCH_SIZE}, SGD lr={LR} momentum={MOMENTUM}, float32; "
          f"data {folder}")
    print(f"{args.rounds} round(s) x {args.repeats} timed epoch(s) per child after 1 warm-up epoch; "
          f"{args.threads} thread(s) (os.cpu_count() = {os.cpu_count()}); NumPy {np.__version__}, "
          f"Python {sys.version.split()[0]}")
    reports, paired = [], []
    for round_index in range(args.rounds):
        this_round = {}
        for framework in frameworks if round_index % 2 == 0 else frameworks[::-1]:   # neither always goes first
            report = spawn(framework, args, folder)
            reports.append(report)
            if "error" not in report:
                this_round[framework] = statistics.median(report["epoch_seconds"])
            if "error" not in report:
                times = ", ".join(f"{t:.3f}" for t in report["epoch_seconds"])
                print(f"  round {round_index + 1} {framework:<10} epochs [{times}] s, "
                      f"peak RSS {report['peak_rss_mib']:.1f} MiB, test accuracy {report['test_accuracy']:.4f}, "
                      f"load {report['load_average'][0]:.1f}->{report['load_average'][1]:.1f}")
        if "learnscope" in this_round:
            paired.append({other: this_round["learnscope"] / seconds for other, seconds in this_round.items()
                           if other != "learnscope"})
    print()
    summary = summarise(reports)
    print_table(summary, paired, args)
    if args.json:
        args.json.write_text(json.dumps({"reports": reports, "summary": summary}, indent=2))
    return 0 if summary else 1


if __name__ == "__main__":
    sys.exit(main())
