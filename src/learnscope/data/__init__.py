"""Data: file formats, datasets and batching. Imports only learnscope.core."""

from learnscope.data.idx import mnist_files, read_idx

__all__ = ["mnist_files", "read_idx"]
