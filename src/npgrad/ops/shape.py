"""Shape and indexing ops: reshape, permute, expand, indexing, cat/stack, pad, gather, scatter_add.

These move or copy elements without arithmetic, so each backward puts the gradient back where the
element came from: reshape it back, permute it back, sum it over copies, scatter it into zeros.
"""

from npgrad import buffers
from npgrad.autograd import Function, linear_backward
from npgrad.backend import xp


def _along(axis, item):
    """The index that applies ``item`` (an int or a slice) along ``axis`` (negative counts from
    the end) and takes everything along the other axes."""
    if axis < 0:
        return (Ellipsis, item) + (slice(None),) * (-axis - 1)
    return (slice(None),) * axis + (item,)


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order)"""

    @staticmethod
    def forward(ctx, x, shape=None):
        ctx.input_shape = x.shape
        return buffers.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return buffers.reshape(grad, ctx.input_shape)  # each element keeps its gradient

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad.reshape(ctx.input_shape)


class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[axes[i]]"""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(xp.argsort(ctx.axes))  # undo the permutation

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: v.transpose(ctx.axes))


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view, no copy)"""

    @staticmethod
    def forward(ctx, x, shape=None):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums the copies back to x's shape

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad


def _is_basic_index(index):
    """True for an index of ints, slices, None and Ellipsis only (it selects each element once)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, int | slice) for item in items)


class GetItem(Function):
    """y = x[index] (ints, slices, None, Ellipsis, boolean masks, integer arrays)"""

    @staticmethod
    def forward(ctx, x, index=None):
        ctx.input_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        grad_x = buffers.zeros(ctx.input_shape, grad.dtype)
        if _is_basic_index(ctx.index):
            grad_x[ctx.index] = grad  # each selected element got its gradient once
        else:
            xp.add.at(grad_x, ctx.index, grad)  # an index may repeat: gradients add up
        return grad_x

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: v[ctx.index])


class Cat(Function):
    """y = x_1, x_2, ... joined along axis"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        edges = xp.cumsum(ctx.sizes)[:-1]
        return tuple(xp.split(grad, edges, axis=ctx.axis))  # each input gets its own slice

    @staticmethod
    def backward_graph(ctx, grad, *xs):
        edges = [0, *xp.cumsum(ctx.sizes).tolist()]
        return tuple(
            grad[_along(ctx.axis, slice(start, stop))]
            for start, stop in zip(edges[:-1], edges[1:], strict=True)
        )


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new axis"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        return xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(xp.moveaxis(grad, ctx.axis, 0))  # input i gets slice i of the new axis

    @staticmethod
    def backward_graph(ctx, grad, *xs):
        return tuple(grad[_along(ctx.axis, i)] for i in range(len(xs)))


class Pad(Function):
    """y = x padded with a constant; pad_width as NumPy's ((before, after), ...) per axis"""

    @staticmethod
    def forward(ctx, x, pad_width=None, value=0.0):
        ctx.inside = tuple(
            slice(before, before + size)
            for (before, _), size in zip(pad_width, x.shape, strict=True)
        )
        return xp.pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inside]  # padding cells are constants: no gradient flows to x from them

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad[ctx.inside]


def _gather_index(index, axis):
    """The full advanced index that reads x[..., index[i, j, ...], ...] along ``axis``."""
    mesh = list(xp.ix_(*[xp.arange(size) for size in index.shape]))
    mesh[axis] = index
    return tuple(mesh)


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] for axis 0 (and likewise for any axis), as torch.gather"""

    @staticmethod
    def forward(ctx, x, index, axis=0):
        ctx.input_shape = x.shape
        ctx.full_index = _gather_index(index, axis)
        return x[ctx.full_index]

    @staticmethod
    def backward(ctx, grad):
        grad_x = xp.zeros(ctx.input_shape, dtype=grad.dtype)
        xp.add.at(grad_x, ctx.full_index, grad)  # repeated indices add up
        return grad_x, None

    @staticmethod
    def backward_graph(ctx, grad, x, index):
        return linear_backward(ctx, grad, lambda v: v[ctx.full_index]), None


class ScatterAdd(Function):
    """y = x, then y[index[i][j]][j] += src[i][j] for axis 0 (any axis), as torch.scatter_add"""

    @staticmethod
    def forward(ctx, x, index, src, axis=0):
        ctx.full_index = _gather_index(index, axis)
        ctx.used = tuple(slice(0, size) for size in index.shape)  # src may be larger: its corner
        ctx.src_shape = src.shape
        y = x.copy()
        xp.add.at(y, ctx.full_index, src[ctx.used])
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_src = None
        if ctx.needs_input_grad[2]:
            grad_src = _spread(grad[ctx.full_index], ctx.src_shape, ctx.used)
        return grad, None, grad_src  # dy/dx = 1, dy/dsrc = 1 at the place each element went

    @staticmethod
    def backward_graph(ctx, grad, x, index, src):
        def forward_map(v):  # J_src v: v's used corner added at the index into zeros
            out = xp.zeros(grad.shape, dtype=v.dtype)
            xp.add.at(out, ctx.full_index, v[ctx.used])
            return out

        return grad, None, linear_backward(ctx, grad, forward_map, which=2)


class ScatterReduce(Function):
    """y = x, then for axis 0 each y[index[i][j]][j] reduced with src[i][j] ("sum", "mean",
    "amax", "amin"), as torch.scatter_reduce; ``include_self=False`` leaves x's own value out
    where something is scattered. Gradients: sum 1, mean 1 / count, amax/amin split evenly
    among every value equal to the result (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, src, index=None, axis=0, reduce="sum", include_self=True):
        index_at = _gather_index(index, axis)
        used = tuple(slice(0, size) for size in index.shape)
        values = src[used]
        counts = xp.zeros(x.shape, dtype=xp.int64)
        xp.add.at(counts, index_at, 1)
        touched = counts > 0
        y = x.copy()
        if reduce in ("sum", "mean"):
            if not include_self:
                y[touched] = 0
            xp.add.at(y, index_at, values)
            if reduce == "mean":
                divisor = xp.where(touched, counts + include_self, 1).astype(y.dtype)
                y /= divisor
                ctx.divisor = divisor
        else:
            if not include_self:
                y[touched] = -xp.inf if reduce == "amax" else xp.inf
            (xp.maximum if reduce == "amax" else xp.minimum).at(y, index_at, values)
            # how many values equal y: the scattered ones and x's own, which PyTorch counts
            # even with include_self=False (it then gets no share itself)
            hits = xp.zeros(x.shape, dtype=y.dtype)
            xp.add.at(hits, index_at, (values == y[index_at]).astype(y.dtype))
            own = x == y
            hits += own
            if not include_self:
                own &= ~touched
            ctx.hits, ctx.own = hits, own
            ctx.save_for_backward(values, y)
        ctx.index_at, ctx.used, ctx.src_shape = index_at, used, src.shape
        ctx.reduce, ctx.include_self, ctx.touched = reduce, include_self, touched
        return y

    @staticmethod
    def backward(ctx, grad):
        touched, index_at = ctx.touched, ctx.index_at
        if ctx.reduce in ("sum", "mean"):
            share = grad / ctx.divisor if ctx.reduce == "mean" else grad
            grad_x = share if ctx.include_self else xp.where(touched, 0, grad)
            grad_x = xp.where(touched, grad_x, grad)  # untouched: y = x
            grad_src = share[index_at]
        else:
            values, y = ctx.saved_tensors
            share = grad / ctx.hits
            grad_x = xp.where(ctx.own, share, 0)
            grad_src = xp.where(values == y[index_at], share[index_at], 0)
        return grad_x, _spread(grad_src, ctx.src_shape, ctx.used)


def _spread(values, shape, used):
    """``values`` in the ``used`` corner of a zero array of ``shape`` (no copy when it is all)."""
    if values.shape == shape:
        return values
    out = xp.zeros(shape, dtype=values.dtype)
    out[used] = values
    return out


class Scatter(Function):
    """y = x, then y[index[i][j]][j] = src[i][j] for axis 0 (any axis), as torch.scatter; with
    no ``src``, the scalar ``value`` is written everywhere the index points"""

    @staticmethod
    def forward(ctx, x, src=None, index=None, axis=0, value=None):
        ctx.full_index = _gather_index(index, axis)
        ctx.used = tuple(slice(0, size) for size in index.shape)  # src may be larger: its corner
        ctx.src_shape = None if src is None else src.shape
        y = x.copy()
        if src is None:
            y[ctx.full_index] = value
        else:
            y[ctx.full_index] = src[ctx.used]
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad.copy()
        grad_x[ctx.full_index] = 0  # dy/dx = 0 where overwritten, 1 elsewhere
        grad_src = None
        if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
            grad_src = _spread(grad[ctx.full_index], ctx.src_shape, ctx.used)  # 1 where it went
        return grad_x, grad_src

    @staticmethod
    def backward_graph(ctx, grad, x, *src):
        def keep_unwritten(v):  # J_x v: v with the written places zeroed
            out = v.copy()
            out[ctx.full_index] = 0
            return out

        def write_src(v):  # J_src v: zeros with v's used corner written at the index
            out = xp.zeros(grad.shape, dtype=v.dtype)
            out[ctx.full_index] = v[ctx.used]
            return out

        grad_x = linear_backward(ctx, grad, keep_unwritten)
        return grad_x, (linear_backward(ctx, grad, write_src, which=1) if src else None)


class IndexAdd(Function):
    """y = x, then y[..., index[k], ...] += alpha * source[..., k, ...] along ``axis``
    (torch.index_add; repeated indices add up)"""

    @staticmethod
    def forward(ctx, x, source, index=None, axis=0, alpha=1):
        ctx.index, ctx.axis, ctx.alpha = index, axis, alpha
        y = x.copy()
        moved = xp.moveaxis(y, axis, 0)  # a view: adding into it adds into y
        xp.add.at(moved, index, alpha * xp.moveaxis(source, axis, 0))
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_source = None
        if ctx.needs_input_grad[1]:  # dy/dsource = alpha at the rows it was added to
            grad_source = ctx.alpha * xp.take(grad, ctx.index, axis=ctx.axis)
        return grad, grad_source  # dy/dx = 1

    @staticmethod
    def backward_graph(ctx, grad, x, source):
        def forward_map(v):  # J_source v: alpha v added at the index into zeros
            out = xp.zeros(grad.shape, dtype=v.dtype)
            moved = xp.moveaxis(v, ctx.axis, 0)
            xp.add.at(xp.moveaxis(out, ctx.axis, 0), ctx.index, ctx.alpha * moved)
            return out

        return grad, linear_backward(ctx, grad, forward_map, which=1)


class Repeat(Function):
    """y = x tiled ``repeats`` times along each axis (torch.Tensor.repeat)"""

    @staticmethod
    def forward(ctx, x, repeats=None):
        ctx.input_shape = x.shape
        ctx.repeats = repeats
        return xp.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        shape = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        # Split each axis into (copy, element) and sum over the copies.
        split = []
        for count, size in zip(ctx.repeats, shape, strict=True):
            split += [count, size]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.input_shape)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: xp.tile(v, ctx.repeats))


class Flip(Function):
    """y = x reversed along the given axes"""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.axes = axes
        return xp.flip(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return xp.flip(grad, ctx.axes)  # flip the gradient back

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: xp.flip(v, ctx.axes))


class IndexPut(Function):
    """y = x with y[index] = value (the differentiable form of ``x[index] = value``)"""

    @staticmethod
    def forward(ctx, x, value, index=None):
        ctx.index = index
        y = x.copy()
        y[index] = value
        return y

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad.copy()
        grad_x[ctx.index] = 0  # overwritten elements no longer depend on x
        grad_value = grad[ctx.index] if ctx.needs_input_grad[1] else None  # dy[index]/dvalue = 1
        return grad_x, grad_value

    @staticmethod
    def backward_graph(ctx, grad, x, value):
        def keep_unwritten(v):  # J_x v: v with the overwritten places zeroed
            out = v.copy()
            out[ctx.index] = 0
            return out

        def write_value(v):  # J_value v: zeros with v written at the index
            out = xp.zeros(grad.shape, dtype=v.dtype)
            out[ctx.index] = v
            return out

        return (
            linear_backward(ctx, grad, keep_unwritten),
            linear_backward(ctx, grad, write_value, which=1),
        )


class Embedding(Function):
    """y = weight[index]: a row of ``weight`` for each integer in ``index``"""

    @staticmethod
    def forward(ctx, weight, index, padding_idx=None, scale_grad_by_freq=False):
        ctx.weight_shape, ctx.index, ctx.padding_idx = weight.shape, index, padding_idx
        ctx.counts = None
        if scale_grad_by_freq:  # how often each row is looked up in this batch (at least 1)
            counts = xp.bincount(index.ravel(), minlength=weight.shape[0])
            ctx.counts = xp.maximum(counts, 1)[:, None].astype(weight.dtype)
        return weight[index]

    @staticmethod
    def backward(ctx, grad):
        grad_weight = xp.zeros(ctx.weight_shape, dtype=grad.dtype)
        # each row gets the sum of the gradients of every position that looked it up
        xp.add.at(grad_weight, ctx.index.ravel(), grad.reshape(-1, ctx.weight_shape[1]))
        if ctx.counts is not None:
            grad_weight /= ctx.counts  # scale_grad_by_freq: the mean instead of the sum
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0  # the padding row is never trained
        return grad_weight, None

    @staticmethod
    def backward_graph(ctx, grad, weight, index):
        def forward_map(v):  # J v: v's rows (over their counts) looked up, padding as zeros
            rows = (v if ctx.counts is None else v / ctx.counts)[ctx.index]
            if ctx.padding_idx is not None:
                rows[ctx.index == ctx.padding_idx] = 0
            return rows

        return linear_backward(ctx, grad, forward_map), None


class RepeatInterleave(Function):
    """y = x with each element repeated ``repeats`` times along ``axis`` (abc -> aabbcc)"""

    @staticmethod
    def forward(ctx, x, repeats=1, axis=0):
        ctx.repeats, ctx.axis = repeats, axis
        return xp.repeat(x, repeats, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, repeats = ctx.axis, ctx.repeats
        split = grad.shape[:axis] + (grad.shape[axis] // repeats, repeats) + grad.shape[axis + 1 :]
        return grad.reshape(split).sum(axis=axis + 1)  # each copy's gradient adds up

    @staticmethod
    def backward_graph(ctx, grad, x):
        return linear_backward(ctx, grad, lambda v: xp.repeat(v, ctx.repeats, axis=ctx.axis))
