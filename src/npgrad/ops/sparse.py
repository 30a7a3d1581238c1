"""Ops on sparse COO tensors' stored values: scatter to dense, sparse-dense products, sums over
groups of entries.

A sparse tensor is its ``indices`` (sparse_dim, nnz), constant, and its ``values``
(nnz, *dense_dims), a Tensor that may need grad: each op here takes the values and the dense
operands as inputs and the indices as attributes, so gradients reach both.

Entries are summed by group with a *plan*: the order that sorts them by group, the groups
present and where each starts in that order (``numpy.add.reduceat`` then adds each run at once).
"""

from npgrad.autograd import Function
from npgrad.backend import xp
from npgrad.errors import ShapeError


def segment_plan(keys):
    """(order, groups present, run starts) for summing entries that share a key."""
    order = xp.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = xp.flatnonzero(xp.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return order, ordered[starts], starts


def group_plan(keys):
    """Entries numbered by distinct key: (a plan whose groups are 0, 1, ..., each entry's
    group, the distinct keys in order)."""
    order, distinct, starts = segment_plan(keys)
    plan = (order, xp.arange(len(distinct)), starts)
    return plan, xp.searchsorted(distinct, keys), distinct


def segment_sum(x, plan, count):
    """out[g] = sum of x[i] over the entries i of group g, for ``count`` groups."""
    order, groups, starts = plan
    out = xp.zeros((count,) + x.shape[1:], dtype=x.dtype)
    if len(order):
        out[groups] = xp.add.reduceat(x[order], starts, axis=0)
    return out


class SegmentSum(Function):
    """y[g] = sum of x[i] over the entries i in group g (duplicates merged, sums over a dim)"""

    @staticmethod
    def forward(ctx, x, plan=None, keys=None, count=None):
        ctx.keys = keys
        return segment_sum(x, plan, count)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.keys]  # dy[g]/dx[i] = 1 where entry i is in group g


class ToDense(Function):
    """y = the dense tensor with each stored value added at its index (zeros elsewhere)"""

    @staticmethod
    def forward(ctx, values, indices=None, shape=None, coalesced=False):
        ctx.index = tuple(indices)
        out = xp.zeros(shape, dtype=values.dtype)
        if coalesced:  # distinct indices: one assignment
            out[ctx.index] = values
        else:
            xp.add.at(out, ctx.index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]  # dy[index_i]/dvalues_i = 1


class SparseMM(Function):
    """z = A @ B for a 2-D sparse A (rows, cols, values) and a dense 2-D B"""

    @staticmethod
    def forward(ctx, values, dense, rows=None, cols=None, shape=None, row_plan=None, col_plan=None):
        if values.ndim != 1 or dense.ndim != 2 or shape[1] != dense.shape[0]:
            raise ShapeError(
                f"sparse.mm: a sparse {shape} matrix with scalar values cannot multiply a dense "
                f"{dense.shape} one (need a 2-D dense operand with {shape[1]} rows)"
            )
        ctx.rows, ctx.cols, ctx.count, ctx.col_plan = rows, cols, dense.shape[0], col_plan
        ctx.save_for_backward(values, dense)
        dtype = xp.result_type(values, dense)
        terms = values.astype(dtype, copy=False)[:, None] * dense[cols]
        return segment_sum(terms, row_plan(), shape[0])

    @staticmethod
    def backward(ctx, grad):
        values, dense = ctx.saved_tensors
        grad_values = grad_dense = None
        rows_grad = grad[ctx.rows]
        if ctx.needs_input_grad[0]:
            grad_values = (rows_grad * dense[ctx.cols]).sum(axis=1).astype(values.dtype)
            # dz[r]/dA[r, c] = B[c]
        if ctx.needs_input_grad[1]:
            terms = values[:, None] * rows_grad  # dz/dB = A^T grad
            grad_dense = segment_sum(terms, ctx.col_plan(), ctx.count).astype(dense.dtype)
        return grad_values, grad_dense
