"""Scaled dot-product attention as one op: y = softmax(q k^T * scale + mask) v.

One graph node instead of five (matmul, scale, mask, softmax, matmul), and backward needs only
the attention weights P: with dP = dy v^T, the softmax's backward is dS = P (dP - sum(dP P)),
and the two matrix products' are dq = dS k * scale, dk = dS^T q * scale, dv = P^T dy.
Everything is batched over the leading axes (batch, heads), which may broadcast.
"""

from npgrad import buffers
from npgrad.autograd import Function, recomputed_backward
from npgrad.backend import xp


def _transposed(array):
    return xp.swapaxes(array, -1, -2)


class ScaledDotProductAttention(Function):
    """y = (softmax(q k^T * scale + mask) * keep) v over the last two axes

    ``mask`` is additive (0 where attending is allowed, -inf where not), ``keep`` the dropout
    multiplier (0 or 1 / (1 - p)) per attention weight; both are constants, broadcast to the
    scores' shape (..., L, S). A query whose keys are all masked gets zero weights (an output
    of 0, and no gradient), as with PyTorch's scaled_dot_product_attention.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask=None, scale=1.0, keep=None):
        scores = buffers.matmul(q, _transposed(k))
        scores *= scale
        if mask is not None:
            scores = xp.add(scores, mask, out=scores if scores.shape == mask.shape else None)
        # softmax along the keys, shifted by the row's max so that no exp overflows
        row_max = scores.max(axis=-1, keepdims=True)
        unseeing = xp.isneginf(row_max)  # queries whose every key is masked: zero weights
        blind = unseeing.any()
        if blind:
            row_max[unseeing] = 0.0
        scores -= row_max
        weights = xp.exp(scores, out=scores)
        total = weights.sum(axis=-1, keepdims=True)
        if blind:
            total[unseeing] = 1.0
        weights /= total
        ctx.save_for_backward(q, k, v, weights, keep)
        ctx.scale, ctx.mask = scale, mask
        dropped = weights if keep is None else buffers.arithmetic(xp.multiply, weights, keep)
        return buffers.matmul(dropped, v)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, weights, keep = ctx.saved_tensors
        dropped = weights if keep is None else buffers.arithmetic(xp.multiply, weights, keep)
        grad_v = buffers.matmul(_transposed(dropped), grad)  # dy/dv = P^T
        grad_p = buffers.matmul(grad, _transposed(v))  # dy/dP = v^T
        if keep is not None:
            grad_p *= keep
        # softmax: dS = P (dP - sum_j dP_j P_j), then the scale
        row_sums = xp.einsum("...ij,...ij->...i", grad_p, weights)[..., None]
        grad_s = grad_p  # (grad_p is this op's own array: the softmax's gradient replaces it)
        grad_s -= row_sums
        grad_s *= weights
        grad_s *= ctx.scale
        grad_q = buffers.matmul(grad_s, k)  # dS/dq = k
        grad_k = buffers.matmul(_transposed(grad_s), q)  # dS/dk = q
        return grad_q, grad_k, grad_v

    @staticmethod
    def backward_graph(ctx, grad, q, k, v):
        return recomputed_backward(ctx, grad, lambda q, k, v: _attention_composite(ctx, q, k, v))


def _attention_composite(ctx, q, k, v):
    """The op from differentiable Tensor ops (matmul, softmax), for gradients of gradients."""
    scores = (q @ k.transpose(-1, -2)) * ctx.scale
    seeing = None
    if ctx.mask is not None:
        # a query whose every key is masked gets zero weights: its row of the mask becomes 0
        # (a finite softmax) and its weights are multiplied by 0 afterwards
        unseeing = xp.isneginf(ctx.mask).all(axis=-1, keepdims=True)
        scores = scores + xp.where(unseeing, 0.0, ctx.mask)
        seeing = ~unseeing if unseeing.any() else None
    weights = scores.softmax(-1)
    for factor in (seeing, ctx.saved_tensors[4]):  # the masked-out rows, dropout's multiplier
        if factor is not None:
            weights = weights * factor.astype(weights.dtype)
    return weights @ v
