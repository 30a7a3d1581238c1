"""Activation functions and the softmax family, each numerically stable for large |x|.

Where the derivative is a function of the output (sigmoid, tanh, softmax, ELU) the op saves the
output instead of the input, as in the classic derivations.
"""

import math

from npgrad import buffers
from npgrad.autograd import Function
from npgrad.backend import xp


def clip_into(x, low, high, out=None):
    """``min(max(x, low), high)``, either bound None, into ``out`` (which may be ``x`` itself;
    without it, a new array of NumPy's result type).

    NumPy (2.4) runs ``clip`` with two number bounds on its SIMD loop, but ``maximum(x, 0)``,
    ``minimum`` and a ``clip`` with a bound missing as a scalar loop, 3x slower (2.4M floats:
    235 against 770 us; 128x512: 7 against 22 us). So a floating array's missing bound becomes
    an infinity (the same values; ReLU keeps -0.0 as PyTorch's does). Under 8k values one bound
    goes to ``maximum`` / ``minimum``, whose call costs ~1 us less than ``clip``'s.
    """
    if (low is None) == (high is None) or (x.dtype.kind == "f" and x.size >= 8192):
        if x.dtype.kind == "f":
            low = -math.inf if low is None else low
            high = math.inf if high is None else high
        return xp.clip(x, low, high, out=out)
    return xp.maximum(x, low, out=out) if high is None else xp.minimum(x, high, out=out)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x)"""

    @staticmethod
    def forward(ctx, x):
        # NOTE: written through tanh so that no exp overflows for large |x|
        y = 0.5 * xp.tanh(0.5 * x) + 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)  # d sigmoid = sigmoid (1 - sigmoid)


class Tanh(Function):
    """y = tanh x"""

    @staticmethod
    def forward(ctx, x):
        y = xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)  # d tanh = 1 - tanh^2


class ReLU(Function):
    """y = max(x, 0)"""

    @staticmethod
    def forward(ctx, x):
        y = clip_into(x, 0, None, buffers.empty_like(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        mask = xp.greater(y, 0, out=buffers.empty_like(y, grad.dtype))
        return xp.multiply(mask, grad, out=mask)  # d relu = 1 where x > 0, else 0


class LeakyReLU(Function):
    """y = x for x > 0, negative_slope * x otherwise

    Without ``where``: NumPy's ``where`` branches on every element, and on a mask as random as
    an activation's signs it costs 9.6 ms for 2.4M floats against 0.2-0.4 ms for a multiply or
    a maximum. y = max(x, s x) for s <= 1 (min for s > 1), and the gradient's factor 1 or s is
    (1 - m) s + m with m = [x > 0], exact in floating point: forward 13.4 -> 0.4-0.5 ms,
    backward 13.5 -> 1.6 ms.
    """

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        y = buffers.arithmetic(xp.multiply, x, negative_slope)
        extreme = xp.maximum if negative_slope <= 1 else xp.minimum  # picks x where x > 0
        return extreme(x, y, out=y if x.ndim else None)  # (a 0-d product is a NumPy scalar)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        factor = buffers.empty_like(x, xp.result_type(grad, x))
        xp.greater(x, 0, out=factor)  # m = 1 where x > 0, else 0
        negative = buffers.arithmetic(xp.subtract, 1, factor)
        negative *= ctx.slope
        factor += negative  # dy/dx = (1 - m) s + m: 1 or negative_slope
        return xp.multiply(grad, factor, out=factor)


class ELU(Function):
    """y = x for x > 0, alpha (e^x - 1) otherwise"""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        # NOTE: expm1 of min(x, 0) never overflows and is exact near 0
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(y)
        ctx.positive, ctx.alpha = x > 0, alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return xp.where(ctx.positive, grad, grad * (y + ctx.alpha))  # d alpha(e^x-1) = y + alpha


def erf(x):
    """Error function, element-wise (no SciPy needed), as precise as the dtype.

    float32 and smaller: the Chebyshev-fitted complementary error function of Numerical Recipes
    (erfcc), about 1e-7 relative, vectorised. float64: the C library's erf element by element
    (``math.erf``), exact to the last bit or so but ~100 ns an element: float64 is for checking
    (gradcheck, parity with PyTorch), where arrays are small.
    """
    x = xp.asarray(x)
    if x.dtype.itemsize > 4:
        return xp.asarray(xp.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    z = xp.abs(x)
    t = 1 / (1 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t
                            * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    erfc = t * xp.exp(poly)
    return xp.where(x >= 0, 1 - erfc, erfc - 1)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(Function):
    """y = x Phi(x) (Phi the standard normal CDF); approximate="tanh" uses the tanh formula"""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            ctx.tanh_inner = xp.tanh(inner)
            return 0.5 * x * (1 + ctx.tanh_inner)
        ctx.cdf = 0.5 * (1 + erf(x * _INV_SQRT_2)).astype(x.dtype)
        return x * ctx.cdf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ctx.tanh_inner
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            # dy/dx = (1 + t)/2 + x/2 (1 - t^2) d_inner
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return grad * (ctx.cdf + x * pdf)  # dy/dx = Phi(x) + x phi(x)


class SiLU(Function):
    """y = x sigmoid(x) (also called swish)"""

    @staticmethod
    def forward(ctx, x):
        s = 0.5 * xp.tanh(0.5 * x) + 0.5
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * s * (1 + x * (1 - s))  # dy/dx = s + x s (1 - s)


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (as PyTorch)"""

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        scaled = x * beta
        ctx.save_for_backward(scaled)
        ctx.threshold = threshold
        # NOTE: logaddexp(0, z) = log(1 + e^z) without overflow
        return xp.where(scaled > threshold, x, xp.logaddexp(0, scaled) / beta)

    @staticmethod
    def backward(ctx, grad):
        (scaled,) = ctx.saved_tensors
        slope = 0.5 * xp.tanh(0.5 * scaled) + 0.5  # dy/dx = sigmoid(beta x)
        return xp.where(scaled > ctx.threshold, grad, grad * slope)


class Softmax(Function):
    """y_i = e^(x_i) / sum_j e^(x_j) along axis"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = xp.exp(x - x.max(axis=axis, keepdims=True, initial=-xp.inf))  # NOTE: no overflow
        y = shifted / shifted.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # dy_i/dx_j = y_i ([i = j] - y_j)  =>  grad_x = y (grad - sum(grad y))
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^(x_j) along axis"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = x - x.max(axis=axis, keepdims=True, initial=-xp.inf)  # NOTE: no overflow
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # dy_i/dx_j = [i = j] - softmax_j  =>  grad_x = grad - softmax * sum(grad)
        return grad - xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)
