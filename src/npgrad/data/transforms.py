"""Batch transforms: callables that map a tensor (or array) batch to a new one.

They apply to whole batches, so ``TransformDataset`` keeps ``DataLoader``'s array fast path.
"""

import numpy

from npgrad.data.dataset import Dataset
from npgrad.tensor import Tensor, _array_of


def _wrap_like(result, original):
    return Tensor._wrap(result) if isinstance(original, Tensor) else result


class Compose:
    """Apply several transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x


class Normalize:
    """(x - mean) / std, per feature when given arrays."""

    def __init__(self, mean, std):
        self.mean, self.std = numpy.asarray(mean), numpy.asarray(std)

    @classmethod
    def fit(cls, x, axis=0, eps=1e-8):
        """Mean and std of training data ``x`` over ``axis`` (zero std is replaced by 1)."""
        data = _array_of(x)
        std = data.std(axis=axis)
        return cls(data.mean(axis=axis), numpy.where(std < eps, 1.0, std))

    def __call__(self, x):
        data = _array_of(x)
        return _wrap_like(((data - self.mean) / self.std).astype(data.dtype), x)


class Flatten:
    """Flatten every dim after the batch dim."""

    def __call__(self, x):
        data = _array_of(x)
        return _wrap_like(data.reshape(len(data), -1), x)


class OneHot:
    """Integer labels (N,) -> float one-hot rows (N, num_classes)."""

    def __init__(self, num_classes, dtype=numpy.float32):
        self.num_classes, self.dtype = num_classes, dtype

    def __call__(self, y):
        labels = _array_of(y)
        return _wrap_like(numpy.eye(self.num_classes, dtype=self.dtype)[labels], y)


class TransformDataset(Dataset):
    """``dataset`` with ``transform`` applied to inputs and ``target_transform`` to targets."""

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset, self.transform, self.target_transform = dataset, transform, target_transform

    def _apply(self, sample):
        x, *rest = sample
        if self.transform is not None:
            x = self.transform(x)
        if rest and self.target_transform is not None:
            rest[0] = self.target_transform(rest[0])
        return (x, *rest)

    def __getitem__(self, index):
        x, *rest = self.dataset[index]
        x, *rest = self._apply((x[None], *(r[None] for r in rest)))
        return (x[0], *(r[0] for r in rest))

    def __len__(self):
        return len(self.dataset)

    @property
    def batched(self):
        """Batches can be read at once when the wrapped dataset can."""
        return getattr(self.dataset, "batched", False)

    def get_batch(self, indices):
        """The wrapped dataset's batch, transformed as a whole."""
        return self._apply(self.dataset.get_batch(indices))
