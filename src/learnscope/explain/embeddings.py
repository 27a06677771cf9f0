"""A layer's representation of many examples, projected to 2-D with scikit-learn, one point per example in the
examples' order: PCA (linear, fast, the same every time) or t-SNE (keeps neighbours together).

    points = embed(layer_representation(model, x_test[:2000], index), method="tsne", seed=0)    # (2000, 2)
"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from learnscope.core.validation import check_array, check_choice, check_int

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
