"""Fused loss ops over rows of class scores, and binary cross-entropy on probabilities.

Both ops see the loss of row i as a weighted sum over classes, ``loss_i = -sum_c A_ic lp_ic``,
with ``lp`` the log-probabilities. The coefficient matrix ``A`` (built with no gradient by
``npgrad.nn.functional``) encodes every PyTorch option: the target class (one-hot), class
weights, ``ignore_index`` (a zero row), label smoothing (a spread over classes), probability
targets, and the ``mean`` normaliser. One forward and one backward formula then serve every
combination.
"""

from npgrad.autograd import Function, recomputed_backward
from npgrad.backend import xp


def _per_row(grad):
    """The incoming gradient as a column (per-row losses) or a scalar (their sum)."""
    return grad[:, None] if grad.ndim else grad


def _weighted_sum(coefficients, log_probs, total):
    """-sum_c A_ic lp_ic per row (or over everything with ``total``), where a class with A_ic = 0
    adds nothing even if lp_ic = -inf (a logit masked with -inf, as PyTorch allows): 0 * -inf
    would be nan. The plain product first; the masked one only when that made a nan."""
    axis = None if total else -1
    loss = -(coefficients * log_probs).sum(axis=axis)
    if xp.isnan(loss).any():
        with xp.errstate(invalid="ignore"):
            loss = -xp.where(coefficients != 0, coefficients * log_probs, 0).sum(axis=axis)
    return loss


def _weighted_sum_graph(coefficients, log_probs, total):
    """``_weighted_sum`` in Tensor ops (a class with A_ic = 0 masked out, as there)."""
    terms = log_probs.masked_fill(coefficients == 0, 0.0) * coefficients
    return -(terms.sum() if total else terms.sum(dim=-1))


class CrossEntropy(Function):
    """loss_i = -sum_c A_ic log softmax(z_i)_c for logits z (M, C), coefficients A (M, C);
    with ``total=True`` the sum over rows (the reduced loss) in the same op"""

    @staticmethod
    def forward(ctx, logits, coefficients, total=False):
        shifted = logits - logits.max(axis=-1, keepdims=True, initial=-xp.inf)  # NOTE: no overflow
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        ctx.save_for_backward(log_probs, coefficients)
        ctx.total = total
        return _weighted_sum(coefficients, log_probs, total)

    @staticmethod
    def backward(ctx, grad):
        log_probs, coefficients = ctx.saved_tensors
        # dloss_i/dz_ic = softmax_ic * sum_k A_ik - A_ic (the familiar softmax - onehot)
        row_weight = coefficients.sum(axis=-1, keepdims=True)
        return _per_row(grad) * (xp.exp(log_probs) * row_weight - coefficients), None

    @staticmethod
    def backward_graph(ctx, grad, logits, coefficients):
        def composite(logits, coefficients):
            return _weighted_sum_graph(coefficients, logits.log_softmax(-1), ctx.total)

        return recomputed_backward(ctx, grad, composite)


class NLL(Function):
    """loss_i = -sum_c A_ic x_ic for log-probabilities x (M, C) and coefficients A (M, C);
    with ``total=True`` the sum over rows"""

    @staticmethod
    def forward(ctx, log_probs, coefficients, total=False):
        ctx.save_for_backward(coefficients)
        ctx.total = total
        return _weighted_sum(coefficients, log_probs, total)

    @staticmethod
    def backward(ctx, grad):
        (coefficients,) = ctx.saved_tensors
        return -_per_row(grad) * coefficients, None  # dloss_i/dx_ic = -A_ic

    @staticmethod
    def backward_graph(ctx, grad, log_probs, coefficients):
        return recomputed_backward(
            ctx,
            grad,
            lambda log_probs, coefficients: _weighted_sum_graph(coefficients, log_probs, ctx.total),
        )


class BinaryCrossEntropy(Function):
    """loss = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)) element-wise, for
    probabilities p and targets y (PyTorch clamps the logs at -100)

    Backward is PyTorch's dloss/dp = (p - y) / max(p (1 - p), 1e-12): finite where a saturated
    sigmoid gives p = 0 or 1 exactly (the composite's d log p = 1 / p was inf there, times the
    clamp's 0: nan). dloss/dy = max(log(1 - p), -100) - max(log p, -100), the derivative of
    the loss as computed (PyTorch's target gradient leaves the logs unclamped: +-inf there).
    """

    @staticmethod
    def forward(ctx, p, y):
        with xp.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100.0)
            log_not_p = xp.maximum(xp.log(1 - p), -100.0)
        ctx.save_for_backward(p, y, log_p, log_not_p)
        return -(y * log_p + (1 - y) * log_not_p)

    @staticmethod
    def backward(ctx, grad):
        p, y, log_p, log_not_p = ctx.saved_tensors
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_p = grad * (p - y) / xp.maximum(p * (1 - p), 1e-12)
        if ctx.needs_input_grad[1]:
            grad_y = grad * (log_not_p - log_p)
        return grad_p, grad_y

    @staticmethod
    def backward_graph(ctx, grad, p, y):
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_p = grad * (p - y) / (p * (1 - p)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            grad_y = grad * ((1 - p).log().clamp(min=-100.0) - p.log().clamp(min=-100.0))
        return grad_p, grad_y
