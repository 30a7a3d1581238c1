"""Pooling over 2-D windows, max and average, as running reductions over kernel offsets.

Each kernel offset (i, j) sees one strided slice of the (padded) input covering every output
position; pooling is a running max (or sum) over those kh * kw slices, and backward sends the
gradient back through the same slices. No window tensor is ever built and Python loops run only
over the kernel offsets.
"""

from npgrad.autograd import Function
from npgrad.backend import xp
from npgrad.errors import ShapeError
from npgrad.ops.conv import _offset_slices, output_size


def _geometry(x, kernel, stride, padding, dilation, op):
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input (N, C, H, W), got {x.shape}")
    out_hw = tuple(
        output_size(x.shape[2 + d], kernel[d], stride[d], padding[d], dilation[d]) for d in range(2)
    )
    if min(out_hw) <= 0:
        raise ShapeError(f"{op}: input of shape {x.shape} is smaller than the window {kernel}")
    return out_hw


def _padded(x, padding, value):
    if padding == (0, 0):
        return x  # no copy when there is nothing to pad
    return xp.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=value)


def _offsets(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


class MaxPool2d(Function):
    """y = max over each window; the gradient goes to the first maximum of each window"""

    @staticmethod
    def forward(ctx, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1)):
        out_hw = _geometry(x, kernel, stride, padding, dilation, "max_pool2d")
        padded = _padded(x, padding, -xp.inf)
        y = None
        for i, j in _offsets(kernel):
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            window_part = padded[:, :, rows, columns]
            y = window_part.copy() if y is None else xp.maximum(y, window_part)
        ctx.save_for_backward(padded, y)
        ctx.geometry = (x.shape, kernel, stride, padding, dilation, out_hw)
        return y

    @staticmethod
    def backward(ctx, grad):
        padded, y = ctx.saved_tensors
        (n, c, h, w), kernel, stride, padding, dilation, out_hw = ctx.geometry
        grad_padded = xp.zeros(padded.shape, dtype=grad.dtype)
        unclaimed = xp.ones(y.shape, dtype=bool)
        for i, j in _offsets(kernel):  # row-major order: ties go to the first maximum, as torch
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            winner = (padded[:, :, rows, columns] == y) & unclaimed
            unclaimed &= ~winner
            grad_padded[:, :, rows, columns] += grad * winner  # dy/dx = 1 at the window's max
        return grad_padded[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


class AvgPool2d(Function):
    """y = mean over each window (zero padding counted, as PyTorch's default)"""

    @staticmethod
    def forward(ctx, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0)):
        out_hw = _geometry(x, kernel, stride, padding, (1, 1), "avg_pool2d")
        padded = _padded(x, padding, 0)
        total = xp.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        for i, j in _offsets(kernel):
            rows, columns = _offset_slices(i, j, stride, (1, 1), out_hw)
            total += padded[:, :, rows, columns]
        ctx.geometry = (x.shape, padded.shape, kernel, stride, padding, out_hw)
        return total / (kernel[0] * kernel[1])

    @staticmethod
    def backward(ctx, grad):
        (n, c, h, w), padded_shape, kernel, stride, padding, out_hw = ctx.geometry
        share = grad / (kernel[0] * kernel[1])  # dy/dx = 1 / window size for every member
        grad_padded = xp.zeros(padded_shape, dtype=grad.dtype)
        for i, j in _offsets(kernel):
            rows, columns = _offset_slices(i, j, stride, (1, 1), out_hw)
            grad_padded[:, :, rows, columns] += share
        return grad_padded[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]
