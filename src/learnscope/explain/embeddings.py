"""A layer's representation of many examples, projected to 2-D with scikit-learn, one point per example in the
examples' order: PCA (linear, fast, the same every time) or t-SNE (keeps neighbours together).

    points = embed(layer_representation(model, x_test[:2000], index), method="tsne", seed=0)    # (2000, 2)
"""

import copy
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from learnscope.core.validation import check_array, check_choice, check_int
from learnscope.explain.features import layer_representation

METHODS = ("pca", "tsne")
#: t-SNE compares every pair of points: more than this would take minutes and gigabytes
MAX_TSNE_POINTS = 5000


def embed(features, method: str = "pca", seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """(N, D) features -> (N, 2) float32 positions, row i for example i."""
    method = check_choice(method, "method", "embed", METHODS)
    features = check_array(features, "features", "embed", ndim=2, dtype=np.float64)
    n = check_int(len(features), "the number of examples", "embed", minimum=3,
                  maximum=MAX_TSNE_POINTS if method == "tsne" else None,
                  fix=f"Embed at most {MAX_TSNE_POINTS:,} examples with t-SNE (or use PCA)."
                  if method == "tsne" else "Pass at least 3 examples.")
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features).astype(np.float32)
    # perplexity must stay below the number of points; PCA initialisation makes runs stable (sklearn's default)
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca", random_state=seed)
    return tsne.fit_transform(features).astype(np.float32)


def neighbour_agreement(points, labels) -> float:
    """The share of points whose nearest other point (in the 2-D picture) has the same class: near 1 when the
    classes sit apart, about 1/classes when they are mixed."""
    points = check_array(points, "points", "neighbour_agreement", ndim=2, dtype=np.float64)
    labels = np.asarray(labels)
    if len(labels) != len(points) or len(points) < 2:
        raise ValueError(f"neighbour_agreement expected one label per point (at least 2), got {len(points)} points "
                         f"and {len(labels)} labels.")
    nearest = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), 1000):                # 1,000 rows of distances at a time
        block = points[start:start + 1000]
        distances = ((block[:, None, :] - points[None]) ** 2).sum(axis=2)
        distances[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nearest[start:start + len(block)] = distances.argmin(axis=1)
    return float((labels[nearest] == labels).mean())


def describe_embedding(layer: str, method: str, agreement: float, n_classes: int) -> str:
    """The picture in one sentence: how well the classes sit apart, against what mixed classes would give."""
    method_name = {"pca": "PCA", "tsne": "t-SNE"}.get(method, method)
    return (f"{layer}, projected by {method_name}: {agreement:.0%} of the digits have a nearest neighbour of their own "
            f"class (mixed-up classes would give about {1 / n_classes:.0%}).")


@dataclass(frozen=True)
class TrainingEmbedding:
    """One layer's picture of the same examples at several moments of training, all on the axes of the last (PCA of
    the final representation), so points move but the axes stay put: steps (S,), points (S, N, 2), the
    nearest-neighbour agreement at each moment (S,)."""

    steps: np.ndarray
    points: np.ndarray
    agreements: np.ndarray

    def plot(self, labels=None, moments: int = 4):
        """The examples' positions at `moments` moments, coloured by `labels` when given (a matplotlib figure)."""
        from learnscope.explain.plots import plot_training_embedding

        return plot_training_embedding(self, labels, moments)


def embedding_while_training(model, x_train, y_train, x, labels, layer: int, epochs: int = 1, n_snapshots: int = 12,
                             seed: int = 0, should_stop=None) -> TrainingEmbedding:
    """Train a fresh copy of `model` (its weights re-drawn; Adam 1e-3, batches of 128) on (x_train, y_train),
    taking layer `layer`'s representation of x at the start and n_snapshots − 1 more times, evenly spaced in
    steps; project every one with the PCA of the last. The model itself is left as it was."""
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.optim import Adam
    from learnscope.train import Callback, fit

    n_snapshots = check_int(n_snapshots, "n_snapshots", "embedding_while_training", minimum=2, maximum=100)
    epochs = check_int(epochs, "epochs", "embedding_while_training", minimum=1, maximum=20)
    fresh = copy.deepcopy(model)
    fresh.reset(seed)
    total = epochs * -(-len(x_train) // 128)
    wanted = set(np.linspace(0, total, n_snapshots).round().astype(int).tolist())
    taken: list[tuple[int, np.ndarray]] = [(0, layer_representation(fresh, x, layer))]

    class Take(Callback):
        def on_batch_end(self, step, logs):
            if step + 1 in wanted:
                taken.append((step + 1, layer_representation(fresh, x, layer)))
            if should_stop is not None and should_stop():
                self.trainer.stop("Stopped: nobody is watching any more.")

    fit(fresh, SoftmaxCrossEntropy(), Adam(1e-3), x_train, y_train, epochs=epochs, batch_size=128, seed=seed,
        callbacks=[Take()])
    projection = PCA(n_components=2, random_state=seed).fit(taken[-1][1])
    points = np.stack([projection.transform(features) for _, features in taken]).astype(np.float32)
    agreements = np.array([neighbour_agreement(moment, labels) for moment in points])
    return TrainingEmbedding(np.array([step for step, _ in taken]), points, agreements)


def describe_training_embedding(result: TrainingEmbedding, moment: int) -> str:
    """Where the picture is at one moment, against the start and the end."""
    return (f"After {result.steps[moment]:,} steps: {result.agreements[moment]:.0%} of the digits have a nearest "
            f"neighbour of their own class (at the start, with random weights: {result.agreements[0]:.0%}; at the "
            f"end: {result.agreements[-1]:.0%}).")
