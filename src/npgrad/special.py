"""``torch.special``: special functions under PyTorch's names, differentiable.

Most are npgrad's functions under another name (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``); the others are written with them: the normal distribution's
``ndtr``, ``ndtri`` and ``log_ndtr``, ``entr``, ``xlog1py`` and ``multigammaln``.

>>> import npgrad
>>> npgrad.special.expit(npgrad.tensor([0.0])).tolist()
[0.5]
"""

import math

import numpy

from npgrad import functions as _f
from npgrad.autograd import Function
from npgrad.functions import _as_tensor
from npgrad.ops import activation
from npgrad.ops.special import erfinv as _erfinv_array
from npgrad.tensor import where

erf = _f.erf
erfc = _f.erfc
erfinv = _f.erfinv
expit = _f.sigmoid
logit = _f.logit
exp2 = _f.exp2
expm1 = _f.expm1
log1p = _f.log1p
gammaln = _f.lgamma
digamma = psi = _f.digamma
polygamma = _f.polygamma
xlogy = _f.xlogy
sinc = _f.sinc
softmax = _f.softmax
log_softmax = _f.log_softmax
logsumexp = _f.logsumexp


def round(input, decimals=0):  # noqa: A001, A002 - PyTorch's names
    """Round half to even, to ``decimals`` places (``torch.special.round``)."""
    return _as_tensor(input).round(decimals=decimals)


def xlog1py(input, other):  # noqa: A002
    """x log(1 + y), and 0 where x = 0 (unless y is NaN), as ``torch.special.xlog1py``."""
    x, y = _as_tensor(input), _as_tensor(other)
    hole = (x.detach() == 0) & (y.detach() <= -1)  # no log(0) behind the hole, no NaN gradient
    return (x * y.masked_fill(hole, 0.0).log1p()).masked_fill(hole, 0.0)


def entr(input):  # noqa: A002
    """-x ln x for x > 0, 0 at x = 0, -inf for x < 0 (elementwise entropy)."""
    x = _as_tensor(input)
    positive = x.detach() > 0
    safe = x.masked_fill(~positive, 1.0)
    out = (-safe * safe.log()).masked_fill(~positive, 0.0)
    return out.masked_fill(x.detach() < 0, -math.inf)


def ndtr(input):  # noqa: A002
    """The standard normal CDF: (1 + erf(x / sqrt 2)) / 2, through erfc to keep the left tail."""
    return 0.5 * erfc(_as_tensor(input) * -(1 / math.sqrt(2)))


class _Ndtri(Function):
    """x = Phi^-1(p), the standard normal quantile; dx/dp = 1 / phi(x) = sqrt(2 pi) e^(x^2 / 2)

    sqrt 2 erfinv(2p - 1), then (for p < 1e-3, where 2p - 1 has lost p's digits) Newton steps on
    log Phi(x) = log p, which keep full relative precision down to p ~ 1e-300.
    """

    @staticmethod
    def forward(ctx, p):
        x = math.sqrt(2) * _erfinv_array(2 * numpy.asarray(p, numpy.float64) - 1)
        small = (p > 0) & (p < 1e-3)
        if small.any():
            target, guess = numpy.log(p[small]), x[small]
            guess = numpy.where(numpy.isfinite(guess), guess, -numpy.sqrt(-2 * target))
            for _ in range(8):  # d log Phi / dx = phi / Phi
                cdf = 0.5 * activation.erfc(-guess / math.sqrt(2))
                pdf = numpy.exp(-0.5 * guess * guess) / math.sqrt(2 * math.pi)
                guess = guess - (numpy.log(cdf) - target) * cdf / pdf
            x[small] = guess
        x = x.astype(numpy.result_type(p, numpy.float32), copy=False)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * math.sqrt(2 * math.pi) * numpy.exp(0.5 * x * x)


def ndtri(input):  # noqa: A002
    """The inverse of ``ndtr`` (the standard normal quantile), precise in the left tail."""
    return _Ndtri.apply(_as_tensor(input))


def log_ndtr(input):  # noqa: A002
    """log ndtr(x), accurate in both tails: log1p(-ndtr(-x)) for x > 0; for x < -20 (float32:
    -10), before ndtr underflows, the asymptotic series -x^2/2 - log(-x sqrt(2 pi))
    + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8 - 945/x^10) (its next term is under 3e-12)."""
    x = _as_tensor(input)
    detached = x.detach()
    tail, right = detached < (-20 if x.dtype.itemsize > 4 else -10), detached > 0
    middle = x.masked_fill(tail | right, 0.0)
    far = x.masked_fill(~tail, -30.0)
    positive = x.masked_fill(~right, 1.0)
    u = 1 / (far * far)
    series = 1 + u * (-1 + u * (3 + u * (-15 + u * (105 - 945 * u))))
    left = -0.5 * far * far - (-far * math.sqrt(2 * math.pi)).log() + series.log()
    upper = (-ndtr(-positive)).log1p()
    return where(tail, left, where(right, upper, ndtr(middle).log()))


def multigammaln(input, p):  # noqa: A002
    """The log of the multivariate gamma function of dimension ``p``:
    p(p - 1)/4 log(pi) + sum_{j < p} lgamma(x - j/2)."""
    x = _as_tensor(input)
    if p < 1:
        raise ValueError(f"multigammaln: p must be at least 1, got {p}")
    total = p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        total = total + gammaln(x - j / 2)
    return total
