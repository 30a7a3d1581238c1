"""Data loading: datasets, ``DataLoader``, transforms and bundled/generated/downloadable datasets.

Also importable as ``npgrad.utils.data``, as in PyTorch.
"""

from npgrad.data import datasets, transforms
from npgrad.data.dataloader import DataLoader, default_collate, get_worker_info
from npgrad.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from npgrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
