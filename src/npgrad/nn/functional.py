"""The stateless neural-network API, named as in ``torch.nn.functional``.

Hot paths call fused ops (``linear``, ``cross_entropy``, ``layer_norm``, ``batch_norm``); the rest
are short compositions of tensor ops, whose gradients come from those ops.
"""

import math
import warnings

import numpy

import npgrad
from npgrad import buffers
from npgrad.backend import default_generator
from npgrad.errors import DTypeError, OutOfRangeError, ShapeError
from npgrad.ops import activation, attention, conv, linalg, loss, norm, pool, sampling
from npgrad.ops import shape as shape_ops
from npgrad.tensor import Tensor, _array_of, zeros
from npgrad.tensor import pad as _constant_pad

# ----------------------------------------------------------------------- activations


def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """max(x, 0), element-wise.

    >>> import npgrad
    >>> npgrad.nn.functional.relu(npgrad.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return activation.ReLU.apply(input)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6), element-wise: ``hardtanh(x, 0, 6)``, gradient 0 at x = 0 and 6."""
    return activation.Hardtanh.apply(input, min_val=0.0, max_val=6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, negative_slope * x otherwise."""
    return activation.LeakyReLU.apply(input, negative_slope=negative_slope)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return activation.ELU.apply(input, alpha=alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return activation.ELU.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def gelu(input, approximate="none"):  # noqa: A002
    """x * Phi(x); ``approximate="tanh"`` uses the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return activation.GELU.apply(input, approximate=approximate)


def silu(input, inplace=False):  # noqa: A002
    """x * sigmoid(x) (swish)."""
    return activation.SiLU.apply(input)


def mish(input, inplace=False):  # noqa: A002
    """x * tanh(softplus(x))."""
    return input * softplus(input).tanh()


def sigmoid(input):  # noqa: A002
    """1 / (1 + e^-x)."""
    return activation.Sigmoid.apply(input)


def tanh(input):  # noqa: A002
    """Hyperbolic tangent."""
    return activation.Tanh.apply(input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + e^(beta x)) / beta, linear above ``threshold``."""
    return activation.Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), stable for large |x|."""
    return activation.LogSigmoid.apply(input)


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """min(max(x, min_val), max_val), element-wise; unlike ``clamp``'s, the gradient is 0 at
    the bounds themselves (PyTorch's)."""
    if max_val < min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) cannot be lower than min_val ({min_val})")
    return activation.Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """min(max(x + 3, 0), 6) / 6."""
    return activation.Hardsigmoid.apply(input)


def hardswish(input, inplace=False):  # noqa: A002
    """x * min(max(x + 3, 0), 6) / 6."""
    return activation.Hardswish.apply(input)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1)): ELU scaled to stay smooth for any alpha."""
    return activation.ELU.apply(input, alpha=alpha, input_scale=1 / alpha)


def prelu(input, weight):  # noqa: A002
    """x for x > 0, weight * x otherwise, with one learned slope per channel (dim 1) or one
    for all."""
    if weight.numel() > 1 and (input.ndim < 2 or input.shape[1] != weight.numel()):
        raise ShapeError(
            f"prelu: {weight.numel()} slopes do not fit input of shape {input.shape} "
            f"(one per channel, dim 1)"
        )
    slopes = weight.reshape((1, -1) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else weight
    return activation.PReLU.apply(input, slopes)


def rrelu(input, lower=1 / 8, upper=1 / 3, training=False, inplace=False):  # noqa: A002
    """Leaky ReLU with a random slope from U(lower, upper) per element in training and their
    mean in eval (Xu et al., 2015)."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slopes = default_generator().uniform(lower, upper, input.shape).astype(input._data.dtype)
    return npgrad.where(input._data >= 0, input, input * Tensor(slopes))


def glu(input, dim=-1):  # noqa: A002
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    if input.shape[dim] % 2:
        raise ShapeError(f"glu: dim {dim} of shape {input.shape} must have an even size")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def softmin(input, dim=None, dtype=None):  # noqa: A002
    """softmax(-x) along ``dim``."""
    return softmax(-input, dim, dtype)


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else ``value``."""
    return input.masked_fill(input._data <= threshold, value)


def tanhshrink(input):  # noqa: A002
    """x - tanh(x)."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    return input - input.clamp(-lambd, lambd)


def hardshrink(input, lambd=0.5):  # noqa: A002
    """x where |x| > lambd, else 0."""
    # a 0/1 factor rather than masked_fill: where() branches on each element (1M floats: 3.7 ms
    # forward and backward, against 0.9)
    keep = numpy.greater(numpy.abs(input._data), lambd).astype(input._data.dtype, copy=False)
    return input * Tensor(keep)


def softmax(input, dim=None, dtype=None):  # noqa: A002
    """exp(x_i) / sum_j exp(x_j) along ``dim``."""
    source = input if dtype is None else input.to(dtype)
    return source.softmax(-1 if dim is None else dim)


def log_softmax(input, dim=None, dtype=None):  # noqa: A002
    """x_i - log sum_j exp(x_j) along ``dim``, computed stably."""
    source = input if dtype is None else input.to(dtype)
    return source.log_softmax(-1 if dim is None else dim)


# ----------------------------------------------------------------------- layers


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last dims; ``pad`` lists (before, after) pairs from the last dim backwards.

    Modes as PyTorch's: ``"constant"`` (``value``, default 0), ``"reflect"`` (mirrored without
    repeating the edge: needs pad < size), ``"replicate"`` (the edge repeated) and
    ``"circular"`` (wrapped around: needs pad <= size). The non-constant ones pick input elements
    by index, so the gradient of a padded element goes back to the one it copies.

    >>> import npgrad
    >>> npgrad.nn.functional.pad(npgrad.ones(1, 2), (1, 2), "constant", 0).tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0]]
    >>> npgrad.nn.functional.pad(npgrad.tensor([[1.0, 2.0, 3.0]]), (2, 1), "reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    if mode == "constant":
        return _constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(
            f"pad: expected an even number of pad sizes for at most {input.ndim} dims, got {pad}"
        )
    out = input
    for i in range(len(pad) // 2):
        dim, (before, after) = input.ndim - 1 - i, pad[2 * i : 2 * i + 2]
        out = out.index_select(dim, _pad_indices(input.shape[dim], before, after, mode))
    return out


def _pad_indices(size, before, after, mode):
    """Which input positions the padded positions of one dim copy (negative pads crop)."""
    kept = size + min(before, 0) + min(after, 0)  # what a negative pad (a crop) leaves
    limit = size - 1 if mode == "reflect" else kept
    if mode != "replicate" and max(before, after) > limit:
        raise ShapeError(
            f"pad: {mode} padding of ({before}, {after}) needs a dim of size more than "
            f"{max(before, after) - (mode == 'circular')} (after cropping), got {size}"
        )
    positions = numpy.arange(-before, size + after)
    if mode == "reflect":  # ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
        positions = numpy.abs(positions)
        positions = numpy.where(positions > size - 1, 2 * (size - 1) - positions, positions)
    elif mode == "replicate":
        positions = numpy.clip(positions, 0, size - 1)
    else:  # wrapped around within what a negative pad (a crop) leaves, as in PyTorch
        start = max(-before, 0)
        positions = start + (numpy.arange(-max(before, 0), kept + max(after, 0)) % kept)
    return positions


def linear(input, weight, bias=None):  # noqa: A002
    """y = x W^T + b with x (*, in), W (out, in), b (out,): one fused op.

    >>> import npgrad
    >>> F = npgrad.nn.functional
    >>> F.linear(npgrad.ones(2, 3), npgrad.ones(4, 3), npgrad.zeros(4)).shape
    (2, 4)
    """
    return linalg.Linear.apply(input, weight, bias)


def _pair(value, name):
    """An int or a pair -> a pair of ints."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair


def same_padding(kernel, dilation):
    """(before, after) padding per dim that keeps the size with stride 1 (padding="same"):
    d (k - 1) in all, the extra one after when it is odd, as PyTorch."""
    totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
    return [(total // 2, total - total // 2) for total in totals]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation of (N, C, H, W) input with (O, C, kh, kw) filters (im2col + GEMM).

    ``padding`` may be an int, a pair, ``"valid"`` or ``"same"`` (stride 1). With ``groups`` G
    the filters are (O, C/G, kh, kw) and each output channel sees its group's C/G inputs
    (``groups=C``: depthwise). Matches ``torch.nn.functional.conv2d``.

    >>> import npgrad
    >>> F = npgrad.nn.functional
    >>> F.conv2d(npgrad.ones(1, 3, 5, 5), npgrad.ones(4, 3, 3, 3), padding=1).shape
    (1, 4, 5, 5)
    """
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' needs stride 1, as in PyTorch")
        widths = same_padding(weight.shape[2:], dilation)
        if any(before != after for before, after in widths):  # even kernels: more after
            flat = [width for pair in reversed(widths) for width in pair]  # F.pad's order
            input = _constant_pad(input, tuple(flat), 0.0)  # noqa: A001
            padding = (0, 0)
        else:
            padding = tuple(before for before, _ in widths)
    else:
        padding = _pair(padding, "padding")
    return conv.Conv2d.apply(
        input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups
    )


def _triple(value, name):
    """An int or a triple -> a triple of ints."""
    triple = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(triple) != 3:
        raise ValueError(f"{name} must be an int or a triple of ints, got {value!r}")
    return triple


def _depth_padded(input, padding, dilation, kernel):  # noqa: A002
    """(N, C, D, H, W) input zero-padded on all three spatial dims (``padding`` an int, a
    triple, "valid" or "same"), for a 3-D op built from 2-D ones."""
    if padding == "valid":
        return input
    if padding == "same":
        widths = same_padding(kernel, dilation)
    else:
        widths = [(p, p) for p in _triple(padding, "padding")]
    if not any(before or after for before, after in widths):
        return input
    flat = [width for pair in reversed(widths) for width in pair]  # F.pad's order: last dim first
    return _constant_pad(input, tuple(flat), 0.0)


def _depth_slices(padded, kernel_depth, stride, dilation):
    """D_out, and for each depth tap k the (N * D_out, C, H, W) planes it sees: depth folded
    into the batch, so that a 2-D op handles every output depth at once."""
    n, c, depth, h, w = padded.shape
    out_depth = (depth - dilation * (kernel_depth - 1) - 1) // stride + 1
    if out_depth <= 0:
        raise ShapeError(
            f"3-D op: input of shape {padded.shape} (padded) is smaller than the kernel depth "
            f"{kernel_depth} (dilation {dilation})"
        )
    taps = []
    for k in range(kernel_depth):
        start = k * dilation
        planes = padded[:, :, start : start + stride * (out_depth - 1) + 1 : stride]
        taps.append(planes.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, w))
    return out_depth, taps


def _depth_unfolded(planes, n, out_depth):
    """(N * D_out, O, H, W) -> (N, O, D_out, H, W)."""
    return planes.reshape(n, out_depth, *planes.shape[1:]).permute(0, 2, 1, 3, 4)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D cross-correlation of (N, C, D, H, W) input with (O, C/G, kd, kh, kw) filters.

    Built from ``conv2d``: each depth tap k of the filters is a 2-D convolution of the input
    planes it sees (depth folded into the batch), and the kd results add up, so values and
    gradients are conv2d's. ``padding`` an int, a triple, "valid" or "same" (stride 1).
    Matches ``torch.nn.functional.conv3d``.
    """
    if input.ndim != 5 or weight.ndim != 5:
        raise ShapeError(
            f"conv3d: expected input (N, C, D, H, W) and weight (O, C/groups, kd, kh, kw), got "
            f"{input.shape} and {weight.shape}"
        )
    stride, dilation = _triple(stride, "stride"), _triple(dilation, "dilation")
    if padding == "same" and stride != (1, 1, 1):
        raise ValueError("conv3d: padding='same' needs stride 1, as in PyTorch")
    padded = _depth_padded(input, padding, dilation, weight.shape[2:])
    total = None
    out_depth, taps = _depth_slices(padded, weight.shape[2], stride[0], dilation[0])
    for k, planes in enumerate(taps):
        part = conv2d(planes, weight[:, :, k], None, stride[1:], 0, dilation[1:], groups)
        total = part if total is None else total + part
    out = _depth_unfolded(total, input.shape[0], out_depth)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)


def max_pool3d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """Max over (kd, kh, kw) windows of (N, C, D, H, W) input; the gradient goes to each
    window's first maximum in (depth, row, column) order, as PyTorch's. ``ceil_mode`` keeps last
    partial windows; ``return_indices`` also returns where each maximum was (flat indices into
    D * H * W). Built from ``max_pool2d`` over each depth tap's planes and a running
    strictly-greater choice. Matches ``torch.nn.functional.max_pool3d``."""
    kernel = _triple(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _triple(stride, "stride")
    padding, dilation = _triple(padding, "padding"), _triple(dilation, "dilation")
    if input.ndim != 5:
        raise ShapeError(f"max_pool3d: expected input (N, C, D, H, W), got {input.shape}")
    batch, _, depth, height, width = input.shape
    _, extra = _pool_output(depth, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    padded = input
    if padding[0] or extra:  # depth padding: -inf planes never win; H and W go to max_pool2d
        flat = (0, 0, 0, 0, padding[0], padding[0] + extra)
        padded = _constant_pad(input, flat, -math.inf)
    out_depth, taps = _depth_slices(padded, kernel[0], stride[0], dilation[0])
    pooled = [
        max_pool2d(planes, kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode, True)
        for planes in taps
    ]
    best, tap = _first_maximum([values for values, _ in pooled])
    out = _depth_unfolded(best, batch, out_depth)
    if not return_indices:
        return out
    # the winning tap's plane: input depth d * stride + k * dilation - padding, and its (h, w)
    planes = numpy.arange(out_depth)[:, None, None, None] * stride[0] - padding[0]
    planes = numpy.tile(planes, (batch, 1, 1, 1)) + tap * dilation[0]
    within = numpy.choose(tap, [indices._data for _, indices in pooled])
    flat = planes * (height * width) + within
    return out, Tensor._wrap(_depth_unfolded(Tensor._wrap(flat), batch, out_depth)._data)


def _first_maximum(candidates):
    """The element-wise maximum of same-shape tensors, each element's gradient to the first
    candidate holding it (a later one wins only where strictly greater, or NaN: PyTorch's order
    for the depth taps of a 3-D max pool), and which candidate that is (an int array)."""
    best, chosen = candidates[0], numpy.zeros(candidates[0].shape, dtype=numpy.int64)
    for index, later in enumerate(candidates[1:], start=1):
        wins = (later.detach() > best.detach()) | later.detach().isnan()
        best = npgrad.where(wins, later, best)
        chosen[wins._data] = index
    return best, chosen


def _window_counts(size, kernel, stride, padding, out, include_pad):
    """Per output position of one dim, how many of its window's kernel positions the mean
    divides by: inside the padded input (``include_pad``) or inside the input itself."""
    start = numpy.arange(out) * stride - padding
    if include_pad:
        return numpy.minimum(start + kernel, size + padding) - start
    return numpy.minimum(start + kernel, size) - numpy.maximum(start, 0)


def avg_pool3d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over (kd, kh, kw) windows of (N, C, D, H, W) input: zero padding counted unless
    ``count_include_pad=False``, last partial windows kept with ``ceil_mode``, or every sum
    divided by ``divisor_override``. Built from ``avg_pool2d`` window sums over each depth tap's
    planes, divided at the end. Matches ``torch.nn.functional.avg_pool3d``."""
    kernel = _triple(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _triple(stride, "stride")
    padding = _triple(padding, "padding")
    if input.ndim != 5:
        raise ShapeError(f"avg_pool3d: expected input (N, C, D, H, W), got {input.shape}")
    sizes = input.shape[2:]
    outs = [
        _pool_output(size, k, s, p, 1, ceil_mode)
        for size, k, s, p in zip(sizes, kernel, stride, padding, strict=True)
    ]
    padded = input
    if padding[0] or outs[0][1]:
        padded = _constant_pad(input, (0, 0, 0, 0, padding[0], padding[0] + outs[0][1]), 0.0)
    total = None
    out_depth, taps = _depth_slices(padded, kernel[0], stride[0], 1)
    for planes in taps:  # window sums: 2-D sums (divisor 1) added over the depth taps
        summed = avg_pool2d(planes, kernel[1:], stride[1:], padding[1:], ceil_mode, True, 1)
        total = summed if total is None else total + summed
    total = _depth_unfolded(total, input.shape[0], out_depth)
    if divisor_override is not None:
        return total / divisor_override
    counts = [
        _window_counts(size, k, s, p, out, count_include_pad)
        for size, k, s, p, (out, _) in zip(sizes, kernel, stride, padding, outs, strict=True)
    ]
    divisor = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
    return total / Tensor._wrap(divisor.astype(total.dtype))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation of (N, C, L) input with (O, C, k) filters (a conv2d of height 1)."""
    if isinstance(padding, str):
        padding_2d = padding
    else:
        padding_2d = (0, padding if isinstance(padding, int) else padding[0])
    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        stride=(1, _single(stride)),
        padding=padding_2d,
        dilation=(1, _single(dilation)),
        groups=groups,
    )
    return out.squeeze(2)


def _check_output_padding(op, output_padding, stride, dilation):
    """PyTorch's rule: each dim's output_padding is below its stride or its dilation."""
    for extra, step, spread in zip(output_padding, stride, dilation, strict=True):
        if extra < 0 or (extra >= step and extra >= spread):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either the stride "
                f"{stride} or the dilation {dilation} (as in PyTorch)"
            )


def conv_transpose2d(
    input,  # noqa: A002
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) input with
    (C_in, C_out / groups, kh, kw) filters: the adjoint of ``conv2d`` with the same geometry,
    which maps an (N, C_out, H_out, W_out) input to this one's shape. Output size
    H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.
    Matches ``torch.nn.functional.conv_transpose2d``.

    >>> import npgrad
    >>> F = npgrad.nn.functional
    >>> x, w = npgrad.ones(1, 4, 7, 7), npgrad.ones(4, 2, 4, 4)
    >>> F.conv_transpose2d(x, w, stride=2, padding=1).shape
    (1, 2, 14, 14)
    """
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv_transpose2d: groups must be a positive int, got {groups!r}")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    padding, output_padding = _pair(padding, "padding"), _pair(output_padding, "output_padding")
    _check_output_padding("conv_transpose2d", output_padding, stride, dilation)
    return conv.ConvTranspose2d.apply(
        input,
        weight,
        bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )


def conv_transpose1d(
    input,  # noqa: A002
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
):
    """1-D transposed convolution of (N, C_in, L) input with (C_in, C_out / groups, k) filters
    (a ``conv_transpose2d`` of height 1)."""
    out = conv_transpose2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        stride=(1, _single(stride)),
        padding=(0, _single(padding)),
        output_padding=(0, _single(output_padding)),
        groups=groups,
        dilation=(1, _single(dilation)),
    )
    return out.squeeze(2)


def conv_transpose3d(
    input,  # noqa: A002
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
):
    """3-D transposed convolution of (N, C_in, D, H, W) input with (C_in, C_out / groups, kd,
    kh, kw) filters. Matches ``torch.nn.functional.conv_transpose3d``.

    Built from ``conv_transpose2d``, as ``conv3d`` from ``conv2d``: depth tap k of the filters
    turns each input plane i (depth folded into the batch) into a 2-D transposed convolution
    that lands on output depth i * stride + k * dilation; the taps add up there (``index_add``),
    and the depth padding is cropped at the end.
    """
    if input.ndim != 5 or weight.ndim != 5:
        raise ShapeError(
            f"conv_transpose3d: expected input (N, C_in, D, H, W) and weight (C_in, C_out/groups, "
            f"kd, kh, kw), got {input.shape} and {weight.shape}"
        )
    stride, dilation = _triple(stride, "stride"), _triple(dilation, "dilation")
    padding, output_padding = _triple(padding, "padding"), _triple(output_padding, "output_padding")
    _check_output_padding("conv_transpose3d", output_padding, stride, dilation)
    batch, _, depth, *_ = input.shape
    planes = input.permute(0, 2, 1, 3, 4).reshape(
        batch * depth, *input.shape[1:2], *input.shape[3:]
    )
    kernel_depth = weight.shape[2]
    full_depth = (depth - 1) * stride[0] + dilation[0] * (kernel_depth - 1) + output_padding[0] + 1
    out = None
    for k in range(kernel_depth):
        part = conv_transpose2d(
            planes, weight[:, :, k], None, stride[1:], padding[1:], output_padding[1:], groups,
            dilation[1:],
        )  # fmt: skip
        part = part.reshape(batch, depth, *part.shape[1:]).permute(0, 2, 1, 3, 4)
        if out is None:
            out = npgrad.zeros(*part.shape[:2], full_depth, *part.shape[3:], dtype=part.dtype)
        places = npgrad.tensor(numpy.arange(depth) * stride[0] + k * dilation[0])
        out = out.index_add(2, places, part)
    out = out[:, :, padding[0] : full_depth - padding[0]]
    if out.shape[2] <= 0:
        raise ShapeError(
            f"conv_transpose3d: input {input.shape} with padding {padding} leaves no output depth"
        )
    return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)


def _single(value):
    return value if isinstance(value, int) else value[0]


def _pool_output(size, kernel, stride, padding, dilation, ceil_mode):
    """(output length, extra padding at the end) of one pooled dim. With ``ceil_mode`` a last
    partial window counts if it starts inside the input or its left padding (PyTorch's rule);
    the extra padding makes it whole."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode or span < 0:  # (a window larger than the input: the op reports it)
        return span // stride + 1, 0
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out, max((out - 1) * stride - span, 0)


def _pool_args(kernel_size, stride, padding, dilation=1):
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride")
    return kernel, stride, _pair(padding, "padding"), _pair(dilation, "dilation")


def _ceil_padded(input, kernel, stride, padding, dilation, ceil_mode, value):  # noqa: A002
    """The input with ceil_mode's extra bottom/right padding (``value``) when it needs any."""
    extra = [
        _pool_output(input.shape[2 + d], kernel[d], stride[d], padding[d], dilation[d], ceil_mode)[
            1
        ]
        for d in range(2)
    ]
    if not any(extra):
        return input, extra
    return _constant_pad(input, (0, extra[1], 0, extra[0]), value), extra


def max_pool2d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """Max over (kh, kw) windows of (N, C, H, W) input; ``stride`` defaults to the kernel size.
    ``ceil_mode`` keeps a last partial window (PyTorch's rule); ``return_indices`` also returns
    where each maximum was (flat indices into H * W, for ``max_unpool2d``). Matches
    ``torch.nn.functional.max_pool2d``."""
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, dilation)
    width = input.shape[-1]
    if input.ndim == 4:
        input, _ = _ceil_padded(input, kernel, stride, padding, dilation, ceil_mode, -math.inf)  # noqa: A001
    out = pool.MaxPool2d.apply(
        input, kernel=kernel, stride=stride, padding=padding, dilation=dilation
    )
    if not return_indices:
        return out
    where = pool.max_pool_indices(input._data, kernel, stride, padding, dilation, width)
    return out, Tensor._wrap(where)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The (partial) inverse of ``max_pool2d``: each value put back where its maximum was
    (``indices`` from ``return_indices=True``), zeros elsewhere."""
    kernel, stride, padding, _ = _pool_args(kernel_size, stride, padding)
    if output_size is None:
        size = [(input.shape[2 + d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(2)]
    else:
        size = list(output_size)[-2:]
    n, c = input.shape[:2]
    flat = zeros(n, c, size[0] * size[1], dtype=input.dtype)
    where = numpy.asarray(_array_of(indices)).reshape(n, c, -1)
    if where.size and where.max() >= size[0] * size[1]:
        raise ShapeError(
            f"max_unpool2d: index {where.max()} is outside the output of size {tuple(size)}"
        )
    return flat.scatter(2, where, input.reshape(n, c, -1)).reshape(n, c, *size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """``max_unpool2d`` over (N, C, L) input."""
    size = None if output_size is None else (1, list(output_size)[-1])
    stride = kernel_size if stride is None else stride
    return max_unpool2d(
        input.unsqueeze(2),
        indices.unsqueeze(2),
        (1, _single(kernel_size)),
        (1, _single(stride)),
        (0, _single(padding)),
        size,
    ).squeeze(2)


def _window_counts(size, kernel, stride, padding, out, count_include_pad):
    """How many elements each of ``out`` average-pool windows divides by (PyTorch's rule: the
    padding counts or not, the ceil_mode overhang never does)."""
    counts = []
    for i in range(out):
        start = i * stride - padding
        stop = min(start + kernel, size + padding)
        if not count_include_pad:
            start, stop = max(start, 0), min(stop, size)
        counts.append(stop - start)
    return numpy.array(counts)


def avg_pool2d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over (kh, kw) windows of (N, C, H, W) input; ``stride`` defaults to the kernel size.

    Zero padding counts in the mean unless ``count_include_pad=False``; ``ceil_mode`` keeps a
    last partial window (divided by its size within the padded input); ``divisor_override``
    replaces every divisor. Matches ``torch.nn.functional.avg_pool2d``.
    """
    kernel, stride, padding, _ = _pool_args(kernel_size, stride, padding)
    if input.ndim != 4:  # (the op reports the shape)
        return pool.AvgPool2d.apply(input, kernel=kernel, stride=stride, padding=padding)
    padded, extra = _ceil_padded(input, kernel, stride, padding, (1, 1), ceil_mode, 0.0)
    out = pool.AvgPool2d.apply(padded, kernel=kernel, stride=stride, padding=padding)  # sum / area
    area = kernel[0] * kernel[1]
    if divisor_override is not None:
        return out * (area / divisor_override)
    if any(extra) or (not count_include_pad and any(padding)):
        counts = [
            _window_counts(
                input.shape[2 + d],
                kernel[d],
                stride[d],
                padding[d],
                out.shape[2 + d],
                count_include_pad,
            )
            for d in range(2)
        ]
        scale = area / numpy.multiply.outer(*counts)
        out = out * Tensor(scale.astype(out._data.dtype))
    return out


def _adaptive_windows(size, out):
    """PyTorch's adaptive windows: window i covers [floor(i * size / out), ceil((i + 1) * size /
    out)), so windows may differ in size and overlap when ``out`` does not divide ``size``."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_size(input, output_size, op):  # noqa: A002
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W), got {input.shape}")
    height, width = input.shape[-2:]
    out_h, out_w = _pair(output_size, "output_size")
    return (out_h or height, out_w or width)  # None keeps that size, as in PyTorch


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average-pool (N, C, H, W) input to ``output_size`` with PyTorch's adaptive windows.

    Sizes that divide the input are plain average pooling; otherwise the (separable) window
    means are two matrix products, A_h x A_w^T, with each row of A averaging one window.
    """
    out_h, out_w = _adaptive_size(input, output_size, "adaptive_avg_pool2d")
    height, width = input.shape[-2:]
    if (out_h, out_w) == (1, 1):
        return input.mean(dim=(-2, -1), keepdim=True)
    if height % out_h == 0 and width % out_w == 0 and input.ndim == 4:
        kernel = (height // out_h, width // out_w)
        return pool.AvgPool2d.apply(input, kernel=kernel, stride=kernel, padding=(0, 0))
    dtype = input._data.dtype if input._data.dtype.kind == "f" else numpy.float32
    averaging = []
    for size, out in ((height, out_h), (width, out_w)):
        matrix = numpy.zeros((out, size), dtype=dtype)
        for i, (start, stop) in enumerate(_adaptive_windows(size, out)):
            matrix[i, start:stop] = 1 / (stop - start)
        averaging.append(Tensor(matrix))
    return averaging[0] @ input @ averaging[1].T


def _adaptive_3d(input, output_size, op):  # noqa: A002
    """(N, C, D, H, W) input, and for each output depth the (start, stop) of its window of
    input planes (PyTorch's adaptive windows), with the (H, W) output size."""
    if input.ndim != 5:
        raise ShapeError(f"{op}: expected input (N, C, D, H, W), got {input.shape}")
    sizes = _triple(output_size, "output_size") if not isinstance(output_size, int) else None
    out_d, out_h, out_w = sizes or (output_size,) * 3
    depth = input.shape[2]
    out_d = out_d or depth  # None keeps that size, as in PyTorch
    windows = [(i * depth // out_d, -(-(i + 1) * depth // out_d)) for i in range(out_d)]
    return windows, (out_h or input.shape[3], out_w or input.shape[4])


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    """Average-pool (N, C, D, H, W) input to ``output_size``: for each output depth the mean,
    over its window of input planes, of the 2-D adaptive averages (the windows are separable)."""
    windows, plane_size = _adaptive_3d(input, output_size, "adaptive_avg_pool3d")
    n, c, depth, h, w = input.shape
    planes = adaptive_avg_pool2d(input.reshape(n, c * depth, h, w), plane_size)
    planes = planes.reshape(n, c, depth, *plane_size)
    means = [planes[:, :, start:stop].mean(dim=2) for start, stop in windows]
    return npgrad.stack(means, dim=2)


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    """Max-pool (N, C, D, H, W) input to ``output_size``: 2-D adaptive maxima per plane, then
    over each output depth's window of planes a later plane wins only where strictly greater
    (or NaN), so the gradient goes to the first maximum in (depth, row, column) order."""
    if return_indices:
        raise NotImplementedError("adaptive_max_pool3d: return_indices is not supported")
    windows, plane_size = _adaptive_3d(input, output_size, "adaptive_max_pool3d")
    n, c, depth, h, w = input.shape
    planes = adaptive_max_pool2d(input.reshape(n, c * depth, h, w), plane_size)
    planes = planes.reshape(n, c, depth, *plane_size)
    maxima = [
        _first_maximum([planes[:, :, d] for d in range(start, stop)])[0] for start, stop in windows
    ]
    return npgrad.stack(maxima, dim=2)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max-pool (N, C, H, W) input to ``output_size`` with PyTorch's adaptive windows.

    Sizes that divide the input are plain max pooling; otherwise the window maxima are taken
    over columns, then rows (a max over a rectangle is separable).
    """
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d: return_indices is not supported yet")
    out_h, out_w = _adaptive_size(input, output_size, "adaptive_max_pool2d")
    height, width = input.shape[-2:]
    if height % out_h == 0 and width % out_w == 0 and input.ndim == 4:
        kernel = (height // out_h, width // out_w)
        return max_pool2d(input, kernel, kernel)
    out = input
    for dim, size, count in ((-1, width, out_w), (-2, height, out_h)):
        after = (slice(None),) * (-1 - dim)  # the dims after ``dim``
        parts = [
            out[(..., slice(start, stop), *after)].amax(dim=dim, keepdim=True)
            for start, stop in _adaptive_windows(size, count)
        ]
        out = npgrad.cat(parts, dim=dim)
    return out


def _as_2d_pool(input, op, pool_fn, *args):  # noqa: A002
    """A 1-D pool of (N, C, L) or (C, L) input as the 2-D one over (N, C, 1, L) (a pair
    (values, indices) stays a pair)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected input (N, C, L) or (C, L), got {input.shape}")
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    out = pool_fn(batched.unsqueeze(2), *args)
    parts = [part.squeeze(2) for part in (out if isinstance(out, tuple) else (out,))]
    if input.ndim == 2:
        parts = [part.squeeze(0) for part in parts]
    return tuple(parts) if isinstance(out, tuple) else parts[0]


def max_pool1d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """Max over windows of (N, C, L) input. Matches ``torch.nn.functional.max_pool1d``."""
    stride = kernel_size if stride is None or stride == [] else stride
    return _as_2d_pool(
        input,
        "max_pool1d",
        max_pool2d,
        (1, _single(kernel_size)),
        (1, _single(stride)),
        (0, _single(padding)),
        (1, _single(dilation)),
        ceil_mode,
        return_indices,
    )


def avg_pool1d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
):
    """Mean over windows of (N, C, L) input. Matches ``torch.nn.functional.avg_pool1d``."""
    stride = kernel_size if stride is None or stride == [] else stride
    return _as_2d_pool(
        input,
        "avg_pool1d",
        avg_pool2d,
        (1, _single(kernel_size)),
        (1, _single(stride)),
        (0, _single(padding)),
        ceil_mode,
        count_include_pad,
    )


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Average-pool (N, C, L) input to ``output_size`` (PyTorch's adaptive windows)."""
    size = (1, _single(output_size))
    return _as_2d_pool(input, "adaptive_avg_pool1d", adaptive_avg_pool2d, size)


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Max-pool (N, C, L) input to ``output_size`` (PyTorch's adaptive windows)."""
    size = (1, _single(output_size))
    return _as_2d_pool(input, "adaptive_max_pool1d", adaptive_max_pool2d, size, return_indices)


def interpolate(
    input,  # noqa: A002
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) input to ``size`` or by
    ``scale_factor``. Matches ``torch.nn.functional.interpolate`` for the modes ``"nearest"``,
    ``"nearest-exact"``, ``"linear"`` / ``"bilinear"`` and ``"bicubic"`` (with
    ``align_corners``) and ``"area"``.

    Nearest modes pick input elements by index; linear and cubic ones are one matrix product
    per dim, each output row mixing its two (cubic: four) nearest inputs, so gradients follow
    them exactly.

    >>> import npgrad
    >>> x = npgrad.tensor([[[1.0, 2.0]]])
    >>> npgrad.nn.functional.interpolate(x, scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> npgrad.nn.functional.interpolate(x, size=5, mode="linear", align_corners=True).tolist()
    [[[1.0, 1.25, 1.5, 1.75, 2.0]]]
    """
    spatial = input.ndim - 2
    linear_modes = {1: "linear", 2: "bilinear"}
    if spatial not in (1, 2):
        raise ShapeError(
            f"interpolate: expected (N, C, L) or (N, C, H, W) input, got shape {input.shape}"
        )
    smooth_modes = (linear_modes[spatial], "bicubic") if spatial == 2 else (linear_modes[spatial],)
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and mode not in smooth_modes:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} with {input.ndim}-D input is not supported "
            f"(use {linear_modes[spatial]!r})"
        )
    if mode not in ("nearest", "nearest-exact", "area", *smooth_modes):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported yet")
    if align_corners is not None and mode not in (*linear_modes.values(), "bicubic"):
        raise ValueError(
            "interpolate: align_corners can only be set with the linear and cubic modes "
            "(as in PyTorch)"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias is not supported yet")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        out_sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        scales = [None] * spatial
    else:
        factors = (
            (scale_factor,) * spatial
            if isinstance(scale_factor, int | float)
            else tuple(scale_factor)
        )
        out_sizes = tuple(math.floor(n * f) for n, f in zip(in_sizes, factors, strict=True))
        # PyTorch maps positions with the given factor unless asked to recompute it
        scales = [None if recompute_scale_factor else 1 / f for f in factors]
    if len(out_sizes) != spatial or min(out_sizes) <= 0:
        raise ValueError(
            f"interpolate: output size {out_sizes} does not fit input of shape {input.shape}"
        )
    if mode == "area":
        pool = adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d
        return pool(input, out_sizes)
    out = input
    for d in range(spatial):
        dim, n_in, n_out = 2 + d, in_sizes[d], out_sizes[d]
        scale = scales[d] if scales[d] is not None else n_in / n_out
        if mode.startswith("nearest"):
            offset = 0.5 if mode == "nearest-exact" else 0.0
            sources = numpy.floor((numpy.arange(n_out) + offset) * scale).astype(numpy.int64)
            out = out.index_select(dim, numpy.minimum(sources, n_in - 1))
        else:
            make = _cubic_weights if mode == "bicubic" else _linear_weights
            weights = Tensor(make(n_in, n_out, scale, align_corners, out._data.dtype))
            out = (out.movedim(dim, -1) @ weights.T).movedim(-1, dim)
    return out


def _linear_weights(n_in, n_out, scale, align_corners, dtype):
    """(n_out, n_in) matrix of linear interpolation: row i mixes the two inputs around the
    source position of output i (PyTorch's coordinate rules)."""
    if align_corners:
        positions = numpy.arange(n_out) * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:  # pixel centres: output i sits at (i + 0.5) * scale - 0.5, never left of input 0
        positions = numpy.maximum((numpy.arange(n_out) + 0.5) * scale - 0.5, 0.0)
    low = numpy.minimum(numpy.floor(positions).astype(numpy.int64), n_in - 1)
    high = numpy.minimum(low + 1, n_in - 1)
    frac = positions - low
    weights = numpy.zeros((n_out, n_in))
    numpy.add.at(weights, (numpy.arange(n_out), low), 1 - frac)
    numpy.add.at(weights, (numpy.arange(n_out), high), frac)
    return weights.astype(dtype if numpy.dtype(dtype).kind == "f" else numpy.float32)


def _cubic_weights(n_in, n_out, scale, align_corners, dtype, a=-0.75):
    """(n_out, n_in) matrix of cubic convolution (Keys, 1981, with PyTorch's a = -0.75): row i
    mixes the four inputs around the source position of output i, p = floor(s) - 1 .. + 2,
    indices past either end repeating the edge, as PyTorch's bicubic mode."""
    if align_corners:
        positions = numpy.arange(n_out) * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:  # pixel centres, and (unlike the linear mode) not clamped at input 0
        positions = (numpy.arange(n_out) + 0.5) * scale - 0.5
    floor = numpy.floor(positions)
    t = positions - floor

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = numpy.zeros((n_out, n_in))
    rows = numpy.arange(n_out)
    taps = (far(t + 1), near(t), near(1 - t), far(2 - t))  # inputs floor(s) - 1 .. + 2
    for offset, weight in zip((-1, 0, 1, 2), taps, strict=True):
        columns = numpy.clip(floor.astype(numpy.int64) + offset, 0, n_in - 1)
        numpy.add.at(weights, (rows, columns), weight)
    return weights.astype(dtype if numpy.dtype(dtype).kind == "f" else numpy.float32)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) over an output of
    ``size`` (N, C, H, W), in [-1, 1] coordinates: the first half of a spatial transformer
    (Jaderberg et al., 2015). Differentiable in theta."""
    if theta.ndim != 3 or theta.shape[1:] != (2, 3) or len(size) != 4:
        raise ShapeError(
            f"affine_grid: expected theta (N, 2, 3) and a 4-D size, got {theta.shape} and {size}"
        )
    _, _, height, width = size
    dtype = theta._data.dtype

    def steps(count):
        if align_corners:
            return numpy.linspace(-1, 1, count) if count > 1 else numpy.zeros(1)
        return (2 * numpy.arange(count) + 1) / count - 1  # pixel centres

    ys, xs = numpy.meshgrid(steps(height), steps(width), indexing="ij")
    base = numpy.stack([xs, ys, numpy.ones_like(xs)], axis=-1).reshape(1, height * width, 3)
    grid = Tensor(base.astype(dtype)) @ theta.transpose(1, 2)  # (N, H W, 2)
    return grid.reshape(theta.shape[0], height, width, 2)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):  # noqa: A002
    """Sample (N, C, H, W) input at the points of ``grid`` (N, H_out, W_out, 2), given as
    (x, y) in [-1, 1]: bilinearly (or the nearest pixel), zero outside the image
    (``padding_mode="zeros"``) or the edge's value (``"border"``). Differentiable in the input
    and, bilinearly, in the grid. Matches ``torch.nn.functional.grid_sample`` for 4-D input."""
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode {mode!r} is not supported yet")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"grid_sample: padding_mode {padding_mode!r} is not supported")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ShapeError(
            f"grid_sample: expected input (N, C, H, W) and grid (N, H_out, W_out, 2), got "
            f"{input.shape} and {grid.shape}"
        )
    return sampling.GridSample.apply(
        input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners)
    )


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A differentiable sample from the categorical distribution of ``logits``:
    softmax((logits + Gumbel noise) / tau); with ``hard`` a one-hot vector forward whose
    gradient is the soft sample's (straight-through; Jang et al., 2017)."""
    uniform = default_generator().random(logits.shape)
    gumbels = -numpy.log(-numpy.log(uniform + eps) + eps)
    soft = ((logits + Tensor(gumbels.astype(logits._data.dtype))) / tau).softmax(dim)
    if not hard:
        return soft
    axis = dim % logits.ndim
    index = numpy.expand_dims(soft._data.argmax(axis=axis), axis)
    one_hot = numpy.zeros(soft.shape, dtype=soft._data.dtype)
    numpy.put_along_axis(one_hot, index, 1.0, axis=axis)
    return soft - soft.detach() + Tensor(one_hot)  # one-hot values, the soft gradient


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """``interpolate`` under its older name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


_SELU_NEGATIVE = -_SELU_ALPHA * _SELU_SCALE  # SELU's value as x -> -inf


def alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Dropout for SELU networks (Klambauer et al., 2017): dropped elements take SELU's negative
    saturation value, then an affine map restores the mean and variance. Off in eval."""
    return _alpha_dropout(input, p, training, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """``alpha_dropout`` dropping whole channels (dim 1)."""
    return _alpha_dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


def _alpha_dropout(input, p, training, mask_shape):  # noqa: A002
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = (default_generator().random(mask_shape) >= p).astype(input._data.dtype)
    scale = ((1 - p) * (1 + p * _SELU_NEGATIVE**2)) ** -0.5
    shift = -scale * _SELU_NEGATIVE * p
    dropped = (1 - keep) * _SELU_NEGATIVE
    return (input * Tensor(keep * scale)) + Tensor((dropped * scale + shift).astype(keep.dtype))


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, L) input with probability ``p``, scale the rest."""
    return _dropout(input, p, training, input.shape[:-1] + (1,))


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(N, C r^2, H, W) -> (N, C, H r, W r): each group of r^2 channels becomes an r x r block
    of pixels (sub-pixel convolution, Shi et al., 2016)."""
    r = upscale_factor
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise ShapeError(
            f"pixel_shuffle: {channels} channels are not divisible by upscale_factor^2 = {r * r}"
        )
    out = input.reshape(-1, channels // (r * r), r, r, height, width)
    out = out.permute(0, 1, 4, 2, 5, 3)  # (N, C, H, r, W, r)
    return out.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """The inverse of ``pixel_shuffle``: (N, C, H r, W r) -> (N, C r^2, H, W)."""
    r = downscale_factor
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise ShapeError(
            f"pixel_unshuffle: {height}x{width} is not divisible by downscale_factor {r}"
        )
    out = input.reshape(-1, channels, height // r, r, width // r, r)
    out = out.permute(0, 1, 3, 5, 2, 4)  # (N, C, r, r, H, W)
    return out.reshape(*batch, channels * r * r, height // r, width // r)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (eps keeps the gradient finite at 0)."""
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k, with weight (out, in1, in2)."""
    out = npgrad.einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else out + bias


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta (AlexNet's
    normalisation; the window is centred, zero-padded at the ends, as in PyTorch)."""
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected (N, C, *) input, got {input.shape}")
    squares = input * input
    widths = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)
    padded = _constant_pad(squares, widths, 0.0)
    channels = input.shape[1]
    window = sum(padded[:, i : i + channels] for i in range(size)) / size
    return input / (window * alpha + k) ** beta


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sliding blocks of (N, C, H, W) input as columns: (N, C kh kw, L), L the block count
    (im2col, as ``torch.nn.functional.unfold``). Built as a grouped convolution with one-hot
    filters, so the gradient is the convolution's."""
    kernel = _pair(kernel_size, "kernel_size")
    channels = input.shape[1]
    picks = _one_hot_filters(channels, kernel, input._data.dtype)
    columns = conv2d(input, picks, None, stride, padding, dilation, groups=channels)
    return columns.flatten(2)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """The adjoint of ``unfold``: columns (N, C kh kw, L) summed back into (N, C, H, W) (col2im,
    as ``torch.nn.functional.fold``); overlapping blocks add up."""
    kernel, size = _pair(kernel_size, "kernel_size"), _pair(output_size, "output_size")
    stride, padding, dilation = (
        _pair(stride, "stride"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    blocks = [
        conv.output_size(size[d], kernel[d], stride[d], padding[d], dilation[d]) for d in range(2)
    ]
    area = kernel[0] * kernel[1]
    if input.ndim != 3 or input.shape[1] % area or input.shape[2] != blocks[0] * blocks[1]:
        raise ShapeError(
            f"fold: input of shape {input.shape} does not fit {kernel} blocks over {size} "
            f"(expected (N, C * {area}, {blocks[0] * blocks[1]}))"
        )
    channels = input.shape[1] // area
    grid = input.reshape(input.shape[0], input.shape[1], *blocks)
    extra = [
        size[d]
        - conv.transposed_output_size(blocks[d], kernel[d], stride[d], padding[d], 0, dilation[d])
        for d in range(2)
    ]
    picks = _one_hot_filters(channels, kernel, input._data.dtype)
    return conv_transpose2d(grid, picks, None, stride, padding, tuple(extra), channels, dilation)


def _one_hot_filters(channels, kernel, dtype):
    """(C kh kw, 1, kh, kw) filters, filter (c, i, j) picking tap (i, j): unfold's convolution."""
    area = kernel[0] * kernel[1]
    picks = numpy.zeros((channels * area, 1, *kernel), dtype=dtype)
    picks.reshape(channels, area, area)[:, numpy.arange(area), numpy.arange(area)] = 1
    return Tensor(picks)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) input with probability ``p``, scale the rest."""
    return _dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) input with probability ``p``, scale the rest."""
    return _dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


def channel_shuffle(input, groups):  # noqa: A002
    """Interleave the channels of ``groups`` groups (ShuffleNet, Zhang et al., 2018):
    (N, g * k, ...) viewed as (N, g, k, ...) and read as (N, k, g, ...)."""
    n, channels, *rest = input.shape
    if channels % groups:
        raise ShapeError(f"channel_shuffle: {channels} channels do not split into {groups} groups")
    grouped = input.reshape(n, groups, channels // groups, *rest)
    return grouped.swapaxes(1, 2).reshape(n, channels, *rest)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """(sum over each window of x^p)^(1/p), PyTorch's formula: the mean of x^p times the
    window's size, its sign kept and negatives set to 0 before the root."""
    kernel = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
    out = avg_pool2d(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel[0] * kernel[1]).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """``lp_pool2d`` over windows of (N, C, L) input."""
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)


def pdist(input, p=2.0):  # noqa: A002
    """The p-norm distances between the rows of an (N, M) input, pairs i < j in row order:
    N (N - 1) / 2 values (the gradient is 0 where two rows coincide, as PyTorch's)."""
    if input.ndim != 2:
        raise ShapeError(f"pdist: expected a 2-D input (N, M), got shape {input.shape}")
    first, second = numpy.triu_indices(input.shape[0], 1)
    return (input[first] - input[second]).norm(p, dim=1)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated in PyTorch: ``interpolate(..., mode="nearest")``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated in PyTorch: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _dropout(input, p, training, mask_shape):  # noqa: A002
    """Inverted dropout with a keep-mask of ``mask_shape`` (broadcast over the input)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return input * Tensor._wrap(_keep_mask(mask_shape, p, input.dtype))


def _keep_mask(shape, p, dtype):
    """Inverted dropout's multiplier: 0 with probability p, else 1 / (1 - p)."""
    if p >= 1.0:
        return numpy.zeros(shape, dtype)
    draws = buffers.empty(shape, numpy.float32)  # (large masks come from npgrad's pool)
    default_generator().random(dtype=numpy.float32, out=draws)
    keep = buffers.empty(shape, dtype)
    numpy.greater_equal(draws, p, out=keep)
    return numpy.divide(keep, 1.0 - p, out=keep)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout).

    Identity when ``training`` is False or ``p`` is 0.

    >>> import npgrad
    >>> _ = npgrad.manual_seed(0)
    >>> npgrad.nn.functional.dropout(npgrad.ones(6), p=0.5).tolist()  # kept elements are doubled
    [2.0, 2.0, 2.0, 0.0, 0.0, 0.0]
    """
    return _dropout(input, p, training, input.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift.

    >>> import npgrad
    >>> out = npgrad.nn.functional.layer_norm(npgrad.tensor([[1.0, 2.0, 3.0]]), (3,))
    >>> [round(v, 4) for v in out.flatten().tolist()]
    [-1.2247, 0.0, 1.2247]
    """
    normalized_shape = tuple(
        (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    )
    count = len(normalized_shape)
    if input.shape[input.ndim - count :] != normalized_shape:
        raise ShapeError(
            f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
            f"but got input of shape {input.shape}"
        )
    axes = tuple(range(input.ndim - count, input.ndim))
    param_shape = (1,) * (input.ndim - count) + normalized_shape
    return norm.Normalize.apply(input, weight, bias, axes=axes, eps=eps, param_shape=param_shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """x / sqrt(mean(x^2) + eps) over the last dims, times ``weight`` (Zhang & Sennrich, 2019);
    ``eps`` defaults to the dtype's machine epsilon, as in PyTorch."""
    normalized_shape = tuple(
        (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    )
    if input.shape[input.ndim - len(normalized_shape) :] != normalized_shape:
        raise ShapeError(
            f"rms_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
            f"but got input of shape {input.shape}"
        )
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    eps = numpy.finfo(input.dtype).eps if eps is None else eps
    out = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def batch_norm(
    input,  # noqa: A002
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Batch normalisation over (N, C) or (N, C, *) input, per channel C.

    In training the batch's statistics are used and the running ones updated in place
    (``running = (1 - momentum) * running + momentum * batch``, with the unbiased batch variance,
    as in PyTorch); in eval the running statistics are used.
    """
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: expected input of shape (N, C) or (N, C, *), got {input.shape}"
        )
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        mean = input._data.mean(axis=axes, keepdims=True)
        var = input._data.var(axis=axes, keepdims=True)
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, count, momentum)
        fixed = False
    else:
        mean = running_mean._data.reshape(param_shape)
        var = running_var._data.reshape(param_shape)
        fixed = True
    return norm.Normalize.apply(
        input,
        weight,
        bias,
        axes=axes,
        eps=eps,
        param_shape=param_shape,
        mean=mean,
        var=var,
        fixed=fixed,
    )


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise (N, C, *) input over each group of C / num_groups channels and the other dims
    of each sample (Wu & He, 2018), then scale and shift per channel. Matches
    ``torch.nn.functional.group_norm``.

    >>> import npgrad
    >>> out = npgrad.nn.functional.group_norm(npgrad.randn(2, 4, 3, 3) * 5 + 1, 2)
    >>> [round(abs(v), 4) for v in out.reshape(2, 2, -1).mean(dim=2).flatten().tolist()]
    [0.0, 0.0, 0.0, 0.0]
    """
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ShapeError(
            f"group_norm: expected input (N, C, *) with C divisible by num_groups={num_groups}, "
            f"got input of shape {input.shape}"
        )
    n, channels = input.shape[:2]
    grouped = input.reshape(n, num_groups, -1)
    out = norm.Normalize.apply(
        grouped, None, None, axes=(2,), eps=eps, param_shape=(1, num_groups, 1)
    ).reshape(input.shape)
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(param_shape)
    if bias is not None:
        out = out + bias.reshape(param_shape)
    return out


def instance_norm(
    input,  # noqa: A002
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
):
    """Normalise each sample's channels of (N, C, *) input over their own spatial dims
    (Ulyanov et al., 2016), then scale and shift per channel.

    With ``use_input_stats`` the statistics are each instance's own, and running ones (when
    given) are updated in place with their mean over the batch (unbiased variance, as PyTorch);
    without it the running statistics are used. Matches ``torch.nn.functional.instance_norm``.
    """
    if input.ndim < 3:
        raise ShapeError(
            f"instance_norm: expected input (N, C, *) with spatial dims, got {input.shape}"
        )
    channels = input.shape[1]
    axes = tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        count = math.prod(input.shape[2:])
        if count <= 1:
            raise ShapeError(
                f"instance_norm: expected more than 1 spatial element per channel, got input "
                f"of shape {input.shape}"
            )
        mean = input._data.mean(axis=axes, keepdims=True)
        var = input._data.var(axis=axes, keepdims=True)
        if running_mean is not None:  # the instances' statistics, averaged over the batch
            _update_running(running_mean, running_var, mean.mean(0), var.mean(0), count, momentum)
        return norm.Normalize.apply(
            input, weight, bias, axes=axes, eps=eps, param_shape=param_shape, mean=mean, var=var
        )
    if running_mean is None or running_var is None:
        raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
    return norm.Normalize.apply(
        input,
        weight,
        bias,
        axes=axes,
        eps=eps,
        param_shape=param_shape,
        mean=running_mean._data.reshape(param_shape),
        var=running_var._data.reshape(param_shape),
        fixed=True,
    )


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """running = (1 - momentum) running + momentum batch, in place, per channel; the running
    variance is unbiased (count / (count - 1)), the normalising one is not (as PyTorch)."""
    channels = running_mean.shape[0]
    running_mean._data *= 1 - momentum
    running_mean._data += momentum * mean.reshape(channels)
    running_var._data *= 1 - momentum
    running_var._data += (momentum * count / (count - 1)) * var.reshape(channels)


def embedding(
    input,  # noqa: A002
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """Rows of ``weight`` (num_embeddings, dim) looked up at the integer ``input``.

    ``max_norm``: the rows looked up whose ``norm_type``-norm is above it are first scaled down
    to it, in place in ``weight`` (as PyTorch). ``scale_grad_by_freq``: each row's gradient is
    divided by how often the batch looks it up. ``sparse`` is accepted; the gradient is dense
    (``optim.SparseAdam`` still updates only the rows looked up)."""
    index = _array_of(input)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"embedding: expected integer indices, got {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= weight.shape[0]):
        bad = index.min() if index.min() < 0 else index.max()
        raise OutOfRangeError(
            f"embedding: index {bad} is out of range for {weight.shape[0]} embeddings "
            f"(valid: 0..{weight.shape[0] - 1})"
        )
    if max_norm is not None:
        rows = numpy.unique(index)
        norms = numpy.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
        too_long = norms > max_norm
        # as torch.embedding_renorm_: in place, not recorded by autograd
        weight._data[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None]
        weight._version[0] += 1
    return shape_ops.Embedding.apply(
        weight, index, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq
    )


def embedding_bag(
    input,  # noqa: A002
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """The sum, mean or max of the embeddings of each bag of indices, without building the
    (bag, index, dim) lookup: bags are the rows of 2-D ``input``, or slices of 1-D ``input``
    starting at ``offsets``. ``per_sample_weights`` scale the rows (mode "sum"); the
    ``padding_idx`` entries are left out (of the mean's count too); empty bags give zeros.
    ``max_norm``, ``norm_type``, ``scale_grad_by_freq`` and ``sparse`` as in ``embedding``."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError("embedding_bag: per_sample_weights are only supported with mode='sum'")
    index = numpy.asarray(_array_of(input))
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None with 2-D input")
        bags, width = index.shape
        bag_of = numpy.repeat(numpy.arange(bags), width)
        index = index.reshape(-1)
    elif index.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: 1-D input needs offsets (where each bag starts)")
        starts = numpy.asarray(_array_of(offsets)).reshape(-1)
        if include_last_offset:
            starts, index = starts[:-1], index[: int(starts[-1])]
        bags = len(starts)
        bag_of = numpy.searchsorted(starts, numpy.arange(len(index)), side="right") - 1
    else:
        raise ShapeError(f"embedding_bag: expected 1-D or 2-D input, got shape {index.shape}")
    weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    if padding_idx is not None:  # padding entries take no part
        keep = index != padding_idx
        index, bag_of = index[keep], bag_of[keep]
        weights = None if weights is None else weights[numpy.nonzero(keep)[0]]
    rows = embedding(  # (entries, dim)
        Tensor._wrap(index), weight, None, max_norm, norm_type, scale_grad_by_freq
    )
    if weights is not None:
        rows = rows * weights.unsqueeze(1)
    dim = weight.shape[1]
    if mode == "max":  # per bag and dim, the first entry holding the maximum, then a gather
        values = rows._data
        top = numpy.full((bags, dim), -numpy.inf, dtype=values.dtype)
        numpy.maximum.at(top, bag_of, values)
        entries = numpy.arange(len(bag_of))[:, None]
        first = numpy.full((bags, dim), len(bag_of))
        numpy.minimum.at(first, bag_of, numpy.where(values == top[bag_of], entries, len(bag_of)))
        empty = first == len(bag_of)  # empty bags give zeros
        picked = rows[numpy.where(empty, 0, first), numpy.arange(dim)] if len(bag_of) else None
        if picked is None:
            return zeros(bags, dim, dtype=weight.dtype)
        return picked.masked_fill(empty, 0.0)
    total = zeros(bags, dim, dtype=weight.dtype).index_add(0, bag_of, rows)
    if mode == "sum":
        return total
    counts = numpy.bincount(bag_of, minlength=bags).astype(weight._data.dtype)
    return total / Tensor._wrap(numpy.maximum(counts, 1)[:, None])


def one_hot(tensor, num_classes=-1):
    """(*,) integer labels -> (*, num_classes) int64 one-hot rows.

    >>> import npgrad
    >>> npgrad.nn.functional.one_hot(npgrad.tensor([0, 2]), num_classes=3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    labels = _array_of(tensor)
    if num_classes < 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    _check_labels(labels, num_classes, "one_hot")
    return Tensor._wrap(numpy.eye(num_classes, dtype=numpy.int64)[labels])


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """x / max(||x||_p, eps) along ``dim``."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


# ----------------------------------------------------------------------- attention


def _additive_mask(mask, dtype, op, attend=True):
    """A boolean mask (``attend`` where a query may attend) or a float one (added to the scores)
    -> an additive float array: 0 where attending is allowed, -inf where not."""
    mask = numpy.asarray(_array_of(mask))
    if mask.dtype == numpy.bool_:
        return numpy.where(mask == attend, 0.0, -numpy.inf).astype(dtype)
    if mask.dtype.kind != "f":
        raise DTypeError(f"{op}: a mask must be bool or floating point, got {mask.dtype}")
    return mask.astype(dtype, copy=False)


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """softmax(q k^T / sqrt(E) + mask) v over the last two axes, batched over the rest: one op.

    Matches ``torch.nn.functional.scaled_dot_product_attention``: query (..., L, E), key
    (..., S, E), value (..., S, Ev) -> (..., L, Ev). A boolean ``attn_mask`` is True where a
    query may attend to a key; a float one is added to the scores. ``is_causal`` lets query i see
    keys 0..i only. ``dropout_p`` applies whenever it is > 0 (pass 0.0 when evaluating, as with
    PyTorch). ``enable_gqa`` shares each key/value head among a group of query heads (axis -3).

    >>> import npgrad
    >>> q = k = v = npgrad.ones(2, 4, 3, 8)  # (batch, heads, length, features)
    >>> npgrad.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 3, 8)
    """
    op = "scaled_dot_product_attention"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dims (..., length, features)")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{op}: query {query.shape}, key {key.shape} and value {value.shape} do not fit "
            "(expected (..., L, E), (..., S, E) and (..., S, Ev))"
        )
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3]:
            raise ShapeError(
                f"{op}: {query.shape[-3]} query heads are not a multiple of {key.shape[-3]} "
                "key/value heads"
            )
        group = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(group, dim=-3), value.repeat_interleave(group, dim=-3)
    length, source = query.shape[-2], key.shape[-2]
    dtype = numpy.result_type(_array_of(query).dtype, _array_of(key).dtype)
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        mask = _additive_mask(numpy.tri(length, source, dtype=bool), dtype, op)
    elif attn_mask is not None:
        mask = _additive_mask(attn_mask, dtype, op)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0.0:
        batch = numpy.broadcast_shapes(
            query.shape[:-2],
            key.shape[:-2],
            value.shape[:-2],
            () if mask is None else mask.shape[:-2],
        )
        keep = _keep_mask((*batch, length, source), dropout_p, dtype)
    return attention.ScaledDotProductAttention.apply(
        query, key, value, mask=mask, scale=scale, keep=keep
    )


# ----------------------------------------------------------------------- losses


def _reduce(values, reduction, op):
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_same_shape(input, target, op):  # noqa: A002
    if input.shape != target.shape:
        warnings.warn(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; they "
            "will broadcast, which is rarely what you want (reshape one of them)",
            stacklevel=3,
        )


def _as_target(target, like):
    return target if isinstance(target, Tensor) else npgrad.tensor(target, dtype=like.dtype)


def mse_loss(input, target, reduction="mean"):  # noqa: A002
    """Mean squared error: mean((x - y)^2).

    >>> import npgrad
    >>> x, y = npgrad.tensor([1.0, 2.0]), npgrad.tensor([0.0, 0.0])
    >>> npgrad.nn.functional.mse_loss(x, y).item()
    2.5
    """
    target = _as_target(target, input)
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """Mean absolute error: mean(|x - y|)."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):  # noqa: A002
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y)."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "smooth_l1_loss")
    diff = (input - target).abs()
    if beta == 0:
        return _reduce(diff, reduction, "smooth_l1_loss")
    values = npgrad.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)
    return _reduce(values, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta)."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "huber_loss")
    diff = (input - target).abs()
    values = npgrad.where(diff <= delta, 0.5 * diff * diff, delta * (diff - 0.5 * delta))
    return _reduce(values, reduction, "huber_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """-(y log p + (1 - y) log(1 - p)) for probabilities p; logs are clamped at -100 as PyTorch."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "binary_cross_entropy")
    data = input._data
    if data.size and (data.min() < 0 or data.max() > 1):
        raise OutOfRangeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (got values "
            f"in [{data.min():.4g}, {data.max():.4g}]); apply sigmoid first, or use "
            "binary_cross_entropy_with_logits"
        )
    values = loss.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        values = values * weight
    return _reduce(values, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input,  # noqa: A002
    target,
    weight=None,
    reduction="mean",
    pos_weight=None,
):
    """BCE on logits z: (1 - y) z + (1 + (pos_weight - 1) y) softplus(-z), stable for any z.

    >>> import npgrad
    >>> logits, target = npgrad.tensor([0.0, 1e4]), npgrad.tensor([1.0, 1.0])
    >>> F = npgrad.nn.functional
    >>> round(F.binary_cross_entropy_with_logits(logits, target).item(), 4)
    0.3466
    """
    target = _as_target(target, input)
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    values = (1 - target) * input + log_weight * softplus(-input)
    if weight is not None:
        values = values * weight
    return _reduce(values, reduction, "binary_cross_entropy_with_logits")


def _check_labels(labels, num_classes, op, ignore_index=None):
    """Clear errors for non-integer labels or labels outside [0, num_classes) (other than
    ``ignore_index``). Returns True when every label is a class (none can be ignored then,
    unless ``ignore_index`` is one)."""
    if labels.dtype.kind not in "iu":
        raise DTypeError(
            f"{op}: expected integer class labels, got dtype {labels.dtype} (use .long(); for "
            "class probabilities pass a float target of the input's shape)"
        )
    if not labels.size or (labels.min() >= 0 and labels.max() < num_classes):
        return True  # the common case: two reductions, no masking
    valid = labels if ignore_index is None else labels[labels != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= num_classes):
        bad = valid.min() if valid.min() < 0 else valid.max()
        raise OutOfRangeError(
            f"{op}: target {bad} is out of bounds for {num_classes} classes "
            f"(valid labels: 0..{num_classes - 1})"
        )
    return False


def _rows_and_targets(input, target, op, allow_probabilities):  # noqa: A002
    """Flatten (N, C, d1, ...) scores to rows (M, C) and the target to (M,) or (M, C)."""
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    class_axis = 0 if input.ndim == 1 else 1
    classes = input.shape[class_axis]
    loss_shape = input.shape[:class_axis] + input.shape[class_axis + 1 :]
    rows = input.reshape(1, classes) if input.ndim == 1 else input
    if input.ndim > 2:
        rows = input.movedim(1, -1).reshape(-1, classes)
    labels = _array_of(target)
    if not isinstance(labels, numpy.ndarray):
        labels = numpy.asarray(labels)
    probabilities = labels.dtype.kind == "f"
    if probabilities:
        if not allow_probabilities or labels.shape != input.shape:
            hint = f"; class probabilities must have the input's shape {input.shape}"
            raise DTypeError(
                f"{op}: expected integer class labels, got a {labels.dtype} target of shape "
                f"{labels.shape} (use .long()){hint if allow_probabilities else ''}"
            )
        labels = numpy.moveaxis(labels, class_axis, -1).reshape(-1, classes)
    else:
        if labels.shape != loss_shape:
            raise ShapeError(
                f"{op}: expected target of shape {loss_shape} for input of shape {input.shape}, "
                f"got {labels.shape}"
            )
        labels = labels.reshape(-1)
    return rows, labels, probabilities, classes, loss_shape


def _coefficients(
    labels, probabilities, classes, weight, ignore_index, smoothing, reduction, dtype, all_classes
):
    """The (M, C) matrix A with loss_i = -sum_c A_ic log p_ic (see ``npgrad.ops.loss``), a
    ``loss.OneHot`` for plain labels. ``all_classes``: every label is known to be a class."""
    class_weight = None if weight is None else _array_of(weight).astype(dtype)
    if probabilities:
        coefficients = labels.astype(dtype)
        if smoothing:
            coefficients = coefficients * (1 - smoothing) + smoothing / classes
        if class_weight is not None:
            coefficients = coefficients * class_weight
        if reduction == "mean":
            coefficients = coefficients / max(len(labels), 1)
        return coefficients
    none_ignored = all_classes and not 0 <= ignore_index < classes
    valid = None if none_ignored else labels != ignore_index
    if class_weight is None and not smoothing and len(labels) and (none_ignored or valid.all()):
        # the common case, no weights, smoothing or ignored labels: one-hot rows, as labels
        return loss.OneHot(labels, classes, 1.0 / len(labels) if reduction == "mean" else 1.0)
    if valid is None:
        valid = labels != ignore_index
    rows = numpy.arange(len(labels))
    safe = numpy.where(valid, labels, 0)
    target_weight = valid.astype(dtype) if class_weight is None else class_weight[safe] * valid
    coefficients = numpy.zeros((len(labels), classes), dtype=dtype)
    coefficients[rows, safe] = (1 - smoothing) * target_weight
    if smoothing:
        spread = numpy.full(classes, smoothing / classes, dtype=dtype)
        if class_weight is not None:
            spread = spread * class_weight
        coefficients += valid[:, None] * spread
    if reduction == "mean":
        with numpy.errstate(divide="ignore", invalid="ignore"):
            coefficients = coefficients / target_weight.sum()  # nan when every target is ignored
    return coefficients


def _class_loss(op_class, op, input, target, weight, ignore_index, reduction, smoothing):  # noqa: A002
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {smoothing}")
    allow_probabilities = op_class is loss.CrossEntropy
    rows, labels, probabilities, classes, loss_shape = _rows_and_targets(
        input, target, op, allow_probabilities
    )
    all_classes = not probabilities and _check_labels(labels, classes, op, ignore_index)
    coefficients = _coefficients(
        labels,
        probabilities,
        classes,
        weight,
        ignore_index,
        smoothing,
        reduction,
        input.dtype,
        all_classes,
    )
    if reduction == "none":
        return op_class.apply(rows, coefficients).reshape(loss_shape)
    if type(coefficients) is loss.OneHot:
        return op_class.apply(rows, coefficients, total=True)
    first = coefficients.flat[0] if coefficients.size else 0.0  # (a cheap test first)
    if reduction == "mean" and numpy.isnan(first) and numpy.isnan(coefficients).all():
        # every target ignored (or of weight 0): the mean is 0 / 0 = nan, as in PyTorch, whose
        # gradient is 0 there, not nan: zero coefficients, and the nan added as a constant
        zeros = numpy.zeros_like(coefficients)
        return op_class.apply(rows, zeros, total=True) + float("nan")
    return op_class.apply(rows, coefficients, total=True)  # "mean" is folded into the coefficients


def cross_entropy(
    input,  # noqa: A002
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Softmax cross-entropy between logits (N, C) or (N, C, *) and class labels or probabilities.

    One fused op: log-softmax and the negative log-likelihood in one forward, and the familiar
    ``softmax - onehot`` in one backward. Matches ``torch.nn.functional.cross_entropy``.

    Args:
        input: unnormalised scores, shape (C,), (N, C) or (N, C, d1, ...).
        target: int64 class labels of shape (), (N,) or (N, d1, ...); or float class
            probabilities of the input's shape.
        weight: a (C,) rescaling weight per class.
        ignore_index: a label that contributes neither loss nor gradient.
        reduction: 'mean' (weighted by ``weight`` of the targets), 'sum' or 'none'.
        label_smoothing: in [0, 1]: mix the targets with the uniform distribution.

    Returns:
        A scalar tensor, or the per-element losses when ``reduction='none'``.

    Raises:
        ShapeError: the target's shape does not fit the input's.
        OutOfRangeError: a label is negative or not smaller than C.

    >>> import npgrad
    >>> logits = npgrad.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> round(npgrad.nn.functional.cross_entropy(logits, npgrad.tensor([0, 1])).item(), 4)
    0.6691
    """
    return _class_loss(
        loss.CrossEntropy,
        "cross_entropy",
        input,
        target,
        weight,
        ignore_index,
        reduction,
        label_smoothing,
    )


def nll_loss(
    input,  # noqa: A002
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """Negative log-likelihood of class labels under log-probabilities (N, C) or (N, C, *)."""
    return _class_loss(loss.NLL, "nll_loss", input, target, weight, ignore_index, reduction, 0.0)


def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    """Connectionist temporal classification loss (speech, handwriting: no frame alignment).

    ``log_probs`` (T, N, C) or unbatched (T, C): log-softmax outputs over C classes, ``blank``
    among them. ``targets``: (N, S) padded label sequences, or all of them concatenated (1-D),
    without blanks. ``input_lengths`` and ``target_lengths`` (N,): the steps and labels of each
    sample. ``reduction="mean"`` divides each loss by its target length, then averages (as
    PyTorch); ``zero_infinity`` turns the infinite loss of a target too long for its input (and
    its NaN gradient) into 0. The gradient is PyTorch's (see ``npgrad.ops.loss.CTC``).
    """
    op = "ctc_loss"
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ShapeError(f"{op}: log_probs must be (T, N, C) or (T, C), got {log_probs.shape}")
    steps, batch, classes = log_probs.shape
    inputs = _sequence_lengths(input_lengths, batch, op, "input_lengths")
    lengths = _sequence_lengths(target_lengths, batch, op, "target_lengths")
    labels = numpy.asarray(_array_of(targets))
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must be integer class indices, got {labels.dtype}")
    if unbatched or labels.ndim == 1 and batch == 1 and labels.shape[0] == lengths[0]:
        labels = labels.reshape(1, -1)
    if labels.ndim == 1:  # concatenated: cut into rows, padded with the blank
        if labels.shape[0] != lengths.sum():
            raise ShapeError(
                f"{op}: concatenated targets have {labels.shape[0]} labels but target_lengths "
                f"sum to {lengths.sum()}"
            )
        padded = numpy.full((batch, max(int(lengths.max(initial=0)), 1)), blank, dtype=numpy.int64)
        starts = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]])
        for row, (start, length) in enumerate(zip(starts, lengths, strict=True)):
            padded[row, :length] = labels[start : start + length]
        labels = padded
    if labels.ndim != 2 or labels.shape[0] != batch or (lengths > labels.shape[1]).any():
        raise ShapeError(
            f"{op}: targets {labels.shape} do not fit {batch} samples of target_lengths "
            f"{lengths.tolist()} (expected (N, S) with S >= every length, or 1-D concatenated)"
        )
    if not 0 <= blank < classes:
        raise OutOfRangeError(f"{op}: blank {blank} is not one of the {classes} classes")
    used = numpy.arange(labels.shape[1])[None, :] < lengths[:, None]
    if used.any() and (labels[used].min() < 0 or labels[used].max() >= classes):
        raise OutOfRangeError(f"{op}: target labels must lie in [0, {classes}), got {labels[used]}")
    if (inputs < 1).any() or (inputs > steps).any():
        raise ShapeError(
            f"{op}: input_lengths {inputs.tolist()} must lie in [1, {steps}] (log_probs has "
            f"{steps} steps)"
        )
    losses = loss.CTC.apply(
        log_probs,
        numpy.where(used, labels, blank).astype(numpy.int64),
        inputs,
        lengths,
        blank=blank,
        zero_infinity=zero_infinity,
    )
    if reduction == "mean":
        per_label = npgrad.tensor(numpy.maximum(lengths, 1), dtype=log_probs.dtype)
        return (losses / per_label).mean()
    if unbatched and reduction == "none":
        return losses[0]
    return _reduce(losses, reduction, op)


def _sequence_lengths(lengths, batch, op, name):
    """Per-sample lengths (a tensor, an array, a list or an int) as an int64 array of ``batch``."""
    values = numpy.asarray(_array_of(lengths))
    if values.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {name} must be integers, got {values.dtype}")
    values = numpy.broadcast_to(values.astype(numpy.int64).reshape(-1), (batch,)).copy()
    return values


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """KL(target || exp(input)) point-wise: target (log target - input); input is log-probabilities.

    ``reduction="batchmean"`` divides the sum by the batch size, which is the true KL divergence.
    """
    target = _as_target(target, input)
    if log_target:
        values = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = npgrad.where(positive, target, npgrad.ones_like(target))
        values = npgrad.where(positive, target * safe.log(), npgrad.zeros_like(target)) - (
            target * input
        )
    if reduction == "batchmean":
        return values.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(values, reduction, "kl_div")


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1."""
    values = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return _reduce(values, reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):  # noqa: A002
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance)."""
    target = _array_of(target)  # (PyTorch's sum of both terms, for labels other than +-1 too)
    values = (margin - input).clamp(min=0.0).masked_fill(target == 1, 0.0) + input.masked_fill(
        target == -1, 0.0
    )
    return _reduce(values, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, reduction="mean"):  # noqa: A002
    """log(1 + e^(-y x)) for labels y in {1, -1} (a two-class logistic loss)."""
    return _reduce(softplus(-target * input), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):  # noqa: A002
    """Per sample, the mean over classes of -(y log sigmoid(x) + (1 - y) log sigmoid(-x))."""
    values = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        values = values * weight
    return _reduce(values.mean(dim=-1), reduction, "multilabel_soft_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):  # noqa: A002
    """Per sample: sum over classes i != y of max(0, margin - x[y] + x[i])^p, over the class
    count (the multi-class hinge loss)."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    labels = numpy.asarray(_array_of(target)).reshape(-1, 1)
    scores = input if input.ndim == 2 else input.reshape(1, -1)
    correct = scores.gather(1, labels)
    hinge = (scores - correct + margin).clamp(min=0.0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * Tensor(_array_of(weight)[labels])
    others = numpy.arange(scores.shape[1]) != labels  # the true class does not count
    values = (hinge * Tensor(others.astype(scores._data.dtype))).sum(dim=1) / scores.shape[1]
    return _reduce(
        values if input.ndim == 2 else values.reshape(()), reduction, "multi_margin_loss"
    )


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    cosine = cosine_similarity(input1, input2, dim=-1)
    values = npgrad.where(_array_of(target) == 1, 1 - cosine, (cosine - margin).clamp(min=0.0))
    return _reduce(values, reduction, "cosine_embedding_loss")


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
):
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm distance; ``swap`` also measures
    the negative from the positive and keeps the nearer (Balntas et al., 2016)."""
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = to_negative.minimum(pairwise_distance(positive, negative, p, eps))
    values = (to_positive - to_negative + margin).clamp(min=0.0)
    return _reduce(values, reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    """max(d(a, p) - d(a, n) + margin, 0) for any distance ``d`` (default: pairwise_distance)."""
    distance = pairwise_distance if distance_function is None else distance_function
    to_positive, to_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        to_negative = to_negative.minimum(distance(positive, negative))
    values = (to_positive - to_negative + margin).clamp(min=0.0)
    return _reduce(values, reduction, "triplet_margin_with_distance_loss")


def poisson_nll_loss(
    input,  # noqa: A002
    target,
    log_input=True,
    full=False,
    size_average=None,
    eps=1e-8,
    reduce=None,
    reduction="mean",
):
    """Negative log-likelihood of ``target`` counts under a Poisson of rate e^x
    (``log_input``) or x; ``full`` adds Stirling's approximation of log(target!)."""
    # rate e^x, or x (eps keeps log finite at 0)
    values = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        counts = _array_of(target)
        stirling = (
            counts * numpy.log(numpy.where(counts > 1, counts, 1))
            - counts
            + 0.5 * numpy.log(2 * math.pi * numpy.where(counts > 1, counts, 1))
        )
        values = values + Tensor(numpy.where(counts > 1, stirling, 0).astype(input._data.dtype))
    return _reduce(values, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of ``target`` under N(input, var): 0.5 (log var + (x - y)^2 /
    var), var clamped at ``eps`` (and + 0.5 log(2 pi) with ``full``)."""
    if var.ndim == input.ndim - 1 or (var.ndim == input.ndim and var.shape[-1] == 1):
        var = var.reshape(*input.shape[:-1], 1)  # one variance per sample
    if (var._data < 0).any():
        raise OutOfRangeError("gaussian_nll_loss: var has negative entries")
    var = var.clamp(min=eps)
    values = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        values = values + 0.5 * math.log(2 * math.pi)
    return _reduce(values, reduction, "gaussian_nll_loss")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / max(||x1|| ||x2||, eps) along ``dim``."""
    dot = (x1 * x2).sum(dim)
    return dot / (x1.norm(2, dim) * x2.norm(2, dim)).clamp(min=eps)
