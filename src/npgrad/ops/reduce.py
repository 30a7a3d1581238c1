"""Reductions: sum, mean, max/min, var, logsumexp, prod.

Every op takes ``axis`` as ``None`` (all axes) or a tuple of non-negative ints (the Tensor methods
normalise PyTorch's ``dim``), plus ``keepdims``. Backward re-inserts the reduced axes and
broadcasts.
"""

from math import prod as _int_prod

from npgrad.autograd import Function, linear_backward, recomputed_backward
from npgrad.backend import xp
from npgrad.ops.shape import Cat, _along


def _keep_reduced_axes(grad, ndim, axis, keepdims):
    """Give ``grad`` size-1 axes where the forward reduced them away, so that it broadcasts back."""
    if keepdims:
        return grad
    if axis is None:
        return grad.reshape((1,) * ndim)
    return xp.expand_dims(grad, axis)


def _reduced_count(shape, axis):
    """Number of elements each output element was reduced from."""
    if axis is None:
        return _int_prod(shape)
    return _int_prod(shape[a] for a in axis)


def _restored(grad, shape, axis):
    """A gradient Tensor with size-1 axes where the forward reduced them, so that it broadcasts
    back against the input (``_keep_reduced_axes`` in the graph)."""
    return grad.reshape(tuple(1 if axis is None or i in axis else n for i, n in enumerate(shape)))


def _routed(ctx, grad):
    """``backward_graph`` of a max/min/median: the gradient goes to the chosen elements by a
    fixed routing (the NumPy backward of ones), which is linear in the gradient."""
    route = ctx.backward(ctx, xp.ones(grad.shape, grad.dtype))
    return linear_backward(
        ctx, grad, lambda v: (v * route).sum(axis=ctx.axis, keepdims=ctx.keepdims)
    )


class Sum(Function):
    """y = sum of x over axis"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _keep_reduced_axes(grad, len(ctx.shape), ctx.axis, ctx.keepdims)
        return xp.broadcast_to(grad, ctx.shape)  # dy/dx_i = 1

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: v.sum(axis=ctx.axis, keepdims=ctx.keepdims))


class Mean(Function):
    """y = mean of x over axis"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _keep_reduced_axes(grad, len(ctx.shape), ctx.axis, ctx.keepdims)
        count = _reduced_count(ctx.shape, ctx.axis)
        return xp.broadcast_to(grad / count, ctx.shape)  # dy/dx_i = 1/n

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: v.mean(axis=ctx.axis, keepdims=ctx.keepdims))


class Amax(Function):
    """y = max of x over axis; tied maxima share the gradient equally (PyTorch's amax rule)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        y = x.max(axis=axis, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else y.reshape(_drop_axes(y.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _grad_to_extremes(grad, x, y, ctx)  # dy/dx_i = [x_i is a max] / (number of maxima)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return _routed(ctx, grad)


class Amin(Function):
    """y = min of x over axis; tied minima share the gradient equally (PyTorch's amin rule)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        y = x.min(axis=axis, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else y.reshape(_drop_axes(y.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _grad_to_extremes(grad, x, y, ctx)  # dy/dx_i = [x_i is a min] / (number of minima)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return _routed(ctx, grad)


def _drop_axes(shape, axis):
    """``shape`` without the reduced axes (all of them when ``axis`` is None)."""
    if axis is None:
        return ()
    return tuple(size for i, size in enumerate(shape) if i not in axis)


def _grad_to_extremes(grad, x, extreme, ctx):
    """Route ``grad`` to the positions equal to ``extreme``, split evenly among ties; a NaN
    extreme (a NaN in the slice) to the NaNs, as PyTorch."""
    grad = _keep_reduced_axes(grad, x.ndim, ctx.axis, ctx.keepdims)
    hits = x == extreme
    if extreme.dtype.kind in "fc" and xp.isnan(extreme).any():  # (extreme is the small one)
        hits |= xp.isnan(x) & xp.isnan(extreme)
    hits = hits.astype(grad.dtype)
    return hits * (grad / hits.sum(axis=ctx.axis, keepdims=True))


class Median(Function):
    """y = the lower median of all elements (PyTorch's, no averaging); tied medians share the
    gradient equally, as PyTorch's median without a dim"""

    @staticmethod
    def forward(ctx, x):
        flat = x.reshape(-1)
        y = xp.sort(flat)[(flat.size - 1) // 2] if flat.size else xp.array(xp.nan, x.dtype)
        if xp.isnan(flat).any():
            y = xp.array(xp.nan, x.dtype)  # PyTorch: a NaN anywhere makes the median NaN
        ctx.save_for_backward(x, y)
        ctx.axis, ctx.keepdims = None, False
        return xp.asarray(y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _grad_to_extremes(grad, x, y, ctx)  # dy/dx_i = [x_i = y] / (number of ties)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return _routed(ctx, grad)


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction) over axis"""

    @staticmethod
    def forward(ctx, x, axis=None, correction=1, keepdims=False):
        mean = x.mean(axis=axis, keepdims=True)
        centered = x - mean
        count = _reduced_count(x.shape, axis)
        ctx.save_for_backward(centered)
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, max(count - correction, 0)
        return (centered * centered).sum(axis=axis, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        grad = _keep_reduced_axes(grad, centered.ndim, ctx.axis, ctx.keepdims)
        return grad * (2 / ctx.divisor) * centered  # dy/dx_i = 2 (x_i - mean) / (n - correction)

    @staticmethod
    def backward_graph(ctx, grad, x, *constants):
        centered = x - Mean.apply(x, axis=ctx.axis, keepdims=True)
        return _restored(grad, x.shape, ctx.axis) * (2 / ctx.divisor) * centered


class Std(Function):
    """y = sqrt(var(x)) over axis; the gradient is 0 where y = 0 (PyTorch's), not 0 / 0"""

    @staticmethod
    def forward(ctx, x, axis=None, correction=1, keepdims=False):
        centered = x - x.mean(axis=axis, keepdims=True)
        divisor = max(_reduced_count(x.shape, axis) - correction, 0)
        y = xp.sqrt((centered * centered).sum(axis=axis, keepdims=True) / divisor)
        ctx.save_for_backward(centered, y)
        ctx.axis, ctx.keepdims, ctx.divisor = axis, keepdims, divisor
        return y if keepdims else y.reshape(_drop_axes(y.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        centered, y = ctx.saved_tensors
        grad = _keep_reduced_axes(grad, centered.ndim, ctx.axis, ctx.keepdims)
        scale = grad / (ctx.divisor * xp.where(y == 0, 1, y))  # reduced: a small array
        scale = xp.where(y == 0, 0, scale)
        return centered * scale  # dy/dx_i = (x_i - mean) / ((n - correction) y)

    @staticmethod
    def backward_graph(ctx, grad, x, *constants):
        centered = x - Mean.apply(x, axis=ctx.axis, keepdims=True)
        y = (Sum.apply(centered * centered, axis=ctx.axis, keepdims=True) / ctx.divisor).sqrt()
        zero = y._data == 0
        scale = _restored(grad, x.shape, ctx.axis) / (y * ctx.divisor).where(~zero, 1.0)
        return centered * scale.where(~zero, 0.0)


class Norm(Function):
    """y = (sum |x|^p)^(1/p) over axis, p > 0 finite; the gradient is 0 where y = 0 (PyTorch's
    subgradient at x = 0, where the formula below is 0 / 0)"""

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        else:
            y = (xp.abs(x) ** p).sum(axis=axis, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axis, ctx.keepdims = p, axis, keepdims
        return y if keepdims else y.reshape(_drop_axes(y.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p = ctx.p
        grad = _keep_reduced_axes(grad, x.ndim, ctx.axis, ctx.keepdims)
        zero = y == 0  # reduced: a small array
        safe = xp.where(zero, 1, y)
        if p == 2:
            return x * xp.where(zero, 0, grad / safe)  # dy/dx_i = x_i / y
        # dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1)
        result = xp.sign(x) * xp.abs(x) ** (p - 1) * (grad / safe ** (p - 1))
        return xp.where(zero, 0, result)

    @staticmethod
    def backward_graph(ctx, grad, x, *constants):
        p = ctx.p
        y = Norm.apply(x, p=p, axis=ctx.axis, keepdims=True)
        zero = y._data == 0
        safe = y.where(~zero, 1.0)
        scale = (_restored(grad, x.shape, ctx.axis) / safe ** (p - 1)).where(~zero, 0.0)
        if p == 2:
            return x * scale
        return x.sign() * x.abs() ** (p - 1) * scale


class LogSumExp(Function):
    """y = log(sum(exp(x))) over axis, computed as m + log(sum(exp(x - m))) with m = max(x)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        shift = x.max(axis=axis, keepdims=True)
        # NOTE: an all -inf (or inf) slice would give inf - inf = nan; shift by 0 there instead
        shift = xp.where(xp.isfinite(shift), shift, 0)
        y = xp.log(xp.exp(x - shift).sum(axis=axis, keepdims=True)) + shift
        ctx.save_for_backward(x, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else y.reshape(_drop_axes(y.shape, axis))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad = _keep_reduced_axes(grad, x.ndim, ctx.axis, ctx.keepdims)
        return grad * xp.exp(x - y)  # dy/dx_i = softmax(x)_i

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = LogSumExp.apply(x, axis=ctx.axis, keepdims=True)
        return _restored(grad, x.shape, ctx.axis) * (x - y).exp()


class Prod(Function):
    """y = product of x over axis (gradient exact even where some x_i are 0)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdims = axis, keepdims
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.size == 0:
            return xp.zeros_like(x)  # an empty input has an empty gradient
        axis = tuple(range(x.ndim)) if ctx.axis is None else ctx.axis
        kept = [a for a in range(x.ndim) if a not in axis]
        # Move the reduced axes last and flatten them, so that one cumprod sees each product.
        moved = x.transpose(kept + list(axis))
        flat = moved.reshape(moved.shape[: len(kept)] + (_reduced_count(x.shape, axis),))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape)  # dy/dx_i = product of all x_j, j != i
        others = others.transpose(xp.argsort(kept + list(axis)))
        grad = _keep_reduced_axes(grad, x.ndim, ctx.axis, ctx.keepdims)
        return grad * others

    @staticmethod
    def backward_graph(ctx, grad, x):
        if 0 in x.shape:
            return (x * 0,)  # an empty input has an empty gradient
        return recomputed_backward(ctx, grad, lambda x: _prod_composite(ctx, x))


def _prod_composite(ctx, x):
    """``Prod`` as a tree of pairwise products (log2 n multiplications, exact with zeros), for
    gradients of gradients."""
    axes = tuple(range(x.ndim)) if ctx.axis is None else ctx.axis
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = x.permute(*kept, *axes)
    flat = moved.reshape(*moved.shape[: len(kept)], _reduced_count(x.shape, axes))
    while flat.shape[-1] > 1:
        if flat.shape[-1] % 2:  # an odd count: the last one waits a round
            flat = Cat.apply(flat[..., :-1:2] * flat[..., 1::2], flat[..., -1:], axis=-1)
        else:
            flat = flat[..., ::2] * flat[..., 1::2]
    return _restored(flat, x.shape, axes) if ctx.keepdims else flat[..., 0]


class CumSum(Function):
    """y_i = x_1 + ... + x_i along axis"""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return xp.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # dy_i/dx_j = [j <= i]  =>  grad_x_j = sum_{i >= j} grad_i, a reversed cumulative sum
        return xp.flip(xp.cumsum(xp.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: xp.cumsum(v, axis=ctx.axis))


class CumProd(Function):
    """y_i = x_1 * ... * x_i along axis"""

    @staticmethod
    def forward(ctx, x, axis=0):
        y = xp.cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        # dy_i/dx_j = prod_{k <= i, k != j} x_k for j <= i. Without zeros that is y_i / x_j,
        # so grad_x_j = (sum_{i >= j} grad_i y_i) / x_j, a reversed cumulative sum
        if xp.all(x != 0):
            flipped = xp.flip(grad * y, axis)
            return xp.flip(xp.cumsum(flipped, axis=axis), axis) / x
        # with zeros: each j directly, the products before j times the products after it
        moved_x, moved_grad = xp.moveaxis(x, axis, -1), xp.moveaxis(grad, axis, -1)
        size = moved_x.shape[-1]
        out = xp.zeros_like(moved_x)
        for j in range(size):
            before = xp.prod(moved_x[..., :j], axis=-1, keepdims=True)
            after = xp.cumprod(moved_x[..., j + 1 :], axis=-1)
            partial = xp.concatenate([xp.ones_like(before), after], axis=-1) * before
            out[..., j] = (moved_grad[..., j:] * partial).sum(axis=-1)
        return xp.moveaxis(out, -1, axis)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return recomputed_backward(ctx, grad, lambda x: _cumprod_composite(ctx, x))


def _cumprod_composite(ctx, x):
    """``CumProd`` as a scan of products (Hillis-Steele: after the round with offset d, y_i
    holds x_{i-2d+1} ... x_i; log2 n rounds, exact with zeros), for gradients of gradients."""
    axis, size, offset, y = ctx.axis, x.shape[ctx.axis], 1, x
    while offset < size:
        head = y[_along(axis, slice(0, offset))]  # already complete
        tail = y[_along(axis, slice(offset, None))] * y[_along(axis, slice(0, size - offset))]
        y = Cat.apply(head, tail, axis=axis)
        offset *= 2
    return y
