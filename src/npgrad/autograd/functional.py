"""Higher-level autograd, as ``torch.autograd.functional``: Jacobians and vector products of
a function, built from repeated first-order backward passes (npgrad has no double backward,
so ``hessian`` and ``hvp`` are not offered).

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


def _fresh(inputs):
    """Detached copies that require grad: the function's own graph, the caller's untouched."""
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product (one backward pass)."""
    _refuse_create_graph(create_graph, "vjp")
    inputs, single = _as_tuple(inputs)
    fresh = _fresh(inputs)
    output = func(*fresh)
    gradients = grad(output, fresh, grad_outputs=v, allow_unused=True)
    gradients = tuple(
        zeros(*x.shape, dtype=x.dtype) if g is None else g
        for g, x in zip(gradients, fresh, strict=True)
    )
    return output.detach(), gradients[0] if single else gradients


def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """d func(inputs) / d inputs, shape ``output.shape + input.shape`` (a tuple of them for
    several inputs): one backward pass per output element."""
    _refuse_create_graph(create_graph, "jacobian")
    inputs, single = _as_tuple(inputs)
    fresh = _fresh(inputs)
    output = func(*fresh)
    rows = [[] for _ in fresh]
    for index in range(max(output.numel(), 1)):
        seed = numpy.zeros(output.numel(), dtype=output.dtype)
        seed[index] = 1
        gradients = grad(
            output,
            fresh,
            grad_outputs=Tensor._wrap(seed.reshape(output.shape)),
            retain_graph=True,
            allow_unused=True,
        )
        for row, g, x in zip(rows, gradients, fresh, strict=True):
            row.append(zeros(*x.shape, dtype=x.dtype) if g is None else g)
    blocks = tuple(
        stack(row).reshape(*output.shape, *x.shape) for row, x in zip(rows, fresh, strict=True)
    )
    return blocks[0] if single else blocks


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, from the Jacobian."""
    _refuse_create_graph(create_graph, "jvp")
    inputs, _ = _as_tuple(inputs)
    fresh = _fresh(inputs)
    output = func(*fresh).detach()
    blocks = jacobian(func, inputs)  # (inputs is a tuple here: one block per input)
    vectors = (v,) if isinstance(v, Tensor) else tuple(v) if v is not None else (None,)
    total = None
    for block, vector, x in zip(blocks, vectors, fresh, strict=True):
        vector = vector if vector is not None else zeros(*x.shape, dtype=x.dtype) + 1
        flat = block.reshape(output.numel(), x.numel()) @ vector.reshape(x.numel())
        total = flat if total is None else total + flat
    return output, total.reshape(output.shape)


def _refuse_create_graph(create_graph, name):
    if create_graph:
        raise NotImplementedError(
            f"{name}(create_graph=True): npgrad has no double backward (gradients of gradients)"
        )


def hessian(func, inputs, *args, **kwargs):
    raise NotImplementedError(
        "hessian: npgrad has no double backward (gradients of gradients); "
        "take finite differences of jacobian() instead"
    )


hvp = vhp = hessian
