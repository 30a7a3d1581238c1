"""2-D convolution as im2col + GEMM, with the backward as two GEMMs + col2im.

im2col lays every receptive field out as a column, so that the convolution becomes one matrix
product with the flattened filters: (O, C*kh*kw) @ (C*kh*kw, positions). Columns are
channels-major: row (c, i, j) holds, for every output position, the input value that kernel offset
(i, j) of channel c multiplies. Python loops run only over kernel offsets (9 for a 3x3 kernel) and
over chunks of output rows, never over pixels.

Activations live "batch last" in memory: (C, H, W, N), the sample index varying fastest (the
layout cuda-convnet used). The output is an (N, O, H_out, W_out) view of a C-contiguous
(O, H_out, W_out, N) array, and an input laid out that way (the previous convolution's output
after element-wise ops) needs no transposing copy. With the batch innermost, every spatial slice
(a crop, a pooling window's stride-2 slice) still reads runs of N contiguous values, so NumPy's
element-wise calls on them run at full speed instead of paying a loop call every 24 values.

Two layouts of the columns:

* exact positions (forward and the weight gradient, any stride): one strided copy per kernel
  offset, positions (H_out, W_out, N). With the batch innermost each copy moves runs of
  W_out * N contiguous values, so it runs near memory speed, and the output is compact.
* the input gradient with stride 1, "shifted rows": with the padded input (C, Hp, Wp, N)
  flattened to (C, Hp*Wp*N), the value that offset (i, j) multiplies at position p is the input
  at p + (i*dilation*Wp + j*dilation)*N, so each row of the columns is one contiguous slice of
  the input. The columns lie on a grid of H_out rows of the padded width Wp (positions with
  w >= W_out straddle a row's end: their columns are zeros, the GEMM writing only each row's
  first W_out * N), and col2im becomes kh*kw additions of contiguous slices, three times faster
  than the strided additions the exact positions need.

Both work on a few output rows at a time so that the column buffer (kh*kw times the input rows)
stays in the CPU cache instead of making a round trip through memory, and backward rebuilds the
columns of each chunk instead of keeping them all (cheaper than reading them back, and the
largest buffer of a CNN's step is not held between forward and backward). An input small enough
for one chunk keeps its columns for backward instead: there rebuilding would only add work.

Grouped convolutions (``groups`` > 1, depthwise when every channel is its own group) use the same
columns: their rows are channels-major, so each group's rows are one block, and the GEMMs become
one batched matmul over the groups, (G, O/G, C/G*kh*kw) @ (G, C/G*kh*kw, positions).
"""

from npgrad import buffers
from npgrad.autograd import Function
from npgrad.backend import xp
from npgrad.errors import ShapeError

# column-buffer size (elements) a chunk of output rows aims for: 8 MB of float32, in cache
CHUNK_ELEMENTS = 1 << 21


def output_size(size, kernel, stride, padding, dilation):
    """Output length of one spatial dim (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _offset_slices(i, j, stride, dilation, out_hw):
    """The strided slices of the padded input that kernel offset (i, j) sees, over all outputs."""
    top, left = i * dilation[0], j * dilation[1]
    return (
        slice(top, top + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
        slice(left, left + stride[1] * (out_hw[1] - 1) + 1, stride[1]),
    )


def batch_last(x, padding=(0, 0)):
    """(N, C, H, W) -> a C-contiguous (C, H + 2*ph, W + 2*pw, N) array, zero-padded.

    No copy when ``x`` already is such an array, transposed (a convolution's output after an
    element-wise op), and there is nothing to pad.
    """
    n, c, h, w = x.shape
    moved = x.transpose(1, 2, 3, 0)
    if padding == (0, 0) and moved.flags.c_contiguous:
        return moved
    padded = buffers.empty((c, h + 2 * padding[0], w + 2 * padding[1], n), x.dtype)
    if padding != (0, 0):
        padded.fill(0)
    padded[:, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = moved
    return padded


class _Geometry:
    """Where a convolution's columns come from: kernel, stride, dilation, grid of positions.

    Positions run over (output row, grid column, sample), the sample fastest; a grid row is
    ``row`` positions long, and chunks are ranges of output rows.
    """

    def __init__(self, padded_shape, kernel, stride, dilation, out_hw, shifted=False):
        _, _, padded_w, batch = padded_shape
        self.kernel, self.stride, self.dilation, self.out_hw = kernel, stride, dilation, out_hw
        self.shifted = shifted and stride == (1, 1)
        # grid columns per output row: the whole padded width (shifted rows) or just the outputs
        self.grid_w = padded_w if self.shifted else out_hw[1]
        self.row = self.grid_w * batch
        self.offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
        self.shifts = [
            (i * dilation[0] * padded_w + j * dilation[1]) * batch for i, j in self.offsets
        ]

    def chunks(self, channels):
        """Output-row ranges (start, stop) small enough for their columns to stay in cache."""
        step = max(1, CHUNK_ELEMENTS // max(channels * len(self.offsets) * self.row, 1))
        height = self.out_hw[0]
        return [(start, min(start + step, height)) for start in range(0, height, step)]

    def im2col(self, xc, start, stop, cols):
        """Fill ``cols`` (C*kh*kw, positions) for output rows start:stop from ``xc`` (C, Hp, Wp, N).

        Rows past C*kh*kw (the bias's row of ones) are left as they are.
        """
        c = xc.shape[0]
        filled = cols[: c * len(self.offsets)]
        if self.shifted:
            flat = xc.reshape(c, -1)
            first, size = start * self.row, (stop - start) * self.row
            blocks = filled.reshape(c, len(self.offsets), size)
            for k, shift in enumerate(self.shifts):  # row (c, k) is the input moved by `shift`
                source = flat[:, first + shift : first + shift + size]
                blocks[:, k, : source.shape[1]] = source
                blocks[:, k, source.shape[1] :] = 0  # past the input's end: garbage positions
        else:
            blocks = filled.reshape(c, len(self.offsets), stop - start, *self.out_hw[1:], -1)
            for k, (i, j) in enumerate(self.offsets):
                blocks[:, k] = xc[(slice(None), *self._slices(i, j, start, stop))]
        return cols

    def col2im(self, grad_cols, grad_xc, start, stop):
        """The adjoint of im2col: add each column entry onto the input pixel it came from."""
        c = grad_xc.shape[0]
        grad_cols = grad_cols[: c * len(self.offsets)]  # without the bias's row of ones
        if self.shifted:
            flat = grad_xc.reshape(c, -1)
            first, size = start * self.row, (stop - start) * self.row
            blocks = grad_cols.reshape(c, len(self.offsets), size)
            for k, shift in enumerate(self.shifts):
                target = flat[:, first + shift : first + shift + size]
                target += blocks[:, k, : target.shape[1]]
        else:
            blocks = grad_cols.reshape(c, len(self.offsets), stop - start, *self.out_hw[1:], -1)
            for k, (i, j) in enumerate(self.offsets):
                target = grad_xc[(slice(None), *self._slices(i, j, start, stop))]
                target += blocks[:, k]  # in place (`a[index] += b` would copy it back as well)

    def _slices(self, i, j, start, stop):
        """The input rows and columns kernel offset (i, j) sees for output rows start:stop."""
        rows, columns = _offset_slices(i, j, self.stride, self.dilation, (stop, self.out_hw[1]))
        return slice(rows.start + start * self.stride[0], rows.stop, rows.step), columns


def _grouped(matrix, groups):
    """(R, X) -> (groups, R / groups, X), a view: each group's rows are one block."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


class Conv2d(Function):
    """y[n, o] = b[o] + sum_c (w[o, c] * x[n, c]) (cross-correlation), via im2col + GEMM

    With ``groups`` G, output channel o only sees the input channels of its group (weight
    (O, C/G, kh, kw)): y[n, o] = b[o] + sum_{c in group(o)} (w[o, c] * x[n, c]).
    """

    @staticmethod
    def forward(
        ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1
    ):
        if x.ndim != 4 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
            grouped = f" in {groups} groups" if groups != 1 else ""
            raise ShapeError(
                f"conv2d: input of shape {x.shape} does not fit a weight of shape {weight.shape}"
                f"{grouped} (expected input (N, {weight.shape[1] * groups}, H, W)"
                + (f" and output channels divisible by {groups}" if groups != 1 else "")
                + ")"
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
        n, c = x.shape[:2]
        xc = batch_last(x, padding)
        geometry = _Geometry(xc.shape, kernel, stride, dilation, out_hw)  # exact positions
        filters = weight.reshape(weight.shape[0], -1)
        # the bias as one more filter column, against a row of ones (one group: with more, the
        # ones would have to sit in every group's rows, and the bias is added afterwards)
        ones = bias is not None and groups == 1
        if ones:
            filters = xp.concatenate([filters, bias[:, None]], axis=1)
        dtype = xp.result_type(x, weight)
        out = buffers.empty((weight.shape[0], *out_hw, n), dtype)
        flat_out = out.reshape(weight.shape[0], -1)
        # a small input (one chunk) keeps its columns for backward; larger ones are rebuilt
        keep = len(geometry.chunks(c)) == 1
        cols = _convolve(xc, filters, geometry, groups, flat_out, ones, keep)
        if bias is not None and not ones:
            flat_out += bias[:, None]
        # x too, though backward reads xc: the engine's in-place checks look for the input itself
        ctx.save_for_backward(xc, weight, cols if keep and n else None, x)
        ctx.geometry, ctx.groups = geometry, groups
        ctx.unpadded = (x.shape, padding)
        return out.transpose(3, 0, 1, 2)  # (N, O, H_out, W_out), a view: batch last

    @staticmethod
    def backward(ctx, grad):
        xc, weight, kept_columns, _ = ctx.saved_tensors
        geometry = ctx.geometry
        (n, c, h, w), padding = ctx.unpadded
        grad_out = _compact_batch_last(grad)
        flat_grad = grad_out.reshape(weight.shape[0], -1)
        filters = weight.reshape(weight.shape[0], -1)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        groups = ctx.groups
        # the bias gradient as one more column of the weight GEMM's (with one group)
        ones = need_w and need_b and groups == 1
        dtype = xp.result_type(xc, weight, grad)
        grad_w = grad_b = grad_x = None
        if need_w:  # dy/dw = grad @ im2col(x)^T, the columns kept or rebuilt in cache
            grad_w = _filter_gradient(xc, flat_grad, geometry, groups, dtype, ones, kept_columns)
            if ones:
                grad_w, grad_b = grad_w[:, :-1], grad_w[:, -1]  # dy/db = 1 at every position
            grad_w = grad_w.reshape(weight.shape)
        if need_b and not ones:
            grad_b = flat_grad.sum(axis=1)
        if need_x:
            grad_xc = _input_gradient(geometry, xc.shape, filters, grad_out, dtype, groups)
            inner = grad_xc[:, padding[0] : padding[0] + h, padding[1] : padding[1] + w]
            grad_x = inner.transpose(3, 0, 1, 2)
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad, x, weight, bias=None, *rest):
        geometry, groups = ctx.geometry, ctx.groups
        (_, _, h, w), padding = ctx.unpadded
        stride, dilation = geometry.stride, geometry.dilation
        kernel = weight.shape[2:]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dy/dx: the transposed convolution of grad with w
            extra = tuple(
                size - transposed_output_size(out, k, s, p, 0, d)
                for size, out, k, s, p, d in zip(
                    (h, w), grad.shape[2:], kernel, stride, padding, dilation, strict=True
                )
            )
            grad_x = ConvTranspose2d.apply(
                grad,
                weight,
                None,
                stride=stride,
                padding=padding,
                output_padding=extra,
                dilation=dilation,
                groups=groups,
            )
        if ctx.needs_input_grad[1]:  # dy/dw: x correlated with grad
            grad_w = ConvWeightGradient.apply(
                x,
                grad,
                kernel=tuple(kernel),
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
            )
        if bias is not None and ctx.needs_input_grad[2]:
            grad_b = grad.sum(dim=(0, 2, 3))  # dy/db = 1
        return grad_x, grad_w, grad_b


def transposed_output_size(size, kernel, stride, padding, output_padding, dilation):
    """Output length of one spatial dim of a transposed convolution (PyTorch's formula)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2d(Function):
    """The transpose (adjoint) of Conv2d with the same weight: y = A_w^T x, where A_w is the
    convolution of a (N, C_out, H_out, W_out) input into (N, C_in, H, W).

    Weight (C_in, C_out / G, kh, kw). Each input pixel scatters its filter-weighted copy onto a
    window of the output: forward is Conv2d's input gradient (GEMM + col2im), and backward is a
    Conv2d forward of the output gradient (dL/dx = A_w g) and Conv2d's weight gradient with the
    roles of input and output gradient swapped (<g, A_w^T x> = <A_w g, x>).
    """

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias=None,
        stride=(1, 1),
        padding=(0, 0),
        output_padding=(0, 0),
        dilation=(1, 1),
        groups=1,
    ):
        if x.ndim != 4 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
            grouped = f" in {groups} groups" if groups != 1 else ""
            raise ShapeError(
                f"conv_transpose2d: input of shape {x.shape} does not fit a weight of shape "
                f"{weight.shape}{grouped} (expected input (N, {weight.shape[0]}, H, W)"
                + (f" and input channels divisible by {groups}" if groups != 1 else "")
                + ")"
            )
        n, _, h, w = x.shape
        kernel = weight.shape[2:]
        out_hw = tuple(
            transposed_output_size(
                (h, w)[d], kernel[d], stride[d], padding[d], output_padding[d], dilation[d]
            )
            for d in range(2)
        )
        if min(out_hw) <= 0:
            raise ShapeError(
                f"conv_transpose2d: input of shape {x.shape} with kernel {tuple(kernel)}, "
                f"stride {stride}, padding {padding} gives an empty output {out_hw}"
            )
        channels = weight.shape[1] * groups
        padded_shape = (channels, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1], n)
        geometry = _Geometry(padded_shape, kernel, stride, dilation, (h, w))
        xc = batch_last(x)  # (C_in, H, W, N): the "output gradient" of the convolution
        dtype = xp.result_type(x, weight)
        filters = weight.reshape(weight.shape[0], -1)
        out = _input_gradient(geometry, padded_shape, filters, xc, dtype, groups)
        inner = out[:, padding[0] : padding[0] + out_hw[0], padding[1] : padding[1] + out_hw[1]]
        if bias is not None:
            inner += bias[:, None, None, None]
        ctx.save_for_backward(xc, weight, x)
        ctx.geometry, ctx.groups, ctx.padding = geometry, groups, padding
        return inner.transpose(3, 0, 1, 2)  # (N, C_out, H_out, W_out), a view: batch last

    @staticmethod
    def backward(ctx, grad):
        xc, weight, _ = ctx.saved_tensors
        geometry, groups = ctx.geometry, ctx.groups
        needs = ctx.needs_input_grad
        grad_c = batch_last(grad, ctx.padding)  # (C_out, Hp, Wp, N), zero-padded as in forward
        dtype = xp.result_type(xc, weight, grad)
        flat_x = xc.reshape(xc.shape[0], -1)
        grad_x = grad_w = grad_b = None
        if needs[0]:  # dL/dx = A_w g: a convolution of the output gradient
            out = buffers.empty(xc.shape, dtype)
            filters = weight.reshape(weight.shape[0], -1)
            _convolve(grad_c, filters, geometry, groups, out.reshape(out.shape[0], -1))
            grad_x = out.transpose(3, 0, 1, 2)
        if needs[1]:  # dL/dw: Conv2d's weight gradient with x as the output gradient
            grad_w = _filter_gradient(grad_c, flat_x, geometry, groups, dtype)
            grad_w = grad_w.reshape(weight.shape)
        if len(needs) > 2 and needs[2]:
            grad_b = grad.sum(axis=(0, 2, 3))  # dy/db = 1 at every output position
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad, x, weight, bias=None, *rest):
        geometry, groups, padding = ctx.geometry, ctx.groups, ctx.padding
        stride, dilation = geometry.stride, geometry.dilation
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dx = A_w g: a convolution of grad
            grad_x = Conv2d.apply(
                grad, weight, None, stride=stride, padding=padding, dilation=dilation, groups=groups
            )
        if ctx.needs_input_grad[1]:
            # <g, A_w^T x> = <A_w g, x>: conv's weight gradient with the roles swapped
            grad_w = ConvWeightGradient.apply(
                grad,
                x,
                kernel=tuple(weight.shape[2:]),
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
            )
        if bias is not None and ctx.needs_input_grad[2]:
            grad_b = grad.sum(dim=(0, 2, 3))
        return grad_x, grad_w, grad_b


def _compact_batch_last(grad):
    """An (N, C, H, W) gradient as a C-contiguous (C, H, W, N) array: a view when it came so."""
    moved = grad.transpose(1, 2, 3, 0)
    if moved.flags.c_contiguous:
        return moved
    compact = buffers.workspace("grad_out", moved.shape, grad.dtype)
    compact[...] = moved
    return compact


def _convolve(xc, filters, geometry, groups, out, ones=False, keep=False):
    """out (O, positions) = filters @ im2col(xc) per group, a chunk of output rows at a time.

    Returns the last column buffer (with ``keep``, the pool's: the only one when kept).
    """
    cols = None
    for start, stop, cols in _chunk_buffers(geometry, xc.shape[0], out.dtype, ones, keep):
        part = out[:, start * geometry.row : stop * geometry.row]
        columns = _grouped(geometry.im2col(xc, start, stop, cols), groups)
        xp.matmul(_grouped(filters, groups), columns, out=_grouped(part, groups))  # a GEMM each
    return cols


def _filter_gradient(xc, flat_grad, geometry, groups, dtype, ones=False, kept_columns=None):
    """grad (O, positions) @ im2col(xc)^T per group: (O, C/G*kh*kw), plus the ones' column.

    Computed transposed, im2col(xc) @ grad^T, (C/G*kh*kw, O/G) per group: OpenBLAS runs that
    orientation of the long-K product faster (cnn_b64's conv2: its six GEMMs 6.4-7.9 -> 6.1-6.2
    ms alone; both convolutions' weight gradients in the step 10.8-11.0 -> 9.8-10.0 ms).
    """
    c = xc.shape[0]
    rows = c * len(geometry.offsets) + ones
    out_channels = flat_grad.shape[0]
    grad_wt = xp.zeros((groups, rows // groups, out_channels // groups), dtype)
    for start, stop, cols in _chunk_buffers(geometry, c, dtype, ones):
        part = flat_grad[:, start * geometry.row : stop * geometry.row]
        if kept_columns is not None:
            columns = kept_columns[:rows]
        else:
            columns = geometry.im2col(xc, start, stop, cols)
        grad_wt += _grouped(columns, groups) @ _grouped(part, groups).transpose(0, 2, 1)
    return grad_wt.transpose(0, 2, 1).reshape(out_channels, rows // groups)


def _input_gradient(geometry, padded_shape, filters, grad_out, dtype, groups=1):
    """dy/dx = col2im(w^T @ grad): every filter tap sends its share back, (C, Hp, Wp, N).

    With stride 1 the columns are on the shifted-row grid, whose col2im is nine contiguous slice
    additions; the exact positions' col2im (strided additions) is three times slower. The GEMM
    writes each output row's columns straight into its grid row (a batched matmul over the rows)
    and the grid's extra columns get zeros: no gradient is copied onto a grid, and no product is
    spent on positions that have no output (cnn_b64's conv2, caches cold: 9.5 -> 8.7 ms).
    """
    grad_xc = buffers.zeros(padded_shape, grad_out.dtype)
    channels, batch = padded_shape[0], padded_shape[3]
    shifted = geometry.stride == (1, 1)
    if shifted:
        geometry = _Geometry(
            padded_shape, geometry.kernel, geometry.stride, geometry.dilation, geometry.out_hw, True
        )
    taps = channels * len(geometry.offsets)
    out_row = geometry.out_hw[1] * batch  # the positions of one output row
    flat_grad = grad_out.reshape(filters.shape[0], -1)
    filters_t = _grouped(filters, groups).transpose(0, 2, 1)  # (G, C/G*kh*kw, O/G)
    for start, stop, cols in _chunk_buffers(geometry, channels, dtype):
        # one matrix per output row on the grid; exact positions: the chunk is one matrix
        count, width = (stop - start, out_row) if shifted else (1, (stop - start) * out_row)
        grid = cols[:taps].reshape(taps, count, geometry.row if shifted else width)
        grid[:, :, width:] = 0  # the grid's extra columns: no output there, no gradient
        part = flat_grad[:, start * out_row : stop * out_row].reshape(len(flat_grad), count, width)
        xp.matmul(
            filters_t, _grouped_rows(part, groups), out=_grouped_rows(grid[..., :width], groups)
        )
        geometry.col2im(cols, grad_xc, start, stop)
    return grad_xc


def _grouped_rows(matrices, groups):
    """(R, M, X) -> (M, groups, R / groups, X), a view: M matrices, each split into groups."""
    r, m, x = matrices.shape
    return matrices.reshape(groups, r // groups, m, x).transpose(2, 0, 1, 3)


def _chunk_buffers(geometry, channels, dtype, ones_row=False, own=False):
    """(start, stop, column buffer) per chunk of output rows; the buffer is reused across chunks.

    With ``ones_row`` the buffer has one more row, of ones, for a bias folded into the GEMM.
    It comes from the thread's workspace, or with ``own`` from the pool (to be kept).
    """
    rows = channels * len(geometry.offsets)
    cols = None
    for start, stop in geometry.chunks(channels):
        size = (stop - start) * geometry.row
        if cols is None or cols.shape[1] != size:
            shape = (rows + ones_row, size)
            if own:
                cols = buffers.empty(shape, dtype)
            else:
                cols = buffers.workspace("columns", shape, dtype)
            cols[rows:] = 1
        yield start, stop, cols


def _conv_pass(x, weight, grad, needs, **attrs):
    """Conv2d's forward of (x, weight) and, given ``grad``, its backward for the inputs in
    ``needs`` (x, weight): the building block of ``ConvWeightGradient``."""
    ctx = Conv2d.__new__(Conv2d)
    ctx.needs_input_grad = [*needs, False]
    y = Conv2d.forward(ctx, x, weight, None, **attrs)
    return y, (Conv2d.backward(ctx, grad) if grad is not None else None)


class ConvWeightGradient(Function):
    """dW = conv2d's weight gradient for input x and output gradient g (x correlated with g),
    as an op of its own so that Conv2d's and ConvTranspose2d's weight gradients can be
    differentiated again. It is bilinear: <V, dW(x, g)> = <g, conv2d(x, V)>, so its backward
    is one convolution with V as the weight and that convolution's input gradient."""

    @staticmethod
    def forward(ctx, x, g, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        ctx.attrs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        ctx.save_for_backward(x, g)
        weight = xp.zeros((g.shape[1], x.shape[1] // groups, *kernel), xp.result_type(x, g))
        return _conv_pass(x, weight, g, (False, True), **ctx.attrs)[1][1]

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        # d<V, dW(x, g)>/dg = conv2d(x, V); d/dx = conv2d's input gradient of g with weight V
        y, grads = _conv_pass(x, grad, g, (ctx.needs_input_grad[0], False), **ctx.attrs)
        return grads[0], y
