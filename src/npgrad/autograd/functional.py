"""Higher-level autograd, as ``torch.autograd.functional``: Jacobians, Hessians and vector
products of a function, built from repeated backward passes (the Hessian ones from gradients
taken with ``create_graph=True``).

>>> import npgrad
>>> from npgrad.autograd.functional import jacobian
>>> jacobian(lambda x: x * x, npgrad.tensor([1.0, 2.0])).tolist()
[[2.0, 0.0], [0.0, 4.0]]
"""

import numpy

from npgrad.autograd import grad
from npgrad.tensor import Tensor, stack, zeros


def _as_tuple(inputs):
    return ((inputs,), True) if isinstance(inputs, Tensor) else (tuple(inputs), False)


def _fresh(inputs, create_graph=False):
    """Detached copies that require grad: the function's own graph, the caller's untouched.
    With ``create_graph`` an input that requires grad is used as it is, so that the results
    stay differentiable with respect to it."""
    return tuple(
        x if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in inputs
    )


def _zeros_for_none(gradients, inputs):
    return tuple(
        zeros(*x.shape, dtype=x.dtype) if g is None else g
        for g, x in zip(gradients, inputs, strict=True)
    )


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product (one backward pass)."""
    inputs, single = _as_tuple(inputs)
    fresh = _fresh(inputs, create_graph)
    output = func(*fresh)
    gradients = grad(output, fresh, grad_outputs=v, allow_unused=True, create_graph=create_graph)
    gradients = _zeros_for_none(gradients, fresh)
    output = output if create_graph else output.detach()
    return output, gradients[0] if single else gradients


def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """d func(inputs) / d inputs, shape ``output.shape + input.shape`` (a tuple of them for
    several inputs): one backward pass per output element."""
    inputs, single = _as_tuple(inputs)
    fresh = _fresh(inputs, create_graph)
    output = func(*fresh)
    rows = [[] for _ in fresh]
    for index in range(max(output.numel(), 1)):
        seed = numpy.zeros(output.numel(), dtype=output.dtype)
        seed[index] = 1
        gradients = (None,) * len(fresh)  # an output that does not depend on the inputs
        if output.requires_grad:
            gradients = grad(
                output,
                fresh,
                grad_outputs=Tensor._wrap(seed.reshape(output.shape)),
                retain_graph=True,
                allow_unused=True,
                create_graph=create_graph,
            )
        for row, g in zip(rows, _zeros_for_none(gradients, fresh), strict=True):
            row.append(g)
    blocks = tuple(
        stack(row).reshape(*output.shape, *x.shape) for row, x in zip(rows, fresh, strict=True)
    )
    return blocks[0] if single else blocks


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, from the Jacobian."""
    inputs, _ = _as_tuple(inputs)
    fresh = _fresh(inputs, create_graph)
    output = func(*fresh)
    output = output if create_graph else output.detach()
    blocks = jacobian(func, inputs, create_graph)  # (inputs is a tuple: one block per input)
    vectors = (v,) if isinstance(v, Tensor) else tuple(v) if v is not None else (None,)
    total = None
    for block, vector, x in zip(blocks, vectors, fresh, strict=True):
        vector = vector if vector is not None else zeros(*x.shape, dtype=x.dtype) + 1
        flat = block.reshape(output.numel(), x.numel()) @ vector.reshape(x.numel())
        total = flat if total is None else total + flat
    return output, total.reshape(output.shape)


def _gradients_of_scalar(func, fresh, name):
    """func(*fresh) (a one-element tensor) and its gradients, recorded for a second pass."""
    output = func(*fresh)
    if output.numel() != 1:
        raise ValueError(
            f"{name}: the function must return a single-element tensor, got shape {output.shape}"
        )
    return output, grad(output, fresh, create_graph=True, allow_unused=True)


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """The matrix of second derivatives of a scalar function, shape ``x.shape + x.shape`` (for
    several inputs, a tuple of tuples: block [i][j] is d^2 f / dx_i dx_j): the Jacobian of the
    gradient, taken with ``create_graph=True``."""
    inputs, single = _as_tuple(inputs)

    def gradient(index):
        def part(*xs):
            _, gradients = _gradients_of_scalar(func, xs, "hessian")
            return _zeros_for_none(gradients, xs)[index]

        return part

    blocks = tuple(jacobian(gradient(i), inputs, create_graph) for i in range(len(inputs)))
    return blocks[0][0] if single else blocks


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product, the gradient of (grad f . v), without
    building H (two backward passes)."""
    inputs, single = _as_tuple(inputs)
    fresh = _fresh(inputs, create_graph)
    output, gradients = _gradients_of_scalar(func, fresh, "hvp")
    vectors = (v,) if isinstance(v, Tensor) else tuple(v) if v is not None else (None,) * len(fresh)
    total = None
    for g, vector in zip(gradients, vectors, strict=True):
        if g is not None and g.requires_grad:
            term = (g * (vector if vector is not None else 1.0)).sum()
            total = term if total is None else total + term
    if total is None:
        products = (None,) * len(fresh)
    else:
        products = grad(total, fresh, create_graph=create_graph, allow_unused=True)
    products = _zeros_for_none(products, fresh)
    output = output if create_graph else output.detach()
    return output, products[0] if single else products


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): equal to ``hvp`` for a twice-differentiable function (H is
    symmetric), and computed the same way."""
    return hvp(func, inputs, v, create_graph, strict)
