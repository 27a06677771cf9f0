"""One training step of the default CNN, learnscope against PyTorch on the CPU, and where learnscope's time goes.

    PYTHONPATH=src python benchmarks/cnn_step.py [--rounds 5] [--steps 20]

The CNN is build_cnn's default (5×5 conv 16 → ReLU → 2×2 max-pool → 5×5 conv 32 → ReLU → pool → 128 → 10) on
28×28 inputs, batch 128, float32, SGD with momentum 0.9, cross-entropy. Each round runs each engine in its own
child process, alternating which goes first (so neither inherits the other's threads or caches), and times
`--steps` steps after warm-up. The ratio is taken per round, from each child's fastest step (on a shared
machine noise only ever adds time, so the fastest step is the steadiest estimate of the work), and its median
over rounds is judged against TARGET_RATIO; the ratio of median steps is printed beside it. The learnscope
child also times every layer's forward and backward (fastest of 5) and the achieved GFLOP/s of the convolutions.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH, CLASSES = 128, 10
TARGET_RATIO = 1.5  # learnscope step / PyTorch step


def _batch(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.random((BATCH, 1, 28, 28), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


def run_learnscope(steps: int) -> dict:
    import numpy as np

    from learnscope.architectures import build_cnn
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.optim import SGD
    from learnscope.train.step import train_step

    model, loss, optimizer = build_cnn((1, 28, 28), CLASSES, seed=0), SoftmaxCrossEntropy(), SGD(0.01, momentum=0.9)
    x, y = _batch()
    for _ in range(3):                                   # warm-up: allocations, BLAS threads
        train_step(model, loss, optimizer, x, y)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step(model, loss, optimizer, x, y)
        times.append(time.perf_counter() - start)
    layers = []                                          # per layer: forward and backward, alone
    out = x
    for index, layer in enumerate(model.layers):
        forward = backward = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            result = layer.forward(out, train=True)
            forward = min(forward, time.perf_counter() - started)
        grad = np.ones_like(result) / result.size
        for _ in range(5):                               # as in training: no input gradient for the first layer
            started = time.perf_counter()
            layer.backward(grad, need_input_grad=index > 0)
            backward = min(backward, time.perf_counter() - started)
        layer.forward(out, train=True)                   # leave the layer ready for the next one's input
        flops = None
        if type(layer).__name__ == "Conv2D":
            f, c, kh, kw = layer.params["W"].shape
            flops = 2 * BATCH * f * result.shape[2] * result.shape[3] * c * kh * kw     # one GEMM's worth
        layers.append({"layer": f"{index}.{type(layer).__name__}", "forward_ms": forward * 1e3,
                       "backward_ms": backward * 1e3, "flops": flops})
        out = result
    return {"step_ms": min(times) * 1e3, "median_step_ms": statistics.median(times) * 1e3, "layers": layers}


def run_torch(steps: int) -> dict:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, 128), torch.nn.ReLU(), torch.nn.Linear(128, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = (torch.from_numpy(array) for array in _batch())
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss_fn(model(x), y).backward()
        optimizer.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"step_ms": min(times) * 1e3, "median_step_ms": statistics.median(times) * 1e3,
            "threads": torch.get_num_threads()}


def child(engine: str, steps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT / "src"),
                                                                      os.environ.get("PYTHONPATH")]))}
    output = subprocess.run([sys.executable, __file__, "--child", engine, "--steps", str(steps)], env=env,
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--child", choices=("learnscope", "torch"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps((run_learnscope if args.child == "learnscope" else run_torch)(args.steps)))
        return
    rounds, last = [], None
    for index in range(args.rounds):
        order = ("learnscope", "torch") if index % 2 == 0 else ("torch", "learnscope")
        results = {engine: child(engine, args.steps) for engine in order}
        rounds.append(results)
        last = results["learnscope"]

    def median_of(key: str, engine: str | None = None) -> float:
        if engine:
            return statistics.median(result[engine][key] for result in rounds)
        return statistics.median(result["learnscope"][key] / result["torch"][key] for result in rounds)

    ratio = median_of("step_ms")
    print(f"load average {os.getloadavg()[0]:.2f}; batch {BATCH}, float32, SGD momentum, {args.rounds} paired rounds "
          f"of {args.steps} steps")
    print(f"  fastest step: learnscope {median_of('step_ms', 'learnscope'):.1f} ms, PyTorch "
          f"{median_of('step_ms', 'torch'):.1f} ms; ratio learnscope / PyTorch: median {ratio:.2f} (rounds: "
          + ", ".join(f"{r['learnscope']['step_ms'] / r['torch']['step_ms']:.2f}" for r in rounds) + ")")
    print(f"  median step:  learnscope {median_of('median_step_ms', 'learnscope'):.1f} ms, PyTorch "
          f"{median_of('median_step_ms', 'torch'):.1f} ms; ratio: median {median_of('median_step_ms'):.2f}")
    print(f"  target: ratio of fastest steps <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    print("  learnscope per layer (last round):")
    for row in last["layers"]:
        rate = ""
        if row["flops"]:
            rate = (f"   forward {row['flops'] / row['forward_ms'] / 1e6:.0f} GFLOP/s, "
                    f"backward {2 * row['flops'] / row['backward_ms'] / 1e6:.0f} GFLOP/s")
        print(f"    {row['layer']:14} forward {row['forward_ms']:6.2f} ms   backward {row['backward_ms']:6.2f} ms"
              + rate)


if __name__ == "__main__":
    main()
