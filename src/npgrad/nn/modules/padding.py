"""Padding layers: ``F.pad`` with a fixed mode and widths, under PyTorch's names."""

from npgrad.nn import functional as F
from npgrad.nn.modules.module import Module


class _PadNd(Module):
    """Pads the last ``dims`` dims by ``padding``: an int (every side) or PyTorch's tuple
    (left, right[, top, bottom]), with ``mode`` and, for constant padding, ``value``."""

    mode, dims = "constant", 2

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self.dims:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or {2 * self.dims} ints, "
                f"got {padding!r}"
            )
        self.value = value

    def forward(self, input):  # noqa: A002
        value = self.value if self.mode == "constant" else None
        return F.pad(input, self.padding, self.mode, value)

    def extra_repr(self):
        text = f"{self.padding}"
        return text + (f", value={self.value}" if self.mode == "constant" else "")


class ConstantPad1d(_PadNd):
    """Pad (N, C, L) input's last dim with ``value``."""

    dims = 1

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pad (N, C, H, W) input's last two dims with ``value``."""

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad1d(_PadNd):
    """Pad (N, C, L) input's last dim with zeros."""

    dims = 1


class ZeroPad2d(_PadNd):
    """Pad (N, C, H, W) input's last two dims with zeros.

    >>> import npgrad
    >>> npgrad.nn.ZeroPad2d((1, 1, 2, 0))(npgrad.ones(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its mirror image (the edge not repeated)."""

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last two dims with their mirror image (the edge not repeated)."""

    mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge value."""

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last two dims by repeating their edge values."""

    mode = "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around."""

    mode, dims = "circular", 1


class CircularPad2d(_PadNd):
    """Pad the last two dims by wrapping around."""

    mode = "circular"


class ConstantPad3d(_PadNd):
    """Pad (N, C, D, H, W) input's last three dims with ``value``."""

    dims = 3

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad3d(_PadNd):
    """Pad (N, C, D, H, W) input's last three dims with zeros."""

    dims = 3


class ReflectionPad3d(_PadNd):
    """Pad the last three dims with their mirror image (the edge not repeated)."""

    mode, dims = "reflect", 3


class ReplicationPad3d(_PadNd):
    """Pad the last three dims by repeating their edge values."""

    mode, dims = "replicate", 3


class CircularPad3d(_PadNd):
    """Pad the last three dims by wrapping around."""

    mode, dims = "circular", 3
