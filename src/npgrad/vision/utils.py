"""torchvision's ``make_grid`` (images tiled into one) and ``save_image`` (written as PNG
without Pillow; other formats through Pillow when it is installed)."""

import math
import os

import numpy

from npgrad.tensor import Tensor, _array_of


def make_grid(
    tensor,
    nrow=8,
    padding=2,
    normalize=False,
    value_range=None,
    scale_each=False,
    pad_value=0.0,
):
    """Images (B, C, H, W) (or a list of (C, H, W)) tiled ``nrow`` to a row, ``padding`` pixels
    of ``pad_value`` around each, as one (3, H', W') image Tensor (grey images get three equal
    channels). With ``normalize`` values are shifted and scaled to [0, 1] from ``value_range``
    (default: the images' min and max; with ``scale_each``, each image's own)."""
    if isinstance(tensor, (list, tuple)):
        images = numpy.stack([_array_of(t) for t in tensor])
    else:
        images = numpy.array(_array_of(tensor))
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), got shape {images.shape}")
    if images.shape[1] == 1:
        images = numpy.repeat(images, 3, axis=1)
    if normalize:
        images = images.astype(numpy.float32 if images.dtype.kind != "f" else images.dtype)
        parts = images if scale_each else images[None]
        for part in parts:
            low, high = value_range if value_range is not None else (part.min(), part.max())
            numpy.clip(part, low, high, out=part)
            part -= low
            part /= max(high - low, 1e-5)
    if len(images) == 1:
        return Tensor._wrap(images[0])
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = height + padding, width + padding
    grid = numpy.full(
        (channels, rows * cell_h + padding, columns * cell_w + padding), pad_value, images.dtype
    )
    for index, image in enumerate(images):
        top, left = (index // columns) * cell_h + padding, (index % columns) * cell_w + padding
        grid[:, top : top + height, left : left + width] = image
    return Tensor._wrap(grid)


def save_image(tensor, fp, format=None, **grid_options):  # noqa: A002 - torchvision's name
    """Images saved as one picture (``make_grid``'s layout and options): float values in [0, 1]
    become 8 bits. PNG is written without Pillow; other formats (from ``format`` or the file
    name's extension) need it."""
    grid = _array_of(make_grid(tensor, **grid_options))
    if grid.dtype.kind == "f":  # as torchvision: x * 255 + 0.5, clamped, truncated
        grid = numpy.clip(grid * 255 + 0.5, 0, 255)
    pixels = numpy.ascontiguousarray(grid.astype(numpy.uint8).transpose(1, 2, 0))
    kind = (format or os.path.splitext(os.fspath(fp))[1].lstrip(".") or "png").lower()
    if kind == "png":
        from npgrad.io.png import write_png

        write_png(fp, pixels)
        return
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"save_image: writing {kind!r} files needs Pillow (pip install pillow); PNG does not"
        ) from error
    Image.fromarray(pixels).save(fp, format=format)
