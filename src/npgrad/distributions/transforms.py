"""Bijections for ``TransformedDistribution``, as ``torch.distributions.transforms``.

A transform maps x to y = t(x), inverts it (``t.inv(y)``) and gives log |dy/dx|
(``log_abs_det_jacobian(x, y)``), summed over its ``event_dim`` rightmost dims, so that
log p_Y(y) = log p_X(t^-1(y)) - log |det J_t(t^-1(y))|.
"""

import math
import numbers

from npgrad.nn import functional as F
from npgrad.tensor import full_like


def _sum_rightmost(value, dims):
    return value.sum(tuple(range(-dims, 0))) if dims else value


class Transform:
    """y = t(x); ``inv`` is the inverse transform. With ``cache_size=1`` the last (x, y) pair is
    kept, so that inverting a y this transform produced returns its x exactly (what tanh needs
    near +-1, where atanh loses the digits)."""

    event_dim = 0
    sign = 1

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self.cache_size = cache_size
        self._cached = None

    def __call__(self, x):
        y = self._call(x)
        if self.cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y):
        if self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        return self._inverse(y)

    @property
    def inv(self):
        return _InverseTransform(self)

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    def __init__(self, transform):
        super().__init__()
        self._inverted = transform
        self.event_dim = transform.event_dim

    def _call(self, x):
        return self._inverted._inv_call(x)

    def _inverse(self, y):
        return self._inverted(y)

    @property
    def inv(self):
        return self._inverted

    def log_abs_det_jacobian(self, x, y):
        return -self._inverted.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    """y = e^x; log |dy/dx| = x"""

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """y = loc + scale x; log |dy/dx| = log |scale| (summed over ``event_dim`` dims)"""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, numbers.Number):
            value = full_like(x, math.log(abs(scale)))
        else:
            value = scale.abs().log().expand(*x.shape)
        return _sum_rightmost(value, self.event_dim)


class SigmoidTransform(Transform):
    """y = 1 / (1 + e^-x); log |dy/dx| = -softplus(-x) - softplus(x)"""

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        eps = 1e-7 if y.dtype.itemsize <= 4 else 1e-15
        y = y.clamp(eps, 1 - eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    """y = tanh x; log |dy/dx| = 2 (log 2 - x - softplus(-2x)), stable for large |x|"""

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * ((1 + y).log() - (1 - y).log())  # atanh

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + e^x); log |dy/dx| = -softplus(-x)"""

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        return y + (-(-y).expm1()).log()

    def log_abs_det_jacobian(self, x, y):
        return -F.softplus(-x)


class PowerTransform(Transform):
    """y = x^exponent (x > 0); log |dy/dx| = log |exponent y / x|"""

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent = exponent

    def _call(self, x):
        return x**self.exponent

    def _inverse(self, y):
        return y ** (1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()


class ComposeTransform(Transform):
    """The transforms applied in order: y = t_n(... t_1(x))."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

    def _call(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y):
        for part in reversed(self.parts):
            y = part._inv_call(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        total = 0
        for part in self.parts:
            nxt = part(x)
            term = part.log_abs_det_jacobian(x, nxt)
            total = total + _sum_rightmost(term, self.event_dim - part.event_dim)
            x = nxt
        return total


identity_transform = ComposeTransform([])
