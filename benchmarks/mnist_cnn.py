"""Does the CNN option reach 99% on MNIST? Runs `learnscope train mnist --model cnn` per seed, as a
user would, and prints test accuracy, training seconds and whole-process wall time.

The CNN takes about 11 s per epoch on two cores; CI checks one seed (tests/test_mnist_results.py), this
script checks as many as you like.

    PYTHONPATH=src python benchmarks/mnist_cnn.py --seeds 3
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(os.environ.get("LEARNSCOPE_DATA", REPO_ROOT / ".." / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=default_data)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from learnscope.model import load_model_with_metadata

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT / "src"),
                                                                     os.environ.get("PYTHONPATH")])))
    accuracies = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.seeds):
            path = Path(folder) / f"cnn-{seed}.safetensors"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "learnscope", "train", "mnist", "--model", "cnn", "--seed",
                            str(seed), "--data-dir", str(args.data_dir), "--no-download", "-o", str(path)],
                           check=True, env=env, capture_output=True)
            wall = time.perf_counter() - started
            _, metadata = load_model_with_metadata(path)
            accuracies.append(metadata["test_accuracy"])
            print(f"seed {seed}: test accuracy {metadata['test_accuracy']:.2%} after "
                  f"{metadata['recipe']['epochs']} epochs, {metadata['training_seconds']:.0f} s of training, "
                  f"{wall:.0f} s for the whole command")
    reached = sum(accuracy >= TARGET_ACCURACY for accuracy in accuracies)
    print(f"{reached}/{len(accuracies)} seeds at >= {TARGET_ACCURACY:.0%} (min {min(accuracies):.2%})")
    return 0 if reached == len(accuracies) else 1


if __name__ == "__main__":
    sys.exit(main())
