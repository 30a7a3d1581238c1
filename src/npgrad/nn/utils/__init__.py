"""Gradient clipping and parameter/vector conversion, as ``torch.nn.utils``."""

import math

import numpy

from npgrad.tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    Args:
        parameters: tensors (or one tensor) whose ``.grad`` to clip.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm (``inf`` for the max-norm).
        error_if_nonfinite: raise if the total norm is nan or inf.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor._wrap(numpy.array(0.0, dtype=numpy.float32))
    grads = [p.grad._data for p in params]
    if norm_type == math.inf:
        total = max(float(numpy.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = sum(float((numpy.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "set error_if_nonfinite=False to clip anyway"
        )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for g in grads:
            g *= coefficient  # in place, as PyTorch
    return Tensor._wrap(numpy.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    for p in _with_grads(parameters):
        numpy.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters):
    """Concatenate the parameters into one flat 1-D tensor (a copy)."""
    return Tensor._wrap(numpy.concatenate([p._data.ravel() for p in parameters]))


def vector_to_parameters(vector, parameters):
    """Copy consecutive slices of the 1-D ``vector`` into the parameters."""
    offset = 0
    for p in parameters:
        size = p.numel()
        p._data[...] = vector._data[offset : offset + size].reshape(p.shape)
        offset += size


from npgrad.nn.utils import (  # noqa: E402, F401
    fusion,
    parametrizations,
    parametrize,
    prune,
    rnn,
    stateless,
)
from npgrad.nn.utils.reparametrize import (  # noqa: E402, F401
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)
