"""Batch transforms: callables that map a tensor (or array) batch to a new one.

They apply to whole batches, so ``TransformDataset`` keeps ``DataLoader``'s array fast path
(given one sample, ``TransformDataset`` passes it as a batch of one). The image transforms
have torchvision's names and meaning, on (N, C, H, W) batches; the random ones draw for each
sample of a batch from npgrad's generator (``npgrad.manual_seed``).
"""

import numbers

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
    """(x - mean) / std: per feature when given arrays of the features' shape, and per channel,
    as torchvision's ``Normalize``, when given one value per channel of images (N, C, H, W).

    >>> import numpy
    >>> images = numpy.ones((2, 3, 4, 4), numpy.float32)
    >>> Normalize((0.5, 0.5, 0.0), (0.5, 0.5, 1.0))(images)[0, :, 0, 0]
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, mean, std):
        self.mean, self.std = numpy.asarray(mean), numpy.asarray(std)

    @classmethod
    def fit(cls, x, axis=0, eps=1e-8):
        """Mean and std of training data ``x`` over ``axis`` (zero std is replaced by 1), kept
        in the data's dims (less the first, for the default ``axis=0``) so they broadcast."""
        data = _array_of(x)
        mean, std = data.mean(axis=axis, keepdims=True), data.std(axis=axis, keepdims=True)
        if axis == 0:
            mean, std = mean[0], std[0]
        return cls(mean, numpy.where(std < eps, 1.0, std))

    def __call__(self, x):
        data = _array_of(x)
        mean, std = self.mean, self.std
        if data.ndim >= 3 and (mean.ndim == 1 or std.ndim == 1):  # one value per channel
            channels = data.shape[-3]
            if max(mean.size, std.size) not in (1, channels):
                raise ValueError(
                    f"Normalize: {max(mean.size, std.size)} means/stds for images of shape "
                    f"{data.shape} ({channels} channels at dim -3)"
                )
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        return _wrap_like(((data - mean) / std).astype(data.dtype), x)


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


class Lambda:
    """A function as a transform."""

    def __init__(self, function):
        self.function = function

    def __call__(self, x):
        return self.function(x)


class ToTensor:
    """Images as torchvision's ``ToTensor`` makes them: (N, H, W, C) or (N, H, W) arrays ->
    (N, C, H, W) float32 Tensors, 8-bit values scaled to [0, 1] (floats are kept as they are)."""

    def __call__(self, x):
        data = numpy.asarray(_array_of(x))
        if data.ndim == 3:  # grey images: one channel
            data = data[..., None]
        if data.ndim != 4:
            raise ValueError(f"ToTensor: expected (N, H, W[, C]) images, got shape {data.shape}")
        scale = 255.0 if data.dtype == numpy.uint8 else 1.0
        images = data.transpose(0, 3, 1, 2)
        return Tensor._wrap(
            numpy.ascontiguousarray(images, dtype=numpy.float32) / numpy.float32(scale)
        )


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def _crop(data, top, left, height, width):
    return data[..., top : top + height, left : left + width]


class CenterCrop:
    """The central (height, width) of each image (zero-padded first where smaller, as
    torchvision)."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, x):
        data = _array_of(x)
        height, width = self.size
        pad_h, pad_w = max(height - data.shape[-2], 0), max(width - data.shape[-1], 0)
        if pad_h or pad_w:
            spec = [(0, 0)] * (data.ndim - 2)
            spec += [(pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)]
            data = numpy.pad(data, spec)
        top = int(round((data.shape[-2] - height) / 2.0))
        left = int(round((data.shape[-1] - width) / 2.0))
        return _wrap_like(numpy.ascontiguousarray(_crop(data, top, left, height, width)), x)


class RandomCrop:
    """A random (height, width) window of each image, after ``padding`` (an int, (left/right,
    top/bottom) or (left, top, right, bottom), as torchvision) with ``fill``."""

    def __init__(self, size, padding=None, fill=0):
        self.size, self.fill = _pair(size, "RandomCrop"), fill
        padding = padding or 0
        padding = (padding,) * 4 if isinstance(padding, numbers.Integral) else tuple(padding)
        self.padding = padding * 2 if len(padding) == 2 else padding  # left, top, right, bottom

    def __call__(self, x):
        from npgrad.backend import default_generator

        data = _array_of(x)
        left, top, right, bottom = self.padding
        if any(self.padding):
            spec = [(0, 0)] * (data.ndim - 2) + [(top, bottom), (left, right)]
            data = numpy.pad(data, spec, constant_values=self.fill)
        height, width = self.size
        if height > data.shape[-2] or width > data.shape[-1]:
            raise ValueError(
                f"RandomCrop: crop {self.size} is larger than the (padded) images {data.shape}"
            )
        rng = default_generator()
        tops = rng.integers(0, data.shape[-2] - height + 1, len(data))
        lefts = rng.integers(0, data.shape[-1] - width + 1, len(data))
        # every window of every image (a view), its window positions moved next to the batch
        # dim: one fancy index then takes each image's own window, no loop over the batch
        windows = numpy.lib.stride_tricks.sliding_window_view(data, self.size, axis=(-2, -1))
        windows = numpy.moveaxis(windows, (-4, -3), (1, 2))
        return _wrap_like(windows[numpy.arange(len(data)), tops, lefts], x)


class RandomHorizontalFlip:
    """Each image mirrored left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x):
        from npgrad.backend import default_generator

        data = _array_of(x)
        flip = default_generator().random(len(data)) < self.p
        out = data.copy()
        out[flip] = data[flip][..., ::-1]
        return _wrap_like(out, x)


def _antialiased_weights(size_in, size_out):
    """(size_out, size_in) bilinear resampling weights with the triangle filter widened by the
    downscaling factor (PIL's and PyTorch's ``antialias=True``): each output pixel averages
    every input pixel it covers, instead of sampling two and aliasing."""
    scale = size_in / size_out
    support, stretch = max(scale, 1.0), 1.0 / max(scale, 1.0)
    centers = scale * (numpy.arange(size_out) + 0.5)
    first = numpy.maximum((centers - support + 0.5).astype(int), 0)
    stop = numpy.minimum((centers + support + 0.5).astype(int), size_in)
    inputs = numpy.arange(size_in)
    weights = numpy.maximum(0.0, 1.0 - numpy.abs((inputs - centers[:, None] + 0.5) * stretch))
    weights *= (inputs >= first[:, None]) & (inputs < stop[:, None])
    return weights / weights.sum(axis=1, keepdims=True)


class Resize:
    """Images resized to ``size`` (height, width), or with the shorter side to ``size`` (an int)
    keeping the aspect ratio, bilinearly, as torchvision's ``Resize``: with ``antialias`` (the
    default, as torchvision's) a downscaled pixel averages all the pixels it covers, as PIL
    does; without, it interpolates between the nearest two (``interpolate``'s bilinear)."""

    def __init__(self, size, antialias=True):
        self.size, self.antialias = size, antialias is not False

    def __call__(self, x):
        from npgrad.nn.functional import interpolate

        data = _array_of(x)
        height, width = data.shape[-2:]
        if isinstance(self.size, numbers.Integral):
            short, long = sorted((height, width))
            longer = int(self.size * long / short)
            size = (self.size, longer) if height <= width else (longer, self.size)
        else:
            size = _pair(self.size, "Resize")
        batch = numpy.asarray(data, dtype=numpy.float32 if data.dtype.kind != "f" else data.dtype)
        if self.antialias:  # rows, then columns: two matrix products
            rows = _antialiased_weights(height, size[0]).astype(batch.dtype)
            columns = _antialiased_weights(width, size[1]).astype(batch.dtype)
            return _wrap_like(rows @ batch @ columns.T, x)
        resized = interpolate(Tensor._wrap(batch), size=size, mode="bilinear", align_corners=False)
        return _wrap_like(resized.numpy(), x)


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
