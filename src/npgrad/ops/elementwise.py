"""Element-wise ops: arithmetic, exp/log family, clamping, selection, casting.

Binary ops broadcast like NumPy; their ``backward`` returns gradients of the broadcast shape and the
engine sums them back to each input's shape. A Python scalar operand arrives as a plain number and
is treated as a constant (NumPy's weak-scalar rule keeps float32 float32).
"""

import math

from npgrad import buffers
from npgrad.autograd import Function, constant_slope
from npgrad.autograd import array_of as _array
from npgrad.backend import xp
from npgrad.ops import activation


class Add(Function):
    """z = x + y"""

    @staticmethod
    def forward(ctx, x, y):
        return buffers.arithmetic(xp.add, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad  # dz/dx = 1, dz/dy = 1

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return grad, grad


class Sub(Function):
    """z = x - y"""

    @staticmethod
    def forward(ctx, x, y):
        return buffers.arithmetic(xp.subtract, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None  # dz/dx = 1, dz/dy = -1

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return grad, -grad


class Mul(Function):
    """z = x * y"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return buffers.arithmetic(xp.multiply, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        product = buffers.arithmetic
        grad_x = product(xp.multiply, grad, y) if ctx.needs_input_grad[0] else None  # dz/dx = y
        grad_y = product(xp.multiply, grad, x) if ctx.needs_input_grad[1] else None  # dz/dy = x
        return grad_x, grad_y

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return grad * y, grad * x


class Div(Function):
    """z = x / y"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad / y if ctx.needs_input_grad[0] else None  # dz/dx = 1/y
        grad_y = -grad * x / (y * y) if ctx.needs_input_grad[1] else None  # dz/dy = -x/y^2
        return grad_x, grad_y

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return grad / y, -grad * x / (y * y)


class Neg(Function):
    """y = -x"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad  # dy/dx = -1

    @staticmethod
    def backward_graph(ctx, grad, x):
        return -grad


class Pow(Function):
    """z = x ** y (y a tensor or a constant)"""

    @staticmethod
    def forward(ctx, x, y):
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * y * x ** (y - 1)  # dz/dx = y x^(y-1)
            if xp.any(xp.equal(y, 0)):  # x^0 is constant: 0, also at x = 0 (not 0 * inf)
                grad_x = xp.where(xp.equal(y, 0), 0, grad_x)
        if ctx.needs_input_grad[1]:
            # dz/dy = x^y ln x; PyTorch's convention: 0 where x == 0 (and y >= 0)
            log_x = xp.log(xp.where(x > 0, x, 1))
            grad_y = grad * xp.where(x > 0, z * log_x, 0)
        return grad_x, grad_y

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * y * x ** (y - 1)
            zero_power = xp.equal(_array(y), 0)
            if xp.any(zero_power):
                grad_x = Where.apply(zero_power, 0.0, grad_x)
        if ctx.needs_input_grad[1]:
            positive = _array(x) > 0
            log_x = Where.apply(positive, x, 1.0).log()
            grad_y = grad * Where.apply(positive, x**y * log_x, 0.0)
        return grad_x, grad_y


class Exp(Function):
    """y = e^x"""

    @staticmethod
    def forward(ctx, x):
        y = xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y  # d e^x = e^x

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * x.exp()


class Log(Function):
    """y = ln x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x  # d ln x = 1/x

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)  # d ln(1+x) = 1/(1+x)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad / (1 + x)


class Sqrt(Function):
    """y = sqrt(x)"""

    @staticmethod
    def forward(ctx, x):
        y = xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)  # d sqrt(x) = 1 / (2 sqrt(x))

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad / (2 * x.sqrt())


class Rsqrt(Function):
    """y = 1 / sqrt(x)"""

    @staticmethod
    def forward(ctx, x):
        y = 1 / xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * -0.5 * y * y * y  # d x^(-1/2) = -1/2 x^(-3/2) = -y^3 / 2

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = x.rsqrt()
        return grad * -0.5 * y * y * y


class Abs(Function):
    """y = |x|"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * xp.sign(x)  # d|x| = sign(x), 0 at 0 as in PyTorch

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


class Sign(Function):
    """y = sign(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return xp.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return xp.zeros_like(grad)  # sign is piecewise constant: d sign = 0

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * 0


class Sin(Function):
    """y = sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * xp.cos(x)  # d sin = cos

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * x.cos()


class Cos(Function):
    """y = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * xp.sin(x)  # d cos = -sin

    @staticmethod
    def backward_graph(ctx, grad, x):
        return -grad * x.sin()


class Round(Function):
    """y = floor / ceil / round / trunc of x (``mode``); piecewise constant: zero gradient"""

    @staticmethod
    def forward(ctx, x, mode="round", decimals=0):
        if mode == "round":
            return xp.round(x, decimals)  # halves to even, as PyTorch
        return {"floor": xp.floor, "ceil": xp.ceil, "trunc": xp.trunc}[mode](x)

    @staticmethod
    def backward(ctx, grad):
        return xp.zeros_like(grad)  # d floor(x) = 0 almost everywhere

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * 0


class Tan(Function):
    """y = tan x"""

    @staticmethod
    def forward(ctx, x):
        y = xp.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y)  # d tan = 1 + tan^2

    @staticmethod
    def backward_graph(ctx, grad, x):
        y = x.tan()
        return grad * (1 + y * y)


class Sinh(Function):
    """y = sinh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * xp.cosh(x)  # d sinh = cosh

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * x.cosh()


class Cosh(Function):
    """y = cosh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * xp.sinh(x)  # d cosh = sinh

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * x.sinh()


class Asin(Function):
    """y = arcsin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / xp.sqrt(1 - x * x)  # d arcsin = 1 / sqrt(1 - x^2)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad / (1 - x * x).sqrt()


class Acos(Function):
    """y = arccos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / xp.sqrt(1 - x * x)  # d arccos = -1 / sqrt(1 - x^2)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return -grad / (1 - x * x).sqrt()


class Atan(Function):
    """y = arctan x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)  # d arctan = 1 / (1 + x^2)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad / (1 + x * x)


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y)"""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return xp.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        scale = grad / (x * x + y * y)
        return scale * x, -scale * y  # dz/dy = x / r^2, dz/dx = -y / r^2

    @staticmethod
    def backward_graph(ctx, grad, y, x):
        scale = grad / (x * x + y * y)
        return scale * x, -scale * y


class Expm1(Function):
    """y = e^x - 1, accurate for small x"""

    @staticmethod
    def forward(ctx, x):
        y = xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)  # d (e^x - 1) = e^x

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * x.exp()


class Erf(Function):
    """y = erf x = 2 / sqrt(pi) * integral_0^x e^(-t^2) dt"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return activation.erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * xp.exp(-x * x)  # d erf = 2/sqrt(pi) e^(-x^2)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * (2 / math.sqrt(math.pi)) * (-x * x).exp()


class Erfc(Function):
    """y = erfc x = 1 - erf x, computed without the cancellation (accurate tails)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return activation.erfc(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-2 / math.sqrt(math.pi)) * xp.exp(-x * x)  # d erfc = -2/sqrt(pi) e^(-x^2)

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad * (-2 / math.sqrt(math.pi)) * (-x * x).exp()


class Remainder(Function):
    """z = x - q y with q = floor(x / y) (``remainder``, Python's %) or trunc(x / y) (``fmod``)"""

    @staticmethod
    def forward(ctx, x, y, truncate=False):
        ctx.save_for_backward(x, y)
        ctx.truncate = truncate
        return xp.fmod(x, y) if truncate else xp.remainder(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_y = None
        if ctx.needs_input_grad[1]:
            quotient = xp.trunc(x / y) if ctx.truncate else xp.floor(x / y)
            grad_y = -grad * quotient  # dz/dy = -q (q is piecewise constant)
        return grad, grad_y  # dz/dx = 1

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return constant_slope(ctx, grad)


class MaskedFill(Function):
    """y = value where mask, else x (the order of ``Tensor.masked_fill``'s arguments)"""

    @staticmethod
    def forward(ctx, x, mask=None, value=0.0):
        ctx.mask = mask
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        return xp.where(ctx.mask, xp.zeros((), dtype=grad.dtype), grad)  # dy/dx = [not mask]

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


class Clamp(Function):
    """y = min(max(x, low), high); either bound may be None"""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return activation.clip_into(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = xp.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return grad * inside  # dy/dx = 1 inside [low, high], else 0

    @staticmethod
    def backward_graph(ctx, grad, x):
        return constant_slope(ctx, grad)


def _winner_share(wins, ties, dtype):
    """1 where x wins, 1/2 on ties, 0 where it loses (in the gradient's dtype: no upcast)."""
    return wins.astype(dtype) + ties.astype(dtype) * 0.5


class Maximum(Function):
    """z = max(x, y) element-wise; a tie splits the gradient in half, as in PyTorch"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share_x = _winner_share(x > y, x == y, grad.dtype)  # dz/dx = 1 where x wins, 1/2 on ties
        return grad * share_x, grad * (1 - share_x)

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return constant_slope(ctx, grad)


class Minimum(Function):
    """z = min(x, y) element-wise; a tie splits the gradient in half, as in PyTorch"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return xp.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share_x = _winner_share(x < y, x == y, grad.dtype)  # dz/dx = 1 where x wins, 1/2 on ties
        return grad * share_x, grad * (1 - share_x)

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        return constant_slope(ctx, grad)


class Where(Function):
    """z = x where condition else y"""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.condition = condition
        return xp.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        zero = xp.zeros((), dtype=grad.dtype)
        grad_x = xp.where(ctx.condition, grad, zero) if ctx.needs_input_grad[1] else None
        grad_y = xp.where(ctx.condition, zero, grad) if ctx.needs_input_grad[2] else None
        return None, grad_x, grad_y  # dz/dx = [condition], dz/dy = [not condition]

    @staticmethod
    def backward_graph(ctx, grad, condition, x, y):
        return constant_slope(ctx, grad)


class Cast(Function):
    """y = x converted to another dtype; the gradient is converted back"""

    @staticmethod
    def forward(ctx, x, dtype=None):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)  # dy/dx = 1

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad.to(ctx.input_dtype)


class Clone(Function):
    """y = a copy of x that owns its memory"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad  # dy/dx = 1

    @staticmethod
    def backward_graph(ctx, grad, x):
        return grad
