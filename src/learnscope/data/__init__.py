"""Data: file formats, datasets and batching. Imports only learnscope.core."""

from learnscope.data.batches import minibatch_indices
from learnscope.data.idx import mnist_files, read_idx
from learnscope.data.toy2d import make_spiral, make_xor

__all__ = ["make_spiral", "make_xor", "minibatch_indices", "mnist_files", "read_idx"]
