"""Matrix products: ``MatMul`` with NumPy's 1-D, 2-D and batched rules, and the fused ``Linear``.

``Linear`` is a hot path of every MLP: one GEMM forward, two GEMMs and a column sum backward, no
transposed copies (NumPy passes ``W.T`` to BLAS as a flag, not a copy).
"""

from npgrad.autograd import Function
from npgrad.errors import ShapeError


def _swap(a):
    """Transpose the last two axes (a view)."""
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """z = x @ y with NumPy/PyTorch semantics (1-D operands are promoted, batch axes broadcast)"""

    @staticmethod
    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ShapeError(
                f"matmul: both arguments need at least 1 dimension, got shapes {x.shape} "
                f"and {y.shape}"
            )
        inner_x = x.shape[-1]
        inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if inner_x != inner_y:
            raise ShapeError(
                f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied "
                f"({inner_x} columns on the left, {inner_y} rows on the right)"
            )
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if x.ndim == 1 and y.ndim == 1:
            return grad * y, grad * x  # d(x.y)/dx = y, d(x.y)/dy = x
        if x.ndim == 1:  # z[..., m] = sum_k x[k] y[..., k, m]
            if ctx.needs_input_grad[0]:
                grad_x = (grad[..., None, :] @ _swap(y))[..., 0, :]  # dz/dx = y^T
            if ctx.needs_input_grad[1]:
                grad_y = x[:, None] * grad[..., None, :]  # dz/dy = outer(x, grad)
            return grad_x, grad_y
        if y.ndim == 1:  # z[..., n] = sum_k x[..., n, k] y[k]
            if ctx.needs_input_grad[0]:
                grad_x = grad[..., None] * y  # dz/dx = outer(grad, y)
            if ctx.needs_input_grad[1]:
                grad_y = (_swap(x) @ grad[..., None])[..., 0]  # dz/dy = x^T grad
            return grad_x, grad_y
        if ctx.needs_input_grad[0]:
            grad_x = grad @ _swap(y)  # dz/dx = grad y^T
        if ctx.needs_input_grad[1]:
            grad_y = _swap(x) @ grad  # dz/dy = x^T grad
        return grad_x, grad_y


class Linear(Function):
    """y = x W^T + b, with x of shape (*, in), W (out, in), b (out,) or None"""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(
                f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 'no'} features "
                f"but the weight of shape {weight.shape} expects {weight.shape[1]} "
                f"(input shape must be (*, {weight.shape[1]}))"
            )
        ctx.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y += bias  # in place: y is our own fresh array
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad + [False] * (3 - len(ctx.needs_input_grad))
        # Flatten leading batch axes so every product is one 2-D GEMM.
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if needs_x else None  # dy/dx = W
        grad_w = grad_2d.T @ x.reshape(-1, x.shape[-1]) if needs_w else None  # dy/dW = grad^T x
        grad_b = grad_2d.sum(axis=0) if needs_b else None  # dy/db = 1, summed over the batch
        return grad_x, grad_w, grad_b
