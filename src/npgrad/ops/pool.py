"""Pooling over 2-D windows, max and average, as running reductions over kernel offsets.

Each kernel offset (i, j) sees one strided slice of the (padded) input covering every output
position; pooling is a running max (or sum) over those kh * kw slices, and backward sends the
gradient back through the same slices. No window tensor is ever built and Python loops run only
over the kernel offsets.
"""

from npgrad import buffers
from npgrad.autograd import Function, is_grad_enabled, linear_backward
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
        record = is_grad_enabled() and ctx.needs_input_grad[0]
        offsets = _offsets(kernel)
        y = winner = None
        for k, (i, j) in enumerate(offsets):
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            part = padded[:, :, rows, columns]
            if y is None:  # outputs keep the input's memory layout (batch last after a conv)
                y = buffers.empty_like(part)
                y[...] = part
                winner = buffers.empty_like(y, xp.uint8 if len(offsets) <= 256 else xp.int32)
                winner.fill(0)
                continue
            if record:  # offsets run in row-major order: a strictly greater value wins, ties stay
                better = xp.greater(part, y).view(xp.uint8)
                xp.maximum(winner, better * winner.dtype.type(k), out=winner)
            xp.maximum(y, part, out=y)
        if record:
            ctx.winner = winner
            ctx.geometry = (x.shape, padded.shape, kernel, stride, padding, dilation, out_hw)
        return y

    @staticmethod
    def backward(ctx, grad):
        winner = ctx.winner
        (n, c, h, w), padded_shape, kernel, stride, padding, dilation, out_hw = ctx.geometry
        grad = _layout_like(grad, winner)
        # in the input's memory layout, which the winners (copied in order "K") share
        grad_padded = buffers.empty_like(winner, grad.dtype, shape=padded_shape)
        # windows that never overlap get plain writes; overlapping ones accumulate
        disjoint = all(stride[d] >= dilation[d] * (kernel[d] - 1) + 1 for d in range(2))
        # windows that tile the input exactly (2x2 windows, stride 2, even sizes) write every
        # element once; otherwise the elements no window reaches get a zero gradient
        tiled = all(
            stride[d] == kernel[d]
            and dilation[d] == 1
            and padded_shape[2 + d] == stride[d] * out_hw[d]
            for d in range(2)
        )
        if not tiled:
            grad_padded.fill(0)
        for k, (i, j) in enumerate(_offsets(kernel)):
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            target = grad_padded[:, :, rows, columns]
            if disjoint:
                xp.multiply(grad, winner == k, out=target)  # dy/dx = 1 at the window's max
            else:
                target += grad * (winner == k)
        return grad_padded[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]

    @staticmethod
    def backward_graph(ctx, grad, x):
        winner = ctx.winner
        _, _, kernel, stride, padding, dilation, out_hw = ctx.geometry

        def forward_map(v):  # J v: v at each window's winner
            padded = _padded(v, padding, 0)
            out = xp.zeros(winner.shape, dtype=v.dtype)
            for k, (i, j) in enumerate(_offsets(kernel)):
                rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
                out += padded[:, :, rows, columns] * (winner == k)
            return out

        return linear_backward(ctx, grad, forward_map)


def max_pool_indices(x, kernel, stride, padding, dilation, width):
    """Where each window's first maximum is, as flat indices into the unpadded H * W (with
    ``width`` W): PyTorch's ``return_indices``. No gradient; the same windows as MaxPool2d."""
    out_hw = _geometry(x, kernel, stride, padding, dilation, "max_pool2d")
    padded = _padded(x, padding, -xp.inf)
    offsets = _offsets(kernel)
    best, winner = None, xp.zeros(x.shape[:2] + out_hw, dtype=xp.int64)
    for k, (i, j) in enumerate(offsets):
        rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
        part = padded[:, :, rows, columns]
        if best is None:
            best = part.copy()
            continue
        better = part > best  # a later offset wins only when strictly greater
        best = xp.where(better, part, best)
        winner[better] = k
    row = xp.arange(out_hw[0])[:, None] * stride[0] - padding[0]
    column = xp.arange(out_hw[1])[None, :] * stride[1] - padding[1]
    offset_rows = xp.array([i for i, _ in offsets]) * dilation[0]
    offset_columns = xp.array([j for _, j in offsets]) * dilation[1]
    return (row + offset_rows[winner]) * width + column + offset_columns[winner]


def _layout_like(array, like):
    """``array`` with the memory layout of ``like`` (same shape): element-wise ops between the
    two then walk memory in one order. A copy only when the layouts differ."""
    if buffers.axis_order(array) == buffers.axis_order(like):
        return array
    out = buffers.empty_like(like, array.dtype)
    out[...] = array
    return out


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        _, _, kernel, stride, padding, _ = ctx.geometry
        return linear_backward(
            ctx, grad, lambda v: AvgPool2d.forward(Function(), v, kernel, stride, padding)
        )
