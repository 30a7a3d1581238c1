"""``weight_norm`` and ``spectral_norm`` as parametrisations (``torch.nn.utils.parametrizations``):
the newer form of ``nn.utils.weight_norm`` / ``spectral_norm``, with PyTorch's state-dict names
(``parametrizations.weight.original0`` / ``original1``, or ``original`` and the ``_u`` / ``_v``
buffers)."""

from npgrad.autograd import no_grad
from npgrad.backend import default_generator
from npgrad.nn.modules.module import Module
from npgrad.nn.utils import parametrize
from npgrad.nn.utils.reparametrize import (
    _as_matrix,
    _norm_except,
    _normalize,
    _weight_from_norm,
)
from npgrad.tensor import Tensor


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_from_norm(weight_g, weight_v, self.dim)

    def right_inverse(self, weight):
        return _norm_except(weight, self.dim).detach(), weight.detach()


def weight_norm(module, name="weight", dim=0):
    """w = g v / ||v|| as a parametrisation: ``original0`` holds g, ``original1`` holds v."""
    return parametrize.register_parametrization(module, name, _WeightNorm(dim))


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        self.dim, self.eps, self.n_power_iterations = dim, eps, n_power_iterations
        rows, columns = _as_matrix(weight, self.dim).shape
        rng = default_generator()
        dtype = weight._data.dtype
        for name, size in (("_u", rows), ("_v", columns)):
            start = _normalize(rng.standard_normal(size).astype(dtype), eps)
            self.register_buffer(name, Tensor._wrap(start))
        self._power_method(_as_matrix(weight, self.dim)._data, 15)  # as PyTorch: start converged

    def _power_method(self, matrix, iterations):
        with no_grad():
            for _ in range(iterations):
                self._u._data[...] = _normalize(matrix @ self._v._data, self.eps)
                self._v._data[...] = _normalize(matrix.T @ self._u._data, self.eps)

    def forward(self, weight):
        matrix = _as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix._data, self.n_power_iterations)
        u, v = Tensor._wrap(self._u._data.copy()), Tensor._wrap(self._v._data.copy())
        sigma = (u * (matrix @ v)).sum()
        return weight / sigma


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """W / sigma(W) as a parametrisation (power iteration in every training access)."""
    weight = getattr(module, name)
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
