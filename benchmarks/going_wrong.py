"""Chapters 9 and 10 reproduced: Nielsen's published numbers beside learnscope's, on the same MNIST images.

    PYTHONPATH=src python benchmarks/going_wrong.py [--seeds 3] [--data-dir ../shared/data] [--skip-sizes]

The book's numbers come from his repository mnielsen/neural-networks-and-deep-learning, fig/*.json (measured with
his network2.py). Three differences are by design: learnscope's output layer is a softmax with cross-entropy, his
ten sigmoids each with their own cross-entropy; his "test" curves use MNIST's 10,000 test images, as here.
  1. Overfitting (fig/overfitting.json, fig/regularized.json): 784-30-10 sigmoid, N(0, 1) init, SGD lr 0.5, batch
     10, the first 1,000 training images, 400 epochs; then the same with L2 λ = 0.1 (weight decay λ/n = 1e-4).
  2. Vanishing gradients (book, chapter 5): ‖∂C/∂b‖ per hidden layer at initialisation over 1,000 images, for
     784-30-30-30-10 and 784-30-30-30-30-10 sigmoid nets (weights N(0, 1/n_in), biases N(0, 1)); and the remedies.
  3. Accuracy by training-set size (fig/more_data.json): 784-30-10, scaled init, L2 1e-4, 1.5 million examples.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
BOOK_OVERFITTING = {"peak test accuracy": 0.8227, "epoch of the lowest test loss": 14, "L2 peak test accuracy": 0.871}
BOOK_GRADIENTS = {3: [0.012, 0.060, 0.283], 4: [0.003, 0.017, 0.070, 0.285]}
BOOK_SIZES = {100: 0.6909, 1000: 0.8885, 10_000: 0.9489, 50_000: 0.9597}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data")))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 … n-1 for the overfitting runs")
    parser.add_argument("--skip-sizes", action="store_true", help="leave out the accuracy-by-size runs (~2 min)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.data.mnist import load_mnist
    from learnscope.lessons.gradient_flow import deep_network, layer_gradient_norms
    from learnscope.lessons.overfitting import NIELSEN_WEIGHT_DECAY, OverfittingSetup, data_size_sweep, overfitting_run

    data = load_mnist(args.data_dir, download=False, progress=False)
    print(f"load average at the start {os.getloadavg()[0]:.2f}")
    seeds = list(range(args.seeds))

    print("\n1. Overfitting on 1,000 images, 400 epochs (per seed)")
    rows = []
    for seed in seeds:
        plain = overfitting_run(data, OverfittingSetup(seed=seed))
        l2 = overfitting_run(data, OverfittingSetup(seed=seed, weight_decay=NIELSEN_WEIGHT_DECAY))
        rows.append((plain.final["train_accuracy"], plain.peak_accuracy, plain.best_epoch, l2.peak_accuracy,
                     plain.seconds, l2.seconds))
        print(f"  seed {seed}: train {rows[-1][0]:.1%} · peak test {plain.peak_accuracy:.2%} (epoch {plain.peak_epoch})"
              f" · lowest test loss at epoch {plain.best_epoch} · with L2 peak {l2.peak_accuracy:.2%} · "
              f"{plain.seconds:.1f} s + {l2.seconds:.1f} s")
    median = np.median(np.array(rows), axis=0)
    print(f"  {'':34s}{'learnscope (median)':>22s}{'book':>10s}")
    print(f"  {'peak test accuracy':34s}{median[1]:>22.2%}{BOOK_OVERFITTING['peak test accuracy']:>10.2%}")
    book_epoch = BOOK_OVERFITTING["epoch of the lowest test loss"]
    print(f"  {'epoch of the lowest test loss':34s}{median[2]:>22.0f}{book_epoch:>10d}")
    print(f"  {'L2 peak test accuracy':34s}{median[3]:>22.2%}{BOOK_OVERFITTING['L2 peak test accuracy']:>10.2%}")
    print(f"  {'L2 gain (points)':34s}{100 * (median[3] - median[1]):>22.1f}"
          f"{100 * (BOOK_OVERFITTING['L2 peak test accuracy'] - BOOK_OVERFITTING['peak test accuracy']):>10.1f}")

    print("\n2. ‖∂C/∂b‖ of each hidden layer at initialisation, 1,000 images (mean of seeds 0-4)")
    x, y = data.x_train[:1000], data.y_train[:1000]
    for n_hidden, book in BOOK_GRADIENTS.items():
        norms = np.mean([layer_gradient_norms(deep_network(n_hidden, "sigmoid", seed=s), x, y).norms
                         for s in range(5)], axis=0)
        print(f"  784-{'30-' * n_hidden}10 sigmoid: learnscope {np.round(norms, 4).tolist()} "
              f"(last/first {norms[-1] / norms[0]:.0f}×) · book {book} ({book[-1] / book[0]:.0f}×)")
    for kind in ("relu-he", "relu-he-bn", "residual", "too-large"):
        ratios = [layer_gradient_norms(deep_network(3, kind, seed=s), x, y).ratio for s in range(5)]
        print(f"  3 hidden layers, {kind:10s}: last/first {min(ratios):.2f} to {max(ratios):.2f} over seeds 0-4")

    if not args.skip_sizes:
        print("\n3. Test accuracy by training-set size (seed 0; 1.5 million examples each, as the book)")
        started = time.perf_counter()
        points = data_size_sweep(data, sizes=tuple(BOOK_SIZES))
        for point in points:
            print(f"  {point.value:>6,} images: learnscope {point.run.final['test_accuracy']:.2%} · "
                  f"book {BOOK_SIZES[point.value]:.2%} · {point.run.seconds:.1f} s")
        print(f"  ({time.perf_counter() - started:.0f} s in all)")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
