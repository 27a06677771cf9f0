"""How fast does the default MNIST recipe reach 98% test accuracy? learnscope vs PyTorch, same recipe.

For each seed, a fresh child process per framework loads MNIST with learnscope's loader, builds the
default recipe's network (learnscope.recipes.default_recipe("mnist")) and trains it for the recipe's
epochs, evaluating the 10,000 test images every quarter epoch. The clock counts training only
(evaluations are paused out). Reported: training seconds until the first evaluation at ≥ 98%,
the final test accuracy, and peak RSS. PyTorch gets the same architecture, optimizer, learning-rate
schedule (the same factor per step), batch size, batch order and data.

Then the whole command `learnscope train mnist` is run as a user would, timed from process start
to exit, with its peak RSS read from the kernel (os.wait4).

    PYTHONPATH=src python benchmarks/mnist_to_98.py               # 5 seeds
    PYTHONPATH=src python benchmarks/mnist_to_98.py --seeds 1     # a quick look

Targets: median training time to 98% ≤ 3 s; whole CLI process ≤ 6 s; peak RSS ≤ 400 MiB.
"""

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.98
TARGET_SECONDS, TARGET_CLI_SECONDS, TARGET_RSS_MIB = 3.0, 6.0, 400


def default_data_dir() -> Path:
    env = os.environ.get("LEARNSCOPE_DATA")
    return Path(env) if env else REPO_ROOT / ".." / "shared" / "data"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- children: one framework, one seed -----------------------------------------------------------
def run_learnscope(data, recipe, seed: int) -> dict:
    from learnscope.train import train_recipe

    history = train_recipe(data, recipe, test_evals_per_epoch=4).history      # recipe.seed is the seed
    checks = [(e["seconds"], e["val_accuracy"]) for e in history.evaluations]
    return {"checks": checks, "final_accuracy": history["val_accuracy"][-1]}


def run_torch(data, recipe, seed: int) -> dict:
    import torch
    from torch import nn

    from learnscope.architectures import input_statistics
    from learnscope.data.batches import minibatch_indices
    from learnscope.recipes import optimizer_from_recipe

    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count())))
    torch.manual_seed(seed)
    if recipe.model != "mlp" or recipe.dropout:
        raise SystemExit("the PyTorch twin covers the MLP recipes (with or without batch norm) only")

    class Standardize(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean, self.std = mean, std

        def forward(self, x):
            return (x - self.mean) / self.std

    sizes = (int(np.prod(data.input_shape)), *recipe.hidden, data.n_outputs)
    layers: list = [Standardize(*input_statistics(data.x_train))] if recipe.standardize else []
    layers.append(nn.Flatten())
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        nn.init.kaiming_normal_(layers[-1].weight, nonlinearity="relu")     # learnscope's he_normal
        nn.init.zeros_(layers[-1].bias)
        if index < len(sizes) - 2:
            layers += [nn.BatchNorm1d(n_out)] if recipe.batch_norm else []
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    steps_per_epoch = -(-len(data.x_train) // recipe.batch_size)
    schedule = optimizer_from_recipe(recipe, steps_per_epoch).schedule    # the same factor for every step
    options = {"momentum": 0.9, "nesterov": recipe.optimizer == "nesterov"} if recipe.optimizer != "adam" else {}
    optimizer_type = torch.optim.Adam if recipe.optimizer == "adam" else torch.optim.SGD
    optimizer = optimizer_type(model.parameters(), lr=recipe.lr, **options)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    criterion = nn.CrossEntropyLoss()
    x_test, y_test = torch.from_numpy(data.x_test), data.y_test
    rng, checks, clock, step = np.random.default_rng(seed), [], 0.0, 0
    for _ in range(recipe.epochs):
        started = time.perf_counter()
        for rows in minibatch_indices(len(data.x_train), recipe.batch_size, rng):
            optimizer.zero_grad(set_to_none=True)
            criterion(model(torch.from_numpy(data.x_train[rows])), torch.from_numpy(data.y_train[rows])).backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step % (steps_per_epoch // 4) == 0:
                clock += time.perf_counter() - started
                model.eval()
                with torch.no_grad():
                    accuracy = float((model(x_test).argmax(1).numpy() == y_test).mean())
                model.train()
                checks.append((clock, accuracy))
                started = time.perf_counter()
        clock += time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        final = float((model(x_test).argmax(1).numpy() == y_test).mean())
    return {"checks": checks, "final_accuracy": final}


def child(framework: str, data_dir: Path, seed: int) -> None:
    from learnscope.data.catalog import load_training_data
    from learnscope.recipes import default_recipe

    data = load_training_data("mnist", data_dir=data_dir, download=False, progress=False)
    recipe = default_recipe("mnist").with_options(seed=seed)
    result = (run_learnscope if framework == "learnscope" else run_torch)(data, recipe, seed)
    reached = next((seconds for seconds, accuracy in result["checks"] if accuracy >= TARGET_ACCURACY), None)
    print(json.dumps({**result, "framework": framework, "seed": seed, "seconds_to_98": reached,
                      "peak_rss_mib": peak_rss_mib(), "recipe": recipe.to_dict()}))


# -- the parent ------------------------------------------------------------------------------------
def spawn(arguments: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a child; return it, its wall seconds and its own peak RSS in MiB (from wait4, not the parent's)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT / "src"),
                                                                     os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([sys.executable, *arguments], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(arguments, os.waitstatus_to_exitcode(status),
                                             out.read().decode(), err.read().decode())
    return result, wall, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--child", choices=("learnscope", "torch"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data_dir, args.seed)
        return 0
    import importlib.util

    frameworks = ["learnscope"] + (["torch"] if importlib.util.find_spec("torch") else [])
    rows = {framework: [] for framework in frameworks}
    for seed in range(args.seeds):
        for framework in frameworks:                # alternate, so drift of the machine hits both alike
            result, _, _ = spawn([__file__, "--child", framework, "--seed", str(seed), "--data-dir",
                                  str(args.data_dir)])
            if result.returncode:
                print(f"{framework} seed {seed} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
                return 1
            report = json.loads(result.stdout.strip().splitlines()[-1])
            rows[framework].append(report)
            print(f"  {framework:10s} seed {seed}: 98% after {report['seconds_to_98'] or float('nan'):.2f} s, "
                  f"final {report['final_accuracy']:.2%}, peak RSS {report['peak_rss_mib']:.0f} MiB")
    recipe = rows["learnscope"][0]["recipe"]
    print(f"\nrecipe: {recipe}")
    print(f"{'framework':12s} {'median s to 98%':>16s} {'seeds at 98%':>13s} {'final accuracy (min..max)':>26s}"
          f" {'peak RSS MiB':>13s}")
    medians = {}
    for framework, reports in rows.items():
        times = [r["seconds_to_98"] for r in reports]
        reached = [t for t in times if t is not None]
        medians[framework] = statistics.median(reached) if len(reached) == len(times) else float("inf")
        finals = [r["final_accuracy"] for r in reports]
        print(f"{framework:12s} {medians[framework]:16.2f} {len(reached):>9d}/{len(times)} "
              f"{min(finals):12.2%}..{max(finals):.2%} {max(r['peak_rss_mib'] for r in reports):13.0f}")
    if "torch" in medians:
        print(f"learnscope / PyTorch time to 98%: {medians['learnscope'] / medians['torch']:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        command = ["-m", "learnscope", "train", "mnist", "--data-dir", str(args.data_dir), "--no-download",
                   "-o", str(Path(folder) / "mnist.safetensors")]
        result, wall, rss = spawn(command)
    if result.returncode:
        print(f"the CLI failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return 1
    print(f"whole CLI process `learnscope train mnist`: {wall:.2f} s wall, peak RSS {rss:.0f} MiB")
    verdict = "met" if medians["learnscope"] <= TARGET_SECONDS else "NOT met"
    print(f"targets: training to 98% ≤ {TARGET_SECONDS} s: {verdict}; "
          f"CLI ≤ {TARGET_CLI_SECONDS} s: {'met' if wall <= TARGET_CLI_SECONDS else 'NOT met'}; "
          f"peak RSS ≤ {TARGET_RSS_MIB} MiB: {'met' if rss <= TARGET_RSS_MIB else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
