"""Transfer learning's table: from scratch vs frozen pretrained features (head only, cached features) vs fine-tuning,
at 10 / 100 / 1,000 / all labelled examples per class, several seeds, for the near task (MNIST digits 0-4 -> 5-9)
and the far one (MNIST -> Fashion-MNIST). Every run takes the same number of steps; seconds are training time (the
frozen start's include caching its features), side by side in one run, with the ratio to from-scratch.

    PYTHONPATH=src python benchmarks/transfer.py --seeds 3 [--tasks near far] [--steps 300]
"""

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data")))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=["near", "far"])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.data.mnist import load_fashion_mnist, load_mnist
    from learnscope.lessons.transfer import (
        BUDGETS,
        METHOD_LABELS,
        budget_words,
        early_accuracy,
        pretrain,
        steps_to_catch_up,
        summarize,
        train_on_target,
        transfer_task,
    )

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, {os.cpu_count()} cores")
    mnist = load_mnist(args.data_dir, download=False, progress=False)
    fashion = load_fashion_mnist(args.data_dir, download=False, progress=False)
    for name in args.tasks:
        task = transfer_task(name, mnist, fashion)
        start = time.perf_counter()
        source = pretrain(task)
        print(f"\n{task.description}: source network pretrained in {time.perf_counter() - start:.1f} s; "
              f"{args.steps} steps per run, seeds 0-{args.seeds - 1}")
        print(f"  {'labels':>16s}  {'start':15s}  {'at step ' + str(args.steps // 10):>12s}  "
              f"{'at the end (mean ± spread)':>26s}  {'seconds':>7s}  {'× scratch':>9s}  "
              "caught up with scratch at step")
        for per_class in BUDGETS:
            runs = [train_on_target(task, method, per_class, source, seed, args.steps)
                    for method in METHOD_LABELS for seed in range(args.seeds)]
            rows = {row.method: row for row in summarize(runs)}
            scratch = rows["scratch"]
            for method, row in rows.items():
                caught_up = steps_to_catch_up(runs, method)
                _, early = early_accuracy(runs, method)
                print(f"  {budget_words(per_class):>16s}  {METHOD_LABELS[method]:15s}  {early:>12.2%}  "
                      f"{row.mean:>17.2%} ± {row.spread:5.2%}  {row.mean_seconds:7.2f}  "
                      f"{row.mean_seconds / scratch.mean_seconds:9.2f}  "
                      f"{'—' if method == 'scratch' else 'not reached' if caught_up is None else caught_up}",
                      flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
