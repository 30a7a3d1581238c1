"""Normalisation: one fused op for layer norm and batch norm.

Both compute ``y = (x - mean) / sqrt(var + eps) * weight + bias``; they differ only in which axes
the statistics are taken over (the last dims for layer norm, all but the channel for batch norm)
and in where the affine parameters broadcast.
"""

from npgrad import buffers
from npgrad.autograd import Function, recomputed_backward
from npgrad.backend import xp
from npgrad.ops import reduce


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over ``axes``

    ``param_shape`` is the shape the (flat) weight and bias take to broadcast against x.
    ``mean`` and ``var`` (keepdims shape) may be passed in when the caller has them already: with
    ``fixed=False`` they are x's own statistics and the gradient flows through them (batch norm in
    training); with ``fixed=True`` they are constants (running statistics in eval mode), and the op
    is an affine map of x.
    """

    @staticmethod
    def forward(
        ctx, x, weight, bias, axes=(), eps=1e-5, param_shape=None, mean=None, var=None, fixed=False
    ):
        if mean is None:
            mean = x.mean(axis=axes, keepdims=True)
        x_hat = buffers.arithmetic(xp.subtract, x, mean)  # centred, then scaled in place
        if var is None:
            var = buffers.arithmetic(xp.multiply, x_hat, x_hat).mean(axis=axes, keepdims=True)
        rstd = 1 / xp.sqrt(var + eps)
        x_hat *= rstd
        ctx.axes, ctx.param_shape, ctx.fixed, ctx.eps = axes, param_shape, fixed, eps
        ctx.mean = mean if fixed else None
        ctx.bias_shape = None if bias is None else bias.shape
        y = x_hat
        if weight is not None:
            y = buffers.arithmetic(xp.multiply, y, weight.reshape(param_shape))
        if bias is not None:
            if y is x_hat:
                y = buffers.arithmetic(xp.add, y, bias.reshape(param_shape))
            else:
                y += bias.reshape(param_shape)  # y is our own array
        ctx.save_for_backward(x_hat, rstd, weight)
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, rstd, weight = ctx.saved_tensors
        param_axes = tuple(i for i, size in enumerate(ctx.param_shape) if size == 1)
        if not ctx.fixed and {axis % grad.ndim for axis in ctx.axes} == set(param_axes):
            return Normalize._shared_backward(ctx, grad, x_hat, rstd, weight, param_axes)
        grad_weight = grad_bias = None
        if weight is not None and ctx.needs_input_grad[1]:
            products = buffers.arithmetic(xp.multiply, grad, x_hat)
            grad_weight = products.sum(axis=param_axes).reshape(weight.shape)  # dy/dw = x_hat
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(axis=param_axes).reshape(ctx.bias_shape)  # dy/db = 1
        grad_x_hat = grad
        if weight is not None:
            grad_x_hat = buffers.arithmetic(xp.multiply, grad, weight.reshape(ctx.param_shape))
        if ctx.fixed:  # fixed statistics: y is affine in x
            return buffers.arithmetic(xp.multiply, grad_x_hat, rstd), grad_weight, grad_bias
        # x_hat depends on x directly and through mean and var:
        # dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
        mean_grad = grad_x_hat.mean(axis=ctx.axes, keepdims=True)
        products = buffers.arithmetic(xp.multiply, grad_x_hat, x_hat)
        mean_grad_x_hat = products.mean(axis=ctx.axes, keepdims=True)
        grad_x = buffers.arithmetic(xp.multiply, x_hat, mean_grad_x_hat)
        grad_x += mean_grad
        xp.subtract(grad_x_hat, grad_x, out=grad_x)
        grad_x *= rstd
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def _shared_backward(ctx, grad, x_hat, rstd, weight, axes):
        """Backward when the statistics run over the axes the parameters are constant on (batch
        norm): the two sums over them, of grad and of grad * x_hat, are the bias and weight
        gradients and also all the input gradient needs, in five passes over the array instead
        of nine:
        dx = rstd w (g - mean(g) - x_hat mean(g x_hat)) = a g - (x_hat a mean(g x_hat) + a mean(g))
        with a = rstd w per statistic (dy/dx_hat = w is constant over the statistic's elements).
        """
        count = grad.size // max(rstd.size, 1)  # elements per statistic
        sum_grad = grad.sum(axis=axes, keepdims=True)  # dy/db = 1
        products = buffers.arithmetic(xp.multiply, grad, x_hat)
        sum_grad_x_hat = products.sum(axis=axes, keepdims=True)  # dy/dw = x_hat
        del products
        scale = rstd if weight is None else rstd * weight.reshape(ctx.param_shape)
        shift = buffers.arithmetic(xp.multiply, x_hat, scale * (sum_grad_x_hat / count))
        shift += scale * (sum_grad / count)
        grad_x = buffers.arithmetic(xp.multiply, grad, scale)
        grad_x -= shift
        grad_weight = grad_bias = None
        if weight is not None and ctx.needs_input_grad[1]:
            grad_weight = sum_grad_x_hat.reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_bias = sum_grad.reshape(ctx.bias_shape)
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def backward_graph(ctx, grad, x, weight, bias):
        return recomputed_backward(ctx, grad, lambda *inputs: Normalize._composite(ctx, *inputs))

    @staticmethod
    def _composite(ctx, x, weight, bias):
        """The op from simpler differentiable ops, for gradients of gradients."""
        axes = tuple(axis % x.ndim for axis in ctx.axes)
        if ctx.fixed:  # constant statistics: an affine map of x
            (_, rstd, _) = ctx.saved_tensors
            y = (x - ctx.mean) * rstd
        else:
            centered = x - reduce.Mean.apply(x, axis=axes, keepdims=True)
            var = reduce.Mean.apply(centered * centered, axis=axes, keepdims=True)
            y = centered * (var + ctx.eps).rsqrt()
        if weight is not None:
            y = y * weight.reshape(ctx.param_shape)
        if bias is not None:
            y = y + bias.reshape(ctx.param_shape)
        return y
