"""Fused loss ops over rows of class scores, and binary cross-entropy on probabilities.

Both ops see the loss of row i as a weighted sum over classes, ``loss_i = -sum_c A_ic lp_ic``,
with ``lp`` the log-probabilities. The coefficient matrix ``A`` (built with no gradient by
``npgrad.nn.functional``) encodes every PyTorch option: the target class (one-hot), class
weights, ``ignore_index`` (a zero row), label smoothing (a spread over classes), probability
targets, and the ``mean`` normaliser. One forward and one backward formula then serve every
combination. Plain class labels, the common case, come as a ``OneHot`` (the labels and one
scale) instead of the dense matrix: the same formulas, read by index.
"""

from npgrad.autograd import Function, recomputed_backward
from npgrad.backend import xp


class OneHot:
    """The coefficients of plain class labels, A = scale * onehot(labels), kept as the labels
    themselves (the common case: no class weights, smoothing or ignored labels). The ops then
    pick one log-probability a row instead of building and multiplying through an (M, C)
    matrix that is zero but for one entry a row."""

    __slots__ = ("labels", "classes", "scale", "rows")

    def __init__(self, labels, classes, scale):
        self.labels, self.classes, self.scale = labels, classes, scale
        self.rows = xp.arange(len(labels))

    def picked(self, values):
        """values[i, labels_i] for each row i."""
        return values[self.rows, self.labels]

    def dense(self, dtype):
        """The (M, C) matrix itself."""
        out = xp.zeros((len(self.labels), self.classes), dtype=dtype)
        out[self.rows, self.labels] = self.scale
        return out


def _per_row(grad):
    """The incoming gradient as a column (per-row losses) or a scalar (their sum)."""
    return grad[:, None] if grad.ndim else grad


def _weighted_sum(coefficients, log_probs, total):
    """-sum_c A_ic lp_ic per row (or over everything with ``total``), where a class with A_ic = 0
    adds nothing even if lp_ic = -inf (a logit masked with -inf, as PyTorch allows): 0 * -inf
    would be nan. The plain product first; the masked one only when that made a nan."""
    if type(coefficients) is OneHot:  # -scale lp_i,label_i: no other class takes part
        picked = coefficients.picked(log_probs)
        return -coefficients.scale * (picked.sum() if total else picked)
    axis = None if total else -1
    loss = -(coefficients * log_probs).sum(axis=axis)
    if xp.isnan(loss).any():
        with xp.errstate(invalid="ignore"):
            loss = -xp.where(coefficients != 0, coefficients * log_probs, 0).sum(axis=axis)
    return loss


def _weighted_sum_graph(coefficients, log_probs, total):
    """``_weighted_sum`` in Tensor ops (a class with A_ic = 0 masked out, as there)."""
    if type(coefficients) is OneHot:
        coefficients = coefficients.dense(log_probs.dtype)
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
        if type(coefficients) is OneHot:  # scale (softmax - onehot), the one-hot by index
            scaled = _per_row(grad) * coefficients.scale
            grad_logits = xp.exp(log_probs)
            grad_logits *= scaled
            grad_logits[coefficients.rows, coefficients.labels] -= scaled.reshape(-1)
            return grad_logits, None
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
        if type(coefficients) is OneHot:
            coefficients = coefficients.dense(grad.dtype)
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


def _logsumexp3(a, b, c):
    """log(e^a + e^b + e^c) element-wise, -inf where all three are -inf."""
    top = xp.maximum(xp.maximum(a, b), c)
    shift = xp.where(xp.isneginf(top), 0.0, top)
    with xp.errstate(divide="ignore"):
        return shift + xp.log(xp.exp(a - shift) + xp.exp(b - shift) + xp.exp(c - shift))


def _shifted(values, by):
    """values[..., s - by] along the last axis (s + |by| for a negative ``by``), -inf where
    that falls outside."""
    out = xp.full_like(values, -xp.inf)
    if by > 0:
        out[..., by:] = values[..., :-by]
    else:
        out[..., :by] = values[..., -by:]
    return out


def _ctc_lattice(log_probs, targets, input_lengths, target_lengths, blank):
    """CTC's forward and backward variables in log space, over the extended labels
    l' = (blank, l_1, blank, l_2, ..., l_S, blank): alpha[t, n, s] is the log-probability of
    the paths' prefixes up to step t that end in l'_s, beta[t, n, s] of the suffixes from t
    (both include step t's own log-probability). Returns alpha, beta, the extended labels and
    the per-sample log-likelihoods log p(l | x)."""
    steps, batch, _ = log_probs.shape
    width = 2 * targets.shape[1] + 1
    labels = xp.full((batch, width), blank, dtype=xp.int64)
    labels[:, 1::2] = targets
    valid = xp.arange(width)[None, :] < 2 * target_lengths[:, None] + 1
    # a label may be reached from two positions back unless it is a blank or repeats that one
    skip = xp.zeros((batch, width), dtype=bool)
    skip[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
    emit = xp.take_along_axis(log_probs, xp.broadcast_to(labels, (steps, batch, width)), axis=2)
    emit = xp.where(valid, emit, -xp.inf)  # (T, N, S'): log y_t(l'_s)
    neg_inf = xp.full((batch, width), -xp.inf, dtype=log_probs.dtype)
    alpha = xp.empty((steps, batch, width), dtype=log_probs.dtype)
    start = neg_inf.copy()
    start[:, :2] = emit[0, :, :2]  # a path starts with a blank or with l_1
    alpha[0] = start
    for t in range(1, steps):
        before = alpha[t - 1]
        two_back = xp.where(skip, _shifted(before, 2), -xp.inf)
        alpha[t] = emit[t] + _logsumexp3(before, _shifted(before, 1), two_back)
    # beta runs backwards from each sample's own last step; later steps stay -inf
    rows = xp.arange(batch)
    last = 2 * target_lengths  # the final blank; the final label is one before it
    end = neg_inf.copy()
    beta = xp.full((steps, batch, width), -xp.inf, dtype=log_probs.dtype)
    skip_ahead = xp.zeros((batch, width), dtype=bool)
    skip_ahead[:, :-2] = skip[:, 2:]  # from s, s + 2 may be reached when l'_{s+2} may skip
    for t in range(steps - 1, -1, -1):
        ending = input_lengths - 1 == t
        following = beta[t + 1] if t + 1 < steps else neg_inf
        two_ahead = xp.where(skip_ahead, _shifted(following, -2), -xp.inf)
        step = emit[t] + _logsumexp3(following, _shifted(following, -1), two_ahead)
        if ending.any():
            end[:] = -xp.inf
            end[rows, last] = emit[t, rows, last]
            has_label = target_lengths > 0
            end[rows[has_label], last[has_label] - 1] = emit[
                t, rows[has_label], last[has_label] - 1
            ]
            step = xp.where(ending[:, None], end, step)
        beta[t] = xp.where((t < input_lengths)[:, None], step, -xp.inf)
    final = alpha[input_lengths - 1, rows]  # (N, S') at each sample's last step
    before_last = xp.where(target_lengths > 0, final[rows, xp.maximum(last - 1, 0)], -xp.inf)
    likelihood = _logsumexp3(final[rows, last], before_last, neg_inf[:, 0])
    return alpha, beta, labels, likelihood


class CTC(Function):
    """Connectionist temporal classification: loss_n = -log p(l_n | x_n), the probability of
    target l_n summed over every alignment of it (blanks between and around its labels, each
    label repeated) to the input's steps, from log-probabilities (T, N, C).

    The gradient is PyTorch's: exp(log_probs) - gamma, gamma[t, n, c] being the posterior
    probability that step t emits class c (the occupancy of alpha * beta). Against log-softmax
    outputs it gives the same gradient to the logits as the bare -gamma (the part exp(log_probs)
    adds is removed by log-softmax's backward), and it is what PyTorch puts in
    ``log_probs.grad``. Per-sample losses (N,); reductions are left to the caller.
    """

    @staticmethod
    def forward(
        ctx, log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False
    ):
        alpha, beta, labels, likelihood = _ctc_lattice(
            log_probs, targets, input_lengths, target_lengths, blank
        )
        losses = -likelihood
        if zero_infinity:
            losses = xp.where(xp.isinf(losses), 0.0, losses)
        ctx.save_for_backward(log_probs, alpha, beta, labels, likelihood, input_lengths)
        ctx.zero_infinity = zero_infinity
        return losses

    @staticmethod
    def backward(ctx, grad):
        log_probs, alpha, beta, labels, likelihood, input_lengths = ctx.saved_tensors
        steps, batch, classes = log_probs.shape
        emitted = xp.take_along_axis(log_probs, xp.broadcast_to(labels, alpha.shape), axis=2)
        # the share of all paths that pass through (t, s): alpha beta / y_t(l'_s) / p(l | x)
        # (none where no path does, and none for a target no path can produce)
        impossible = xp.isneginf(likelihood)
        reached = ~(xp.isneginf(alpha) | xp.isneginf(beta) | impossible[None, :, None])
        with xp.errstate(invalid="ignore", over="ignore"):
            through = xp.exp(alpha + beta - emitted - likelihood[None, :, None])
        through = xp.where(reached, through, 0.0)
        # summed per class: gamma[t, n, c] (a bincount over flat (t, n, class) indices)
        flat = (xp.arange(steps)[:, None, None] * batch + xp.arange(batch)[None, :, None]) * classes
        flat = flat + labels[None]
        gamma = xp.bincount(flat.ravel(), weights=through.ravel(), minlength=log_probs.size)
        result = xp.exp(log_probs) - gamma.reshape(log_probs.shape).astype(log_probs.dtype)
        # an infinite loss: no gradient with zero_infinity, else NaN (as PyTorch)
        result[:, impossible] = 0.0 if ctx.zero_infinity else xp.nan
        result[xp.arange(steps)[:, None] >= input_lengths[None, :]] = 0.0  # steps past the input
        return result * grad[None, :, None], None, None, None
