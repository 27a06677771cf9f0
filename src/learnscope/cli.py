"""The `learnscope` command. For now one job: a short training demo in the terminal."""

import argparse
import sys
import time

import numpy as np

from learnscope import __version__
from learnscope.data.batches import minibatch_indices
from learnscope.data.toy2d import make_spiral, make_xor
from learnscope.layers import Dense, ReLU, Tanh
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam


def train_xor(seed: int, out=sys.stdout) -> float:
    """A 2-4-1 tanh network learns XOR, which no single straight line can separate."""
    x, labels = make_xor(n_samples=4)
    targets = (2.0 * labels - 1).reshape(-1, 1)
    model = Sequential([Dense(2, 4), Tanh(), Dense(4, 1), Tanh()], seed=seed)
    loss, optimizer = MSE(), SGD(lr=0.1, momentum=0.9)
    print("XOR with a 2-4-1 tanh network, mean squared error, SGD with momentum", file=out)
    for epoch in range(1, 301):
        value = loss.forward(model.forward(x, train=True), targets)     # 1-2. predict, measure the error
        model.backward(loss.backward())                                 # 3. share out the blame
        optimizer.step(model.named_params())                            # 4. nudge every weight
        if epoch in (1, 10, 50, 100, 300):
            print(f"  epoch {epoch:3d}  loss {value:.4f}", file=out)
    predictions = model.predict(x)[:, 0]
    for point, label, prediction in zip(x, labels, predictions):
        print(f"  x = ({point[0]:+.0f}, {point[1]:+.0f})  target {label}  network says {prediction:+.3f}", file=out)
    return float(((predictions > 0) == labels).mean())


def train_spiral(seed: int, out=sys.stdout) -> float:
    """A 2-64-64-3 ReLU network untangles three interleaved spiral arms."""
    x, y = make_spiral(n_samples=300, n_classes=3, noise=0.1, seed=seed)
    model = Sequential([Dense(2, 64), ReLU(), Dense(64, 64), ReLU(), Dense(64, 3)], seed=seed)
    loss, optimizer, rng = SoftmaxCrossEntropy(), Adam(lr=1e-2), np.random.default_rng(seed)
    print("\nSpiral, 3 classes, 2-64-64-3 ReLU network, cross-entropy, Adam, mini-batches of 32", file=out)
    for epoch in range(1, 201):
        for rows in minibatch_indices(len(x), 32, rng):
            loss.forward(model.forward(x[rows], train=True), y[rows])
            model.backward(loss.backward(), need_input_grad=False)
            optimizer.step(model.named_params())
        if epoch in (1, 20, 50, 100, 200):
            accuracy = (model.predict(x).argmax(axis=1) == y).mean()
            print(f"  epoch {epoch:3d}  loss {loss.forward(model.predict(x), y):.4f}  accuracy {accuracy:.1%}",
                  file=out)
    return float((model.predict(x).argmax(axis=1) == y).mean())


def demo(args) -> int:
    start = time.perf_counter()
    xor_accuracy = train_xor(args.seed)
    spiral_accuracy = train_spiral(args.seed)
    print(f"\nXOR accuracy {xor_accuracy:.0%}, spiral accuracy {spiral_accuracy:.1%}, "
          f"in {time.perf_counter() - start:.1f} s.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="learnscope", description="See how a neural network learns.")
    parser.add_argument("--version", action="version", version=f"learnscope {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train XOR and a spiral in the terminal, in seconds")
    demo_parser.add_argument("--seed", type=int, default=0, help="same seed, same run (default 0)")
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
