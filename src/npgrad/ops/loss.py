"""Fused loss ops over rows of class scores.

Both ops see the loss of row i as a weighted sum over classes, ``loss_i = -sum_c A_ic lp_ic``,
with ``lp`` the log-probabilities. The coefficient matrix ``A`` (built with no gradient by
``npgrad.nn.functional``) encodes every PyTorch option: the target class (one-hot), class
weights, ``ignore_index`` (a zero row), label smoothing (a spread over classes), probability
targets, and the ``mean`` normaliser. One forward and one backward formula then serve every
combination.
"""

from npgrad.autograd import Function
from npgrad.backend import xp


def _per_row(grad):
    """The incoming gradient as a column (per-row losses) or a scalar (their sum)."""
    return grad[:, None] if grad.ndim else grad


class CrossEntropy(Function):
    """loss_i = -sum_c A_ic log softmax(z_i)_c for logits z (M, C), coefficients A (M, C);
    with ``total=True`` the sum over rows (the reduced loss) in the same op"""

    @staticmethod
    def forward(ctx, logits, coefficients, total=False):
        shifted = logits - logits.max(axis=-1, keepdims=True, initial=-xp.inf)  # NOTE: no overflow
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        ctx.save_for_backward(log_probs, coefficients)
        if total:
            return -(coefficients * log_probs).sum()
        return -(coefficients * log_probs).sum(axis=-1)

    @staticmethod
    def backward(ctx, grad):
        log_probs, coefficients = ctx.saved_tensors
        # dloss_i/dz_ic = softmax_ic * sum_k A_ik - A_ic (the familiar softmax - onehot)
        row_weight = coefficients.sum(axis=-1, keepdims=True)
        return _per_row(grad) * (xp.exp(log_probs) * row_weight - coefficients), None


class NLL(Function):
    """loss_i = -sum_c A_ic x_ic for log-probabilities x (M, C) and coefficients A (M, C);
    with ``total=True`` the sum over rows"""

    @staticmethod
    def forward(ctx, log_probs, coefficients, total=False):
        ctx.save_for_backward(coefficients)
        if total:
            return -(coefficients * log_probs).sum()
        return -(coefficients * log_probs).sum(axis=-1)

    @staticmethod
    def backward(ctx, grad):
        (coefficients,) = ctx.saved_tensors
        return -_per_row(grad) * coefficients, None  # dloss_i/dx_ic = -A_ic
