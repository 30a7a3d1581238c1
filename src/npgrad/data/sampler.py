"""Samplers: which dataset indices a ``DataLoader`` reads, and in what order (PyTorch's set).

A sampler is an iterable of indices with a length; a batch sampler is an iterable of lists of
indices. Random ones draw from their ``generator`` (a ``numpy.random.Generator``, an
``npgrad.Generator`` or an int seed), by default npgrad's global one, so ``npgrad.manual_seed``
makes their order repeat.
"""

import numpy

from npgrad.backend import default_generator
from npgrad.tensor import _array_of


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    generator = None
    _seeded = None

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def _random(self):
        """This epoch's generator: the one given, one started once from an int seed, or the
        global one as it is now (``npgrad.manual_seed`` replaces it)."""
        if self.generator is None:
            return default_generator()
        if isinstance(self.generator, int):
            if self._seeded is None:
                self._seeded = numpy.random.default_rng(self.generator)
            return self._seeded
        return self.generator


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _indices(self):
        """The epoch's indices as one array (the DataLoader's fast path)."""
        return numpy.arange(len(self.data_source))


class RandomSampler(Sampler):
    """A random permutation of the indices, fresh every epoch; or ``num_samples`` indices drawn
    with replacement. Matches ``torch.utils.data.RandomSampler``.

    >>> import npgrad
    >>> sorted(npgrad.data.RandomSampler(range(5), generator=0))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer, got {num_samples!r}"
            )

    @property
    def num_samples(self):
        """Indices per epoch: the dataset's size unless given."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples

    def _indices(self):
        """The epoch's indices as one array (the DataLoader's fast path)."""
        rng, size = self._random(), len(self.data_source)
        if self.replacement:
            return rng.integers(0, size, self.num_samples)
        # whole permutations, as many as num_samples needs
        parts = [rng.permutation(size) for _ in range(-(-self.num_samples // size))]
        return numpy.concatenate(parts)[: self.num_samples]


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, fresh every epoch (e.g. a validation split)."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        for position in self._random().permutation(len(self.indices)).tolist():
            yield self.indices[position]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with or
    without replacement): the usual cure for an imbalanced dataset. Matches
    ``torch.utils.data.WeightedRandomSampler``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = numpy.asarray(_array_of(weights), dtype=numpy.float64).reshape(-1)
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer, "
                f"got {num_samples!r}"
            )
        if (weights < 0).any() or not numpy.isfinite(weights).all() or weights.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not replacement and num_samples > numpy.count_nonzero(weights):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                f"from {numpy.count_nonzero(weights)} non-zero weights"
            )
        self.weights, self.num_samples, self.replacement = weights, num_samples, replacement
        self.generator = generator

    def __iter__(self):
        chosen = self._random().choice(
            len(self.weights),
            size=self.num_samples,
            replace=self.replacement,
            p=self.weights / self.weights.sum(),
        )
        return iter(chosen.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``).

    >>> import npgrad
    >>> list(npgrad.data.BatchSampler(range(5), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}"
            )
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
