"""The ``torch.*`` style free functions (``npgrad.exp(x)``, ``npgrad.sum(x, dim=1)``, ...).

Each one calls the Tensor method of the same name, so the behaviour is defined in one place.
"""

import builtins
from collections import namedtuple

import numpy

from npgrad.backend import get_default_dtype
from npgrad.ops import linalg
from npgrad.tensor import Tensor, _array_of, cat, stack, tensor, where


def _as_tensor(x):
    return x if isinstance(x, Tensor) else tensor(x)


def exp(input):  # noqa: A002 - PyTorch's argument names
    """e^x, element-wise."""
    return _as_tensor(input).exp()


def log(input):  # noqa: A002
    """Natural logarithm, element-wise."""
    return _as_tensor(input).log()


def log1p(input):  # noqa: A002
    """log(1 + x), element-wise."""
    return _as_tensor(input).log1p()


def sqrt(input):  # noqa: A002
    """Square root, element-wise."""
    return _as_tensor(input).sqrt()


def rsqrt(input):  # noqa: A002
    """1 / sqrt(x), element-wise."""
    return _as_tensor(input).rsqrt()


def abs(input):  # noqa: A001, A002
    """|x|, element-wise."""
    return _as_tensor(input).abs()


def sign(input):  # noqa: A002
    """Sign of x, element-wise."""
    return _as_tensor(input).sign()


def sin(input):  # noqa: A002
    """Sine, element-wise."""
    return _as_tensor(input).sin()


def cos(input):  # noqa: A002
    """Cosine, element-wise."""
    return _as_tensor(input).cos()


def square(input):  # noqa: A002
    """x^2, element-wise."""
    return _as_tensor(input).square()


def sigmoid(input):  # noqa: A002
    """Logistic sigmoid, element-wise."""
    return _as_tensor(input).sigmoid()


def tanh(input):  # noqa: A002
    """Hyperbolic tangent, element-wise."""
    return _as_tensor(input).tanh()


def relu(input):  # noqa: A002
    """max(x, 0), element-wise."""
    return _as_tensor(input).relu()


def softmax(input, dim):  # noqa: A002
    """Softmax along ``dim``."""
    return input.softmax(dim)


def log_softmax(input, dim):  # noqa: A002
    """Log-softmax along ``dim``."""
    return input.log_softmax(dim)


def clamp(input, min=None, max=None):  # noqa: A002
    """Clamp every element into [min, max]."""
    return input.clamp(min, max)


clip = clamp


def maximum(input, other):  # noqa: A002
    """Element-wise maximum."""
    return input.maximum(other)


def minimum(input, other):  # noqa: A002
    """Element-wise minimum."""
    return input.minimum(other)


def sum(input, dim=None, keepdim=False, dtype=None, axis=None):  # noqa: A001, A002
    """Sum over ``dim``."""
    return input.sum(dim, keepdim, dtype, axis=axis)


def mean(input, dim=None, keepdim=False, dtype=None, axis=None):  # noqa: A002
    """Mean over ``dim``."""
    return input.mean(dim, keepdim, dtype, axis=axis)


def max(input, dim=None, keepdim=False, axis=None):  # noqa: A001, A002
    """Max of all elements, ``(values, indices)`` along ``dim``, or maximum with a tensor."""
    return input.max(dim, keepdim, axis=axis)


def min(input, dim=None, keepdim=False, axis=None):  # noqa: A001, A002
    """Min of all elements, ``(values, indices)`` along ``dim``, or minimum with a tensor."""
    return input.min(dim, keepdim, axis=axis)


def amax(input, dim=None, keepdim=False):  # noqa: A002
    """Max over ``dim``."""
    return input.amax(dim, keepdim)


def amin(input, dim=None, keepdim=False):  # noqa: A002
    """Min over ``dim``."""
    return input.amin(dim, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):  # noqa: A002
    """Variance over ``dim``."""
    return input.var(dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):  # noqa: A002
    """Standard deviation over ``dim``."""
    return input.std(dim, unbiased, keepdim, correction)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log(sum(exp(x))) over ``dim``."""
    return input.logsumexp(dim, keepdim)


def prod(input, dim=None, keepdim=False):  # noqa: A002
    """Product over ``dim``."""
    return input.prod(dim, keepdim)


def norm(input, p=2, dim=None, keepdim=False):  # noqa: A002
    """p-norm over ``dim``."""
    return input.norm(p, dim, keepdim)


def argmax(input, dim=None, keepdim=False, axis=None):  # noqa: A002
    """Index of the max."""
    return input.argmax(dim, keepdim, axis=axis)


def argmin(input, dim=None, keepdim=False, axis=None):  # noqa: A002
    """Index of the min."""
    return input.argmin(dim, keepdim, axis=axis)


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where all elements are non-zero."""
    return input.all(dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where any element is non-zero."""
    return input.any(dim, keepdim)


def reshape(input, shape):  # noqa: A002
    """The same elements in a new shape."""
    return input.reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """Merge dims ``start_dim``..``end_dim``."""
    return input.flatten(start_dim, end_dim)


def squeeze(input, dim=None):  # noqa: A002
    """Remove size-1 dims."""
    return input.squeeze(dim)


def unsqueeze(input, dim):  # noqa: A002
    """Insert a size-1 dim."""
    return input.unsqueeze(dim)


def transpose(input, dim0, dim1):  # noqa: A002
    """Swap two dims."""
    return input.transpose(dim0, dim1)


def permute(input, dims):  # noqa: A002
    """Reorder dims."""
    return input.permute(dims)


def flip(input, dims):  # noqa: A002
    """Reverse along ``dims``."""
    return input.flip(dims)


def mm(input, mat2):  # noqa: A002
    """Matrix product."""
    return input @ mat2


bmm = mv = dot = mm


def numel(input):  # noqa: A002
    """Number of elements."""
    return input.numel()


def isnan(input):  # noqa: A002
    """Element-wise NaN test."""
    return input.isnan()


def isfinite(input):  # noqa: A002
    """Element-wise finiteness test."""
    return input.isfinite()


def allclose(input, other, rtol=1e-5, atol=1e-8):  # noqa: A002
    """True when all elements are close."""
    return input.allclose(other, rtol, atol)


def equal(input, other):  # noqa: A002
    """True when shapes and elements are equal."""
    return input.equal(other)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """``(values, indices)`` sorted along ``dim``."""
    return input.sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """Indices that sort ``input`` along ``dim``."""
    return input.argsort(dim, descending, stable)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """``(values, indices)`` of the ``k`` largest entries along ``dim``."""
    return input.topk(k, dim, largest, sorted)


def is_tensor(obj):
    """True for npgrad tensors."""
    return isinstance(obj, Tensor)


def tril(input, diagonal=0):  # noqa: A002
    """The lower triangle of the last two dims."""
    return input.tril(diagonal)


def triu(input, diagonal=0):  # noqa: A002
    """The upper triangle of the last two dims."""
    return input.triu(diagonal)


def multinomial(input, num_samples, replacement=False, generator=None):  # noqa: A002
    """Sample indices from the rows of non-negative weights."""
    return input.multinomial(num_samples, replacement, generator)


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``; differentiable.

    Matches ``torch.einsum`` (operands may also be passed as one list). Not supported: a letter
    repeated within one operand (a diagonal), and size-1 broadcasting inside the equation.

    >>> import npgrad
    >>> a, b = npgrad.ones(2, 3), npgrad.ones(3, 4)
    >>> npgrad.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    return linalg.Einsum.apply(*(_as_tensor(x) for x in operands), equation=equation)


def _method(name):
    """``npgrad.<name>(input, ...)``: calls ``input.<name>(...)``, whose docstring it takes."""

    def function(input, *args, **kwargs):  # noqa: A002
        return getattr(_as_tensor(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = getattr(Tensor, name).__doc__
    return function


# element-wise arithmetic and comparisons
add, sub, mul, div, true_divide, pow = (
    _method(name) for name in ("add", "sub", "mul", "div", "true_divide", "pow")
)
subtract, multiply, divide, neg, negative, reciprocal = (
    _method(name) for name in ("subtract", "multiply", "divide", "neg", "negative", "reciprocal")
)
eq, ne, gt, lt, ge, le = (_method(name) for name in ("eq", "ne", "gt", "lt", "ge", "le"))
greater, less, greater_equal, less_equal, not_equal = (
    _method(name) for name in ("greater", "less", "greater_equal", "less_equal", "not_equal")
)
remainder, fmod, floor_divide, lerp, addcmul, addcdiv = (
    _method(name) for name in ("remainder", "fmod", "floor_divide", "lerp", "addcmul", "addcdiv")
)
clamp_min, clamp_max, isinf, nan_to_num = (
    _method(name) for name in ("clamp_min", "clamp_max", "isinf", "nan_to_num")
)
# element-wise functions
floor, ceil, round, trunc, fix = (  # noqa: A001
    _method(name) for name in ("floor", "ceil", "round", "trunc", "fix")
)
tan, sinh, cosh, asin, acos, atan, atan2 = (
    _method(name) for name in ("tan", "sinh", "cosh", "asin", "acos", "atan", "atan2")
)
arcsin, arccos, arctan, arctan2 = (
    _method(name) for name in ("arcsin", "arccos", "arctan", "arctan2")
)
expm1, log2, log10, erf = (_method(name) for name in ("expm1", "log2", "log10", "erf"))
# shapes, selection and reductions
clone, masked_fill, masked_select, index_select, narrow = (
    _method(name) for name in ("clone", "masked_fill", "masked_select", "index_select", "narrow")
)
unbind, t, movedim, moveaxis, swapaxes, repeat_interleave = (
    _method(name) for name in ("unbind", "t", "movedim", "movedim", "swapaxes", "repeat_interleave")
)
moveaxis.__name__ = moveaxis.__qualname__ = "moveaxis"
roll, diag, trace, diff, median, nonzero, unique = (
    _method(name) for name in ("roll", "diag", "trace", "diff", "median", "nonzero", "unique")
)
cummax, cummin, kthvalue, mode, nanmedian = (
    _method(name) for name in ("cummax", "cummin", "kthvalue", "mode", "nanmedian")
)


def outer(input, vec2):  # noqa: A002
    """The outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    return _as_tensor(input).unsqueeze(1) * _as_tensor(vec2).unsqueeze(0)


ger = outer


def tile(input, dims):  # noqa: A002
    """``input`` repeated ``dims`` times along each dim (missing leading dims count as 1)."""
    input = _as_tensor(input)  # noqa: A001
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def broadcast_to(input, size):  # noqa: A002
    """``input`` expanded to ``size`` by NumPy's broadcasting rules (a view)."""
    return _as_tensor(input).expand(*size)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [_as_tensor(x) for x in tensors]
    return cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors taken as rows."""
    return cat([_as_tensor(x).reshape(1, -1) if _as_tensor(x).ndim == 1 else x for x in tensors])


row_stack = vstack


def column_stack(tensors):
    """Stack 1-D tensors as columns (and concatenate 2-D ones along dim 1)."""
    columns = [_as_tensor(x) for x in tensors]
    return cat([x.reshape(-1, 1) if x.ndim <= 1 else x for x in columns], dim=1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors (``indexing`` "ij", PyTorch's default, or "xy")."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    vectors = [_as_tensor(x) for x in tensors]
    if indexing == "xy" and len(vectors) >= 2:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    shape = tuple(v.shape[0] for v in vectors)
    grids = [
        v.reshape(*(-1 if d == i else 1 for d in range(len(vectors)))).expand(*shape)
        for i, v in enumerate(vectors)
    ]
    if indexing == "xy" and len(grids) >= 2:  # x varies along columns: swap the roles back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _logical(function, *operands):
    return Tensor._wrap(numpy.asarray(function(*(_array_of(x) for x in operands))))


def logical_and(input, other):  # noqa: A002
    """Element-wise AND of the truth values (non-zero is True)."""
    return _logical(numpy.logical_and, input, other)


def logical_or(input, other):  # noqa: A002
    """Element-wise OR of the truth values."""
    return _logical(numpy.logical_or, input, other)


def logical_xor(input, other):  # noqa: A002
    """Element-wise XOR of the truth values."""
    return _logical(numpy.logical_xor, input, other)


def logical_not(input):  # noqa: A002
    """Element-wise NOT of the truth values."""
    return _logical(numpy.logical_not, input)


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):  # noqa: A002
    """Element-wise |input - other| <= atol + rtol * |other|."""
    return _logical(
        lambda a, b: numpy.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), input, other
    )


def count_nonzero(input, dim=None):  # noqa: A002
    """How many elements are non-zero, in all or along ``dim``."""
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    return Tensor._wrap(numpy.asarray(numpy.count_nonzero(_array_of(input), axis=axis)))


def finfo(dtype=None):
    """Limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``): NumPy's ``finfo``."""
    from npgrad.backend import get_default_dtype

    return numpy.finfo(get_default_dtype() if dtype is None else dtype)


iinfo = numpy.iinfo  # limits of an integer dtype
Size = tuple  # shapes are plain tuples: ``npgrad.Size([2, 3]) == (2, 3)``

# linear algebra and the rest of the Tensor methods above
cumprod, inverse, det, logdet, slogdet, pinverse = (
    _method(name) for name in ("cumprod", "inverse", "det", "logdet", "slogdet", "pinverse")
)
matrix_power, cross, select, take_along_dim, argwhere, diagonal = (
    _method(name)
    for name in ("matrix_power", "cross", "select", "take_along_dim", "argwhere", "diagonal")
)
scatter, index_add, index_fill, bincount = (
    _method(name) for name in ("scatter", "index_add", "index_fill", "bincount")
)


def addmm(input, mat1, mat2, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2)."""
    return _as_tensor(input) * beta + (mat1 @ mat2) * alpha


def baddbmm(input, batch1, batch2, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2), batched."""
    return addmm(input, batch1, batch2, beta, alpha)


def tensordot(a, b, dims=2):
    """Sum of products over the last ``dims`` dims of a and the first of b (or the given
    pairs of dims), as ``torch.tensordot``."""
    if isinstance(dims, int):
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    subs_a = [next(letters) for _ in range(a.ndim)]
    subs_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b, strict=True):
        subs_b[db % b.ndim] = subs_a[da % a.ndim]
    contracted = {subs_a[d % a.ndim] for d in dims_a}
    out = [s for s in subs_a if s not in contracted] + [s for s in subs_b if s not in contracted]
    return einsum(f"{''.join(subs_a)},{''.join(subs_b)}->{''.join(out)}", a, b)


def kron(input, other):  # noqa: A002
    """The Kronecker product of two tensors of the same number of dims."""
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != b.ndim:
        raise ValueError(f"kron: give tensors of the same number of dims, got {a.shape}, {b.shape}")
    # a[i, j] * b[k, l] laid out at (i * K + k, j * L + l): interleave the dims, then merge
    expanded_a = a.reshape(*[s for size in a.shape for s in (size, 1)])
    expanded_b = b.reshape(*[s for size in b.shape for s in (1, size)])
    product = expanded_a * expanded_b
    return product.reshape(*(x * y for x, y in zip(a.shape, b.shape, strict=True)))


def cdist(x1, x2, p=2.0):
    """Distances between every row of x1 (..., P, M) and every row of x2 (..., R, M)."""
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p != 2:
        return difference.norm(p, dim=-1)
    squares = (difference * difference).sum(-1)
    same = squares._data == 0  # zero distance: value 0 and gradient 0, as PyTorch (not inf)
    return squares.masked_fill(same, 1.0).sqrt().masked_fill(same, 0.0)


def dist(input, other, p=2.0):  # noqa: A002
    """The p-norm of input - other."""
    return (_as_tensor(input) - other).flatten().norm(p, dim=0)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):  # noqa: A002
    """(std, mean) along ``dim``."""
    return (
        input.std(dim, unbiased, keepdim, correction),
        input.mean(dim=dim, keepdim=keepdim),
    )


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):  # noqa: A002
    """(var, mean) along ``dim``."""
    return (
        input.var(dim, unbiased, keepdim, correction),
        input.mean(dim=dim, keepdim=keepdim),
    )


def nansum(input, dim=None, keepdim=False):  # noqa: A002
    """The sum with NaNs counted as zero (they get no gradient)."""
    return input.masked_fill(numpy.isnan(_array_of(input)), 0.0).sum(dim=dim, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False):  # noqa: A002
    """The mean of the non-NaN elements."""
    counts = (~numpy.isnan(_array_of(input))).sum(axis=dim, keepdims=keepdim)
    return nansum(input, dim, keepdim) / Tensor._wrap(numpy.asarray(counts, dtype=input.dtype))


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """base ** linspace(start, end, steps)."""
    from npgrad.tensor import linspace

    exponents = linspace(start, end, steps, dtype=dtype)
    out = Tensor._wrap(numpy.power(base, exponents._data).astype(exponents.dtype))
    return out.requires_grad_(requires_grad)


# --------------------------------------------------------------------------------------------
# More of torch's namespace, each a composition of the ops above (so gradients come for free)


def absolute(input):  # noqa: A002
    """|x| (``torch.absolute``, an alias of ``abs``)."""
    return _as_tensor(input).abs()


def positive(input):  # noqa: A002
    """x itself (``torch.positive``)."""
    return _as_tensor(input)


def swapdims(input, dim0, dim1):  # noqa: A002
    """``swapaxes`` under PyTorch's other name."""
    return _as_tensor(input).swapaxes(dim0, dim1)


def ravel(input):  # noqa: A002
    """The elements as one dimension (``flatten``)."""
    return _as_tensor(input).flatten()


def unflatten(input, dim, sizes):  # noqa: A002
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    x = _as_tensor(input)
    dim = dim % x.ndim
    return x.reshape(*x.shape[:dim], *sizes, *x.shape[dim + 1 :])


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``torch.cosine_similarity``: ``nn.functional.cosine_similarity``."""
    from npgrad.nn.functional import cosine_similarity as similarity

    return similarity(_as_tensor(x1), _as_tensor(x2), dim, eps)


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to (a ``ShapeError``-like ValueError if none)."""
    return tuple(numpy.broadcast_shapes(*(tuple(s) for s in shapes)))


def broadcast_tensors(*tensors):
    """Each tensor expanded to the common broadcast shape (views; gradients sum back)."""
    tensors = [_as_tensor(t) for t in tensors]
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(*shape) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,))."""
    out = tuple(t.reshape(1) if t.ndim == 0 else t for t in map(_as_tensor, _flat(tensors)))
    return out[0] if len(out) == 1 else out


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (a new leading one where needed)."""
    out = tuple(t.reshape(1, -1) if t.ndim < 2 else t for t in map(_as_tensor, _flat(tensors)))
    return out[0] if len(out) == 1 else out


def _flat(tensors):
    return tensors[0] if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors


def fliplr(input):  # noqa: A002
    """Reverse the columns (dim 1)."""
    return _as_tensor(input).flip(1)


def flipud(input):  # noqa: A002
    """Reverse the rows (dim 0)."""
    return _as_tensor(input).flip(0)


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second (``torch.rot90``)."""
    x = _as_tensor(input)
    first, second = dims
    k %= 4
    if k == 1:
        return x.flip(second).swapaxes(first, second)
    if k == 2:
        return x.flip(first).flip(second)
    if k == 3:
        return x.swapaxes(first, second).flip(second)
    return x


def deg2rad(input):  # noqa: A002
    """Degrees to radians."""
    return _as_tensor(input) * (numpy.pi / 180)


def rad2deg(input):  # noqa: A002
    """Radians to degrees."""
    return _as_tensor(input) * (180 / numpy.pi)


def exp2(input):  # noqa: A002
    """2^x, element-wise."""
    return (_as_tensor(input) * numpy.log(2.0)).exp()


def frac(input):  # noqa: A002
    """x - trunc(x): the fractional part, with x's sign (gradient 1)."""
    x = _as_tensor(input)
    return x - x.detach().trunc()


def sgn(input):  # noqa: A002
    """sign(x) for real tensors (``torch.sgn``; complex tensors are not supported)."""
    return _as_tensor(input).sign()


def signbit(input):  # noqa: A002
    """True where the sign bit is set (-0.0 and NaNs with it included); no gradient."""
    return tensor(numpy.signbit(_array_of(_as_tensor(input))))


def erfc(input):  # noqa: A002
    """1 - erf(x), accurate in the tails (erfc(9) ~ 4e-37)."""
    return _as_tensor(input).erfc()


def logit(input, eps=None):  # noqa: A002
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given."""
    p = _as_tensor(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return p.log() - (1 - p).log()


def xlogy(input, other):  # noqa: A002
    """x log(y), and 0 where x = 0 and y <= 0 (0 log 0 := 0), as ``torch.xlogy``."""
    x, y = _as_tensor(input), _as_tensor(other)
    hole = (x.detach() == 0) & (y.detach() <= 0)  # no log(0) behind the hole, no NaN gradient
    return (x * y.masked_fill(hole, 1.0).log()).masked_fill(hole, 0.0)


def sinc(input):  # noqa: A002
    """sin(pi x) / (pi x), and 1 at x = 0 (the gradient there is 0)."""
    x = _as_tensor(input)
    zero = x.detach() == 0
    scaled = x.masked_fill(zero, 1.0) * numpy.pi
    return (scaled.sin() / scaled).masked_fill(zero, 1.0)


def hypot(input, other):  # noqa: A002
    """sqrt(x^2 + y^2), element-wise."""
    x, y = _as_tensor(input), _as_tensor(other)
    return (x * x + y * y).sqrt()


def logaddexp(input, other):  # noqa: A002
    """log(e^x + e^y), computed as max(x, y) + log1p(e^-|x - y|): no overflow."""
    x, y = _as_tensor(input), _as_tensor(other)
    with numpy.errstate(invalid="ignore"):  # inf - inf, masked next
        gap = (x - y).masked_fill(tensor(_array_of(x) == _array_of(y)), 0.0)
    return x.maximum(y) + (-gap.abs()).exp().log1p()


def logaddexp2(input, other):  # noqa: A002
    """log2(2^x + 2^y)."""
    x, y = _as_tensor(input), _as_tensor(other)
    ln2 = numpy.log(2.0)
    return logaddexp(x * ln2, y * ln2) / ln2


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """(..., n) -> (..., n, n) with the last dim on the diagonal (offset 0, the last two dims)."""
    if (offset, dim1 % 2, dim2 % 2) != (0, 0, 1):
        raise NotImplementedError("diag_embed: only offset 0 into the last two dims")
    x = _as_tensor(input)
    eye = tensor(numpy.eye(x.shape[-1], dtype=x.dtype))
    return x.unsqueeze(-1) * eye


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as blocks along the diagonal of one matrix."""
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in map(_as_tensor, tensors)]
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        zeros_left = tensor(numpy.zeros((b.shape[0], left), b.dtype))
        zeros_right = tensor(numpy.zeros((b.shape[0], width - left - b.shape[1]), b.dtype))
        rows.append(cat([zeros_left, b, zeros_right], dim=1))
        left += b.shape[1]
    return cat(rows, dim=0)


def tril_indices(row, col, offset=0, dtype=None, device=None):
    """(2, n) int64 indices of the lower triangle of a row x col matrix."""
    return tensor(numpy.stack(numpy.tril_indices(row, offset, col)).astype(numpy.int64))


def triu_indices(row, col, offset=0, dtype=None, device=None):
    """(2, n) int64 indices of the upper triangle of a row x col matrix."""
    return tensor(numpy.stack(numpy.triu_indices(row, offset, col)).astype(numpy.int64))


def take(input, index):  # noqa: A002
    """The elements of the flattened input at ``index`` (any shape)."""
    flat = _as_tensor(input).flatten()
    index = numpy.asarray(_array_of(_as_tensor(index)), dtype=numpy.int64)
    wrapped = index.reshape(-1) % builtins.max(flat.shape[0], 1)  # negative: from the end
    return flat.index_select(0, wrapped).reshape(index.shape)


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """Split into ``n`` nearly equal parts (the first ones one longer), or at the given
    indices, along ``dim`` (``torch.tensor_split``)."""
    x = _as_tensor(input)
    size = x.shape[dim]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
        cuts = numpy.cumsum([0, *lengths])
    else:
        cuts = [0, *indices_or_sections, size]
    pieces = []
    for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
        start = builtins.min(int(start), size)
        stop = builtins.min(builtins.max(int(stop), start), size)
        pieces.append(x.narrow(dim, start, stop - start))
    return tuple(pieces)


def hsplit(input, sections):  # noqa: A002
    """``tensor_split`` along dim 1 (dim 0 for 1-D input)."""
    x = _as_tensor(input)
    return tensor_split(x, sections, dim=1 if x.ndim > 1 else 0)


def vsplit(input, sections):  # noqa: A002
    """``tensor_split`` along dim 0."""
    return tensor_split(input, sections, dim=0)


def dsplit(input, sections):  # noqa: A002
    """``tensor_split`` along dim 2."""
    return tensor_split(input, sections, dim=2)


def isin(elements, test_elements, assume_unique=False, invert=False):
    """True where an element of ``elements`` is in ``test_elements``; no gradient."""
    found = numpy.isin(
        _array_of(_as_tensor(elements)), _array_of(_as_tensor(test_elements)), invert=invert
    )
    return tensor(found)


def isneginf(input):  # noqa: A002
    """True where x is -inf."""
    return tensor(numpy.isneginf(_array_of(_as_tensor(input))))


def isposinf(input):  # noqa: A002
    """True where x is +inf."""
    return tensor(numpy.isposinf(_array_of(_as_tensor(input))))


def searchsorted(sorted_sequence, values, out_int32=False, right=False, side=None, sorter=None):
    """Where ``values`` would go in the sorted last dim of ``sorted_sequence`` (1-D, or one row
    per row of ``values``); ``right`` (or side="right") puts equal values after. No gradient."""
    if sorter is not None:
        raise NotImplementedError("searchsorted: sorter is not supported")
    side = side or ("right" if right else "left")
    boundaries = _array_of(_as_tensor(sorted_sequence))
    queries = _array_of(_as_tensor(values))
    if boundaries.ndim == 1:
        found = numpy.searchsorted(boundaries, queries, side=side)
    else:
        rows_b = boundaries.reshape(-1, boundaries.shape[-1])
        rows_q = queries.reshape(-1, queries.shape[-1])
        found = numpy.stack(
            [numpy.searchsorted(b, q, side=side) for b, q in zip(rows_b, rows_q, strict=True)]
        ).reshape(queries.shape)
    return tensor(numpy.asarray(found, dtype=numpy.int32 if out_int32 else numpy.int64))


def bucketize(input, boundaries, out_int32=False, right=False):  # noqa: A002
    """The bucket of each element among 1-D sorted ``boundaries``: i with b[i-1] < x <= b[i]
    (``right``: b[i-1] <= x < b[i]). No gradient."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def cov(input, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance of the rows (variables) of a 2-D input whose columns are observations."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported")
    x = _as_tensor(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    centered = x - x.mean(dim=1, keepdim=True)
    return (centered @ centered.T) / builtins.max(x.shape[1] - correction, 0)


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the rows of a 2-D input."""
    c = cov(input)
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)


def _trapezoid_areas(y, x, dx, dim):
    """(dim, the areas of the trapezoids between neighbouring samples along ``dim``)."""
    y = _as_tensor(y)
    dim %= y.ndim
    n = y.shape[dim]
    pairs = y.narrow(dim, 0, n - 1) + y.narrow(dim, 1, n - 1)
    if x is None:
        return dim, pairs * ((1.0 if dx is None else dx) / 2)
    x = _as_tensor(x)
    steps = (x.narrow(0, 1, n - 1) - x.narrow(0, 0, n - 1)).reshape(-1, *[1] * (y.ndim - dim - 1))
    return dim, pairs * steps / 2


def trapezoid(y, x=None, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: with 1-D sample points ``x`` or a spacing ``dx`` (1)."""
    dim, areas = _trapezoid_areas(y, x, dx, dim)
    return areas.sum(dim)


trapz = trapezoid


def vander(x, N=None, increasing=False):  # noqa: N803 - PyTorch's name
    """Columns x^(N-1), ..., x, 1 (or increasing powers) of a 1-D tensor."""
    x = _as_tensor(x)
    n = x.shape[0] if N is None else N
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return stack([x**p for p in powers], dim=1)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in ``shape``, one int64 tensor per dimension."""
    found = numpy.unravel_index(_array_of(_as_tensor(indices)), tuple(shape))
    return tuple(tensor(numpy.asarray(f, dtype=numpy.int64)) for f in found)


def pdist(input, p=2.0):  # noqa: A002
    """``torch.pdist``: ``nn.functional.pdist``."""
    from npgrad.nn.functional import pdist as distances

    return distances(_as_tensor(input), p)


def channel_shuffle(input, groups):  # noqa: A002
    """``torch.channel_shuffle``: ``nn.functional.channel_shuffle``."""
    from npgrad.nn.functional import channel_shuffle as shuffle

    return shuffle(_as_tensor(input), groups)


def quantile(input, q, dim=None, keepdim=False, interpolation="linear"):  # noqa: A002
    """The ``q``-th quantiles (a number or a 1-D tensor of them, in [0, 1]) along ``dim`` (of
    all elements when None), between the sorted values as ``interpolation`` says: "linear",
    "lower", "higher", "nearest" (ties to even) or "midpoint". A NaN in a slice makes its
    quantiles NaN. The gradient goes to the one or two values each quantile is made of.
    With a tensor ``q`` the quantiles are a new first dim (``torch.quantile``)."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", skip_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, interpolation="linear"):  # noqa: A002
    """``quantile`` of the non-NaN values of each slice (NaN where a slice has none)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", skip_nan=True)


def _quantile(input, q, dim, keepdim, interpolation, op, skip_nan):  # noqa: A002
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"{op}: unknown interpolation {interpolation!r}")
    x = _as_tensor(input)
    scalar_q = not isinstance(q, Tensor) and numpy.ndim(q) == 0
    qs = numpy.atleast_1d(numpy.asarray(_array_of(q) if isinstance(q, Tensor) else q, float))
    if qs.ndim != 1 or ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"{op}: q must be a number or a 1-D tensor of values in [0, 1]")
    original_ndim, flattened = x.ndim, dim is None
    if flattened:
        x, dim = x.flatten(), 0
    dim %= builtins.max(x.ndim, 1)
    values = x.movedim(dim, -1).sort(dim=-1).values  # NaNs sort last
    data = values._data
    n = data.shape[-1]
    nans = numpy.isnan(data).sum(axis=-1, keepdims=True)
    valid = n - nans if skip_nan else numpy.full_like(nans, n)
    position = qs.reshape((-1,) + (1,) * data.ndim) * numpy.maximum(valid - 1, 0)
    low, high = numpy.floor(position), numpy.ceil(position)
    weight = {
        "linear": position - low,
        "lower": numpy.zeros_like(position),
        "higher": numpy.ones_like(position),
        "nearest": (numpy.round(position) > low).astype(float),
        "midpoint": numpy.where(high > low, 0.5, 0.0),
    }[interpolation]
    expanded = values.unsqueeze(0).expand(len(qs), *data.shape)
    below = expanded.gather(-1, tensor(numpy.clip(low, 0, n - 1).astype(numpy.int64)))
    above = expanded.gather(-1, tensor(numpy.clip(high, 0, n - 1).astype(numpy.int64)))
    result = below + (above - below) * tensor(weight.astype(data.dtype))
    undefined = (valid == 0) | (nans > 0 if not skip_nan else False)
    if undefined.any():
        result = result.masked_fill(tensor(numpy.broadcast_to(undefined, result.shape)), numpy.nan)
    result = result.squeeze(-1)  # (Q, *other dims)
    if keepdim:  # the reduced dim (every dim, for dim=None) stays with size 1
        if flattened:
            result = result.reshape(len(qs), *(1,) * original_ndim)
        else:
            result = result.unsqueeze(dim + 1)
    return result[0] if scalar_q else result


def lgamma(input):  # noqa: A002
    """log |Gamma(x)|, element-wise."""
    return _as_tensor(input).lgamma()


def digamma(input):  # noqa: A002
    """psi(x) = d/dx log Gamma(x), element-wise."""
    return _as_tensor(input).digamma()


def polygamma(n, input):  # noqa: A002
    """The n-th derivative of digamma (n = 0 or 1), element-wise."""
    return _as_tensor(input).polygamma(n)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (itertools.product's
    order); one tensor comes back as it is."""
    tensors = [_as_tensor(t) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([grid.flatten() for grid in grids], dim=1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """The length-``r`` combinations of a 1-D tensor's elements, as rows (itertools' order)."""
    import itertools

    x = _as_tensor(input)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(x.shape[0]), r))
    if not rows:
        return x[:0].reshape(0, r) if r else x[:0]
    return x[tensor(numpy.array(rows, dtype=numpy.int64))]


# smaller helpers still: NaN-aware extremes, products, bit operations, counts


def fmax(input, other):  # noqa: A002
    """Element-wise maximum that ignores a NaN (NaN only where both are NaN)."""
    x, y = _as_tensor(input), _as_tensor(other)
    xs, ys = _array_of(x), _array_of(y)
    keep_x = numpy.greater_equal(xs, ys) | numpy.isnan(ys)  # ties and NaN pairs: x, as PyTorch
    return where(tensor(keep_x), x, y)


def fmin(input, other):  # noqa: A002
    """Element-wise minimum that ignores a NaN (NaN only where both are NaN)."""
    x, y = _as_tensor(input), _as_tensor(other)
    xs, ys = _array_of(x), _array_of(y)
    keep_x = numpy.less_equal(xs, ys) | numpy.isnan(ys)
    return where(tensor(keep_x), x, y)


def copysign(input, other):  # noqa: A002
    """|x| with the sign of y (y's sign bit, so -0.0 counts as negative)."""
    x = _as_tensor(input)
    negative = numpy.signbit(_array_of(_as_tensor(other)))
    magnitude = x.abs()
    return where(tensor(negative), -magnitude, magnitude)


def float_power(input, exponent):  # noqa: A002
    """x ** y in float64 (``torch.float_power``)."""
    x = _as_tensor(input).double()
    return x ** (exponent.double() if isinstance(exponent, Tensor) else exponent)


def ldexp(input, other):  # noqa: A002
    """x * 2^y."""
    return _as_tensor(input) * (2.0 ** _as_tensor(other).double()).to(_as_tensor(input).dtype)


def msort(input):  # noqa: A002
    """Sorted along dim 0 (values)."""
    return _as_tensor(input).sort(dim=0).values


_AminMax = namedtuple("aminmax", ["min", "max"])  # PyTorch's return type


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """``(min, max)`` over ``dim`` (all elements when None), ties sharing the gradient."""
    x = _as_tensor(input)
    return _AminMax(x.amin(dim=dim, keepdim=keepdim), x.amax(dim=dim, keepdim=keepdim))


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat @ vec)."""
    return beta * _as_tensor(input) + alpha * (mat @ vec)


def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2)."""
    return beta * _as_tensor(input) + alpha * outer(vec1, vec2)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    return beta * _as_tensor(input) + alpha * (batch1 @ batch2).sum(0)


def chain_matmul(*matrices):
    """The product of the matrices, left to right."""
    result = matrices[0]
    for matrix in matrices[1:]:
        result = result @ matrix
    return result


def heaviside(input, values):  # noqa: A002
    """0 for x < 0, ``values`` at x == 0, 1 for x > 0; no gradient (PyTorch's has none)."""
    found = numpy.heaviside(_array_of(_as_tensor(input)), _array_of(_as_tensor(values)))
    return tensor(found.astype(_as_tensor(input).dtype))


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Counts of the values in ``bins`` equal-width bins over [min, max] (the data's range
    when both are 0); values outside are ignored. No gradient."""
    data = _array_of(_as_tensor(input)).reshape(-1)
    low, high = (data.min(), data.max()) if min == max == 0 and data.size else (min, max)
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = numpy.histogram(data, bins=bins, range=(low, high))
    return tensor(counts.astype(_as_tensor(input).dtype if data.dtype.kind == "f" else "float32"))


def bitwise_and(input, other):  # noqa: A002
    """x & y for integer or bool tensors."""
    return tensor(numpy.bitwise_and(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def bitwise_or(input, other):  # noqa: A002
    """x | y for integer or bool tensors."""
    return tensor(numpy.bitwise_or(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def bitwise_xor(input, other):  # noqa: A002
    """x ^ y for integer or bool tensors."""
    return tensor(numpy.bitwise_xor(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def bitwise_not(input):  # noqa: A002
    """~x for integer or bool tensors."""
    return tensor(numpy.invert(_array_of(_as_tensor(input))))


def gcd(input, other):  # noqa: A002
    """Greatest common divisor of integer tensors."""
    return tensor(numpy.gcd(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def lcm(input, other):  # noqa: A002
    """Least common multiple of integer tensors."""
    return tensor(numpy.lcm(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def mvlgamma(input, p):  # noqa: A002
    """The multivariate log-gamma of dimension p: p (p-1)/4 log pi + sum_j lgamma(x - j/2)."""
    x = _as_tensor(input)
    offsets = tensor(-numpy.arange(p, dtype=x.dtype) / 2)
    return (x.unsqueeze(-1) + offsets).lgamma().sum(-1) + p * (p - 1) / 4 * numpy.log(numpy.pi)


def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(x))) along ``dim``, as a prefix scan of ``logaddexp`` (log2(n) steps,
    each combining every element with the one ``offset`` before it): exact and stable for any
    spread of values, and differentiable through logaddexp."""
    x = _as_tensor(input)
    dim %= builtins.max(x.ndim, 1)
    y = x.movedim(dim, -1) if x.ndim else x.reshape(1)
    n, offset = y.shape[-1], 1
    while offset < n:
        filler = tensor(numpy.full((*y.shape[:-1], offset), -numpy.inf, dtype=y.dtype))
        y = logaddexp(y, cat([filler, y[..., : n - offset]], dim=-1))
        offset *= 2
    return y.movedim(-1, dim) if x.ndim else y.reshape(())


def cumulative_trapezoid(y, x=None, dx=None, dim=-1):
    """The running trapezoid rule along ``dim`` (one element fewer than y there)."""
    dim, areas = _trapezoid_areas(y, x, dx, dim)
    return areas.cumsum(dim)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The elements with each run of equal neighbours collapsed to one (flattened); no
    gradient. With ``return_inverse`` / ``return_counts``, which run each element is in and
    the runs' lengths."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim is not supported")
    data = _array_of(_as_tensor(input))
    flat = data.reshape(-1)
    starts = (
        numpy.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else numpy.array([], bool)
    )
    out = [tensor(flat[starts])]
    if return_inverse:
        out.append(tensor((numpy.cumsum(starts) - 1).reshape(data.shape).astype(numpy.int64)))
    if return_counts:
        edges = numpy.flatnonzero(numpy.concatenate([starts, [True]]))
        out.append(tensor(numpy.diff(edges).astype(numpy.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def cholesky(input, upper=False):  # noqa: A002
    """The Cholesky factor (``torch.cholesky``: lower by default; ``linalg.cholesky``)."""
    from npgrad import linalg

    factor = linalg.cholesky(_as_tensor(input))
    return factor.mT if upper else factor


def index_copy(input, dim, index, source):  # noqa: A002
    """``Tensor.index_copy``."""
    return _as_tensor(input).index_copy(dim, index, source)


def masked_scatter(input, mask, source):  # noqa: A002
    """``Tensor.masked_scatter``."""
    return _as_tensor(input).masked_scatter(mask, source)


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """A copy with ``index_put_`` applied."""
    return _as_tensor(input).clone().index_put_(indices, values, accumulate)


def inner(input, other):  # noqa: A002
    """The sum over the last dims of both (a dot product for 1-D tensors)."""
    x, y = _as_tensor(input), _as_tensor(other)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    return (x.reshape(*x.shape[:-1], *[1] * (y.ndim - 1), x.shape[-1]) * y).sum(-1)


def vdot(input, other):  # noqa: A002
    """The dot product of two 1-D tensors (real: ``dot``)."""
    return (_as_tensor(input) * _as_tensor(other)).sum()


def dstack(tensors):
    """Stack along the third dim (1-D and 2-D tensors first become (1, n, 1) and (m, n, 1))."""
    shaped = []
    for t in map(_as_tensor, tensors):
        if t.ndim == 0:
            t = t.reshape(1, 1, 1)
        elif t.ndim == 1:
            t = t.reshape(1, -1, 1)
        elif t.ndim == 2:
            t = t.unsqueeze(-1)
        shaped.append(t)
    return cat(shaped, dim=2)


def diagflat(input, offset=0):  # noqa: A002
    """The flattened input on the ``offset`` diagonal of a square matrix."""
    return _as_tensor(input).flatten().diag(offset)


def acosh(input):  # noqa: A002
    """arcosh(x) = log(x + sqrt(x^2 - 1)) for x >= 1."""
    x = _as_tensor(input)
    return (x + (x * x - 1).sqrt()).log()


def real(input):  # noqa: A002
    """The real part: the tensor itself (npgrad has no complex tensors)."""
    return _as_tensor(input)


def isreal(input):  # noqa: A002
    """True everywhere (npgrad has no complex tensors)."""
    return tensor(numpy.ones(_as_tensor(input).shape, dtype=bool))


def erfinv(input):  # noqa: A002
    """The inverse error function, element-wise."""
    return _as_tensor(input).erfinv()


# ------------------------------------------------------------------ signal windows
def _window(name, shape, window_length, periodic, dtype):
    """A symmetric NumPy window of ``window_length`` values, or (``periodic``, as for spectral
    analysis) the first ``window_length`` of one value longer, as PyTorch's windows."""
    if window_length < 0:
        raise ValueError(f"{name}: window_length must be non-negative, got {window_length}")
    if window_length <= 1:
        values = numpy.ones(window_length)
    else:
        values = shape(window_length + 1)[:-1] if periodic else shape(window_length)
    return tensor(values, dtype=dtype or get_default_dtype())


def hann_window(window_length, periodic=True, *, dtype=None, **_):
    """0.5 - 0.5 cos(2 pi n / (N - 1)): the Hann window."""
    return _window("hann_window", numpy.hanning, window_length, periodic, dtype)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, **_):
    """alpha - beta cos(2 pi n / (N - 1)): the Hamming window."""

    def shape(n):
        return alpha - beta * numpy.cos(2 * numpy.pi * numpy.arange(n) / (n - 1))

    return _window("hamming_window", shape, window_length, periodic, dtype)


def bartlett_window(window_length, periodic=True, *, dtype=None, **_):
    """1 - |2 n / (N - 1) - 1|: the triangular window."""
    return _window("bartlett_window", numpy.bartlett, window_length, periodic, dtype)


def blackman_window(window_length, periodic=True, *, dtype=None, **_):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", numpy.blackman, window_length, periodic, dtype)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, **_):
    """I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta): the Kaiser window."""
    return _window("kaiser_window", lambda n: numpy.kaiser(n, beta), window_length, periodic, dtype)


# ------------------------------------------------------------------ odds and ends
def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each slice along ``dim`` whose p-norm is above ``maxnorm`` scaled down to it (by
    maxnorm / (norm + 1e-7), as PyTorch); differentiable."""
    dim = dim % input.ndim
    others = tuple(d for d in range(input.ndim) if d != dim)
    if p == float("inf"):
        norms = input.abs().amax(dim=others, keepdim=True)
    else:
        norms = (input.abs() ** p).sum(dim=others, keepdim=True) ** (1.0 / p)
    over = norms.detach() > maxnorm
    scale = where(over, maxnorm / (norms + 1e-7), tensor(1.0, dtype=input.dtype))
    return input * scale


FrexpResult = namedtuple("FrexpResult", ["mantissa", "exponent"])


def frexp(input):  # noqa: A002
    """(mantissa, exponent) with input = mantissa * 2^exponent, |mantissa| in [0.5, 1)."""
    mantissa, exponent = numpy.frexp(_array_of(_as_tensor(input)))
    return FrexpResult(tensor(mantissa), tensor(exponent.astype(numpy.int32)))


def nextafter(input, other):  # noqa: A002
    """The next representable float after ``input`` towards ``other``."""
    return tensor(numpy.nextafter(_array_of(_as_tensor(input)), _array_of(_as_tensor(other))))


def gradient(input, *, spacing=1, dim=None, edge_order=1):  # noqa: A002
    """Central differences along each of ``dim`` (all dims by default), one-sided at the ends
    (first or second order): a tuple of tensors as ``torch.gradient``. ``spacing``: one step for
    all dims, one per dim, or coordinate tensors; differentiable for uniform steps."""
    dims = range(input.ndim) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    dims = [d % input.ndim for d in dims]
    steps = spacing if isinstance(spacing, list | tuple) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise ValueError(f"gradient: {len(steps)} spacings for {len(dims)} dims")
    results = []
    for d, step in zip(dims, steps, strict=True):
        if input.shape[d] < edge_order + 1:
            raise ValueError(
                f"gradient: dim {d} has {input.shape[d]} values; edge_order={edge_order} needs "
                f"at least {edge_order + 1}"
            )
        if isinstance(step, Tensor):  # coordinates: NumPy's non-uniform formula, no gradient
            found = numpy.gradient(_array_of(input), _array_of(step), axis=d, edge_order=edge_order)
            results.append(tensor(found, dtype=input.dtype))
            continue
        n = input.shape[d]

        def at(i, d=d, n=n):  # the slice at index i along d (negative from the end)
            return input.narrow(d, i % n, 1)

        interior = (input.narrow(d, 2, n - 2) - input.narrow(d, 0, n - 2)) / (2 * step)
        if edge_order == 1:
            first, last = (at(1) - at(0)) / step, (at(-1) - at(-2)) / step
        else:  # second-order one-sided differences
            first = (-1.5 * at(0) + 2 * at(1) - 0.5 * at(2)) / step
            last = (0.5 * at(-3) - 2 * at(-2) + 1.5 * at(-1)) / step
        results.append(cat([first, interior, last], dim=d))
    return tuple(results)


HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(counts, bin edges) as ``numpy.histogram``: ``bins`` a count or the edges; ``weight``
    per value, ``density`` to normalise to a density. No gradient."""
    data = _array_of(_as_tensor(input))
    edges = _array_of(bins) if isinstance(bins, Tensor) else bins
    weights = None if weight is None else _array_of(weight)
    counts, edges = numpy.histogram(data, bins=edges, range=range, weights=weights, density=density)
    return HistogramResult(tensor(counts.astype(data.dtype)), tensor(edges.astype(data.dtype)))
