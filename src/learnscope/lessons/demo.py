"""The first lesson in the terminal: a network learns XOR, then untangles a spiral."""

from collections.abc import Callable

from learnscope.data.splits import train_test_split
from learnscope.data.toy2d import make_spiral, make_xor
from learnscope.layers import Dense, ReLU, Tanh
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam
from learnscope.train import evaluate, fit, train_step


def train_xor(seed: int = 0, say: Callable[[str], None] = print) -> float:
    """A 2-4-1 tanh network learns XOR, which no single straight line can separate. Returns accuracy."""
    x, labels = make_xor(n_samples=4)
    targets = (2.0 * labels - 1).reshape(-1, 1)         # tanh outputs -1 for class 0, +1 for class 1
    model = Sequential([Dense(2, 4), Tanh(), Dense(4, 1), Tanh()], seed=seed)
    loss, optimizer = MSE(), SGD(lr=0.1, momentum=0.9)
    say("XOR with a 2-4-1 tanh network, mean squared error, SGD with momentum")
    for epoch in range(1, 301):
        # predict, measure the error, share out the blame, nudge every weight: one learning step
        value = train_step(model, loss, optimizer, x, targets).loss
        if epoch in (1, 10, 50, 100, 300):
            say(f"  epoch {epoch:3d}  loss {value:.4f}")
    predictions = model.predict(x)[:, 0]
    for point, target, prediction in zip(x, targets[:, 0], predictions):
        say(f"  x = ({point[0]:+.0f}, {point[1]:+.0f})  target {target:+.0f}  network says {prediction:+.3f}")
    return float(((predictions > 0) == labels).mean())


def train_spiral(seed: int = 0, say: Callable[[str], None] = print) -> float:
    """A 2-64-64-3 ReLU network untangles three interleaved spiral arms from 80% of the points. Returns its
    accuracy on the other 20%, which it never trained on."""
    x, y = make_spiral(n_samples=300, n_classes=3, noise=0.1, seed=seed)
    split = train_test_split(x, y, test_fraction=0.2, seed=seed)
    model = Sequential([Dense(2, 64), ReLU(), Dense(64, 64), ReLU(), Dense(64, 3)], seed=seed)
    loss = SoftmaxCrossEntropy()
    say(f"\nSpiral, 3 classes, 2-64-64-3 ReLU network, cross-entropy, Adam, mini-batches of 32; "
        f"{len(split.x_train)} training points, {len(split.x_test)} test points")
    history = fit(model, loss, Adam(lr=1e-2), split.x_train, split.y_train, epochs=100, batch_size=32, seed=seed,
                  validation_data=(split.x_test, split.y_test))
    for epoch in (0, 9, 49, 99):
        say(f"  epoch {epoch + 1:3d}  loss {history['loss'][epoch]:.4f}  training accuracy "
            f"{history['accuracy'][epoch]:.1%}  test accuracy {history['val_accuracy'][epoch]:.1%}")
    return float(evaluate(model, loss, split.x_test, split.y_test).accuracy)


