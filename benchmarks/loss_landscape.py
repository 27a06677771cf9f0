"""How long does the 21×21 loss landscape of the default MNIST MLP take? (issue target: ≤ 10 s on two cores)

    PYTHONPATH=src python benchmarks/loss_landscape.py [--examples 2000] [--steps 21] [--data-dir ../shared/data]

Trains the default MNIST recipe's MLP for one epoch (so the centre is a real trained point), then times
learnscope.explain.loss_landscape on the first `--examples` test images with two filter-normalised directions,
and prints the seconds, the evaluations per second and the loss at the centre and the corners.
"""

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data")))
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=21)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.data.mnist import load_mnist
    from learnscope.explain import loss_landscape
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.recipes import build_from_recipe, default_recipe, optimizer_from_recipe
    from learnscope.train.loop import fit

    data = load_mnist(args.data_dir, download=False, progress=False)
    recipe = default_recipe("mnist").with_options(epochs=1)
    model = build_from_recipe(recipe, data.x_train.shape[1:], 10, x_train=data.x_train)
    loss = SoftmaxCrossEntropy()
    steps_per_epoch = -(-len(data.x_train) // recipe.batch_size)
    fit(model, loss, optimizer_from_recipe(recipe, steps_per_epoch), data.x_train, data.y_train, epochs=1,
        batch_size=recipe.batch_size, seed=0)
    x, y = data.x_test[:args.examples], data.y_test[:args.examples]
    started = time.perf_counter()
    landscape = loss_landscape(model, loss, x, y, steps=args.steps)
    seconds = time.perf_counter() - started
    evaluations = args.steps * args.steps
    print(f"load average {os.getloadavg()[0]:.2f}; {model.n_params():,} parameters, {len(x):,} examples")
    print(f"{args.steps}×{args.steps} landscape: {seconds:.2f} s ({evaluations / seconds:.0f} evaluations/s); "
          f"target <= {TARGET_SECONDS:.0f} s: {'met' if seconds <= TARGET_SECONDS else 'NOT met'}")
    surface = landscape.surface
    print(f"loss at the centre {landscape.center:.4f}; at the corners {surface[0, 0]:.3f}, {surface[0, -1]:.3f}, "
          f"{surface[-1, 0]:.3f}, {surface[-1, -1]:.3f}")
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
