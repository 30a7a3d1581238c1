"""Transforms with torchvision's names and meaning, for one image or a whole batch.

What an image transform takes, as in torchvision:

* a Tensor image, (..., C, H, W) (or (H, W)): any leading dims are a batch, and the random
  transforms draw for each image of it (torchvision draws once per call);
* a NumPy array or a PIL image in PIL's layout, (H, W) or (H, W, C), 8-bit or float: what
  ``npgrad.vision.datasets`` return before ``ToTensor``, and what a custom dataset reads from
  files. The result is an array of the same layout (a PIL image comes back as an array). A 4-D
  array is a batch of such images, (N, H, W, C).

``ToTensor`` turns the second kind into the first (channels first, 8-bit values scaled to
[0, 1]). ``TransformDataset`` and the vision datasets call a transform on one sample as given;
when every transform of a pipeline is one of these (not a ``Lambda`` or a function of yours),
``DataLoader`` reads whole batches and calls ``transform.batch(x)`` on them once, where ``x``
has a leading sample dim (for arrays, the one way to tell a batch of (H, W) images from one
(H, W, C) image), keeping its one-fancy-index-per-batch fast path.

8-bit images stay 8-bit through the geometric and colour transforms (values rounded and clipped
to [0, 255], torchvision's bound for integers; 1.0 for floats).
"""

import math
import numbers

import numpy

from npgrad.data.dataset import Dataset
from npgrad.tensor import Tensor, _array_of


def _wrap_like(result, original):
    return Tensor._wrap(result) if isinstance(original, Tensor) else result


def _generator():
    from npgrad.backend import default_generator

    return default_generator()


def _as_images(x, batched, name):
    """``x`` as an (N, C, H, W) array and a function putting a result back into ``x``'s form.

    The array is a view where it can be: transforms write their results to new arrays.
    """
    if isinstance(x, Tensor):
        data = _array_of(x)
        if data.ndim < 2:
            raise ValueError(
                f"{name}: expected an image tensor (..., H, W), got shape {data.shape}"
            )
        if data.ndim == 2:  # one (H, W) image
            return data[None, None], lambda out: Tensor._wrap(_squeeze_grey(out[0]))
        lead = data.shape[:-3]
        images = data.reshape(-1, *data.shape[-3:])
        return images, lambda out: Tensor._wrap(out.reshape(*lead, *out.shape[1:]))
    data = numpy.asarray(x)
    batched = batched or data.ndim == 4
    sample_ndim = data.ndim - batched
    if sample_ndim not in (2, 3):
        kind = "a batch of images (N, H, W[, C])" if batched else "an image (H, W[, C])"
        raise ValueError(
            f"{name}: expected {kind} in PIL's layout (channels last; a Tensor is (C, H, W)), "
            f"got an array of shape {data.shape}"
        )
    grey = sample_ndim == 2
    stacked = data if batched else data[None]
    images = (stacked[..., None] if grey else stacked).transpose(0, 3, 1, 2)

    def restore(out):
        out = out.transpose(0, 2, 3, 1)
        if grey and out.shape[-1] == 1:
            out = out[..., 0]
        return numpy.ascontiguousarray(out if batched else out[0])

    return images, restore


def _squeeze_grey(image):
    return image[0] if image.shape[0] == 1 else image


def _bound(images):
    """The largest value of an image's range: 255 for integers, 1.0 for floats (torchvision)."""
    return 1.0 if images.dtype.kind == "f" else float(numpy.iinfo(images.dtype).max)


def _floats(images):
    """Images as floats for arithmetic: float32 (or the images' wider float), no copy when they
    already are."""
    return images.astype(numpy.promote_types(images.dtype, numpy.float32), copy=False)


def _cast_like(values, images):
    """Floats back to the images' dtype: integers rounded and clipped to their range."""
    if images.dtype.kind == "f":
        return values.astype(images.dtype, copy=False)
    return numpy.clip(numpy.rint(values), 0, _bound(images)).astype(images.dtype)


def batchable(transform):
    """True when ``transform`` (or all of a Compose's) can be called on a whole batch through
    ``transform.batch``: npgrad's transforms can; a Lambda or a plain function cannot."""
    return transform is None or bool(getattr(transform, "batchable", False))


class Transform:
    """An image transform: subclasses define ``apply(images)`` on an (N, C, H, W) array, drawing
    (when random) for each of the N images. ``__call__`` takes one image (or a Tensor batch),
    ``batch`` a batch with a leading sample dim; both return the input's kind and layout."""

    batchable = True

    def __call__(self, x):
        images, restore = _as_images(x, False, type(self).__name__)
        return restore(self.apply(images))

    def batch(self, x):
        images, restore = _as_images(x, True, type(self).__name__)
        return restore(self.apply(images))

    def apply(self, images):
        raise NotImplementedError

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


class Compose:
    """Apply several transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    @property
    def batchable(self):
        return all(batchable(t) for t in self.transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def batch(self, x):
        for transform in self.transforms:
            x = transform.batch(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class RandomApply(Compose):
    """The transforms, in order, with probability ``p`` (one draw per image of a batch)."""

    def __init__(self, transforms, p=0.5):
        super().__init__(transforms)
        self.p = p

    def __call__(self, x):
        return self._per_sample(x, False)

    def batch(self, x):
        return self._per_sample(x, True)

    def _per_sample(self, x, batched):
        run = Compose.batch if batched else Compose.__call__
        chosen = _generator().random(_sample_count(x, batched)) < self.p
        if chosen.all():
            return run(self, x)
        if not chosen.any():
            return x
        # some images of a batch: the transforms run on those, as a batch of their own
        if isinstance(x, Tensor):
            data = _array_of(x)
            flat = data.reshape(-1, *data.shape[-3:])
            part = _array_of(run(self, Tensor._wrap(flat[chosen])))
        else:
            flat = numpy.asarray(x)
            part = numpy.asarray(Compose.batch(self, flat[chosen]))
        if part.shape[1:] != flat.shape[1:]:
            raise ValueError(
                f"RandomApply: its transforms change the images' shape ({flat.shape[1:]} -> "
                f"{part.shape[1:]}), so some images of a batch cannot keep theirs"
            )
        out = flat.copy()
        out[chosen] = part
        return _wrap_like(out.reshape(numpy.shape(_array_of(x))), x)


class RandomChoice:
    """One of the transforms, picked at random (weights ``p``) for each call."""

    def __init__(self, transforms, p=None):
        self.transforms, self.p = list(transforms), p

    @property
    def batchable(self):
        return all(batchable(t) for t in self.transforms)

    def _pick(self):
        weights = None if self.p is None else numpy.asarray(self.p, float) / numpy.sum(self.p)
        return self.transforms[_generator().choice(len(self.transforms), p=weights)]

    def __call__(self, x):
        return self._pick()(x)

    def batch(self, x):
        return self._pick().batch(x)


class RandomOrder(Compose):
    """The transforms in a random order, drawn for each call."""

    def __call__(self, x):
        for index in _generator().permutation(len(self.transforms)):
            x = self.transforms[index](x)
        return x

    def batch(self, x):
        for index in _generator().permutation(len(self.transforms)):
            x = self.transforms[index].batch(x)
        return x


def _sample_count(x, batched):
    """How many images ``x`` holds (a Tensor's leading dims, an array's batch dim)."""
    if isinstance(x, Tensor):
        return int(numpy.prod(x.shape[:-3])) if x.ndim >= 3 else 1
    data = numpy.asarray(x)
    return len(data) if (batched or data.ndim == 4) else 1


class Lambda:
    """A function as a transform (called on single samples: not batchable)."""

    def __init__(self, function):
        self.function = function

    def __call__(self, x):
        return self.function(x)


class Normalize:
    """(x - mean) / std: per channel, as torchvision's ``Normalize``, when given one value per
    channel of images (a Tensor's channels are at dim -3; an array's, in PIL's layout, are
    last), and per feature when given arrays of the features' shape (``Normalize.fit``).

    >>> import numpy, npgrad
    >>> images = npgrad.ones(2, 3, 4, 4)
    >>> Normalize((0.5, 0.5, 0.0), (0.5, 0.5, 1.0))(images)[0, :, 0, 0].tolist()
    [1.0, 1.0, 1.0]
    """

    batchable = True

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
        count = max(mean.size, std.size)
        if data.ndim >= 3 and isinstance(x, Tensor) and max(mean.ndim, std.ndim) == 1:
            channels = data.shape[-3]  # a Tensor image: one value per channel, at dim -3
            if count not in (1, channels):
                raise ValueError(
                    f"Normalize: {count} means/stds for images of shape {data.shape} "
                    f"({channels} channels at dim -3)"
                )
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        elif max(mean.ndim, std.ndim) == 1 and count not in (1, data.shape[-1]):
            raise ValueError(
                f"Normalize: {count} means/stds for an array of shape {data.shape} (one per "
                f"value of its last dim, {data.shape[-1]}: channels last, as PIL's layout)"
            )
        dtype = data.dtype if data.dtype.kind == "f" else numpy.float32
        return _wrap_like(((data - mean) / std).astype(dtype), x)

    batch = __call__


class Flatten:
    """A sample flattened to one dim (a batch: every dim after the first)."""

    batchable = True

    def __call__(self, x):
        return _wrap_like(_array_of(x).reshape(-1), x)

    def batch(self, x):
        data = _array_of(x)
        return _wrap_like(data.reshape(len(data), -1), x)


class OneHot:
    """Integer labels -> float one-hot rows: a label (), or labels (N,) -> (N, num_classes)."""

    batchable = True

    def __init__(self, num_classes, dtype=numpy.float32):
        self.num_classes, self.dtype = num_classes, dtype

    def __call__(self, y):
        labels = _array_of(y)
        return _wrap_like(numpy.eye(self.num_classes, dtype=self.dtype)[labels], y)

    batch = __call__


def _pil_layout(x, batched, name):
    """An array (or PIL image) in PIL's layout as (N, H, W, C), and whether it was one image."""
    if isinstance(x, Tensor):
        raise TypeError(
            f"{name}: expected a PIL image or a NumPy array (H, W[, C]), got a Tensor (it is an "
            "image already; ToTensor converts the others)"
        )
    data = numpy.asarray(x)
    batched = batched or data.ndim == 4
    if data.ndim - batched not in (2, 3):
        raise ValueError(
            f"{name}: expected an image (H, W[, C]) or a batch (N, H, W, C) in PIL's layout, "
            f"got shape {data.shape}"
        )
    if data.ndim - batched == 2:
        data = data[..., None]
    return (data if batched else data[None]), not batched


class PILToTensor:
    """A PIL image or an array (H, W[, C]) -> a (C, H, W) Tensor of the same dtype, unscaled; a
    batch (N, H, W, C) -> (N, C, H, W)."""

    batchable = True

    def __call__(self, x):
        return self._convert(x, False)

    def batch(self, x):
        return self._convert(x, True)

    def _convert(self, x, batched):
        images, single = _pil_layout(x, batched, type(self).__name__)
        out = self._values(images.transpose(0, 3, 1, 2))
        return Tensor._wrap(out[0] if single else out)

    @staticmethod
    def _values(images):
        return numpy.ascontiguousarray(images)


class ToTensor(PILToTensor):
    """A PIL image or an array (H, W[, C]) -> a float32 (C, H, W) Tensor, 8-bit values scaled
    to [0, 1] (floats kept), as torchvision's ``ToTensor``; a batch (N, H, W, C) -> (N, C, H,
    W)."""

    @staticmethod
    def _values(images):
        scale = numpy.float32(255.0 if images.dtype == numpy.uint8 else 1.0)
        return numpy.ascontiguousarray(images, dtype=numpy.float32) / scale


class ToPILImage:
    """A (C, H, W) Tensor or an (H, W[, C]) array -> a PIL image (needs Pillow). Floats are
    taken as [0, 1] and scaled to 8 bits, as torchvision's."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, x):
        try:
            from PIL import Image
        except ImportError as error:
            raise ImportError(
                "ToPILImage needs Pillow (pip install pillow); npgrad's transforms work on "
                "NumPy arrays in PIL's layout without it"
            ) from error
        data = _array_of(x)
        if isinstance(x, Tensor):
            data = data.transpose(1, 2, 0) if data.ndim == 3 else data
        if data.dtype.kind == "f":
            data = (data * 255).astype(numpy.uint8)  # torchvision: mul(255).byte()
        if data.ndim == 3 and data.shape[2] == 1:
            data = data[..., 0]
        return Image.fromarray(numpy.ascontiguousarray(data), mode=self.mode)


class ConvertImageDtype(Transform):
    """Images converted to ``dtype`` with their range: 8-bit [0, 255] <-> float [0, 1]."""

    def __init__(self, dtype):
        self.dtype = numpy.dtype(dtype)

    def apply(self, images):
        if images.dtype == self.dtype:
            return images
        if self.dtype.kind == "f":
            return images.astype(self.dtype) / self.dtype.type(_bound(images))
        if images.dtype.kind == "f":  # torchvision: scale by (max + 1 - eps), truncate
            top = float(numpy.iinfo(self.dtype).max)
            return (images * (top + 1.0 - 1e-3)).astype(self.dtype)
        shift = 8 * (self.dtype.itemsize - images.dtype.itemsize)
        widened = images.astype(self.dtype)
        return widened << shift if shift > 0 else widened >> -shift


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def _padding(padding, name):
    """torchvision's padding forms (one int, (left/right, top/bottom), (left, top, right,
    bottom)) as (left, top, right, bottom)."""
    padding = padding or 0
    padding = (padding,) * 4 if isinstance(padding, numbers.Integral) else tuple(padding)
    if len(padding) == 1:
        padding = padding * 4
    if len(padding) not in (2, 4):
        raise ValueError(f"{name}: padding must have 1, 2 or 4 values, got {padding!r}")
    return tuple(int(p) for p in (padding * 2 if len(padding) == 2 else padding))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")  # torchvision's names, NumPy's too


def _pad(images, left, top, right, bottom, fill=0, mode="constant"):
    if mode not in _PAD_MODES:
        raise ValueError(f"padding_mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    if not any((left, top, right, bottom)):
        return images
    spec = [(0, 0), (0, 0), (top, bottom), (left, right)]
    if mode == "constant":
        return numpy.pad(images, spec, constant_values=fill)
    return numpy.pad(images, spec, mode=mode)


class Pad(Transform):
    """Each image padded by ``padding`` (an int, (left/right, top/bottom) or (left, top,
    right, bottom)) with ``fill``, or by repeating its edge ("edge"), mirroring without the edge
    ("reflect") or with it ("symmetric"), as torchvision's ``Pad``."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = _padding(padding, "Pad"), fill, padding_mode

    def apply(self, images):
        return _pad(images, *self.padding, fill=self.fill, mode=self.padding_mode)


class CenterCrop(Transform):
    """The central (height, width) of each image (zero-padded first where smaller, as
    torchvision)."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def apply(self, images):
        height, width = self.size
        pad_h, pad_w = max(height - images.shape[-2], 0), max(width - images.shape[-1], 0)
        if pad_h or pad_w:
            images = _pad(images, pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2)
        top = int(round((images.shape[-2] - height) / 2.0))
        left = int(round((images.shape[-1] - width) / 2.0))
        return images[..., top : top + height, left : left + width].copy()


class RandomCrop(Transform):
    """A random (height, width) window of each image, after ``padding`` (an int, (left/right,
    top/bottom) or (left, top, right, bottom)) with ``fill`` or ``padding_mode``; with
    ``pad_if_needed``, images smaller than the crop are padded to it first (torchvision)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size, self.fill = _pair(size, "RandomCrop"), fill
        self.padding, self.pad_if_needed = _padding(padding, "RandomCrop"), pad_if_needed
        self.padding_mode = padding_mode

    def apply(self, images):
        images = _pad(images, *self.padding, fill=self.fill, mode=self.padding_mode)
        height, width = self.size
        if self.pad_if_needed:
            grow_w, grow_h = max(width - images.shape[-1], 0), max(height - images.shape[-2], 0)
            images = _pad(images, grow_w, grow_h, grow_w, grow_h, self.fill, self.padding_mode)
        if height > images.shape[-2] or width > images.shape[-1]:
            raise ValueError(
                f"RandomCrop: crop {self.size} is larger than the (padded) images of size "
                f"{images.shape[-2:]}"
            )
        rng = _generator()
        tops = rng.integers(0, images.shape[-2] - height + 1, len(images))
        lefts = rng.integers(0, images.shape[-1] - width + 1, len(images))
        # every window of every image (a view), its window positions moved next to the batch
        # dim: one fancy index then takes each image's own window, no loop over the batch
        windows = numpy.lib.stride_tricks.sliding_window_view(images, self.size, axis=(-2, -1))
        windows = numpy.moveaxis(windows, (-4, -3), (1, 2))
        return windows[numpy.arange(len(images)), tops, lefts]


class RandomHorizontalFlip(Transform):
    """Each image mirrored left-right with probability ``p``."""

    axis = -1

    def __init__(self, p=0.5):
        self.p = p

    def apply(self, images):
        flip = _generator().random(len(images)) < self.p
        out = images.copy()
        out[flip] = numpy.flip(images[flip], axis=self.axis)
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Each image mirrored top-bottom with probability ``p``."""

    axis = -2


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


def _resize(images, size, antialias=True):
    """(N, C, H, W) images resized to ``size`` (height, width), bilinearly."""
    from npgrad.nn.functional import interpolate

    if tuple(images.shape[-2:]) == tuple(size):
        return images.copy()
    batch = numpy.asarray(images, dtype=images.dtype if images.dtype.kind == "f" else "f4")
    if antialias:  # rows, then columns: two matrix products
        rows = _antialiased_weights(images.shape[-2], size[0]).astype(batch.dtype)
        columns = _antialiased_weights(images.shape[-1], size[1]).astype(batch.dtype)
        resized = rows @ batch @ columns.T
    else:
        resized = interpolate(
            Tensor._wrap(batch), size=size, mode="bilinear", align_corners=False
        ).numpy()
    return _cast_like(resized, images)


def _resized_size(size, height, width, max_size=None):
    """torchvision's output size: an int sets the shorter side, keeping the aspect ratio."""
    if isinstance(size, numbers.Integral) or (not isinstance(size, int) and len(size) == 1):
        size = size if isinstance(size, numbers.Integral) else size[0]
        short, long = sorted((height, width))
        new_short, new_long = int(size), int(size * long / short)
        if max_size is not None and new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_short, new_long) if height <= width else (new_long, new_short)
    return _pair(size, "Resize")


class Resize(Transform):
    """Images resized to ``size`` (height, width), or with the shorter side to ``size`` (an int)
    keeping the aspect ratio (the longer side at most ``max_size``), bilinearly, as
    torchvision's ``Resize``: with ``antialias`` (the default, as torchvision's) a downscaled
    pixel averages all the pixels it covers, as PIL does; without, it interpolates between the
    nearest two (``interpolate``'s bilinear)."""

    def __init__(self, size, max_size=None, antialias=True):
        self.size, self.max_size, self.antialias = size, max_size, antialias is not False

    def apply(self, images):
        size = _resized_size(self.size, *images.shape[-2:], self.max_size)
        return _resize(images, size, self.antialias)


class RandomResizedCrop(Transform):
    """A random part of each image (``scale`` of its area, aspect ratio in ``ratio``, drawn
    log-uniformly) resized to ``size``: torchvision's ``RandomResizedCrop``, the ImageNet
    training augmentation (10 tries, then the central crop of the nearest allowed ratio)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), antialias=True):
        self.size, self.scale, self.ratio = _pair(size, "RandomResizedCrop"), scale, ratio
        self.antialias = antialias is not False

    def get_params(self, height, width, rng):
        """(top, left, height, width) of one crop, as torchvision draws it."""
        area = height * width
        log_ratio = numpy.log(self.ratio)
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return (
                    int(rng.integers(0, height - h + 1)),
                    int(rng.integers(0, width - w + 1)),
                    h,
                    w,
                )
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def apply(self, images):
        rng = _generator()
        out = numpy.empty((*images.shape[:2], *self.size), images.dtype)
        for index, image in enumerate(images):  # each image its own crop size: one at a time
            top, left, h, w = self.get_params(*images.shape[-2:], rng)
            crop = image[None, :, top : top + h, left : left + w]
            out[index] = _resize(crop, self.size, self.antialias)[0]
        return out


def _inverse_affine_matrix(angle, translate, scale, shear, center):
    """The 2x3 matrix taking an output pixel (relative to the centre) to where it is read from
    in the input: torchvision's ``_get_inverse_affine_matrix`` (rotation about ``center``,
    clockwise for a positive ``angle`` in degrees, then shear, scale and translation)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = numpy.array([[d, -b, 0.0], [-c, a, 0.0]]) / scale  # the inverse of [[a, b], [c, d]]
    m[:, 2] = m[:, :2] @ (-cx - tx, -cy - ty) + (cx, cy)
    return m


def _expanded_size(matrix, height, width):
    """The size that holds the whole transformed image (torchvision's ``expand``)."""
    corners = numpy.array(
        [
            [-0.5 * width, -0.5 * height, 1.0],
            [-0.5 * width, 0.5 * height, 1.0],
            [0.5 * width, 0.5 * height, 1.0],
            [0.5 * width, -0.5 * height, 1.0],
        ]
    )
    points = corners @ matrix.T
    tolerance = 1e-4
    high = numpy.ceil(numpy.trunc(points.max(axis=0) / tolerance) * tolerance)
    low = numpy.floor(numpy.trunc(points.min(axis=0) / tolerance) * tolerance)
    width, height = (high - low).astype(int)
    return int(height), int(width)


def _warp(image, matrix, out_size, interpolation, fill):
    """(C, H, W) ``image`` resampled on an ``out_size`` grid through ``matrix`` (output pixel
    centre, relative to the grid's centre -> input position relative to the image's), reading
    outside the image as ``fill``: grid_sample with align_corners=False, as torchvision."""
    channels, height, width = image.shape
    out_h, out_w = out_size
    ys = numpy.arange(out_h) - (out_h - 1) / 2
    xs = numpy.arange(out_w) - (out_w - 1) / 2
    source_x = matrix[0, 0] * xs[None, :] + matrix[0, 1] * ys[:, None] + matrix[0, 2]
    source_y = matrix[1, 0] * xs[None, :] + matrix[1, 1] * ys[:, None] + matrix[1, 2]
    source_x += (width - 1) / 2  # back to pixel indices
    source_y += (height - 1) / 2
    values = _floats(image)
    fill = numpy.asarray(fill, values.dtype).reshape(-1, 1, 1)
    fill = numpy.broadcast_to(fill, (channels, 1, 1))
    if interpolation == "nearest":
        column, row = numpy.rint(source_x).astype(int), numpy.rint(source_y).astype(int)
        inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
        picked = values[:, row.clip(0, height - 1), column.clip(0, width - 1)]
        return _cast_like(numpy.where(inside, picked, fill), image)
    if interpolation != "bilinear":
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    left, top = numpy.floor(source_x).astype(int), numpy.floor(source_y).astype(int)
    fx, fy = (source_x - left).astype(values.dtype), (source_y - top).astype(values.dtype)
    out = numpy.zeros((channels, out_h, out_w), values.dtype)
    covered = numpy.zeros((out_h, out_w), values.dtype)  # how much of each sample is inside
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            row, column = top + dy, left + dx
            inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
            weight = wy * wx * inside
            out += weight * values[:, row.clip(0, height - 1), column.clip(0, width - 1)]
            covered += weight
    return _cast_like(out + (1 - covered) * fill, image)


def _interpolation_name(interpolation):
    name = getattr(interpolation, "value", interpolation)  # an InterpolationMode member, too
    return str(name).lower()


def _range(value, name, center=0.0, bound=None):
    """torchvision's ranges: a number v means (center - v, center + v); a pair as given."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{name}: a single value must be non-negative, got {value}")
        value = (center - value, center + value)
    low, high = (float(v) for v in value)
    if low > high or (bound is not None and (low < bound[0] or high > bound[1])):
        raise ValueError(f"{name}: values should be a range within {bound}, got {value}")
    return low, high


class InterpolationMode:
    """torchvision's interpolation names (``InterpolationMode.BILINEAR``, ...)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


class RandomAffine(Transform):
    """Each image rotated by an angle from ``degrees`` (clockwise), translated by up to
    ``translate`` = (fraction of the width, of the height), scaled by a factor from ``scale``
    and sheared by angles from ``shear``, about its centre; pixels from outside get ``fill``.
    torchvision's ``RandomAffine`` and its matrix (nearest-neighbour by default, as it)."""

    def __init__(
        self,
        degrees,
        translate=None,
        scale=None,
        shear=None,
        interpolation="nearest",
        fill=0,
        center=None,
    ):
        self.degrees = _range(degrees, "RandomAffine degrees")
        self.translate, self.scale, self.center = translate, scale, center
        if shear is not None:
            shear = [shear] if isinstance(shear, numbers.Number) else list(shear)
            shear = (_range(shear[0], "shear") if len(shear) == 1 else tuple(shear[:2])) + (
                tuple(shear[2:4]) if len(shear) == 4 else (0.0, 0.0)
            )
        self.shear = shear
        self.interpolation, self.fill = _interpolation_name(interpolation), fill

    def get_params(self, height, width, rng):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) for one image."""
        angle = float(rng.uniform(*self.degrees))
        tx = ty = 0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            tx, ty = (
                int(round(rng.uniform(-max_dx, max_dx))),
                int(round(rng.uniform(-max_dy, max_dy))),
            )
        scale = 1.0 if self.scale is None else float(rng.uniform(*self.scale))
        shear = (0.0, 0.0)
        if self.shear is not None:
            shear = (float(rng.uniform(*self.shear[:2])), float(rng.uniform(*self.shear[2:])))
        return angle, (tx, ty), scale, shear

    def _center(self, height, width):
        if self.center is None:
            return 0.0, 0.0
        return self.center[0] - width * 0.5, self.center[1] - height * 0.5

    def apply(self, images):
        rng = _generator()
        height, width = images.shape[-2:]
        out = numpy.empty_like(images)
        for index, image in enumerate(images):
            angle, translate, scale, shear = self.get_params(height, width, rng)
            matrix = _inverse_affine_matrix(
                angle, translate, scale, shear, self._center(height, width)
            )
            out[index] = _warp(image, matrix, (height, width), self.interpolation, self.fill)
        return out


class RandomRotation(RandomAffine):
    """Each image rotated by an angle from ``degrees`` (counter-clockwise, as torchvision's
    ``RandomRotation``) about its centre (or ``center``, in pixels); with ``expand`` the output
    grows to hold the whole rotated image (the same size for every image of a batch is then
    needed: one angle is drawn for the batch)."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center)
        self.degrees = _range(degrees, "RandomRotation degrees")
        self.expand = expand

    def apply(self, images):
        rng = _generator()
        height, width = images.shape[-2:]
        center = self._center(height, width)
        if self.expand:  # one output size for the batch: one angle
            matrix = _inverse_affine_matrix(
                -rng.uniform(*self.degrees), (0, 0), 1.0, (0, 0), center
            )
            size = _expanded_size(matrix, height, width)
            return numpy.stack(
                [_warp(i, matrix, size, self.interpolation, self.fill) for i in images]
            )
        out = numpy.empty_like(images)
        for index, image in enumerate(images):
            matrix = _inverse_affine_matrix(
                -rng.uniform(*self.degrees), (0, 0), 1.0, (0, 0), center
            )
            out[index] = _warp(image, matrix, (height, width), self.interpolation, self.fill)
        return out


_GREY = numpy.array([0.2989, 0.587, 0.114])  # ITU-R 601-2 luma, torchvision's weights


def _grey(images):
    """(N, 1, H, W) luma of RGB (N, 3, H, W) images, in floats."""
    if images.shape[1] != 3:
        raise ValueError(f"expected RGB images (3 channels), got {images.shape[1]}")
    values = _floats(images)
    return numpy.einsum("nchw,c->nhw", values, _GREY.astype(values.dtype))[:, None]


class Grayscale(Transform):
    """RGB images to grey (luma 0.2989 R + 0.587 G + 0.114 B), with 1 or 3 equal channels."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError("Grayscale: num_output_channels must be 1 or 3")
        self.num_output_channels = num_output_channels

    def apply(self, images):
        grey = _cast_like(_grey(images), images)
        return numpy.repeat(grey, self.num_output_channels, axis=1)


class RandomGrayscale(Transform):
    """Each RGB image turned grey (3 equal channels) with probability ``p``."""

    def __init__(self, p=0.1):
        self.p = p

    def apply(self, images):
        chosen = _generator().random(len(images)) < self.p
        out = images.copy()
        if chosen.any():
            out[chosen] = numpy.repeat(_cast_like(_grey(images[chosen]), images), 3, axis=1)
        return out


def _rgb_to_hsv(rgb):
    """(3, H, W) RGB in [0, 1] -> hue, saturation, value in [0, 1]."""
    high, low = rgb.max(axis=0), rgb.min(axis=0)
    spread = high - low
    saturation = numpy.where(high > 0, spread / numpy.where(high > 0, high, 1), 0.0)
    safe = numpy.where(spread > 0, spread, 1)
    r, g, b = rgb
    hue = numpy.where(
        high == r,
        (g - b) / safe,
        numpy.where(high == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe),
    )
    hue = numpy.where(spread > 0, (hue / 6.0) % 1.0, 0.0)
    return hue, saturation, high


def _hsv_to_rgb(hue, saturation, value):
    sector = numpy.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    sector = sector.astype(int) % 6
    p = value * (1 - saturation)
    q = value * (1 - saturation * fraction)
    t = value * (1 - saturation * (1 - fraction))
    choices = [
        (value, t, p),
        (q, value, p),
        (p, value, t),
        (p, q, value),
        (t, p, value),
        (value, p, q),
    ]
    return numpy.stack(
        [numpy.choose(sector, [c[channel] for c in choices]) for channel in range(3)]
    )


def _blend(image, other, factor, bound):
    """factor * image + (1 - factor) * other, clipped to [0, bound] (torchvision's _blend)."""
    return numpy.clip(factor * image + (1 - factor) * other, 0, bound)


class ColorJitter(Transform):
    """Each image's brightness, contrast, saturation and hue changed by random factors, in a
    random order (torchvision's ``ColorJitter``): a number v gives factors in [1 - v, 1 + v]
    (hue: shifts in [-v, v], v <= 0.5); a pair, that range."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = (
            _range(brightness, "brightness", 1.0, (0, math.inf)) if brightness else None
        )
        self.contrast = _range(contrast, "contrast", 1.0, (0, math.inf)) if contrast else None
        self.saturation = (
            _range(saturation, "saturation", 1.0, (0, math.inf)) if saturation else None
        )
        self.hue = _range(hue, "hue", 0.0, (-0.5, 0.5)) if hue else None

    def apply(self, images):
        rng = _generator()
        bound = _bound(images)
        out = numpy.empty_like(images)
        for index, image in enumerate(images):
            values = _floats(image)
            for op in rng.permutation(4):
                if op == 0 and self.brightness:
                    values = numpy.clip(values * rng.uniform(*self.brightness), 0, bound)
                elif op == 1 and self.contrast:
                    mean = _grey(values[None])[0].mean() if len(values) == 3 else values.mean()
                    values = _blend(values, mean, rng.uniform(*self.contrast), bound)
                elif op == 2 and self.saturation:
                    values = _blend(
                        values, _grey(values[None])[0], rng.uniform(*self.saturation), bound
                    )
                elif op == 3 and self.hue:
                    hue, saturation, value = _rgb_to_hsv(values / bound)
                    hue = (hue + rng.uniform(*self.hue)) % 1.0
                    values = _hsv_to_rgb(hue, saturation, value) * bound
            out[index] = _cast_like(values, image)
        return out


def _gaussian_kernel(size, sigma):
    offsets = numpy.arange(size) - (size - 1) / 2
    kernel = numpy.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


class GaussianBlur(Transform):
    """Each image blurred by a Gaussian of ``kernel_size`` (odd) with a standard deviation drawn
    from ``sigma`` (a number: that one), reflecting at the edges, as torchvision's."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _pair(kernel_size, "GaussianBlur")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError(
                f"GaussianBlur: kernel sizes must be odd and positive, got {kernel_size}"
            )
        self.sigma = (float(sigma),) * 2 if isinstance(sigma, numbers.Number) else tuple(sigma)

    def apply(self, images):
        rng = _generator()
        kh, kw = self.kernel_size
        padded = _pad(_floats(images), kw // 2, kh // 2, kw // 2, kh // 2, mode="reflect")
        out = numpy.empty_like(images)
        height, width = images.shape[-2:]
        for index, image in enumerate(padded):
            sigma = rng.uniform(*self.sigma)
            vertical = _gaussian_kernel(kh, sigma).astype(padded.dtype)
            horizontal = _gaussian_kernel(kw, sigma).astype(padded.dtype)
            rows = sum(w * image[:, i : i + height] for i, w in enumerate(vertical))
            both = sum(w * rows[..., j : j + width] for j, w in enumerate(horizontal))
            out[index] = _cast_like(both, images)
        return out


class RandomErasing(Transform):
    """With probability ``p``, a random rectangle of each image (``scale`` of its area, aspect
    ratio in ``ratio``) set to ``value`` (a number, one per channel, or "random": normal noise),
    as torchvision's ``RandomErasing`` (on Tensor images, after ``ToTensor``)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    def apply(self, images):
        rng = _generator()
        out = images.copy()
        channels, height, width = images.shape[1:]
        log_ratio = numpy.log(self.ratio)
        for index in numpy.flatnonzero(rng.random(len(images)) < self.p):
            for _ in range(10):  # torchvision's tries; none fitting leaves the image as it is
                area = height * width * rng.uniform(*self.scale)
                aspect = math.exp(rng.uniform(*log_ratio))
                h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
                if h < height and w < width:
                    top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
                    if isinstance(self.value, str):
                        patch = rng.standard_normal((channels, h, w))
                    else:
                        patch = numpy.asarray(self.value, float).reshape(-1, 1, 1)
                    out[index, :, top : top + h, left : left + w] = patch
                    break
        return out


class TransformDataset(Dataset):
    """``dataset`` with ``transform`` applied to inputs and ``target_transform`` to targets.

    One sample at a time (``ds[i]``) each transform sees the sample as it is. When the wrapped
    dataset reads whole batches and both transforms are batchable (npgrad's), ``DataLoader``'s
    batches are transformed at once, through ``transform.batch``.
    """

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset, self.transform, self.target_transform = dataset, transform, target_transform

    def _apply(self, sample, batched):
        x, *rest = sample
        if self.transform is not None:
            x = self.transform.batch(x) if batched else self.transform(x)
        if rest and self.target_transform is not None:
            target = self.target_transform
            rest[0] = target.batch(rest[0]) if batched else target(rest[0])
        return (x, *rest)

    def __getitem__(self, index):
        return self._apply(self.dataset[index], False)

    def __len__(self):
        return len(self.dataset)

    @property
    def batched(self):
        """Batches can be read at once when the wrapped dataset can and both transforms take
        batches."""
        return (
            getattr(self.dataset, "batched", False)
            and batchable(self.transform)
            and batchable(self.target_transform)
        )

    def get_batch(self, indices):
        """The wrapped dataset's batch, transformed as a whole."""
        return self._apply(self.dataset.get_batch(indices), True)
