"""The ``Tensor``: a NumPy array plus what autograd needs, and the functions that create tensors.

A tensor holds its array in ``_data`` (read it with ``.numpy()``), ``requires_grad``, the gradient
``.grad`` (a Tensor, filled by ``backward()``), and ``grad_fn``, the op that produced it. Every
operator and method builds on an op in ``npgrad.ops``; this file only turns PyTorch-style
arguments (``dim``, sizes, Python scalars) into what the op expects.
"""

import builtins
import math
import weakref
from collections import namedtuple

import numpy

from npgrad import _tensor_str, autograd
from npgrad.backend import check_device, default_generator, get_default_dtype, xp
from npgrad.backend import device as device_class
from npgrad.errors import DTypeError, GradientError, ShapeError
from npgrad.ops import activation, elementwise, linalg, reduce
from npgrad.ops import shape as shape_ops

float16 = numpy.dtype(numpy.float16)
float32 = numpy.dtype(numpy.float32)
float64 = numpy.dtype(numpy.float64)
int8 = numpy.dtype(numpy.int8)
int16 = numpy.dtype(numpy.int16)
int32 = numpy.dtype(numpy.int32)
int64 = numpy.dtype(numpy.int64)
uint8 = numpy.dtype(numpy.uint8)
bool_ = numpy.dtype(numpy.bool_)
half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases


def _check_reduced_size(tensor, axis, op):
    """A selection along ``axis`` (mode, nanmedian) needs something to select."""
    if tensor.ndim and tensor.shape[axis] == 0:
        raise IndexError(f"{op}: dim {axis} of a tensor of shape {tensor.shape} is empty")


class memory_format:  # noqa: N801 - PyTorch's name
    """PyTorch's memory-layout tags (``npgrad.channels_last``, ...). npgrad accepts them where
    PyTorch takes one (``.to``, ``.contiguous``, ``is_contiguous``) and keeps its own layouts:
    arrays are C-ordered, and convolutions already work batch last internally, so asking for
    channels-last changes nothing but is never an error."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"npgrad.{self.name}"


class layout(memory_format):  # noqa: N801 - PyTorch's name
    """PyTorch's layout tags: ``npgrad.strided`` (dense tensors) and ``npgrad.sparse_coo``
    (``npgrad.sparse``)."""


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
short, int, long = int16, int32, int64  # noqa: A001 - PyTorch's aliases

_builtin_int = builtins.int  # the names int and float are dtypes below, as in PyTorch
_builtin_float = builtins.float

MinMax = namedtuple("MinMax", ["values", "indices"])


def _normalize_dim(dim, ndim, op):
    """PyTorch ``dim`` (None, int or sequence, may be negative) -> NumPy axis (None or tuple)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, _builtin_int) else tuple(dim)
    rank = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    axes = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op}: dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                f"but got {d})"
            )
        axes.append(d % rank)
    if ndim == 0:
        return None
    return tuple(sorted(set(axes)))


def _normalize_one_dim(dim, ndim, op):
    """A single PyTorch dim -> a non-negative axis."""
    (axis,) = _normalize_dim(dim, ndim, op) or (0,)
    return axis


def _dim_or_axis(dim, axis):
    """``axis`` is accepted as NumPy's name for ``dim``, as PyTorch does."""
    return axis if dim is None else dim


def _size_args(size):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` as PyTorch does."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        return tuple(size[0])
    return tuple(size)


_array_of = autograd.array_of  # the array behind a tensor, or value itself


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Matches ``torch.Tensor`` in names and semantics; the array is a NumPy array on the CPU.

    >>> import npgrad
    >>> x = npgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "requires_grad", "grad", "_ctx", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to the Tensor's reflected operator
    __hash__ = object.__hash__  # == is element-wise, so hash by identity as PyTorch does

    def __init__(self, data, dtype=None, requires_grad=False):
        """Create a tensor from array-like ``data`` (see :func:`tensor`; the data is copied)."""
        self._init_leaf(_to_array(data, dtype), requires_grad)

    def _init_leaf(self, array, requires_grad):
        """Fill the slots of a new leaf tensor holding ``array``."""
        self._data = array
        self.grad = None
        self._ctx = None
        self._version = [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, ctx=None):
        """Fast internal constructor: adopt ``array`` (no copy); ``ctx`` is the op that made it."""
        tensor = cls.__new__(cls)
        tensor._data = array
        tensor.requires_grad = ctx is not None
        tensor.grad = None
        tensor._ctx = ctx
        tensor._version = [0]
        tensor._hooks = None
        return tensor

    # ----------------------------------------------------------------- attributes
    @property
    def data(self):
        """A tensor sharing this one's array but outside the graph (as ``torch.Tensor.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        array = _array_of(value)
        if not isinstance(array, xp.ndarray):
            array = xp.asarray(array)
        self._data = array

    @property
    def dtype(self):
        """The NumPy dtype of the elements (``npgrad.float32`` by default)."""
        return self._data.dtype

    @property
    def shape(self):
        """The shape as a tuple of ints."""
        return self._data.shape

    @property
    def ndim(self):
        """Number of dimensions."""
        return self._data.ndim

    @property
    def device(self):
        """Always ``device(type='cpu')``."""
        return device_class("cpu")

    @property
    def grad_fn(self):
        """The op that produced this tensor (``None`` for a leaf)."""
        return self._ctx

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-created tensors, parameters)."""
        return self._ctx is None

    @property
    def T(self):  # noqa: N802 - PyTorch's name
        """The tensor with all its dimensions reversed."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        """The tensor with its last two dimensions swapped (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.shape
        return self.shape[_normalize_one_dim(dim, self.ndim, "size")]

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def numel(self):
        """Number of elements."""
        return self._data.size

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ----------------------------------------------------------------- conversion
    def numpy(self):
        """The underlying NumPy array (shared, not copied, as in PyTorch)."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self._data.astype(dtype, copy=bool(copy))
        return self._data.copy() if copy else self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item(): a Tensor with {self._data.size} elements cannot be converted to a Scalar"
            )
        return self._data.item()

    def tolist(self):
        """The elements as (nested) Python lists."""
        return self._data.tolist()

    def __float__(self):
        return _builtin_float(self.item())

    def __int__(self):
        return _builtin_int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self._data.item()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.item())

    def to(self, *args, dtype=None, device=None, **kwargs):
        """Convert dtype; a device (``"cpu"`` or ``npgrad.device("cpu")``) is accepted."""
        if device is not None:
            check_device(device, "to()")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, numpy.dtype | type):
                dtype = arg
            elif isinstance(arg, str | device_class):
                check_device(arg, "to()")
        if dtype is None or numpy.dtype(dtype) == self.dtype:
            return self
        return self._cast(dtype)

    def _cast(self, dtype):
        dtype = numpy.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f" and self.requires_grad and autograd.is_grad_enabled():
            return Tensor._wrap(self._data.astype(dtype))  # integer results carry no gradient
        return elementwise.Cast.apply(self, dtype=dtype)

    def type(self, dtype=None):
        """Return the dtype's name, or convert to ``dtype``."""
        if dtype is None:
            return str(self.dtype)
        return self._cast(dtype)

    def float(self):
        """Convert to float32."""
        return self._cast(float32)

    def double(self):
        """Convert to float64."""
        return self._cast(float64)

    def half(self):
        """Convert to float16."""
        return self._cast(float16)

    def long(self):
        """Convert to int64."""
        return self._cast(int64)

    def int(self):
        """Convert to int32."""
        return self._cast(int32)

    def bool(self):
        """Convert to bool."""
        return self._cast(bool_)

    def byte(self):
        """Convert to uint8."""
        return self._cast(uint8)

    def char(self):
        """Convert to int8."""
        return self._cast(int8)

    def type_as(self, other):
        """Convert to ``other``'s dtype."""
        return self._cast(other.dtype)

    def cpu(self):
        """Return self: npgrad tensors always live on the CPU."""
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("npgrad runs on the CPU only; remove .cuda() or use .to('cpu')")

    @property
    def is_cuda(self):
        """Always False."""
        return False

    def contiguous(self, memory_format=contiguous_format):
        """A C-contiguous tensor (self when already contiguous). Another ``memory_format`` is a
        hint npgrad does not need: the tensor comes back as it is."""
        if memory_format is not contiguous_format or self._data.flags.c_contiguous:
            return self
        return elementwise.Clone.apply(self)

    def is_contiguous(self, memory_format=contiguous_format):
        """True when the array is laid out in ``memory_format``: C order, or channels last
        (N, H, W, C in memory) for a 4-D (``channels_last``) or 5-D (``channels_last_3d``) one."""
        if memory_format in (channels_last, channels_last_3d):
            dims = 4 if memory_format is channels_last else 5
            if self.ndim != dims:
                return False
            order = (0, *range(2, dims), 1)
            return bool(self._data.transpose(order).flags.c_contiguous)
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self):
        """True for float dtypes."""
        return self.dtype.kind == "f"

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf that needs it
        (only of ``inputs`` when given). ``create_graph=True`` records the gradients in a graph,
        so that they can be differentiated again."""
        if inputs is None:
            autograd.backward(self, gradient, retain_graph, create_graph)
            return
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        found = autograd.grad(self, inputs, gradient, retain_graph, create_graph, allow_unused=True)
        for tensor, gradient_of_input in zip(inputs, found, strict=True):
            if gradient_of_input is None:
                continue
            if create_graph:
                autograd._accumulate_in_graph(tensor, gradient_of_input)
            else:  # (grad returned a fresh array: nothing else holds it)
                autograd._store_grad(tensor, gradient_of_input._data, set())

    def detach(self):
        """A tensor sharing this array and version counter, cut out of the graph."""
        tensor = Tensor._wrap(self._data)
        tensor._version = self._version
        return tensor

    def detach_(self):
        """Cut this tensor out of the graph, making it a leaf."""
        self._ctx = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (only floating tensors can require grad)."""
        if requires_grad and self.dtype.kind not in "fc":
            raise DTypeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise GradientError(
                "requires_grad_(False) on a non-leaf tensor: use detach() to cut it from the graph"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Make ``backward()`` fill ``.grad`` of this non-leaf tensor too."""
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)

    @property
    def retains_grad(self):
        """True when ``retain_grad()`` was called on this non-leaf tensor."""
        return self._ctx is not None and self._ctx.retained is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.
        Returns a handle whose ``remove()`` unregisters the hook."""
        from npgrad.utils.hooks import RemovableHandle

        if not self.requires_grad:
            raise GradientError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = {}
            return RemovableHandle(self._hooks, hook)
        if self._ctx.tensor_hooks is None:
            self._ctx.tensor_hooks = {}
        return RemovableHandle(self._ctx.tensor_hooks, hook)

    # ----------------------------------------------------------------- in-place
    def _inplace(self, function, *args, **attrs):
        """Apply ``function`` to self in place.

        Without a graph to record the result is written into the same array. With one, the tensor
        is rebound to the op's output array (saved arrays are never overwritten, so the gradient
        stays exact) and becomes that op's output in the graph.
        """
        recording = autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
        )
        name = function.__name__.lower() + "_"
        if recording and self.requires_grad:
            self._refuse_leaf_in_place(name)
        with autograd.set_grad_enabled(recording):
            result = function.apply(self, *args, **attrs)
        if result.shape != self.shape:
            raise ShapeError(
                f"{name}: the result has shape {result.shape}, which does not fit the in-place "
                f"target of shape {self.shape}"
            )
        if not numpy.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise DTypeError(
                f"{name}: result type {result.dtype} can't be cast to the desired output type "
                f"{self.dtype}"
            )
        self._version[0] += 1
        if not recording:
            xp.copyto(self._data, result._data, casting="same_kind")
            return self
        # Rebind: self becomes the op's output. The old array is left untouched for whatever
        # saved it, so self takes the new node's own version counter.
        self._data = result._data.astype(self.dtype, copy=False)
        self._ctx = result._ctx
        self._version = result._version
        self.requires_grad = True
        return self

    def _refuse_leaf_in_place(self, name):
        """PyTorch's rule: a leaf that requires grad is not changed in place while recording."""
        if self._ctx is None:
            raise GradientError(
                f"{name}: a leaf tensor that requires grad (shape {self.shape}) is being used in "
                "an in-place operation; do it under npgrad.no_grad() or out-of-place"
            )

    def _reshape_in_place(self, view, name):
        """Make self the view ``view`` of itself (a new shape or order, the same elements):
        the in-place shape methods (``unsqueeze_``, ``t_``, ...). Like an in-place op, a leaf
        that requires grad is refused while recording, and in a graph self becomes the view's
        node."""
        recording = autograd.is_grad_enabled() and self.requires_grad
        if recording:
            self._refuse_leaf_in_place(name)
        if recording:
            # the view's node keeps the tensor as it was (shape, node, version) as its input,
            # since self changes shape under it
            before = Tensor._wrap(self._data, self._ctx)
            before._version, before.requires_grad = self._version, True
            node = view._ctx
            node.parents = tuple(before if parent is self else parent for parent in node.parents)
            self._ctx, self._version = node, view._version
        self._data = view._data
        return self

    def unsqueeze_(self, dim):
        """In place: a new dim of size 1 at ``dim``."""
        return self._reshape_in_place(self.unsqueeze(dim), "unsqueeze_")

    def squeeze_(self, dim=None):
        """In place: without the size-1 dims (or just ``dim``, if it has size 1)."""
        return self._reshape_in_place(self.squeeze(dim), "squeeze_")

    def t_(self):
        """In place: the transpose of a matrix (a 0-d or 1-D tensor stays)."""
        return self._reshape_in_place(self.t(), "t_")

    def transpose_(self, dim0, dim1):
        """In place: dims ``dim0`` and ``dim1`` swapped."""
        return self._reshape_in_place(self.transpose(dim0, dim1), "transpose_")

    def swapaxes_(self, axis0, axis1):
        """In place: ``transpose_``."""
        return self._reshape_in_place(self.transpose(axis0, axis1), "swapaxes_")

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        return self._inplace(elementwise.Add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return self._inplace(elementwise.Sub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        """self *= other, in place."""
        return self._inplace(elementwise.Mul, other)

    def div_(self, other):
        """self /= other, in place."""
        return self._inplace(elementwise.Div, other)

    def pow_(self, exponent):
        """self **= exponent, in place."""
        return self._inplace(elementwise.Pow, exponent)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Clamp in place."""
        return self._inplace(elementwise.Clamp, low=min, high=max)

    def neg_(self):
        """Negate in place."""
        return self._inplace(elementwise.Neg)

    def masked_fill_(self, mask, value):
        """In place: ``value`` where ``mask`` is True."""
        return self._inplace(elementwise.MaskedFill, mask=_array_of(mask), value=_array_of(value))

    def relu_(self):
        """In place: max(x, 0)."""
        return self._inplace(activation.ReLU)

    def sigmoid_(self):
        """In place: the logistic sigmoid."""
        return self._inplace(activation.Sigmoid)

    def tanh_(self):
        """In place: tanh."""
        return self._inplace(activation.Tanh)

    def exp_(self):
        """In place: e^x."""
        return self._inplace(elementwise.Exp)

    def log_(self):
        """In place: ln x."""
        return self._inplace(elementwise.Log)

    def sqrt_(self):
        """In place: sqrt(x)."""
        return self._inplace(elementwise.Sqrt)

    def abs_(self):
        """In place: |x|."""
        return self._inplace(elementwise.Abs)

    def floor_(self):
        """In place: floor(x)."""
        return self._inplace(elementwise.Round, mode="floor")

    def round_(self, decimals=0):
        """In place: round(x), halves to even."""
        return self._inplace(elementwise.Round, mode="round", decimals=decimals)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def _fill_no_grad(self, array):
        """Overwrite the elements with ``array`` (init helpers: zero_, fill_, normal_, ...)."""
        if self._ctx is None and self.requires_grad and autograd.is_grad_enabled():
            raise GradientError(
                "a leaf tensor that requires grad is being filled in place; wrap it in "
                "npgrad.no_grad() (nn.init does this for you)"
            )
        xp.copyto(self._data, array, casting="unsafe")
        self._version[0] += 1
        return self

    def zero_(self):
        """Fill with zeros, in place."""
        return self._fill_no_grad(0)

    def fill_(self, value):
        """Fill with ``value``, in place."""
        return self._fill_no_grad(_array_of(value))

    def copy_(self, source):
        """Copy ``source``'s elements into self (broadcasting, casting), in place."""
        return self._fill_no_grad(_array_of(source))

    def normal_(self, mean=0.0, std=1.0):
        """Fill with samples of N(mean, std^2), in place."""
        return self._fill_no_grad(default_generator().normal(mean, std, self.shape))

    def uniform_(self, a=0.0, b=1.0):
        """Fill with samples of U(a, b), in place."""
        return self._fill_no_grad(default_generator().uniform(a, b, self.shape))

    def bernoulli_(self, p=0.5):
        """Fill with 1 (probability ``p``, a number or a tensor of probabilities) or 0."""
        probabilities = _array_of(p) if isinstance(p, Tensor) else p
        return self._fill_no_grad(default_generator().random(self.shape) < probabilities)

    def random_(self, from_=0, to=None):
        """Fill with integers drawn uniformly from [from_, to), or [0, from_) given one bound
        (PyTorch's ``random_(to)``); with no bound, [0, 2^24) for float32 (the integers it holds
        exactly) and [0, 2^53) for float64, the dtype's top for integer types."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            if self.dtype.kind == "f":
                to = 2 ** (xp.finfo(self.dtype).nmant + 1)
            else:
                to = _builtin_int(xp.iinfo(self.dtype).max) + 1 if self.dtype.kind in "iu" else 2
        return self._fill_no_grad(default_generator().integers(from_, to, self.shape))

    def exponential_(self, lambd=1.0):
        """Fill with samples of the exponential distribution of rate ``lambd``."""
        return self._fill_no_grad(default_generator().exponential(1.0 / lambd, self.shape))

    def geometric_(self, p):
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        return self._fill_no_grad(default_generator().geometric(p, self.shape))

    def log_normal_(self, mean=1.0, std=2.0):
        """Fill with exp of samples of N(mean, std^2)."""
        return self._fill_no_grad(default_generator().lognormal(mean, std, self.shape))

    def cauchy_(self, median=0.0, sigma=1.0):
        """Fill with samples of the Cauchy distribution."""
        return self._fill_no_grad(median + sigma * default_generator().standard_cauchy(self.shape))

    def __setitem__(self, index, value):
        index = _index_of(index)
        value_needs_grad = isinstance(value, Tensor) and value.requires_grad
        if autograd.is_grad_enabled() and (self.requires_grad or value_needs_grad):
            self._inplace(shape_ops.IndexPut, value, index=index)
        else:
            self._data[index] = _array_of(value)
            self._version[0] += 1

    # ----------------------------------------------------------------- arithmetic
    def _scalar_operand(self, other):
        """Return (self, other) ready for a binary op; float scalars turn integer tensors float."""
        if isinstance(other, Tensor):
            return self, other
        if isinstance(other, _builtin_float) and self.dtype.kind in "biu":
            return self._cast(get_default_dtype()), other
        if isinstance(other, _builtin_int | _builtin_float | bool):
            return self, other
        return self, tensor(other)

    def __add__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Add.apply(a, b)

    def __radd__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Add.apply(b, a)

    def __sub__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Sub.apply(a, b)

    def __rsub__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Sub.apply(b, a)

    def __mul__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Mul.apply(a, b)

    def __rmul__(self, other):
        a, b = self._scalar_operand(other)
        return elementwise.Mul.apply(b, a)

    def __truediv__(self, other):
        a, b = self._true_division_operands(other)
        return elementwise.Div.apply(a, b)

    def __rtruediv__(self, other):
        a, b = self._true_division_operands(other)
        return elementwise.Div.apply(b, a)

    def _true_division_operands(self, other):
        """As PyTorch, integer / integer gives the default float dtype, not float64."""
        a, b = self._scalar_operand(other)
        if a.dtype.kind in "biu" and (not isinstance(b, Tensor) or b.dtype.kind in "biu"):
            a = a._cast(get_default_dtype())
            if isinstance(b, Tensor):
                b = b._cast(get_default_dtype())
        return a, b

    def __floordiv__(self, other):
        return Tensor._wrap(xp.asarray(self._data // _array_of(other)))

    def __mod__(self, other):
        return Tensor._wrap(xp.asarray(self._data % _array_of(other)))

    def __pow__(self, exponent):
        a, b = self._scalar_operand(exponent)
        return elementwise.Pow.apply(a, b)

    def __rpow__(self, base):
        a, b = self._scalar_operand(base)
        return elementwise.Pow.apply(b, a)

    def __neg__(self):
        return elementwise.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.Abs.apply(self)

    def __matmul__(self, other):
        if getattr(other, "is_sparse", False):
            return NotImplemented  # dense @ sparse: npgrad.sparse's __rmatmul__
        return linalg.MatMul.apply(self, other if isinstance(other, Tensor) else tensor(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(tensor(other), self)

    def _compare(self, other, compare):
        return Tensor._wrap(xp.asarray(compare(self._data, _array_of(other))))

    def __eq__(self, other):
        return self._compare(other, numpy.equal)

    def __ne__(self, other):
        return self._compare(other, numpy.not_equal)

    def __lt__(self, other):
        return self._compare(other, numpy.less)

    def __le__(self, other):
        return self._compare(other, numpy.less_equal)

    def __gt__(self, other):
        return self._compare(other, numpy.greater)

    def __ge__(self, other):
        return self._compare(other, numpy.greater_equal)

    def __invert__(self):
        return Tensor._wrap(~self._data)

    def __and__(self, other):
        return self._compare(other, numpy.bitwise_and)

    def __or__(self, other):
        return self._compare(other, numpy.bitwise_or)

    def __xor__(self, other):
        return self._compare(other, numpy.bitwise_xor)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    mul, pow, true_divide = __mul__, __pow__, __truediv__
    neg, negative, matmul = __neg__, __neg__, __matmul__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def add(self, other, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    def div(self, other, rounding_mode=None):
        """self / other; ``rounding_mode`` "floor" or "trunc" rounds the quotient (integers stay
        integers then, as in PyTorch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(
                f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
            )
        divisor = _array_of(other)
        if self.dtype.kind in "iu" and numpy.result_type(divisor).kind in "iu":  # no gradient
            dtype = numpy.result_type(self._data, divisor)
            if rounding_mode == "floor":
                return Tensor._wrap(xp.asarray(xp.floor_divide(self._data, divisor)))
            return Tensor._wrap(xp.trunc(xp.true_divide(self._data, divisor)).astype(dtype))
        quotient = self / other
        return quotient.floor() if rounding_mode == "floor" else quotient.trunc()

    multiply, divide, subtract = mul, div, sub

    def equal(self, other):
        """True when both tensors have the same shape and elements."""
        return self.shape == other.shape and bool((self._data == other._data).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        """True when all elements are close (``numpy.allclose``)."""
        return bool(numpy.allclose(self._data, _array_of(other), rtol=rtol, atol=atol))

    def isnan(self):
        """Element-wise NaN test."""
        return Tensor._wrap(xp.isnan(self._data))

    def isinf(self):
        """Element-wise infinity test."""
        return Tensor._wrap(xp.isinf(self._data))

    def isfinite(self):
        """Element-wise finiteness test."""
        return Tensor._wrap(xp.isfinite(self._data))

    # ----------------------------------------------------------------- element-wise math
    def exp(self):
        """e^x, element-wise."""
        return elementwise.Exp.apply(self)

    def log(self):
        """Natural logarithm, element-wise."""
        return elementwise.Log.apply(self)

    def log1p(self):
        """log(1 + x), element-wise, accurate near 0."""
        return elementwise.Log1p.apply(self)

    def sqrt(self):
        """Square root, element-wise."""
        return elementwise.Sqrt.apply(self)

    def rsqrt(self):
        """1 / sqrt(x), element-wise."""
        return elementwise.Rsqrt.apply(self)

    def abs(self):
        """|x|, element-wise."""
        return elementwise.Abs.apply(self)

    def sign(self):
        """-1, 0 or 1, element-wise (zero gradient)."""
        return elementwise.Sign.apply(self)

    def sin(self):
        """Sine, element-wise."""
        return elementwise.Sin.apply(self)

    def cos(self):
        """Cosine, element-wise."""
        return elementwise.Cos.apply(self)

    def reciprocal(self):
        """1 / x, element-wise."""
        return 1 / self

    def square(self):
        """x^2, element-wise."""
        return elementwise.Mul.apply(self, self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Clamp every element into [min, max] (either bound may be None)."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return elementwise.Clamp.apply(self, low=_array_of(min), high=_array_of(max))

    clip = clamp

    def maximum(self, other):
        """Element-wise maximum of two tensors."""
        return elementwise.Maximum.apply(*self._scalar_operand(other))

    def minimum(self, other):
        """Element-wise minimum of two tensors."""
        return elementwise.Minimum.apply(*self._scalar_operand(other))

    def where(self, condition, other):
        """self where ``condition`` else ``other`` (as ``torch.Tensor.where``)."""
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        """self with ``value`` where ``mask`` is True."""
        return elementwise.Where.apply(_array_of(mask), _array_of(value), self)

    def lerp(self, end, weight):
        """self + weight * (end - self)."""
        return self + weight * (end - self)

    def floor(self):
        """Largest integer <= x, element-wise (zero gradient)."""
        return elementwise.Round.apply(self, mode="floor")

    def ceil(self):
        """Smallest integer >= x, element-wise (zero gradient)."""
        return elementwise.Round.apply(self, mode="ceil")

    def round(self, decimals=0):
        """Round to ``decimals`` places, halves to even (zero gradient)."""
        return elementwise.Round.apply(self, mode="round", decimals=decimals)

    def trunc(self):
        """Round towards zero, element-wise (zero gradient)."""
        return elementwise.Round.apply(self, mode="trunc")

    fix = trunc

    def tan(self):
        """Tangent, element-wise."""
        return elementwise.Tan.apply(self)

    def sinh(self):
        """Hyperbolic sine, element-wise."""
        return elementwise.Sinh.apply(self)

    def cosh(self):
        """Hyperbolic cosine, element-wise."""
        return elementwise.Cosh.apply(self)

    def asin(self):
        """Inverse sine, element-wise."""
        return elementwise.Asin.apply(self)

    def acos(self):
        """Inverse cosine, element-wise."""
        return elementwise.Acos.apply(self)

    def atan(self):
        """Inverse tangent, element-wise."""
        return elementwise.Atan.apply(self)

    def atan2(self, other):
        """The angle of the point (other, self), element-wise (``torch.atan2(input, other)``)."""
        return elementwise.Atan2.apply(*self._scalar_operand(other))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

    def expm1(self):
        """e^x - 1, element-wise, accurate near 0."""
        return elementwise.Expm1.apply(self)

    def log2(self):
        """Base-2 logarithm, element-wise."""
        return self.log() * (1 / math.log(2))

    def log10(self):
        """Base-10 logarithm, element-wise."""
        return self.log() * (1 / math.log(10))

    def erf(self):
        """The error function, element-wise."""
        return elementwise.Erf.apply(self)

    def erfc(self):
        """1 - erf, element-wise, accurate in the tails."""
        return elementwise.Erfc.apply(self)

    def lgamma(self):
        """log |Gamma(x)|, element-wise (its gradient is the digamma function)."""
        from npgrad.ops import special

        return special.Lgamma.apply(self._float_for("lgamma"))

    def erfinv(self):
        """The inverse error function, element-wise."""
        from npgrad.ops import special

        return special.Erfinv.apply(self._float_for("erfinv"))

    def digamma(self):
        """psi(x) = d/dx log Gamma(x), element-wise."""
        from npgrad.ops import special

        return special.Digamma.apply(self._float_for("digamma"))

    def polygamma(self, n):
        """The n-th derivative of digamma (n = 0: digamma, n = 1: trigamma; the latter without
        a gradient)."""
        from npgrad.ops import special

        if n == 0:
            return self.digamma()
        if n == 1:
            data = self._float_for("polygamma")._data
            return Tensor._wrap(special.trigamma(data).astype(data.dtype, copy=False))
        raise NotImplementedError(f"polygamma: n = {n} is not supported (0 and 1 are)")

    def _float_for(self, op):
        """Self, or self as float32 when it is an integer or bool tensor (PyTorch's promotion
        for these functions)."""
        return self if self.dtype.kind in "fc" else self._cast(float32)

    def remainder(self, other):
        """x - floor(x / other) * other: the sign of ``other``, as Python's % (differentiable)."""
        return elementwise.Remainder.apply(*self._scalar_operand(other))

    def fmod(self, other):
        """x - trunc(x / other) * other: the sign of x, as C's fmod (differentiable)."""
        return elementwise.Remainder.apply(*self._scalar_operand(other), truncate=True)

    def floor_divide(self, other):
        """floor(x / other), element-wise (no gradient, as the // operator)."""
        return self // other

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the dtype's largest
        and smallest values by default); the gradient passes where x was finite."""
        info = numpy.finfo(self.dtype)
        out = self
        for test, value in (
            (xp.isnan, nan),
            (xp.isposinf, info.max if posinf is None else posinf),
            (xp.isneginf, info.min if neginf is None else neginf),
        ):
            out = elementwise.MaskedFill.apply(out, mask=test(self._data), value=value)
        return out

    def addcmul(self, tensor1, tensor2, value=1):
        """self + value * tensor1 * tensor2."""
        return self + value * tensor1 * tensor2

    def addcdiv(self, tensor1, tensor2, value=1):
        """self + value * tensor1 / tensor2."""
        return self + value * tensor1 / tensor2

    # ----------------------------------------------------------------- activations
    def sigmoid(self):
        """Logistic sigmoid, element-wise."""
        return activation.Sigmoid.apply(self)

    def tanh(self):
        """Hyperbolic tangent, element-wise."""
        return activation.Tanh.apply(self)

    def relu(self):
        """max(x, 0), element-wise."""
        return activation.ReLU.apply(self)

    def softmax(self, dim):
        """Softmax along ``dim``."""
        return activation.Softmax.apply(self, axis=_normalize_one_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim):
        """Log of softmax along ``dim``, computed stably."""
        axis = _normalize_one_dim(dim, self.ndim, "log_softmax")
        return activation.LogSoftmax.apply(self, axis=axis)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None):
        """Sum over ``dim`` (all dims when None)."""
        dim = _dim_or_axis(dim, axis)
        source = self if dtype is None else self._cast(dtype)
        if source.dtype.kind in "bu" or source.dtype == int32:
            source = source._cast(int64)  # as PyTorch: integer sums do not overflow small types
        axis = _normalize_dim(dim, self.ndim, "sum")
        return reduce.Sum.apply(source, axis=axis, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None):
        """Mean over ``dim`` (all dims when None); float tensors only, as in PyTorch."""
        dim = _dim_or_axis(dim, axis)
        source = self if dtype is None else self._cast(dtype)
        if source.dtype.kind not in "fc":
            raise DTypeError(
                f"mean(): could not infer output dtype: input dtype is {source.dtype}; "
                "pass dtype=npgrad.float32 or call .float() first"
            )
        axis = _normalize_dim(dim, self.ndim, "mean")
        return reduce.Mean.apply(source, axis=axis, keepdims=keepdim)

    def _extreme(self, dim, keepdim, other, name):
        """Shared body of max() and min()."""
        if isinstance(other, Tensor):
            return self.maximum(other) if name == "max" else self.minimum(other)
        if dim is None:
            op = reduce.Amax if name == "max" else reduce.Amin
            return op.apply(self, axis=None, keepdims=False)
        axis = _normalize_one_dim(dim, self.ndim, name)
        pick = xp.argmax if name == "max" else xp.argmin
        indices = xp.expand_dims(pick(self._data, axis=axis), axis) if self.ndim else xp.array(0)
        if self.ndim == 0:
            return MinMax(self, Tensor._wrap(indices))
        values = shape_ops.Gather.apply(self, indices, axis=axis)
        if not keepdim:
            values = values.squeeze(axis)
            indices = indices.squeeze(axis)
        return MinMax(values, Tensor._wrap(indices))

    def max(self, dim=None, keepdim=False, other=None, axis=None):
        """Largest element; with ``dim``, ``(values, indices)``; with a tensor, the maximum."""
        if isinstance(dim, Tensor):
            dim, other = None, dim
        return self._extreme(_dim_or_axis(dim, axis), keepdim, other, "max")

    def min(self, dim=None, keepdim=False, other=None, axis=None):
        """Smallest element; with ``dim``, ``(values, indices)``; with a tensor, the minimum."""
        if isinstance(dim, Tensor):
            dim, other = None, dim
        return self._extreme(_dim_or_axis(dim, axis), keepdim, other, "min")

    def amax(self, dim=None, keepdim=False, axis=None):
        """Max over ``dim``; ties share the gradient."""
        dim = _dim_or_axis(dim, axis)
        return reduce.Amax.apply(
            self, axis=_normalize_dim(dim, self.ndim, "amax"), keepdims=keepdim
        )

    def amin(self, dim=None, keepdim=False, axis=None):
        """Min over ``dim``; ties share the gradient."""
        dim = _dim_or_axis(dim, axis)
        return reduce.Amin.apply(
            self, axis=_normalize_dim(dim, self.ndim, "amin"), keepdims=keepdim
        )

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None, axis=None):
        """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
        dim = _dim_or_axis(dim, axis)
        if correction is None:
            correction = 0 if unbiased is False else 1
        axis = _normalize_dim(dim, self.ndim, "var")
        return reduce.Var.apply(self, axis=axis, correction=correction, keepdims=keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None, axis=None):
        """Standard deviation over ``dim`` (square root of :meth:`var`; gradient 0 where it is 0,
        as PyTorch's)."""
        dim = _dim_or_axis(dim, axis)
        if correction is None:
            correction = 0 if unbiased is False else 1
        axis = _normalize_dim(dim, self.ndim, "std")
        return reduce.Std.apply(self, axis=axis, correction=correction, keepdims=keepdim)

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(x))) over ``dim``, computed stably."""
        axis = _normalize_dim(dim, self.ndim, "logsumexp")
        return reduce.LogSumExp.apply(self, axis=axis, keepdims=keepdim)

    def prod(self, dim=None, keepdim=False, axis=None):
        """Product over ``dim`` (all elements when None)."""
        dim = _dim_or_axis(dim, axis)
        axis = _normalize_dim(dim, self.ndim, "prod")
        return reduce.Prod.apply(self, axis=axis, keepdims=keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        """The p-norm over ``dim`` (all elements when None); at a zero vector its gradient is 0,
        as PyTorch's (not 0 / 0)."""
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p in (math.inf, -math.inf, 0) or p == "fro":
            from npgrad import linalg  # (linalg imports this module)

            return linalg.vector_norm(self, 2 if p == "fro" else p, dim, keepdim)
        axis = _normalize_dim(dim, self.ndim, "norm")
        return reduce.Norm.apply(self, p=builtins.float(p), axis=axis, keepdims=keepdim)

    def argmax(self, dim=None, keepdim=False, axis=None):
        """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
        dim = _dim_or_axis(dim, axis)
        return self._arg_extreme(xp.argmax, dim, keepdim)

    def argmin(self, dim=None, keepdim=False, axis=None):
        """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
        dim = _dim_or_axis(dim, axis)
        return self._arg_extreme(xp.argmin, dim, keepdim)

    def _arg_extreme(self, pick, dim, keepdim):
        if dim is None:
            return Tensor._wrap(xp.asarray(pick(self._data)))
        axis = _normalize_one_dim(dim, self.ndim, pick.__name__)
        return Tensor._wrap(xp.asarray(pick(self._data, axis=axis, keepdims=keepdim)))

    def sort(self, dim=-1, descending=False, stable=False):
        """``(values, indices)`` sorted along ``dim``; values carry the gradient."""
        axis = _normalize_one_dim(dim, self.ndim, "sort")
        keys = -self._data if descending else self._data
        indices = xp.argsort(keys, axis=axis, kind="stable") if self.ndim else xp.array(0)
        if self.ndim == 0:
            return MinMax(self, Tensor._wrap(indices))
        return MinMax(shape_ops.Gather.apply(self, indices, axis=axis), Tensor._wrap(indices))

    def argsort(self, dim=-1, descending=False, stable=False):
        """Indices that sort the tensor along ``dim``."""
        return self.sort(dim, descending, stable).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
        """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``."""
        axis = _normalize_one_dim(dim, self.ndim, "topk")
        size = self.shape[axis] if self.ndim else 1
        if not 0 <= k <= size:
            raise IndexError(f"topk: k ({k}) is out of range for a dimension of size {size}")
        values, indices = self.sort(dim, descending=largest)
        index = (slice(None),) * axis + (slice(0, k),)
        return MinMax(values[index], Tensor._wrap(indices._data[index]))

    def all(self, dim=None, keepdim=False, axis=None):
        """True where all elements are non-zero (no gradient)."""
        dim = _dim_or_axis(dim, axis)
        axis = _normalize_dim(dim, self.ndim, "all")
        return Tensor._wrap(xp.asarray(self._data.all(axis=axis, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False, axis=None):
        """True where any element is non-zero (no gradient)."""
        dim = _dim_or_axis(dim, axis)
        axis = _normalize_dim(dim, self.ndim, "any")
        return Tensor._wrap(xp.asarray(self._data.any(axis=axis, keepdims=keepdim)))

    def cumsum(self, dim=None, axis=None):
        """Cumulative sum along ``dim``."""
        return cumsum(self, _dim_or_axis(dim, axis))

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        """The same elements in a new shape (one dimension may be -1)."""
        new_shape = _size_args(shape)
        if new_shape == self.shape:
            return self
        return shape_ops.Reshape.apply(self, shape=new_shape)

    view = reshape

    def view_as(self, other):
        """Reshape to ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims ``start_dim`` to ``end_dim`` into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start = _normalize_one_dim(start_dim, self.ndim, "flatten")
        end = _normalize_one_dim(end_dim, self.ndim, "flatten")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1 :])

    def unflatten(self, dim, sizes):
        """Split dim ``dim`` into ``sizes``."""
        axis = _normalize_one_dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1 :])

    def squeeze(self, dim=None):
        """Remove size-1 dims (only ``dim``, when given and of size 1)."""
        if dim is None:
            new_shape = tuple(s for s in self.shape if s != 1)
        else:
            axes = _normalize_dim(dim, self.ndim, "squeeze") or ()
            new_shape = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        return self.reshape(new_shape)

    def unsqueeze(self, dim):
        """Insert a size-1 dim at position ``dim``."""
        axis = _normalize_one_dim(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims):
        """Reorder dims: ``y.shape[i] = x.shape[dims[i]]``."""
        dims = _size_args(dims)
        if len(dims) != self.ndim:
            raise ShapeError(
                f"permute: number of dims don't match: tensor has {self.ndim}, got {len(dims)}"
            )
        axes = tuple(_normalize_one_dim(d, self.ndim, "permute") for d in dims)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"permute: repeated dim in {dims}")
        return shape_ops.Permute.apply(self, axes=axes)

    def transpose(self, dim0, dim1):
        """Swap two dims."""
        if self.ndim < 2:
            return self
        axes = list(range(self.ndim))
        a = _normalize_one_dim(dim0, self.ndim, "transpose")
        b = _normalize_one_dim(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return shape_ops.Permute.apply(self, axes=tuple(axes))

    swapaxes = transpose

    def movedim(self, source, destination):
        """Move dim ``source`` to position ``destination``, keeping the others in order."""
        start = _normalize_one_dim(source, self.ndim, "movedim")
        end = _normalize_one_dim(destination, self.ndim, "movedim")
        order = [d for d in range(self.ndim) if d != start]
        order.insert(end, start)
        return self.permute(*order)

    def t(self):
        """Transpose a 2-D tensor (1-D and 0-D tensors are returned as they are)."""
        if self.ndim > 2:
            raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but got {self.ndim}")
        return self.transpose(0, 1)

    def expand(self, *sizes):
        """Broadcast to ``sizes`` (-1 keeps a dim) without copying."""
        sizes = _size_args(sizes)
        offset = len(sizes) - self.ndim
        if offset < 0:
            raise ShapeError(
                f"expand: the number of sizes ({len(sizes)}) must be >= the tensor's dims "
                f"({self.ndim})"
            )
        target = tuple(
            self.shape[i - offset] if size == -1 else size for i, size in enumerate(sizes)
        )
        return shape_ops.Expand.apply(self, shape=target)

    def expand_as(self, other):
        """Broadcast to ``other``'s shape."""
        return self.expand(other.shape)

    def repeat(self, *repeats):
        """Tile the tensor ``repeats`` times along each dim (``torch.Tensor.repeat``)."""
        repeats = _size_args(repeats)
        if len(repeats) < self.ndim:
            raise ShapeError(
                f"repeat: number of repeat dims ({len(repeats)}) can not be smaller than the "
                f"tensor's dims ({self.ndim})"
            )
        return shape_ops.Repeat.apply(self, repeats=repeats)

    def tile(self, *dims):
        """Repeat the tensor along each dim; fewer ``dims`` than dimensions count from the last
        (``torch.tile``: ``repeat`` with the missing leading repeats set to 1)."""
        dims = _size_args(dims)
        return self.repeat(*((1,) * (self.ndim - len(dims)) + tuple(dims)))

    def unfold(self, dimension, size, step):
        """Every window of ``size`` along ``dimension``, ``step`` apart, as a new last dim:
        (..., n, ...) -> (..., (n - size) // step + 1, ..., size) (``torch.Tensor.unfold``);
        the windows are gathered, so gradients of overlapping windows add up."""
        axis = _normalize_one_dim(dimension, self.ndim, "unfold")
        length = self.shape[axis] if self.ndim else 1
        if size > length or size < 0 or step <= 0:
            raise ShapeError(
                f"unfold: windows of size {size} and step {step} do not fit a dimension of "
                f"size {length}"
            )
        starts = xp.arange(0, length - size + 1, step)
        index = (starts[:, None] + xp.arange(size)[None, :]).reshape(-1)
        picked = self.index_select(axis, index) if self.ndim else self.reshape(1)
        shape = list(picked.shape)
        shape[axis : axis + 1] = [len(starts), size]
        return picked.reshape(*shape).movedim(axis + 1, -1)

    def addmm(self, mat1, mat2, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2)."""
        product = mat1 @ mat2
        return (self if beta == 1 else self * beta) + (product if alpha == 1 else product * alpha)

    def sum_to_size(self, *size):
        """Sum over the dims that broadcasting would have expanded to reach this shape from
        ``size`` (the gradient of ``expand``)."""
        size = _size_args(size)
        lead = self.ndim - len(size)
        dims = list(range(lead)) + [
            lead + i for i, n in enumerate(size) if n == 1 and self.shape[lead + i] != 1
        ]
        out = self.sum(dim=dims, keepdim=True) if dims else self
        return out.reshape(*size)

    def quantile(self, q, dim=None, keepdim=False, interpolation="linear"):
        """The ``q``-th quantiles along ``dim`` (``npgrad.quantile``)."""
        from npgrad.functions import quantile

        return quantile(self, q, dim, keepdim, interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, interpolation="linear"):
        """The ``q``-th quantiles of the non-NaN values along ``dim`` (``npgrad.nanquantile``)."""
        from npgrad.functions import nanquantile

        return nanquantile(self, q, dim, keepdim, interpolation)

    def nanmean(self, dim=None, keepdim=False):
        """The mean of the non-NaN elements (``torch.nanmean``)."""
        from npgrad.functions import nanmean

        return nanmean(self, dim, keepdim)

    def nansum(self, dim=None, keepdim=False):
        """The sum with NaNs counted as zero (``torch.nansum``)."""
        from npgrad.functions import nansum

        return nansum(self, dim, keepdim)

    def logical_not(self):
        """True where the element is zero (False); no gradient."""
        return Tensor._wrap(xp.logical_not(self._data))

    def fill_diagonal_(self, fill_value, wrap=False):
        """In place: ``fill_value`` on the main diagonal (all dims equal, or a 2-D matrix; with
        ``wrap`` a tall matrix's diagonal starts again below each square block)."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ShapeError(
                f"fill_diagonal_: expected a matrix or a tensor with all dims equal, got "
                f"{self.shape}"
            )
        mask = xp.zeros(self.shape, dtype=bool)
        xp.fill_diagonal(mask, True, wrap=wrap)
        return self.masked_fill_(Tensor._wrap(mask), fill_value)

    def repeat_interleave(self, repeats, dim=None):
        """Repeat each element ``repeats`` times along ``dim`` (flattened first when None)."""
        if not isinstance(repeats, _builtin_int):
            raise NotImplementedError(
                "repeat_interleave: only an int number of repeats is supported"
            )
        source = self.flatten() if dim is None else self
        axis = 0 if dim is None else _normalize_one_dim(dim, self.ndim, "repeat_interleave")
        return shape_ops.RepeatInterleave.apply(source, repeats=repeats, axis=axis)

    def flip(self, *dims):
        """Reverse the order of elements along ``dims``."""
        axes = _normalize_dim(_size_args(dims), self.ndim, "flip")
        return shape_ops.Flip.apply(self, axes=axes)

    def __getitem__(self, index):
        return shape_ops.GetItem.apply(self, index=_index_of(index))

    def split(self, split_size_or_sections, dim=0):
        """Split into chunks of a size (the last may be smaller) or of the given sizes."""
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """Split into ``chunks`` nearly equal pieces."""
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        """The slices along ``dim`` as a tuple of tensors."""
        axis = _normalize_one_dim(dim, self.ndim, "unbind")
        index = (slice(None),) * axis
        return tuple(self[index + (i,)] for i in range(self.shape[axis]))

    def gather(self, dim, index):
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (``torch.gather``)."""
        return gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        """A copy of self with ``src`` added at ``index`` along ``dim`` (``torch.scatter_add``)."""
        return scatter_add(self, dim, index, src)

    def index_copy(self, dim, index, source):
        """A copy with the slices ``index`` along ``dim`` replaced by those of ``source``."""
        axis = _normalize_one_dim(dim, self.ndim, "index_copy")
        positions = xp.asarray(_array_of(index), dtype=int64).reshape(-1)
        shape = [1] * self.ndim
        shape[axis] = -1
        full = xp.broadcast_to(positions.reshape(shape), source.shape)
        return scatter(self, axis, Tensor._wrap(xp.ascontiguousarray(full)), source)

    def masked_scatter(self, mask, source):
        """A copy with the elements where ``mask`` (broadcast) is True taken, in order, from
        ``source``'s first elements."""
        where = xp.broadcast_to(_array_of(mask).astype(bool), self.shape)
        count = _builtin_int(where.sum())
        flat = source.flatten()
        if flat.shape[0] < count:
            raise ShapeError(
                f"masked_scatter: the mask selects {count} elements but source has only "
                f"{flat.shape[0]}"
            )
        out = self.clone()
        out[Tensor._wrap(where)] = flat[:count]
        return out

    def index_put_(self, indices, values, accumulate=False):
        """In place: ``self[indices] = values`` (``indices`` a tuple of index tensors); with
        ``accumulate`` repeated positions add up (and add to what is there)."""
        indices = tuple(indices)
        if not accumulate:
            self[indices] = values
            return self
        positions = tuple(xp.asarray(_array_of(i), dtype=int64) for i in indices)
        flat = xp.ravel_multi_index(positions, self.shape[: len(indices)]).reshape(-1)
        rest = self.shape[len(indices) :]
        values = values if isinstance(values, Tensor) else tensor(values, dtype=self.dtype)
        source = values.expand(*xp.broadcast_shapes(values.shape, (flat.shape[0], *rest)))
        rows = self.reshape(-1, *rest)  # the indexed dims as one, then index_add sums repeats
        self[...] = rows.index_add(0, Tensor._wrap(flat), source).reshape(*self.shape)
        return self

    def scatter_reduce(self, dim, index, src, reduce, include_self=True):
        """A copy where each element ``index`` points at is reduced with the ``src`` elements
        sent there ("sum", "mean", "amax", "amin"; ``torch.Tensor.scatter_reduce``)."""
        return scatter_reduce(self, dim, index, src, reduce, include_self)

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        """A copy with ``src`` (or ``value``) written at ``index`` along ``dim``."""
        if reduce is not None:
            raise NotImplementedError("scatter: reduce is not supported (use scatter_add)")
        return scatter(self, dim, index, src, value)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In place: ``src`` (or ``value``) written at ``index`` along ``dim`` (e.g. one-hot
        rows: ``zeros(n, c).scatter_(1, labels.unsqueeze(1), 1.0)``)."""
        if reduce is not None:
            raise NotImplementedError("scatter_: reduce is not supported (use scatter_add_)")
        if src is None and value is None:
            raise ValueError("scatter_: give src or value")
        axis = _normalize_one_dim(dim, self.ndim, "scatter_")
        if src is not None and not isinstance(src, Tensor):  # a number: torch's value
            src, value = None, _array_of(src)
        index = _array_of(index)
        return self._inplace(shape_ops.Scatter, src, index=index, axis=axis, value=value)

    def scatter_add_(self, dim, index, src):
        """In place: ``src`` added at ``index`` along ``dim``."""
        axis = _normalize_one_dim(dim, self.ndim, "scatter_add_")
        return self._inplace(_ScatterAddInto, src, index=_array_of(index), axis=axis)

    def index_add(self, dim, index, source, alpha=1):
        """A copy with ``alpha * source`` added at ``index`` along ``dim``."""
        return index_add(self, dim, index, source, alpha)

    def index_add_(self, dim, index, source, alpha=1):
        """In place: ``alpha * source`` added at ``index`` along ``dim``."""
        axis = _normalize_one_dim(dim, self.ndim, "index_add_")
        index = xp.asarray(_array_of(index)).reshape(-1)
        return self._inplace(shape_ops.IndexAdd, source, index=index, axis=axis, alpha=alpha)

    def index_fill_(self, dim, index, value):
        """In place: ``value`` in every slice ``index`` along ``dim``."""
        axis = _normalize_one_dim(dim, self.ndim, "index_fill_")
        mask = numpy.zeros(self.shape[axis], dtype=bool)
        mask[_array_of(index)] = True
        shape = [1] * self.ndim
        shape[axis] = -1
        return self.masked_fill_(mask.reshape(shape), value)

    def index_fill(self, dim, index, value):
        """A copy with ``value`` in every slice ``index`` along ``dim``."""
        return self.clone().index_fill_(dim, index, value)

    def index_select(self, dim, index):
        """Select entries along ``dim`` at the integer ``index``."""
        axis = _normalize_one_dim(dim, self.ndim, "index_select")
        return self[(slice(None),) * axis + (_array_of(index),)]

    def narrow(self, dim, start, length):
        """The slice ``start:start + length`` along ``dim`` (a differentiable view)."""
        axis = _normalize_one_dim(dim, self.ndim, "narrow")
        start = _builtin_int(start) % self.shape[axis] if start < 0 else _builtin_int(start)
        if start + length > self.shape[axis]:
            raise ShapeError(
                f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                f"({self.shape[axis]}) of dim {dim} (shape {self.shape})"
            )
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def roll(self, shifts, dims=None):
        """Elements shifted ``shifts`` places along ``dims``, wrapping around (the flattened
        tensor when ``dims`` is None), as ``torch.roll``."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, _builtin_int) else tuple(shifts)
        dims = (dims,) if isinstance(dims, _builtin_int) else tuple(dims)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        out = self
        for shift, dim in zip(shifts, dims, strict=True):
            axis = _normalize_one_dim(dim, self.ndim, "roll")
            size = self.shape[axis]
            out = out.index_select(axis, (xp.arange(size) - shift) % max(size, 1))
        return out

    def diag(self, diagonal=0):
        """A 1-D tensor -> the square matrix with it on a diagonal; a matrix -> that diagonal."""
        if self.ndim == 1:
            size = self.shape[0] + abs(diagonal)
            rows = xp.arange(self.shape[0]) + max(-diagonal, 0)
            columns = xp.arange(self.shape[0]) + max(diagonal, 0)
            out = zeros(size, size, dtype=self.dtype)
            return scatter_add(out.flatten(), 0, rows * size + columns, self).reshape(size, size)
        if self.ndim != 2:
            raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {self.shape}")
        top, left = max(-diagonal, 0), max(diagonal, 0)  # where the diagonal starts
        rows = xp.arange(max(min(self.shape[0] - top, self.shape[1] - left), 0))
        return self[rows + top, rows + left]

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal of the (dim1, dim2) matrices, as the last dim (``torch.diagonal``)."""
        first = _normalize_one_dim(dim1, self.ndim, "diagonal")
        second = _normalize_one_dim(dim2, self.ndim, "diagonal")
        order = [d for d in range(self.ndim) if d not in (first, second)] + [first, second]
        moved = self.permute(*order)
        top, left = max(-offset, 0), max(offset, 0)
        rows = xp.arange(max(min(moved.shape[-2] - top, moved.shape[-1] - left), 0))
        return moved[..., rows + top, rows + left]

    def cumprod(self, dim):
        """Cumulative product along ``dim`` (the gradient is exact with zeros too)."""
        return reduce.CumProd.apply(self, axis=_normalize_one_dim(dim, self.ndim, "cumprod"))

    def inverse(self):
        """The matrix inverse (``npgrad.linalg.inv``)."""
        from npgrad import linalg

        return linalg.inv(self)

    def det(self):
        """The determinant (``npgrad.linalg.det``)."""
        from npgrad import linalg

        return linalg.det(self)

    def logdet(self):
        """log det (NaN for a negative determinant)."""
        from npgrad import linalg

        return linalg.logdet(self)

    def slogdet(self):
        """(sign, log |det|)."""
        from npgrad import linalg

        return linalg.slogdet(self)

    def pinverse(self, rcond=1e-15):
        """The Moore-Penrose pseudo-inverse."""
        from npgrad import linalg

        return linalg.pinv(self, rcond=rcond)

    def matrix_power(self, n):
        """A^n."""
        from npgrad import linalg

        return linalg.matrix_power(self, n)

    def cross(self, other, dim=None):
        """The cross product along ``dim`` (the first dim of size 3 when None, as PyTorch)."""
        from npgrad import linalg

        if dim is None:
            dim = next(d for d, size in enumerate(self.shape) if size == 3)
        return linalg.cross(self, other, dim)

    def select(self, dim, index):
        """The slice at ``index`` along ``dim``, that dim removed."""
        axis = _normalize_one_dim(dim, self.ndim, "select")
        return self[(slice(None),) * axis + (index,)]

    def take_along_dim(self, indices, dim=None):
        """Values at ``indices`` along ``dim`` (broadcast against each other; the flattened
        tensor when ``dim`` is None), as ``torch.take_along_dim``."""
        index = xp.asarray(_array_of(indices))
        if dim is None:
            return self.flatten()[index.reshape(-1)]
        axis = _normalize_one_dim(dim, self.ndim, "take_along_dim")
        shape = list(
            numpy.broadcast_shapes(
                tuple(1 if d == axis else s for d, s in enumerate(self.shape)),
                tuple(1 if d == axis else s for d, s in enumerate(index.shape)),
            )
        )
        source_shape, index_shape = list(shape), list(shape)
        source_shape[axis], index_shape[axis] = self.shape[axis], index.shape[axis]
        return self.expand(*source_shape).gather(axis, xp.broadcast_to(index, index_shape))

    def bincount(self, weights=None, minlength=0):
        """How often each value 0, 1, ... occurs in a 1-D integer tensor (or the sum of
        ``weights`` per value); no gradient."""
        if self.ndim != 1 or self.dtype.kind not in "iu":
            raise ShapeError(
                f"bincount: expected a 1-D tensor of non-negative integers, got {self.dtype} "
                f"of shape {self.shape}"
            )
        counts = xp.bincount(
            self._data, None if weights is None else _array_of(weights), minlength=minlength
        )
        if weights is None:
            return Tensor._wrap(counts.astype(int64))
        return Tensor._wrap(counts.astype(numpy.result_type(_array_of(weights), numpy.float32)))

    def argwhere(self):
        """The indices of the non-zero elements, (n, ndim)."""
        return self.nonzero()

    def trace(self):
        """The sum of a matrix's main diagonal."""
        return self.diag().sum()

    def diff(self, n=1, dim=-1):
        """The n-th forward difference along ``dim``: x[i + 1] - x[i], applied n times."""
        axis = _normalize_one_dim(dim, self.ndim, "diff")
        out = self
        for _ in range(n):
            before = (slice(None),) * axis
            out = out[before + (slice(1, None),)] - out[before + (slice(None, -1),)]
        return out

    def median(self, dim=None, keepdim=False):
        """The lower median (no averaging, as PyTorch): of all elements, or ``(values,
        indices)`` along ``dim``."""
        if dim is None:  # tied medians share the gradient, as PyTorch's
            return reduce.Median.apply(self)
        axis = _normalize_one_dim(dim, self.ndim, "median")
        size = self.shape[axis] if self.ndim else 1
        return self.kthvalue((size - 1) // 2 + 1, axis, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        """``median`` ignoring NaNs (NaN only where every value is NaN): of all elements, or
        ``(values, indices)`` along ``dim``. The gradient goes to the chosen element."""
        if dim is None:  # tied medians share the gradient, as median's
            present = ~xp.isnan(self._data.reshape(-1))
            if not present.any():
                return self.reshape(-1)[0] if self.ndim else self.clone()
            return reduce.Median.apply(self.reshape(-1)[Tensor._wrap(present)])
        axis = _normalize_one_dim(dim, self.ndim, "nanmedian")
        _check_reduced_size(self, axis, "nanmedian")
        data = self._data if self.ndim else self._data.reshape(1)
        order = xp.argsort(data, axis=axis, kind="stable")  # NaNs sort last
        counts = (~xp.isnan(data)).sum(axis=axis, keepdims=True)
        index = xp.take_along_axis(order, xp.maximum(counts - 1, 0) // 2, axis=axis)
        values = self.gather(axis, Tensor._wrap(index)) if self.ndim else self.clone()
        if not keepdim and self.ndim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return MinMax(values, Tensor._wrap(index if self.ndim else xp.array(0)))

    def mode(self, dim=-1, keepdim=False):
        """``(values, indices)``: the most frequent value along ``dim`` (the smallest among
        equally frequent ones) and the last place it occurs, as PyTorch's; the gradient goes
        there."""
        axis = _normalize_one_dim(dim, self.ndim, "mode")
        _check_reduced_size(self, axis, "mode")
        data = xp.moveaxis(self._data, axis, -1) if self.ndim else self._data.reshape(1)
        rows = data.reshape(-1, data.shape[-1]) if data.size else data.reshape(-1, 1)
        count, size = rows.shape
        order = xp.argsort(rows, axis=-1, kind="stable")
        ranked = xp.take_along_axis(rows, order, axis=-1)
        starts = xp.ones(rows.shape, dtype=bool)  # where a run of equal values begins
        starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        begin = xp.flatnonzero(starts)
        length = xp.diff(xp.append(begin, count * size))
        row = begin // size
        longest = xp.zeros(count, dtype=length.dtype)
        xp.maximum.at(longest, row, length)
        best = length == longest[row]  # the first such run of a row has the smallest value
        _, first = xp.unique(row[best], return_index=True)
        last = begin[best][first] + length[best][first] - 1  # runs list indices in order
        index = order.reshape(-1)[last].reshape(data.shape[:-1] + (1,))
        index = xp.moveaxis(index, -1, axis) if self.ndim else index.reshape(())
        values = self.gather(axis, Tensor._wrap(index)) if self.ndim else self.clone()
        if not keepdim and self.ndim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return MinMax(values, Tensor._wrap(index))

    def kthvalue(self, k, dim=-1, keepdim=False):
        """``(values, indices)``: the k-th smallest entry along ``dim`` (k from 1) and where it
        is; the gradient goes there. Among tied values the index is the k-th in a stable sort
        (PyTorch's selection may name another of the ties; the value is the same)."""
        axis = _normalize_one_dim(dim, self.ndim, "kthvalue")
        size = self.shape[axis] if self.ndim else 1
        if not 1 <= k <= size:
            raise IndexError(f"kthvalue: k ({k}) is out of range for a dimension of size {size}")
        if self.ndim == 0:
            return MinMax(self.clone(), Tensor._wrap(xp.array(0)))
        values, indices = self.sort(dim=axis)
        pick = (slice(None),) * axis + (slice(k - 1, k),)
        values, indices = values[pick], indices[pick]
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return MinMax(values, indices)

    def cummax(self, dim):
        """``(values, indices)``: the running maximum along ``dim`` and where it was reached
        (a tie takes the later index and a NaN, once met, stays: PyTorch's rules). The gradient
        of each value goes to its index."""
        return self._running_extreme(dim, xp.maximum, "cummax")

    def cummin(self, dim):
        """``(values, indices)``: the running minimum along ``dim``, as :meth:`cummax`."""
        return self._running_extreme(dim, xp.minimum, "cummin")

    def _running_extreme(self, dim, extreme, op):
        axis = _normalize_one_dim(dim, self.ndim, op)
        if self.ndim == 0:
            return MinMax(self.clone(), Tensor._wrap(xp.array(0)))
        data = self._data
        running = extreme.accumulate(data, axis=axis)  # (maximum and minimum propagate NaN)
        positions = xp.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
        reached = (data == running) | (xp.isnan(data) if data.dtype.kind in "fc" else False)
        indices = xp.maximum.accumulate(xp.where(reached, positions, 0), axis=axis)
        values = shape_ops.Gather.apply(self, indices, axis=axis)
        return MinMax(values, Tensor._wrap(indices.astype(int64)))

    def nonzero(self, as_tuple=False):
        """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
        found = xp.nonzero(self._data if self.ndim else self._data.reshape(1))
        if as_tuple:
            return tuple(Tensor._wrap(index.astype(int64)) for index in found)
        return Tensor._wrap(xp.stack(found, axis=1).astype(int64))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        """The distinct elements (or slices along ``dim``), sorted; optionally where each element
        went (``return_inverse``) and how often each occurs (``return_counts``). No gradient."""
        axis = None if dim is None else _normalize_one_dim(dim, self.ndim, "unique")
        values, inverse, counts = xp.unique(
            self._data, return_inverse=True, return_counts=True, axis=axis
        )
        out = [Tensor._wrap(values)]
        if return_inverse:
            shape = self.shape if axis is None else (self.shape[axis],)
            out.append(Tensor._wrap(inverse.reshape(shape).astype(int64)))
        if return_counts:
            out.append(Tensor._wrap(counts.astype(int64)))
        return out[0] if len(out) == 1 else tuple(out)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (PyTorch's strides)."""
        steps = tuple(step // self._data.itemsize for step in self._data.strides)
        return steps if dim is None else steps[_normalize_one_dim(dim, self.ndim, "stride")]

    @property
    def itemsize(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self):
        """Bytes of all the elements."""
        return self._data.nbytes

    def nelement(self):
        """The number of elements (``numel``)."""
        return self.numel()

    def new_empty(self, *size, dtype=None, requires_grad=False):
        """An uninitialised tensor of ``size`` with this tensor's dtype (unless given)."""
        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (unless given)."""
        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        """Ones of ``size`` with this tensor's dtype (unless given)."""
        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        """``fill_value`` everywhere, with this tensor's dtype (unless given)."""
        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new tensor from ``data`` with this tensor's dtype (unless given)."""
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def masked_select(self, mask):
        """The elements where ``mask`` is True, as a 1-D tensor."""
        return self[_array_of(mask)]

    def clamp_min(self, min):  # noqa: A002 - PyTorch's name
        """clamp(min=min)."""
        return self.clamp(min=min)

    def clamp_max(self, max):  # noqa: A002 - PyTorch's name
        """clamp(max=max)."""
        return self.clamp(max=max)

    def bernoulli(self, generator=None):
        """1 with probability self (element-wise), else 0; no gradient."""
        rng = generator or default_generator()
        return Tensor._wrap((rng.random(self.shape) < self._data).astype(self.dtype))

    def tril(self, diagonal=0):
        """The lower triangle of the last two dims (elements above ``diagonal`` set to 0)."""
        return self * Tensor._wrap(xp.tril(xp.ones(self.shape[-2:], dtype=bool), diagonal))

    def triu(self, diagonal=0):
        """The upper triangle of the last two dims (elements below ``diagonal`` set to 0)."""
        return self * Tensor._wrap(xp.triu(xp.ones(self.shape[-2:], dtype=bool), diagonal))

    def multinomial(self, num_samples, replacement=False, generator=None):
        """Sample class indices from the rows of non-negative weights (no gradient)."""
        weights = self._data.reshape(-1, self.shape[-1]).astype(float64)
        if (weights < 0).any() or not (weights.sum(axis=1) > 0).all():
            raise ValueError("multinomial: weights must be non-negative, with a positive row sum")
        if not replacement and num_samples > self.shape[-1]:
            raise ValueError(
                f"multinomial: cannot draw {num_samples} samples without replacement from "
                f"{self.shape[-1]} categories"
            )
        rng = generator or default_generator()
        rows = [
            rng.choice(len(row), size=num_samples, replace=replacement, p=row / row.sum())
            for row in weights
        ]
        return Tensor._wrap(xp.array(rows, dtype=int64).reshape(self.shape[:-1] + (num_samples,)))

    is_sparse = False
    layout = strided

    def to_sparse(self, sparse_dim=None):
        """The non-zero entries as a sparse COO tensor (see ``npgrad.sparse``); differentiable."""
        from npgrad import sparse

        return sparse.to_sparse(self, sparse_dim)

    to_sparse_coo = to_sparse

    def to_dense(self):
        """Already dense: self."""
        return self

    def clone(self):
        """A copy that owns its memory; gradients flow back to self."""
        return elementwise.Clone.apply(self)

    def mm(self, other):
        """Matrix product of two 2-D tensors."""
        return self @ other

    bmm = dot = mv = mm

    # ----------------------------------------------------------------- printing
    def __repr__(self):
        data = self._data if isinstance(self._data, numpy.ndarray) else self._data.get()
        suffixes = []
        if data.size == 0:
            text = "[]"
            if data.ndim != 1:
                suffixes.append(f"size={tuple(data.shape)}")
            if self.dtype != get_default_dtype():
                suffixes.append(f"dtype={self.dtype}")
        else:
            text, all_hidden = _tensor_str.body(data, len("tensor("))
            if all_hidden:
                suffixes.append(f"size={tuple(data.shape)}")
            if self.dtype not in (get_default_dtype(), int64, bool_):
                suffixes.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            suffixes.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _tensor_str.with_suffixes("tensor(" + text, suffixes, len("tensor("))

    def __format__(self, spec):
        if self._data.size == 1 and spec:
            return format(self.item(), spec)
        return repr(self)


class _ScatterAddInto(shape_ops.ScatterAdd):
    """ScatterAdd with the index as an attribute: the in-place form's argument order."""

    @staticmethod
    def forward(ctx, x, src, index=None, axis=0):
        return shape_ops.ScatterAdd.forward(ctx, x, index, src, axis)

    @staticmethod
    def backward(ctx, grad):
        grad_src = grad[ctx.full_index] if ctx.needs_input_grad[1] else None
        return grad, grad_src  # dy/dx = 1, dy/dsrc = 1 where each element went


set_printoptions = _tensor_str.set_printoptions


def is_floating_point(input):  # noqa: A002
    """True for a floating-point tensor."""
    return input.is_floating_point()


def _legacy_constructor(dtype, name):
    def construct(*data):
        """PyTorch's legacy typed constructor: from data, or uninitialised (zeros) of a size."""
        if len(data) == 1 and not isinstance(data[0], _builtin_int):
            return tensor(data[0], dtype=dtype)
        return zeros(*data, dtype=dtype)

    construct.__name__ = construct.__qualname__ = name
    return construct


FloatTensor = _legacy_constructor(numpy.float32, "FloatTensor")
DoubleTensor = _legacy_constructor(numpy.float64, "DoubleTensor")
LongTensor = _legacy_constructor(numpy.int64, "LongTensor")
IntTensor = _legacy_constructor(numpy.int32, "IntTensor")
BoolTensor = _legacy_constructor(numpy.bool_, "BoolTensor")
ByteTensor = _legacy_constructor(numpy.uint8, "ByteTensor")


def _index_of(index):
    """Turn tensors inside an index into arrays (a Tensor index selects like its array would)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(item._data if isinstance(item, Tensor) else item for item in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index


# --------------------------------------------------------------------- creation
def _to_array(data, dtype=None):
    """Copy ``data`` into a fresh array; Python floats become the default float dtype."""
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif isinstance(data, xp.ndarray | numpy.generic):
        array = xp.array(data)
    else:
        array = xp.array(data)
        if array.dtype == float64 and dtype is None:
            array = array.astype(get_default_dtype())
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def tensor(data, dtype=None, requires_grad=False, device=None):
    """Create a tensor from a list, scalar, array or tensor (the data is copied).

    Python floats give ``float32`` (the default dtype), Python ints ``int64``, bools ``bool``;
    NumPy arrays keep their dtype. Matches ``torch.tensor``.

    Args:
        data: a number, (nested) list, NumPy array or Tensor.
        dtype: the dtype to convert to (e.g. ``npgrad.float64``).
        requires_grad: record ops on the result for ``backward()`` (float dtypes only).
        device: accepted for PyTorch compatibility; only ``"cpu"`` is supported.

    Returns:
        A new leaf Tensor.

    >>> import npgrad
    >>> npgrad.tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> npgrad.tensor([0.5, 1.5]).dtype
    dtype('float32')
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """Like :func:`tensor` but shares memory with a NumPy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == dtype):
        return Tensor._wrap(data)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with the NumPy ``array`` (dtype kept, as ``torch.from_numpy``)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _new(array, requires_grad):
    result = Tensor._wrap(array)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _shape(sizes, size):
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    return _size_args(sizes) if sizes else tuple(size or ())


def _float_dtype(dtype):
    return get_default_dtype() if dtype is None else numpy.dtype(dtype)


def zeros(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros of the given size."""
    return _new(xp.zeros(_shape(sizes, size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*sizes, size=None, dtype=None, requires_grad=False, device=None):
    """A tensor of ones of the given size."""
    return _new(xp.ones(_shape(sizes, size), dtype=_float_dtype(dtype)), requires_grad)


empty = zeros


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = _to_array(fill_value).dtype
    return _new(xp.full(_size_args((size,)), fill_value, dtype=dtype), requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    """Zeros with ``other``'s shape and dtype."""
    return _new(xp.zeros(other.shape, dtype=dtype or other.dtype), requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    """Ones with ``other``'s shape and dtype."""
    return _new(xp.ones(other.shape, dtype=dtype or other.dtype), requires_grad)


def full_like(other, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` with ``other``'s shape and dtype."""
    return _new(xp.full(other.shape, fill_value, dtype=dtype or other.dtype), requires_grad)


def empty_like(other, dtype=None, requires_grad=False):
    """Zeros with ``other``'s shape and dtype (npgrad never hands out uninitialised memory)."""
    return zeros_like(other, dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        all_ints = all(isinstance(v, _builtin_int) for v in (start, end, step))
        dtype = int64 if all_ints else get_default_dtype()
    return _new(xp.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _new(xp.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """An identity matrix of shape (n, m or n)."""
    return _new(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*sizes, size=None, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform samples in [0, 1)."""
    rng = generator or default_generator()
    return _new(rng.random(_shape(sizes, size)).astype(_float_dtype(dtype)), requires_grad)


def randn(*sizes, size=None, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal samples."""
    rng = generator or default_generator()
    return _new(rng.standard_normal(_shape(sizes, size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None):
    """Random integers in [low, high); called as ``randint(high, size)`` or with both bounds."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    rng = generator or default_generator()
    return Tensor._wrap(rng.integers(low, high, size=tuple(size)).astype(dtype or int64))


def normal(mean, std=1.0, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of N(mean, std^2): scalars with ``size``, or tensors broadcast element-wise.

    Matches ``torch.normal``.

    >>> import npgrad
    >>> npgrad.normal(0.0, 1.0, (2, 3)).shape
    (2, 3)
    """
    rng = generator or default_generator()
    mean_array, std_array = _array_of(mean), _array_of(std)
    shape = (
        _size_args((size,))
        if size is not None
        else numpy.broadcast_shapes(numpy.shape(mean_array), numpy.shape(std_array))
    )
    samples = rng.normal(mean_array, std_array, shape)
    if dtype is None and isinstance(mean, Tensor):
        dtype = mean.dtype
    return _new(samples.astype(_float_dtype(dtype)), requires_grad)


def bernoulli(input, generator=None):  # noqa: A002 - PyTorch's name
    """1 with probability ``input`` (element-wise), else 0."""
    return input.bernoulli(generator)


def randint_like(other, low=0, high=None, dtype=None, requires_grad=False):
    """Random integers in [low, high) shaped like ``other`` (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, other.shape, dtype=dtype or other.dtype)


def rand_like(other, dtype=None, requires_grad=False):
    """Uniform samples with ``other``'s shape."""
    return rand(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)


def randn_like(other, dtype=None, requires_grad=False):
    """Normal samples with ``other``'s shape."""
    return randn(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)


def randperm(n, dtype=None, generator=None):
    """A random permutation of 0..n-1."""
    rng = generator or default_generator()
    return Tensor._wrap(rng.permutation(n).astype(dtype or int64))


# --------------------------------------------------------------------- functions over tensors
def _tensors(values):
    return [v if isinstance(v, Tensor) else tensor(v) for v in values]


def cat(tensors, dim=None, axis=None):
    """Join tensors along an existing dim (``torch.cat``)."""
    dim = _dim_or_axis(dim, axis) or 0
    tensors = _tensors(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    axis = _normalize_one_dim(dim, tensors[0].ndim, "cat")
    return shape_ops.Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors, dim=None, axis=None):
    """Join tensors along a new dim (``torch.stack``)."""
    dim = _dim_or_axis(dim, axis) or 0
    tensors = _tensors(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    axis = _normalize_one_dim(dim, tensors[0].ndim + 1, "stack")
    return shape_ops.Stack.apply(*tensors, axis=axis)


def split(x, split_size_or_sections, dim=0):
    """Split along ``dim`` into pieces of one size (last may be smaller) or of listed sizes."""
    axis = _normalize_one_dim(dim, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, _builtin_int):
        step = split_size_or_sections
        sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ShapeError(
                f"split: sizes {sizes} sum to {sum(sizes)}, but dim {dim} has size {length}"
            )
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(slice(None),) * axis + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (the last may be smaller)."""
    axis = _normalize_one_dim(dim, x.ndim, "chunk")
    step = -(-x.shape[axis] // chunks)
    return split(x, max(step, 1), dim)


def where(condition, input=None, other=None):  # noqa: A002 - PyTorch's names
    """Elements of ``input`` where ``condition`` holds, else of ``other``; with the condition
    alone, the indices where it holds (``condition.nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return as_tensor(condition).nonzero(as_tuple=True)
    return elementwise.Where.apply(_array_of(condition), input, other)


def gather(x, dim, index):
    """``out[i][j] = x[index[i][j]][j]`` for dim 0, and likewise for any dim (``torch.gather``)."""
    axis = _normalize_one_dim(dim, x.ndim, "gather")
    index = _array_of(index)
    if index.ndim != x.ndim:
        raise ShapeError(
            f"gather: index must have as many dims as the input: index {index.shape}, "
            f"input {x.shape}"
        )
    return shape_ops.Gather.apply(x, index, axis=axis)


def scatter(x, dim, index, src=None, value=None):
    """A copy of ``x`` with ``src`` (or the scalar ``value``) written at ``index`` along ``dim``
    (``torch.scatter``): for dim 0, out[index[i][j]][j] = src[i][j]."""
    axis = _normalize_one_dim(dim, x.ndim, "scatter")
    if src is None and value is None:
        raise ValueError("scatter: give src or value")
    if src is not None and not isinstance(src, Tensor):  # a number: torch's value
        src, value = None, _array_of(src)
    return shape_ops.Scatter.apply(x, src, index=_array_of(index), axis=axis, value=value)


def index_add(x, dim, index, source, alpha=1):
    """A copy of ``x`` with ``alpha * source`` added at the positions ``index`` along ``dim``
    (``torch.index_add``); repeated indices add up."""
    axis = _normalize_one_dim(dim, x.ndim, "index_add")
    index = xp.asarray(_array_of(index)).reshape(-1)
    if source.shape[axis] != index.shape[0]:
        raise ShapeError(
            f"index_add: source of shape {source.shape} has {source.shape[axis]} entries along "
            f"dim {dim}, but there are {index.shape[0]} indices"
        )
    return shape_ops.IndexAdd.apply(x, source, index=index, axis=axis, alpha=alpha)


def scatter_add(x, dim, index, src):
    """A copy of ``x`` with ``src`` added at ``index`` along ``dim`` (``torch.scatter_add``)."""
    axis = _normalize_one_dim(dim, x.ndim, "scatter_add")
    return shape_ops.ScatterAdd.apply(x, _array_of(index), src, axis=axis)


def scatter_reduce(x, dim, index, src, reduce, include_self=True):
    """A copy of ``x`` where each element ``index`` points at is reduced with the ``src``
    elements sent there: "sum", "mean", "amax" or "amin" (``torch.scatter_reduce``)."""
    if reduce not in ("sum", "mean", "amax", "amin"):
        raise NotImplementedError(
            f"scatter_reduce: reduce={reduce!r} is not supported (sum, mean, amax, amin)"
        )
    axis = _normalize_one_dim(dim, x.ndim, "scatter_reduce")
    return shape_ops.ScatterReduce.apply(
        x, src, index=_array_of(index), axis=axis, reduce=reduce, include_self=include_self
    )


def matmul(a, b):
    """Matrix product with NumPy broadcasting rules (``torch.matmul``)."""
    return a @ b


def pad(x, pad, value=0.0):
    """Constant padding; ``pad`` lists (before, after) pairs from the last dim backwards."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(
            f"pad: expected an even number of pad sizes for at most {x.ndim} dims, got {pad}"
        )
    width, crop = [(0, 0)] * x.ndim, [slice(None)] * x.ndim
    for i in range(len(pad) // 2):
        before, after = pad[2 * i], pad[2 * i + 1]
        width[x.ndim - 1 - i] = (max(before, 0), max(after, 0))
        # a negative width crops that side, as in PyTorch
        crop[x.ndim - 1 - i] = slice(max(-before, 0), x.shape[x.ndim - 1 - i] - max(-after, 0))
    if min(pad, default=0) < 0:
        x = x[tuple(crop)]
    return shape_ops.Pad.apply(x, pad_width=tuple(width), value=value)


def cumsum(x, dim):
    """Cumulative sum along ``dim``."""
    return reduce.CumSum.apply(x, axis=_normalize_one_dim(dim, x.ndim, "cumsum"))
