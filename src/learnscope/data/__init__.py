"""Data: file formats, datasets and batching. Imports only learnscope.core."""

from learnscope.data.batches import minibatch_indices
from learnscope.data.catalog import DATASET_NAMES, TrainingData, load_training_data
from learnscope.data.dataset import Dataset
from learnscope.data.idx import mnist_files, read_idx
from learnscope.data.images import load_image, to_mnist_format
from learnscope.data.mnist import load_dataset, load_digits, load_fashion_mnist, load_mnist
from learnscope.data.sources import DatasetUnavailable, find_dataset_files
from learnscope.data.splits import train_test_split
from learnscope.data.table import TableData, load_csv
from learnscope.data.toy2d import TOY_DATASETS, make_spiral, make_toy, make_xor

__all__ = [
    "DATASET_NAMES", "TOY_DATASETS", "Dataset", "DatasetUnavailable", "TableData", "TrainingData",
    "find_dataset_files", "load_csv", "load_dataset", "load_digits", "load_fashion_mnist", "load_image",
    "load_mnist", "load_training_data", "make_spiral", "make_toy", "make_xor", "minibatch_indices",
    "mnist_files", "read_idx", "to_mnist_format", "train_test_split",
]
