"""``DataLoader``: batches from a dataset, shuffled by its own seeded generator.

For array-backed datasets (``batched = True``) each batch is one fancy-index per array:
no per-sample Python loop, no per-sample tensors. Other datasets are read sample by sample and
stacked by ``default_collate``.
"""

import math
from collections.abc import Mapping, Sequence

import numpy

from npgrad.data.dataset import IterableDataset
from npgrad.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from npgrad.tensor import Tensor, _array_of


def get_worker_info():
    """None: npgrad loads data in the calling process (PyTorch's answer outside a worker)."""
    return None


def default_collate(samples):
    """Stack a list of samples (tensors, arrays, numbers, tuples or dicts of them) into a batch."""
    first = samples[0]
    if isinstance(first, Tensor | numpy.ndarray | numpy.generic | int | float | bool):
        arrays = [_array_of(s) for s in samples]
        stacked = numpy.stack([numpy.asarray(a) for a in arrays])
        if isinstance(first, float):
            stacked = stacked.astype(numpy.float32)  # Python floats: default dtype
        return Tensor._wrap(stacked)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple
        return type(first)(*(default_collate(list(group)) for group in zip(*samples, strict=True)))
    if isinstance(first, Sequence) and not isinstance(first, str):
        return type(first)(default_collate(list(group)) for group in zip(*samples, strict=True))
    return samples


class DataLoader:
    """Iterate over a dataset in batches. Matches ``torch.utils.data.DataLoader``'s main options.

    Args:
        dataset: a map-style dataset (``len`` and indexing) or an ``IterableDataset``.
        batch_size: samples per batch; ``None`` yields single samples.
        shuffle: reshuffle the order at the start of every epoch (a ``RandomSampler``).
        sampler: the order of the indices instead (a ``Sampler`` or any iterable of indices).
        batch_sampler: lists of indices, one per batch (instead of ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: how to stack samples (``default_collate``); giving one turns off the
            array fast path.
        generator: a ``numpy.random.Generator`` or ``npgrad.Generator`` (or an int seed) for
            shuffling; by default npgrad's global generator, so ``npgrad.manual_seed`` makes the
            order repeat.
        num_workers: accepted for compatibility; loading happens in the calling thread.

    >>> import npgrad
    >>> ds = npgrad.data.TensorDataset(npgrad.arange(10))
    >>> [batch[0].tolist() for batch in npgrad.data.DataLoader(ds, batch_size=4)]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        generator=None,
        **kwargs,
    ):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer, got {batch_size}"
            )
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader: an IterableDataset gives its own order; shuffle, sampler and "
                    "batch_sampler must be left unset"
                )
        elif len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty (0 samples)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size = None
        if isinstance(generator, int):
            generator = numpy.random.default_rng(generator)
        if sampler is None and not self.iterable:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_sampler is None and batch_size is not None and not self.iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.drop_last, self.sampler, self.batch_sampler = drop_last, sampler, batch_sampler
        self.collate_fn = collate_fn or default_collate
        self.fast_path = collate_fn is None and getattr(dataset, "batched", False)
        self.generator = generator

    def _batches(self):
        """The epoch's batches of indices, arrays when the samplers can give them at once."""
        default_batching = (
            type(self.batch_sampler) is BatchSampler and self.batch_sampler.sampler is self.sampler
        )
        if default_batching and hasattr(self.sampler, "_indices"):
            order = self.sampler._indices()
            for start in range(0, len(order), self.batch_size):
                indices = order[start : start + self.batch_size]
                if self.drop_last and len(indices) < self.batch_size:
                    return
                yield indices
        else:
            yield from self.batch_sampler

    def __iter__(self):
        if self.iterable:
            yield from self._iterate_stream()
            return
        if self.batch_sampler is None:  # batch_size=None: single samples
            for index in self.sampler:
                yield self.dataset[int(index)]
            return
        for indices in self._batches():
            if self.fast_path:
                yield self.dataset.get_batch(numpy.asarray(indices, dtype=numpy.int64))
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def _iterate_stream(self):
        """An IterableDataset's samples, collated batch_size at a time."""
        if self.batch_size is None:
            yield from self.dataset
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        if self.iterable:
            count = len(self.dataset)  # a TypeError when the stream has no length, as in torch
            if self.batch_size is None:
                return count
            size = self.batch_size
            return count // size if self.drop_last else math.ceil(count / size)
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)
