"""Datasets: the map-style protocol, array-backed ``TensorDataset``, ``Subset``, ``random_split``.

A dataset answers ``len(ds)`` and ``ds[i]``. Array-backed datasets also set ``batched = True``
and answer ``ds.get_batch(indices)`` with a whole collated batch in one fancy-index per array,
which is what lets ``DataLoader`` skip the per-sample Python loop.
"""

import math

import numpy

from npgrad.backend import default_generator
from npgrad.errors import ShapeError
from npgrad.tensor import Tensor, as_tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    Matches ``torch.utils.data.Dataset``. A subclass that can read a whole batch at once sets
    ``batched = True`` and defines ``get_batch(indices)``.
    """

    batched = False

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of stream datasets: subclasses define ``__iter__`` (samples in their own
    order, e.g. lines of a file too large for memory). ``DataLoader`` batches them as they come.
    Matches ``torch.utils.data.IterableDataset``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate it, no indexing")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset

    def __len__(self):
        return sum(len(dataset) for dataset in self.datasets)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long tensors (or arrays): ``(x[i], y[i])``.

    Matches ``torch.utils.data.TensorDataset``.

    >>> import npgrad
    >>> ds = npgrad.data.TensorDataset(npgrad.randn(10, 3), npgrad.arange(10))
    >>> len(ds), ds[2][1].item()
    (10, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(as_tensor(t) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ShapeError(
                f"TensorDataset: all tensors need the same first dimension (one row per "
                f"sample), got shapes {shapes}"
            )

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    batched = True

    def get_batch(self, indices):
        """The samples at ``indices`` already stacked: one fancy-index per tensor."""
        return tuple(Tensor._wrap(t._data[indices]) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    @property
    def batched(self):
        """Batches can be read at once when the wrapped dataset can."""
        return getattr(self.dataset, "batched", False)

    def get_batch(self, indices):
        """The wrapped dataset's batch at our ``indices``."""
        return self.dataset.get_batch(self.indices[indices])


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.offsets = numpy.cumsum([0] + [len(d) for d in self.datasets])

    def __len__(self):
        return int(self.offsets[-1])

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        which = int(numpy.searchsorted(self.offsets, index, side="right")) - 1
        return self.datasets[which][index - int(self.offsets[which])]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths or fractions.

    Matches ``torch.utils.data.random_split``: fractions that sum to 1 are turned into lengths,
    the remainder going round-robin to the first subsets.

    >>> import npgrad
    >>> dataset = npgrad.data.TensorDataset(npgrad.arange(10))
    >>> train, val = npgrad.data.random_split(dataset, [0.8, 0.2])
    >>> len(train), len(val)
    (8, 2)
    """
    total = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        counts = [int(math.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != total:
        raise ValueError(
            f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has "
            f"{total} samples"
        )
    rng = generator if generator is not None else default_generator()
    order = rng.permutation(total)
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length]))
        start += length
    return subsets
