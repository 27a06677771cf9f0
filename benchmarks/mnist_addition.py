"""MNIST addition, the neuro-symbolic benchmark: sum and digit accuracy on the test sums, and the training seconds,
per seed and as the median, for one-digit (N = 1) and two-digit (N = 2) numbers, beside the published systems.

Protocol as in the literature: training sums from MNIST's training images, each used once (30,000 sums for N = 1,
15,000 for N = 2), test sums from its test images; no digit label is used. The seconds are fit()'s wall time on
this machine; the published seconds come from the papers' own machines (quoted, not measured here).

    PYTHONPATH=src python benchmarks/mnist_addition.py --seeds 3 [--baseline] [--compare-starts 6]
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Published sum accuracies on the same protocol (N = 1; N = 2), and seconds where the paper gives them
PUBLISHED = {1: [("DeepProbLog", "97.2%", "1,965 s"), ("NeurASP", "97.3%", ""), ("NeuPSL", "97.3%", ""),
                 ("Embed2Sym", "97.6%", ""), ("A-NeSI", "97.7%", ""), ("DeepStochLog", "97.9%", ""),
                 ("ABL", "98.0%", "42 s")],
             2: [("published range", "93.9–96.4%", "")]}
TARGETS = {1: (0.975, 0.98), 2: (0.95, None)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data")))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--digits", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline", action="store_true", help="also train the CNN without the rule (seed 0)")
    parser.add_argument("--compare-starts", type=int, default=0, metavar="K",
                        help="N = 1, one epoch, seeds 0..K-1: every digit starting at 1 in 10 vs random last-layer "
                             "weights, and how many seeds lock into a wrong reading of the digits")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.mnist_addition import (
        ADDITION_RECIPES,
        addition_data,
        train_mnist_addition,
        train_neural_baseline,
    )

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, {os.cpu_count()} cores")
    mnist = load_mnist(args.data_dir, download=False, progress=False)
    failed = False
    for n_digits in args.digits if args.seeds else ():         # --seeds 0: only --compare-starts
        recipe = ADDITION_RECIPES[n_digits]
        print(f"\nN = {n_digits}: {recipe.model.upper()}, {recipe.optimizer}, lr {recipe.lr}, "
              f"batch {recipe.batch_size}, {recipe.epochs} epochs")
        sums, digits, seconds = [], [], []
        for seed in range(args.seeds):
            data = addition_data(mnist, n_digits, seed=seed)
            result = train_mnist_addition(data, recipe.with_options(seed=seed))
            sums.append(result.sum_accuracy)
            digits.append(result.digit_accuracy)
            seconds.append(result.seconds)
            print(f"  seed {seed}: {len(data.x_train):,} sums, test sums {result.sum_accuracy:.2%}, "
                  f"test digits {result.digit_accuracy:.2%}, {result.seconds:.1f} s of training", flush=True)
        median_sum, median_digit = statistics.median(sums), statistics.median(digits)
        print(f"  median of {args.seeds}: sums {median_sum:.2%}, digits {median_digit:.2%}, "
              f"{statistics.median(seconds):.1f} s")
        sum_target, digit_target = TARGETS[n_digits]
        met = median_sum >= sum_target and (digit_target is None or median_digit >= digit_target)
        failed |= not met
        print(f"  target: sums >= {sum_target:.1%}" + (f", digits >= {digit_target:.0%}" if digit_target else "")
              + (" -- met" if met else " -- NOT met"))
        if args.baseline:
            data = addition_data(mnist, n_digits, seed=0)
            baseline = train_neural_baseline(data, recipe)
            print(f"  no rule (CNN, one class per sum), seed 0: test sums {baseline.sum_accuracy:.2%}, "
                  f"{baseline.seconds:.1f} s; ratio with the rule / without: {sums[0] / baseline.sum_accuracy:.2f}")
        print("  published (their machines):")
        for name, accuracy, time in PUBLISHED[n_digits]:
            print(f"    {name:16s} {accuracy:>11s}  {time}")
    if args.compare_starts:
        print(f"\nN = 1, one epoch, seeds 0-{args.compare_starts - 1}: test digits from an even start vs a random one")
        stuck = {True: 0, False: 0}
        for seed in range(args.compare_starts):
            data = addition_data(mnist, 1, seed=seed)
            recipe = ADDITION_RECIPES[1].with_options(seed=seed, epochs=1)
            digits = {}
            for even in (True, False):
                digits[even] = train_mnist_addition(data, recipe, even_start=even).digit_accuracy
                stuck[even] += digits[even] < 0.5
            print(f"  seed {seed}: even start {digits[True]:.2%}, random start {digits[False]:.2%}", flush=True)
        print(f"  stuck below 50% of digits: even start {stuck[True]} of {args.compare_starts}, random start "
              f"{stuck[False]} of {args.compare_starts}")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
