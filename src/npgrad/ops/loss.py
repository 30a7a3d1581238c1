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


class CrossEntropy(Function):
    """loss_i = -sum_c A_ic log softmax(z_i)_c, for logits z (M, C) and coefficients A (M, C)"""

    @staticmethod
    def forward(ctx, logits, coefficients):
        shifted = logits - logits.max(axis=-1, keepdims=True, initial=-xp.inf)  # NOTE: no overflow
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        ctx.save_for_backward(log_probs, coefficients)
        return -(coefficients * log_probs).sum(axis=-1)

    @staticmethod
    def backward(ctx, grad):
        log_probs, coefficients = ctx.saved_tensors
        # dloss_i/dz_ic = softmax_ic * sum_k A_ik - A_ic (the familiar softmax - onehot)
        total = coefficients.sum(axis=-1, keepdims=True)
        return grad[:, None] * (xp.exp(log_probs) * total - coefficients), None


class NLL(Function):
    """loss_i = -sum_c A_ic x_ic, for log-probabilities x (M, C) and coefficients A (M, C)"""

    @staticmethod
    def forward(ctx, log_probs, coefficients):
        ctx.save_for_backward(coefficients)
        return -(coefficients * log_probs).sum(axis=-1)

    @staticmethod
    def backward(ctx, grad):
        (coefficients,) = ctx.saved_tensors
        return -grad[:, None] * coefficients, None  # dloss_i/dx_ic = -A_ic
