"""How long explaining one digit takes, beside the issue's budget of 1 s: saliency, gradient × input, integrated
gradients at 64 steps (with its completeness delta) and occlusion, for the default MLP and CNN recipes.

    PYTHONPATH=src python benchmarks/attributions.py [--digits 20] [--data-dir ../shared/data]

Each model is first trained as `learnscope train mnist [--model cnn]` trains it (the CNN for about half a minute),
so the maps are those of a working model. Times are the median over the digits, each the fastest of 3 calls; the
ratio is the 1 s budget over the median time (above 1: that many times within it). Prints the load average before
and after.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 1.0


def fastest(call, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data")))
    parser.add_argument("--digits", type=int, default=20, help="test digits explained (the first n)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.data.mnist import load_mnist
    from learnscope.explain.attributions import gradient_times_input, integrated_gradients, occlusion_map, saliency_map
    from learnscope.recipes import default_recipe
    from learnscope.train import train_recipe

    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    mnist = load_mnist(args.data_dir)
    methods = {
        "saliency": lambda m, x, t: saliency_map(m, x, t),
        "gradient × input": gradient_times_input,
        "integrated gradients, 64 steps": lambda m, x, t: integrated_gradients(m, x, t, n_steps=64),
        "occlusion, window 4, stride 2": lambda m, x, t: occlusion_map(m, x, t, window=4, stride=2),
    }
    print(f"{'model':6} {'method':32} {'median ms':>10} {'slowest ms':>11} {'1 s ÷ median':>13}")
    for kind in ("mlp", "cnn"):
        model = train_recipe(mnist, default_recipe("mnist", kind)).model
        digits = [(mnist.x_test[i], int(mnist.y_test[i])) for i in range(args.digits)]
        for name, method in methods.items():
            times = [fastest(lambda x=x, t=t, method=method, model=model: method(model, x, t)) for x, t in digits]
            median = float(np.median(times))
            print(f"{kind:6} {name:32} {1000 * median:10.1f} {1000 * max(times):11.1f} "
                  f"{BUDGET_SECONDS / median:12.0f}×")
        deltas = [integrated_gradients(model, x, t, n_steps=64).relative_delta for x, t in digits]
        print(f"{kind:6} integrated gradients' |Σ attributions − (F(x) − F(black))| / |F(x) − F(black)|: median "
              f"{np.median(deltas):.2%}, largest {max(deltas):.2%} over {len(digits)} digits")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
