"""Sparse COO tensors (``torch.sparse``): a graph's adjacency matrix, a bag of features.

``npgrad.sparse_coo_tensor(indices, values, size)`` keeps ``indices`` (sparse_dim, nnz) and
``values`` (nnz, *dense_dims); everything not stored is zero. As in PyTorch:

- ``sparse.mm(A, B)``, ``npgrad.spmm``, ``npgrad.mm`` and ``A @ B`` multiply a sparse matrix by a
  dense one (or dense by sparse); gradients reach the dense operand and the stored values;
- ``to_dense()``, ``Tensor.to_sparse()``, ``coalesce()`` (duplicates summed, indices sorted),
  ``indices()``/``values()``, ``t()``, ``sum``, ``softmax`` over stored entries, scalar and
  element-wise products, sums of sparse tensors;
- a sparse tensor made with ``requires_grad=True`` is a leaf: after ``backward()`` its ``.grad``
  is a sparse tensor with the same indices.

>>> import npgrad
>>> A = npgrad.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
>>> (A @ npgrad.ones(3, 1)).tolist()
[[3.0], [9.0]]
"""

import numpy

from npgrad.backend import xp
from npgrad.errors import ShapeError
from npgrad.functions import _as_tensor
from npgrad.ops import sparse as ops
from npgrad.tensor import Tensor, cat, sparse_coo, tensor


class SparseTensor:
    """A sparse COO tensor: made by :func:`sparse_coo_tensor` or ``Tensor.to_sparse()``."""

    is_sparse = True
    layout = sparse_coo

    def __init__(self, indices, values, shape, coalesced=False):
        self._indices_array = indices
        self._values_tensor = values
        self.shape = tuple(int(n) for n in shape)
        self._coalesced = coalesced
        self._plans = {}

    # ------------------------------------------------------------------ attributes
    @property
    def dtype(self):
        return self._values_tensor.dtype

    @property
    def device(self):
        return self._values_tensor.device

    @property
    def ndim(self):
        return len(self.shape)

    def dim(self):
        return len(self.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def sparse_dim(self):
        """How many leading dims are indexed (the rest are in each stored value)."""
        return self._indices_array.shape[0]

    def dense_dim(self):
        return self.ndim - self.sparse_dim()

    def _nnz(self):
        """How many entries are stored (duplicates counted until ``coalesce()``)."""
        return self._indices_array.shape[1]

    def numel(self):
        return int(numpy.prod(self.shape))

    def is_coalesced(self):
        return self._coalesced

    def _indices(self):
        return Tensor._wrap(self._indices_array)

    def _values(self):
        return self._values_tensor

    def indices(self):
        """The indices of a coalesced tensor (call ``coalesce()`` first, as in PyTorch)."""
        self._require_coalesced("indices")
        return self._indices()

    def values(self):
        """The stored values of a coalesced tensor, differentiable."""
        self._require_coalesced("values")
        return self._values_tensor

    def _require_coalesced(self, what):
        if not self._coalesced:
            raise RuntimeError(
                f"Cannot get {what} on an uncoalesced sparse tensor, please call .coalesce() first"
            )

    # ------------------------------------------------------------------ autograd
    @property
    def requires_grad(self):
        return self._values_tensor.requires_grad

    def requires_grad_(self, requires_grad=True):
        self._values_tensor.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._values_tensor.is_leaf

    @property
    def grad_fn(self):
        return self._values_tensor.grad_fn

    @property
    def grad(self):
        """The gradient of a leaf, as a sparse tensor with the same indices (None before any)."""
        grad = self._values_tensor.grad
        if grad is None or self._coalesced:
            return grad if grad is None else self._with_values(grad)
        # the gradient at each position: entries stored twice at one got the same one each
        keys, sparse_shape = self._linear_indices()
        (order, _, starts), _, distinct = ops.group_plan(keys)
        indices = numpy.stack(numpy.unravel_index(distinct, sparse_shape))
        first = grad._data[order[starts]]
        return SparseTensor(
            indices.reshape(len(sparse_shape), -1), Tensor._wrap(first), self.shape, True
        )

    @grad.setter
    def grad(self, value):
        self._values_tensor.grad = None if value is None else value._values()

    def detach(self):
        return self._with_values(self._values_tensor.detach())

    def _with_values(self, values):
        """The same indices with other values (shares the row/column plans)."""
        out = SparseTensor(self._indices_array, values, self.shape, self._coalesced)
        out._plans = self._plans
        return out

    # ------------------------------------------------------------------ conversions
    def coalesce(self):
        """Indices sorted and unique, duplicates' values summed (differentiably)."""
        if self._coalesced:
            return self
        keys, sparse_shape = self._linear_indices()
        plan, groups, distinct = ops.group_plan(keys)
        values = ops.SegmentSum.apply(
            self._values_tensor, plan=plan, keys=groups, count=len(distinct)
        )
        indices = numpy.stack(numpy.unravel_index(distinct, sparse_shape)).reshape(
            len(sparse_shape), -1
        )
        return SparseTensor(indices.astype(numpy.int64), values, self.shape, coalesced=True)

    def _linear_indices(self):
        """Each entry's position in the sparse dims, flattened; and the sparse dims' shape."""
        sparse_shape = self.shape[: self.sparse_dim()]
        return numpy.ravel_multi_index(tuple(self._indices_array), sparse_shape), sparse_shape

    def to_dense(self):
        """The dense tensor (differentiable with respect to the values)."""
        return ops.ToDense.apply(
            self._values_tensor,
            indices=self._indices_array,
            shape=self.shape,
            coalesced=self._coalesced,
        )

    def to_sparse(self):
        return self

    to_sparse_coo = to_sparse

    def to(self, *args, **kwargs):
        return self._with_values(self._values_tensor.to(*args, **kwargs))

    def float(self):
        return self._with_values(self._values_tensor.float())

    def double(self):
        return self._with_values(self._values_tensor.double())

    def cpu(self):
        return self

    def clone(self):
        return self._with_values(self._values_tensor.clone())

    def t(self):
        """The transpose of a 2-D sparse matrix."""
        if self.sparse_dim() != 2:
            raise ShapeError(
                f"t(): expects a sparse matrix (2 sparse dims), got shape {self.shape}"
            )
        out = SparseTensor(
            self._indices_array[::-1].copy(), self._values_tensor, self.shape[::-1], False
        )
        out._plans = {"row": self._plans.get("col"), "col": self._plans.get("row")}
        return out

    def transpose(self, dim0, dim1):
        if sorted((dim0 % self.ndim, dim1 % self.ndim)) != [0, 1] or self.sparse_dim() != 2:
            raise NotImplementedError("transpose: only a sparse matrix's two dims can be swapped")
        return self.t()

    # ------------------------------------------------------------------ arithmetic
    def _plan(self, which):
        """The entries grouped by row ("row") or column ("col"), computed once per tensor."""
        if self._plans.get(which) is None:
            self._plans[which] = ops.segment_plan(self._indices_array[int(which == "col")])
        return self._plans[which]

    def __matmul__(self, other):
        return mm(self, other)

    def __rmatmul__(self, other):
        return mm(other, self)

    def __mul__(self, other):
        if isinstance(other, SparseTensor):
            return (self.to_dense() * other.to_dense()).to_sparse()
        if isinstance(other, Tensor) and other.ndim > 0:
            # only stored entries can be non-zero: multiply each by the other's value there
            dense = other.expand(self.shape) if other.shape != self.shape else other
            return self._with_values(self._values_tensor * dense[tuple(self._indices_array)])
        return self._with_values(self._values_tensor * other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, SparseTensor | Tensor) and getattr(other, "ndim", 0) > 0:
            raise NotImplementedError("sparse / tensor: divide by a scalar")
        return self._with_values(self._values_tensor / other)

    def __neg__(self):
        return self._with_values(-self._values_tensor)

    def __add__(self, other):
        if isinstance(other, SparseTensor):
            if other.shape != self.shape:
                raise ShapeError(f"sparse add: shapes {self.shape} and {other.shape} differ")
            indices = numpy.concatenate([self._indices_array, other._indices_array], axis=1)
            values = cat([self._values_tensor, other._values_tensor])
            return SparseTensor(indices, values, self.shape)
        return self.to_dense() + other  # sparse + dense is dense, as in PyTorch

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def sum(self, dim=None):
        """All stored values summed (a dense scalar); over some dims: a sparse tensor while
        sparse dims remain, else dense, as ``torch.sparse.sum``."""
        if dim is None:
            return self._values_tensor.sum()
        dims = sorted({d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)})
        sparse_dims = [d for d in dims if d < self.sparse_dim()]
        dense_axes = tuple(d - self.sparse_dim() + 1 for d in dims if d >= self.sparse_dim())
        values = self._values_tensor.sum(dense_axes) if dense_axes else self._values_tensor
        kept = [d for d in range(self.sparse_dim()) if d not in sparse_dims]
        shape = [n for d, n in enumerate(self.shape) if d not in dims]
        if not kept:
            return values.sum(0)
        reduced = SparseTensor(self._indices_array[kept], values, shape)
        return reduced.coalesce() if sparse_dims else reduced

    def __repr__(self):
        indent = " " * len("tensor(")
        indices = repr(self._indices()).replace("\n", "\n" + " " * len("tensor(indices="))
        values = repr(self._values_tensor).replace("\n", "\n" + " " * len("tensor(values="))
        return (
            f"tensor(indices={indices},\n{indent}values={values},\n{indent}size={self.shape}, "
            f"nnz={self._nnz()}, layout={self.layout})"
        )

    def __len__(self):
        return self.shape[0]


def sparse_coo_tensor(
    indices, values, size=None, dtype=None, device=None, requires_grad=False, is_coalesced=None
):
    """A sparse COO tensor (``torch.sparse_coo_tensor``): ``indices`` (sparse_dim, nnz) integers,
    ``values`` (nnz, *dense_dims); ``size`` defaults to the largest index + 1 in each sparse dim.
    A tensor ``values`` that needs grad keeps its graph (gradients flow back to it)."""
    index = numpy.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if index.ndim != 2 or (index.size and index.dtype.kind not in "iu"):
        raise ShapeError(
            f"sparse_coo_tensor: indices must be a 2-D integer array (sparse_dim, nnz), got "
            f"shape {index.shape} of {index.dtype}"
        )
    index = index.astype(numpy.int64)
    if isinstance(values, Tensor):
        vals = values if dtype is None else values.to(dtype)
    else:  # as npgrad.tensor: Python floats give the default dtype, arrays keep theirs
        vals = tensor(values, dtype=dtype)
    if vals.ndim == 0 or vals.shape[0] != index.shape[1]:
        raise ShapeError(
            f"sparse_coo_tensor: {index.shape[1]} indices but values of shape {vals.shape} "
            "(the first dim of values counts the entries)"
        )
    if size is None:
        size = tuple(index.max(axis=1) + 1 if index.size else [0] * len(index))
        size += vals.shape[1:]
    size = tuple(int(n) for n in size)
    if len(size) != len(index) + vals.ndim - 1 or size[len(index) :] != vals.shape[1:]:
        raise ShapeError(
            f"sparse_coo_tensor: size {size} does not fit {len(index)} sparse dims with values "
            f"of shape {vals.shape}"
        )
    if index.size and ((index < 0).any() or (index.max(axis=1) >= size[: len(index)]).any()):
        raise IndexError(
            f"sparse_coo_tensor: an index is out of bounds for size {size[: len(index)]} "
            f"(largest given: {index.max(axis=1).tolist()})"
        )
    if requires_grad:
        vals = vals.detach().requires_grad_()
    return SparseTensor(index, vals, size, coalesced=bool(is_coalesced))


def _legacy_constructor(dtype, name):
    def construct(*args):
        """PyTorch's legacy sparse constructor: (indices, values, size) or (indices, values)."""
        if len(args) >= 2 and not isinstance(args[0], int):
            return sparse_coo_tensor(*args[:3], dtype=dtype)
        return sparse_coo_tensor(numpy.zeros((len(args), 0), numpy.int64), [], args, dtype)

    construct.__name__ = construct.__qualname__ = name
    return construct


FloatTensor = _legacy_constructor(numpy.float32, "FloatTensor")
DoubleTensor = _legacy_constructor(numpy.float64, "DoubleTensor")
LongTensor = _legacy_constructor(numpy.int64, "LongTensor")


def to_sparse(dense, sparse_dim=None):
    """The non-zero entries of a dense tensor (``Tensor.to_sparse``); with ``sparse_dim`` only
    the leading dims are indexed and values keep the rest. Differentiable."""
    sparse_dim = dense.ndim if sparse_dim is None else sparse_dim
    data = dense._data
    if sparse_dim < dense.ndim:
        data = xp.abs(data).reshape(data.shape[:sparse_dim] + (-1,)).max(axis=-1)
    index = numpy.stack(numpy.nonzero(data)).reshape(sparse_dim, -1).astype(numpy.int64)
    return SparseTensor(index, dense[tuple(index)], dense.shape, coalesced=True)


def mm(mat1, mat2):
    """``torch.sparse.mm``: sparse @ dense and dense @ sparse give dense, sparse @ sparse gives
    sparse. Gradients reach the dense operand and the stored values."""
    if isinstance(mat1, SparseTensor) and isinstance(mat2, SparseTensor):
        return mm(mat1, mat2.to_dense()).to_sparse()
    if isinstance(mat2, SparseTensor):  # B @ A = (A^T B^T)^T
        return mm(mat2.t(), _as_tensor(mat1).t()).t()
    dense = _as_tensor(mat2)
    if mat1.sparse_dim() != 2 or mat1.dense_dim() != 0:
        raise ShapeError(
            f"sparse.mm: the sparse operand must be a matrix with scalar values, got shape "
            f"{mat1.shape} with {mat1.sparse_dim()} sparse dims"
        )
    if dense.ndim == 1:
        return mm(mat1, dense.unsqueeze(1)).squeeze(1)
    indices = mat1._indices_array
    return ops.SparseMM.apply(
        mat1._values_tensor,
        dense,
        rows=indices[0],
        cols=indices[1],
        shape=mat1.shape,
        row_plan=lambda: mat1._plan("row"),
        col_plan=lambda: mat1._plan("col"),
    )


spmm = mm


def addmm(mat, mat1, mat2, beta=1.0, alpha=1.0):
    """beta * mat + alpha * (mat1 @ mat2), with a sparse ``mat1``."""
    return beta * mat + alpha * mm(mat1, mat2)


def sum(input, dim=None):  # noqa: A001, A002 - PyTorch's names
    """``torch.sparse.sum``: see :meth:`SparseTensor.sum`."""
    return input.sum(dim)


def softmax(input, dim):  # noqa: A002
    """Softmax over the stored entries along ``dim`` (a sparse dim): entries not stored count as
    absent, not as zero, as ``torch.sparse.softmax`` (graph attention over a node's edges)."""
    sparse = input.coalesce()
    dim = dim % sparse.ndim
    if dim >= sparse.sparse_dim():
        raise NotImplementedError("sparse.softmax: dim must be a sparse dim")
    values = sparse._values_tensor
    others = numpy.delete(sparse._indices_array, dim, axis=0)
    other_shape = [n for d, n in enumerate(sparse.shape[: sparse.sparse_dim()]) if d != dim]
    if other_shape:
        keys = numpy.ravel_multi_index(tuple(others), other_shape)
    else:  # a sparse vector: one group
        keys = numpy.zeros(sparse._nnz(), numpy.int64)
    plan, group_of, distinct = ops.group_plan(keys)
    largest = numpy.full((len(distinct),) + values.shape[1:], -numpy.inf, values.dtype)
    numpy.maximum.at(largest, group_of, values._data)  # a constant shift: exp cannot overflow
    shifted = (values - Tensor._wrap(largest[group_of])).exp()
    totals = ops.SegmentSum.apply(shifted, plan=plan, keys=group_of, count=len(distinct))
    return sparse._with_values(shifted / totals[group_of])


def log_softmax(input, dim):  # noqa: A002
    """The log of :func:`softmax` over stored entries."""
    out = softmax(input, dim)
    return out._with_values(out._values_tensor.log())
