"""``DataLoader``: batches from a dataset, shuffled by its own seeded generator.

For array-backed datasets (``batched = True``) each batch is one fancy-index per array:
no per-sample Python loop, no per-sample tensors. Other datasets are read sample by sample and
stacked by ``default_collate``.
"""

import math
from collections.abc import Mapping, Sequence

import numpy

from npgrad.backend import default_generator
from npgrad.tensor import Tensor, _array_of


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
        dataset: a map-style dataset (``len`` and indexing).
        batch_size: samples per batch; ``None`` yields single samples.
        shuffle: reshuffle the order at the start of every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: how to stack samples (``default_collate``); giving one turns off the
            array fast path.
        generator: a ``numpy.random.Generator`` (or an int seed) for shuffling; by default
            npgrad's global generator, so ``npgrad.manual_seed`` makes the order repeat.
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
        shuffle=False,
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
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty (0 samples)")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.sampler = drop_last, sampler
        self.collate_fn = collate_fn or default_collate
        self.fast_path = collate_fn is None and getattr(dataset, "batched", False)
        if isinstance(generator, int):
            generator = numpy.random.default_rng(generator)
        self.generator = generator

    def _order(self):
        if self.sampler is not None:
            return numpy.fromiter(iter(self.sampler), dtype=numpy.int64)
        if self.shuffle:
            rng = self.generator if self.generator is not None else default_generator()
            return rng.permutation(len(self.dataset))
        return numpy.arange(len(self.dataset))

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:
            for index in order:
                yield self.dataset[int(index)]
            return
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            if self.fast_path:
                yield self.dataset.get_batch(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __len__(self):
        count = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.batch_size is None:
            return count
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)
