"""Weight reparametrisations, as ``torch.nn.utils``: ``weight_norm`` and ``spectral_norm``.

Each replaces a module's parameter ``weight`` by other parameters and recomputes ``weight`` from
them before every forward (a forward pre-hook), so gradients reach the new parameters.
"""

import numpy

from npgrad.autograd import no_grad
from npgrad.backend import default_generator
from npgrad.nn.parameter import Parameter
from npgrad.tensor import Tensor


def _norm_except(v, dim):
    """||v|| over every dim but ``dim`` (all of them when dim is None), kept for broadcasting."""
    if dim is None:
        return (v * v).sum().sqrt()
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(dim=others, keepdim=True).sqrt()


def _weight_from_norm(g, v, dim):
    return v * (g / _norm_except(v, dim))  # w = g v / ||v||


def _as_matrix(weight, dim):
    """The weight as a matrix whose rows run along ``dim``."""
    data = weight if dim == 0 else weight.movedim(dim, 0)
    return data.reshape(data.shape[0], -1)


class _WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g, v = getattr(module, f"{self.name}_g"), getattr(module, f"{self.name}_v")
        return _weight_from_norm(g, v, self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name="weight", dim=0):
    """w = g v / ||v|| (Salimans & Kingma, 2016): ``module.weight`` becomes parameters
    ``weight_g`` (the norms, one per slice along ``dim``) and ``weight_v`` (the directions)."""
    weight = getattr(module, name)
    if any(isinstance(h, _WeightNorm) and h.name == name for h in _hooks(module)):
        raise RuntimeError(f"weight_norm: {name} already has weight norm")
    norm = _WeightNorm(name, dim)
    delattr(module, name)
    module.register_parameter(f"{name}_g", Parameter(_norm_except(weight, dim).detach()))
    module.register_parameter(f"{name}_v", Parameter(weight.detach().clone()))
    setattr(module, name, norm.compute(module))
    module.register_forward_pre_hook(norm)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``weight`` is one parameter again, with its current value."""
    for handle_id, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            weight = hook.compute(module).detach()
            del module._forward_pre_hooks[handle_id]
            for suffix in ("_g", "_v"):
                delattr(module, name + suffix)
            delattr(module, name)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {module}")


class _SpectralNorm:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute(self, module, power_iteration):
        weight = getattr(module, f"{self.name}_orig")
        u, v = getattr(module, f"{self.name}_u"), getattr(module, f"{self.name}_v")
        matrix = _as_matrix(weight, self.dim)
        if power_iteration:  # refine the top singular vectors, in place, without gradient
            with no_grad():
                data = matrix._data
                for _ in range(self.iterations):
                    v._data[...] = _normalize(data.T @ u._data, self.eps)
                    u._data[...] = _normalize(data @ v._data, self.eps)
        sigma = (Tensor._wrap(u._data.copy()) * (matrix @ Tensor._wrap(v._data.copy()))).sum()
        return weight / sigma  # W / sigma(W), sigma differentiable in W (u, v constants)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module, module.training))


def _normalize(vector, eps):
    return vector / max(float(numpy.linalg.norm(vector)), eps)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """W / sigma(W), sigma the largest singular value estimated by power iteration in every
    training forward (Miyato et al., 2018): ``weight_orig`` is the parameter, ``weight_u`` and
    ``weight_v`` buffers. ``dim`` defaults to 0 (1 for transposed convolutions)."""
    if n_power_iterations <= 0:
        raise ValueError(
            f"spectral_norm: n_power_iterations must be positive, got {n_power_iterations}"
        )
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    weight = getattr(module, name)
    norm = _SpectralNorm(name, n_power_iterations, dim, eps)
    matrix = _as_matrix(weight, dim)._data
    rng = default_generator()
    u = _normalize(rng.standard_normal(matrix.shape[0]).astype(matrix.dtype), eps)
    v = _normalize(rng.standard_normal(matrix.shape[1]).astype(matrix.dtype), eps)
    delattr(module, name)
    module.register_parameter(f"{name}_orig", Parameter(weight.detach().clone()))
    module.register_buffer(f"{name}_u", Tensor._wrap(u))
    module.register_buffer(f"{name}_v", Tensor._wrap(v))
    setattr(module, name, norm.compute(module, power_iteration=True))
    module.register_forward_pre_hook(norm)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``weight`` is one parameter again, W / sigma as it stands."""
    for handle_id, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            weight = hook.compute(module, power_iteration=False).detach()
            del module._forward_pre_hooks[handle_id]
            for suffix in ("_orig", "_u", "_v"):
                delattr(module, name + suffix)
            delattr(module, name)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {module}")


def _hooks(module):
    return module._forward_pre_hooks.values()
