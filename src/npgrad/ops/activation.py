"""Activation functions and the softmax family, each numerically stable for large |x|.

Where the derivative is a function of the output (sigmoid, tanh, softmax, ELU) the op saves the
output instead of the input, as in the classic derivations.
"""

import math

from npgrad import buffers
from npgrad.autograd import Function, constant_slope
from npgrad.autograd import array_of as _array
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

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = x.sigmoid()
        return grad * y * (1 - y)


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = x.tanh()
        return grad * (1 - y * y)


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val): ReLU6 is Hardtanh(0, 6)

    Not ``clamp``: PyTorch gives hardtanh's gradient 1 strictly inside (min_val, max_val) and 0
    at either bound (clamp's is 1 there), so ReLU6's gradient at x = 0 is 0; and a NaN passes
    its gradient through, as PyTorch's ``(x <= min_val or x >= max_val) ? 0 : grad``.
    """

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return clip_into(x, min_val, max_val, buffers.empty_like(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        at_or_beyond = xp.less_equal(x, low)
        at_or_beyond |= xp.greater_equal(x, high)
        return grad * xp.logical_not(at_or_beyond, out=at_or_beyond)  # dy/dx = 1 inside

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


def _work_array(x):
    """An uninitialised array for x's floating result (the pool's when large; 0-d stays an
    array, so that ``out=`` keeps working): integer input gives float64."""
    dtype = x.dtype if x.dtype.kind == "f" else xp.result_type(x, 1.0)
    return buffers.empty_like(x, dtype)


def _positive_mask(x, dtype):
    """m = [x > 0] as 0.0 / 1.0 in ``dtype``: a factor that selects without ``where``."""
    return xp.greater(x, 0, out=buffers.empty_like(x, dtype))


class ELU(Function):
    """y = scale x for x > 0, scale alpha (e^(input_scale x) - 1) otherwise

    ELU is scale = input_scale = 1; SELU and CELU are the other two settings (as PyTorch's
    kernel). Without ``where`` (see LeakyReLU): y = scale max(x, 0) + c expm1(input_scale
    min(x, 0)), c = scale alpha, exact, as one of the two terms is zero. The gradient is scale
    for x > 0 and input_scale (y + c) otherwise. With the usual positive coefficients,
    -c <= y <= 0 for x <= 0 and y > 0 for x > 0, so the factor is (1 - m) a + m scale with
    m = [y > 0] and a = input_scale (min(y, 0) + c), min keeping an infinite y out of the
    product; plain ELU's is 1 + min(y, 0). A negative coefficient (CELU with alpha < 0) takes
    a saved mask and ``where``. (2048, 512) float32, forward and backward: 10.6 -> 1.9 ms.
    """

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        c = scale * alpha
        y = clip_into(x, None, 0, _work_array(x))  # min(x, 0)
        if input_scale != 1:
            y *= input_scale
        xp.expm1(y, out=y)
        y *= c
        positive = clip_into(x, 0, None, buffers.empty_like(y))  # max(x, 0)
        if scale != 1:
            positive *= scale
        y += positive
        ctx.save_for_backward(y)
        usual = c >= 0 and scale > 0 and input_scale > 0
        ctx.positive = None if usual else x > 0
        ctx.constants = c, scale, input_scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        c, scale, input_scale = ctx.constants
        if ctx.positive is not None:  # y's sign does not tell x's
            return grad * xp.where(ctx.positive, scale, input_scale * (y + c))
        dtype = xp.result_type(grad, y)
        factor = clip_into(y, None, 0, buffers.empty_like(y, dtype))  # y for x <= 0
        factor += c  # d c (e^(input_scale x) - 1) = input_scale c e^(input_scale x)
        if (c, scale, input_scale) != (1, 1, 1):
            if input_scale != 1:
                factor *= input_scale
            positive = _positive_mask(y, dtype)
            factor *= 1 - positive
            factor += positive if scale == 1 else positive * scale  # and scale for x > 0
        return xp.multiply(factor, grad, out=factor)

    @staticmethod
    def backward_graph(ctx, grad, x):
        c, scale, input_scale = ctx.constants
        negative = (x * input_scale).exp() * (c * input_scale)
        return grad * negative.where(_array(x) <= 0, float(scale))


class PReLU(Function):
    """y = x for x > 0, w x otherwise, w (learned) broadcast against x: one slope for all, or
    one per channel

    Without ``where``: y = max(x, 0) + w min(x, 0); dy/dx = (1 - m) w + m with m = [x > 0]
    (exact, and w at x = 0 as in PyTorch), dy/dw = min(x, 0), summed by autograd over the axes
    w is broadcast along. (2048, 512) float32, one slope, forward and backward: 15.0 -> 2.0 ms.
    """

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        y = clip_into(x, 0, None, _work_array(x))  # max(x, 0)
        negative = clip_into(x, None, 0, buffers.empty_like(y))
        negative *= weight
        y += negative
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dtype = xp.result_type(grad, x, weight)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            positive = _positive_mask(x, dtype)
            grad_x = xp.subtract(1, positive, out=buffers.empty_like(positive))
            grad_x *= weight
            grad_x += positive  # dy/dx: w or 1
            grad_x *= grad
        if ctx.needs_input_grad[1]:
            grad_weight = clip_into(x, None, 0, buffers.empty_like(x, dtype))
            grad_weight *= grad  # dy/dw = min(x, 0)
        return grad_x, grad_weight

    @staticmethod
    def backward_graph(ctx, grad, x, weight):
        positive = (_array(x) > 0).astype(grad.dtype)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:  # dy/dx = (1 - m) w + m, as in backward
            grad_x = grad * ((1 - positive) * weight + positive)
        if ctx.needs_input_grad[1]:
            grad_weight = grad * (
                x.clamp(max=0) if ctx.needs_input_grad[0] else xp.minimum(_array(x), 0)
            )
        return grad_x, grad_weight


# Numerical Recipes' erfcc: erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), for z >= 0,
# ~1.2e-7 relative everywhere; P's coefficients from the highest power of t down
_ERFC_COEFFICIENTS = (
    0.17087277,
    -0.82215223,
    1.48851587,
    -1.13520398,
    0.27886807,
    -0.18628806,
    0.09678418,
    0.37409196,
    1.00002368,
    -1.26551223,
)


def _erfc_of_abs(x, scale=1.0):
    """erfc(|x| scale) for a float32 (or smaller) array, into a new array: every step in place,
    Horner's rule for P (each level one multiply and one add over the array)."""
    z = xp.abs(x, out=_work_array(x))
    if scale != 1:
        z *= scale
    t = xp.multiply(z, 0.5, out=buffers.empty_like(z))
    t += 1
    xp.reciprocal(t, out=t)
    erfc = xp.multiply(t, _ERFC_COEFFICIENTS[0], out=buffers.empty_like(z))
    for coefficient in _ERFC_COEFFICIENTS[1:-1]:
        erfc += coefficient
        erfc *= t
    erfc += _ERFC_COEFFICIENTS[-1]
    erfc -= xp.square(z, out=z)
    xp.exp(erfc, out=erfc)
    erfc *= t
    return erfc


def _sign_factor(x, dtype):
    """s = 2 [x >= 0] - 1 as a float array: +1 or -1 by x's sign (NumPy's copysign and sign
    are scalar loops, ~5x a multiply's time)."""
    sign = xp.greater_equal(x, 0, out=buffers.empty_like(x, dtype))
    sign *= 2
    sign -= 1
    return sign


def erf(x):
    """Error function, element-wise (no SciPy needed), as precise as the dtype.

    float32 and smaller: erf(x) = sign(x) (1 - erfc(|x|)) with the Chebyshev-fitted
    complementary error function of Numerical Recipes (erfcc), ~1e-7, vectorised and without
    ``where`` ((2048, 512) float32: 9.3 -> 2.6 ms). float64: the C library's erf element by
    element (``math.erf``), exact to the last bit or so but ~100 ns an element: float64 is for
    checking (gradcheck, parity with PyTorch), where arrays are small.
    """
    x = xp.asarray(x)
    if x.dtype.itemsize > 4:
        return xp.asarray(xp.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    magnitude = _erfc_of_abs(x)
    xp.subtract(1, magnitude, out=magnitude)
    magnitude *= _sign_factor(x, magnitude.dtype)
    return magnitude


def erfc(x):
    """1 - erf(x), element-wise, without the cancellation of computing it so: accurate far into
    the right tail (erfc(9) ~ 4e-37), where 1 - erf(x) is 0. float32 and smaller: erfcc of |x|
    (~1e-7 relative), 2 - erfcc(|x|) for x < 0; float64: the C library's erfc."""
    x = xp.asarray(x)
    if x.dtype.itemsize > 4:
        return xp.asarray(xp.frompyfunc(math.erfc, 1, 1)(x), dtype=x.dtype)
    magnitude = _erfc_of_abs(x)
    negative = x < 0
    magnitude[negative] = 2 - magnitude[negative]
    return magnitude


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2: 1 - h for x >= 0 and h for x < 0, h = erfc(|x| / sqrt 2)
    / 2, so no cancellation for negative x. float64 goes through ``erf``."""
    if x.dtype.itemsize > 4:
        cdf = erf(x * _INV_SQRT_2)
        cdf += 1
        cdf *= 0.5
        return cdf
    half = _erfc_of_abs(x, _INV_SQRT_2)
    half *= 0.5
    nonnegative = xp.greater_equal(x, 0, out=buffers.empty_like(x, half.dtype))  # m
    factor = xp.multiply(nonnegative, -2, out=buffers.empty_like(half))
    factor += 1
    half *= factor
    half += nonnegative  # h (1 - 2 m) + m: h for x < 0, 1 - h for x >= 0
    return half


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
        ctx.cdf = _normal_cdf(x).astype(x.dtype, copy=False)
        return buffers.arithmetic(xp.multiply, x, ctx.cdf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ctx.tanh_inner
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            # dy/dx = (1 + t)/2 + x/2 (1 - t^2) d_inner
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        slope = xp.square(x, out=_work_array(x))
        slope *= -0.5
        xp.exp(slope, out=slope)
        slope *= _INV_SQRT_2PI
        slope *= x  # x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi)
        slope += ctx.cdf
        return buffers.arithmetic(xp.multiply, grad, slope)  # dy/dx = Phi(x) + x phi(x)

    @staticmethod
    def backward_graph(ctx, grad, x):
        if ctx.approximate == "tanh":
            t = (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh()
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
        return grad * (cdf + x * (x * x * -0.5).exp() * _INV_SQRT_2PI)


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        s = x.sigmoid()
        return grad * s * (1 + x * (1 - s))


def _log1p_exp_minus_abs(z):
    """log(1 + e^-|z|), the part of softplus(z) = max(z, 0) + log(1 + e^-|z|) that never
    overflows, into a new array. NumPy's ``logaddexp`` and ``log1p`` are scalar loops (~19 and
    ~2.6 ms for 1M floats, a ``log`` 0.4), so log1p(u), u = e^-|z| in (0, 1], is
    log(w) + (u - (w - 1)) / w with w = 1 + u: the correction gives back what the rounding of
    1 + u lost (exactly u when u is so small that w = 1)."""
    u = xp.abs(z, out=_work_array(z))
    xp.negative(u, out=u)
    xp.exp(u, out=u)
    w = xp.add(u, 1, out=buffers.empty_like(u))
    kept = xp.subtract(w, 1, out=buffers.empty_like(u))  # exact, w being in [1, 2]
    lost = xp.subtract(u, kept, out=u)  # exact too: what 1 + u rounded away
    lost /= w
    y = xp.log(w, out=kept)
    y += lost
    return y


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (as PyTorch)

    softplus(z) = max(z, 0) + log(1 + e^-|z|), without ``logaddexp`` (see
    ``_log1p_exp_minus_abs``). The elements over the threshold are copied in with
    ``copyto(where=)``, whose cost follows the mask's true count (``where`` costs 4 ms on any 1M
    mask). (2048, 512) float32, forward and backward: 19.0 -> 3.2 ms.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        scaled = x if beta == 1 else buffers.arithmetic(xp.multiply, x, beta)
        y = _log1p_exp_minus_abs(scaled)
        y += clip_into(scaled, 0, None, buffers.empty_like(y))  # max(z, 0)
        if beta != 1:
            y /= beta
        over = scaled > threshold
        if over.any():
            xp.copyto(y, x, where=over)
        ctx.save_for_backward(scaled)
        ctx.threshold, ctx.beta = threshold, beta
        return y

    @staticmethod
    def backward(ctx, grad):
        (scaled,) = ctx.saved_tensors
        slope = xp.multiply(scaled, 0.5, out=_work_array(scaled))
        xp.tanh(slope, out=slope)
        slope *= 0.5
        slope += 0.5  # dy/dx = sigmoid(beta x) = (1 + tanh(beta x / 2)) / 2
        over = scaled > ctx.threshold
        if over.any():
            xp.copyto(slope, 1, where=over)  # y = x there
        return buffers.arithmetic(xp.multiply, grad, slope)

    @staticmethod
    def backward_graph(ctx, grad, x):
        (scaled,) = ctx.saved_tensors
        slope = (x * ctx.beta).sigmoid()
        return grad * slope.where(scaled <= ctx.threshold, 1.0)


class LogSigmoid(Function):
    """y = log sigmoid(x) = min(x, 0) - log(1 + e^-|x|), never overflowing"""

    @staticmethod
    def forward(ctx, x):
        y = _log1p_exp_minus_abs(x)
        xp.subtract(clip_into(x, None, 0, buffers.empty_like(y)), y, out=y)
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = xp.multiply(x, 0.5, out=_work_array(x))
        xp.tanh(slope, out=slope)
        slope *= -0.5
        slope += 0.5  # dy/dx = 1 - sigmoid(x) = (1 - tanh(x / 2)) / 2
        return buffers.arithmetic(xp.multiply, grad, slope)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * (-x).sigmoid()


class Hardswish(Function):
    """y = x min(max(x + 3, 0), 6) / 6 (PyTorch's formula and rounding)

    One op instead of four (add, divide, clamp, multiply) and their backward passes. The slope
    is 0 up to -3, x / 3 + 1/2 between and 1 from 3 on, as PyTorch 2.x's:
    (x / 3 + 1/2) [-3 < x < 3] + [x >= 3].
    """

    @staticmethod
    def forward(ctx, x):
        y = xp.add(x, 3, out=_work_array(x))
        xp.clip(y, 0, 6, out=y)
        y *= x
        y /= 6
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        middle = x > -3
        middle &= x < 3
        slope = xp.divide(x, 3, out=buffers.empty_like(x, xp.result_type(grad, x)))
        slope += 0.5
        slope *= middle
        slope += x >= 3
        slope *= grad
        return slope

    @staticmethod
    def backward_graph(ctx, grad, x):
        middle = (_array(x) > -3) & (_array(x) < 3)
        return grad * (x / 3 + 0.5) * middle + grad * (_array(x) >= 3)


class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6 (PyTorch's formula and rounding); dy/dx = 1/6 for
    -3 < x < 3, else 0 (PyTorch's open interval). One op instead of three."""

    @staticmethod
    def forward(ctx, x):
        y = xp.add(x, 3, out=_work_array(x))
        xp.clip(y, 0, 6, out=y)
        y /= 6
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = x > -3
        inside &= x < 3
        slope = xp.multiply(grad, inside, out=buffers.empty_like(x, xp.result_type(grad, x)))
        slope /= 6
        return slope

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = x.softmax(ctx.axis)
        return y * (grad - (grad * y).sum(dim=ctx.axis, keepdim=True))


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

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad - x.softmax(ctx.axis) * grad.sum(dim=ctx.axis, keepdim=True)
