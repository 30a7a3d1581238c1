"""2-D convolution as im2col + one GEMM, with the backward as two GEMMs + col2im.

im2col lays every receptive field out as a column, so that the convolution becomes one matrix
product with the flattened filters. Columns are channels-major (C * kh * kw, N * H_out * W_out):
each kernel offset fills one contiguous block with a single strided copy, and col2im reads the
blocks back the same way. Python loops run only over kernel offsets (9 for a 3x3 kernel), never
over samples or pixels.
"""

from numpy.lib.stride_tricks import sliding_window_view

from npgrad.autograd import Function
from npgrad.backend import xp
from npgrad.errors import ShapeError


def output_size(size, kernel, stride, padding, dilation):
    """Output length of one spatial dim (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _windows(padded, kernel, stride, dilation):
    """View of shape (N, C, H_out, W_out, kh, kw): every receptive field, no copy."""
    kh, kw = kernel
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    view = sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def _offset_slices(i, j, stride, dilation, out_hw):
    """The strided slices of the padded input that kernel offset (i, j) sees, over all outputs."""
    top, left = i * dilation[0], j * dilation[1]
    return (
        slice(top, top + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
        slice(left, left + stride[1] * (out_hw[1] - 1) + 1, stride[1]),
    )


def im2col(x, kernel, stride, padding, dilation, out_hw):
    """(N, C, H, W) -> columns (C * kh * kw, N * H_out * W_out), channels-major.

    One strided copy per kernel offset: column block (c, i, j) holds, for every output pixel,
    the input value that offset (i, j) of the kernel multiplies.
    """
    n, c = x.shape[:2]
    padded = (
        x
        if padding == (0, 0)
        else xp.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    )
    cols = xp.empty((c, kernel[0], kernel[1], n, out_hw[0], out_hw[1]), dtype=x.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            cols[:, i, j] = padded[:, :, rows, columns].transpose(1, 0, 2, 3)
    return cols.reshape(c * kernel[0] * kernel[1], n * out_hw[0] * out_hw[1])


def col2im(cols, x_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of im2col: add every column entry back onto the pixel it came from."""
    n, c, h, w = x_shape
    # accumulate channels-major, the blocks' own memory order; transpose once at the end (a view)
    grad = xp.zeros((c, n, h + 2 * padding[0], w + 2 * padding[1]), dtype=cols.dtype)
    blocks = cols.reshape(c, kernel[0], kernel[1], n, out_hw[0], out_hw[1])
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows, columns = _offset_slices(i, j, stride, dilation, out_hw)
            grad[:, :, rows, columns] += blocks[:, i, j]
    grad = grad.transpose(1, 0, 2, 3)
    return grad[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


class Conv2d(Function):
    """y[n, o] = b[o] + sum_c (w[o, c] * x[n, c]) (cross-correlation), via im2col + GEMM"""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        if x.ndim != 4 or x.shape[1] != weight.shape[1]:
            raise ShapeError(
                f"conv2d: input of shape {x.shape} does not fit a weight of shape {weight.shape} "
                f"(expected input (N, {weight.shape[1]}, H, W))"
            )
        kernel = weight.shape[2:]
        out_hw = tuple(
            output_size(x.shape[2 + d], kernel[d], stride[d], padding[d], dilation[d])
            for d in range(2)
        )
        if min(out_hw) <= 0:
            raise ShapeError(
                f"conv2d: input of shape {x.shape} is smaller than the kernel {tuple(kernel)} "
                f"(with padding {padding} and dilation {dilation})"
            )
        cols = im2col(x, kernel, stride, padding, dilation, out_hw)
        filters = weight.reshape(weight.shape[0], -1)
        out = filters @ cols  # (O, N * H_out * W_out): one GEMM
        if bias is not None:
            out += bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, kernel, stride, padding, dilation, out_hw)
        out = out.reshape(weight.shape[0], x.shape[0], out_hw[0], out_hw[1])
        return out.transpose(1, 0, 2, 3)  # (N, O, H_out, W_out), a view

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        x_shape, kernel, stride, padding, dilation, out_hw = ctx.geometry
        grad_out = grad.transpose(1, 0, 2, 3).reshape(weight.shape[0], -1)  # (O, N*Ho*Wo)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_cols = weight.reshape(weight.shape[0], -1).T @ grad_out  # dy/dx: filters back
            grad_x = col2im(grad_cols, x_shape, kernel, stride, padding, dilation, out_hw)
        if ctx.needs_input_grad[1]:
            grad_w = (grad_out @ cols.T).reshape(weight.shape)  # dy/dw = grad im2col(x)^T
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum(axis=1)  # dy/db = 1 at every output position
        return grad_x, grad_w, grad_b
