"""Linear algebra, as ``torch.linalg``: norms, inverses, solves, determinants, decompositions.

Matrices are the last two dims and leading dims are a batch, as in PyTorch. Everything is
differentiable (real matrices) except the singular vectors of ``svd`` and ``qr``'s factors,
whose backward raises; ``svdvals`` and ``eigh`` are differentiable.

>>> import npgrad
>>> a = npgrad.tensor([[2.0, 1.0], [1.0, 3.0]])
>>> [round(v, 4) for v in npgrad.linalg.solve(a, npgrad.tensor([3.0, 5.0])).tolist()]
[0.8, 1.4]
>>> round(npgrad.linalg.det(a).item(), 4)
5.0
"""

import math
from collections import namedtuple

import numpy

from npgrad.errors import ShapeError
from npgrad.ops import linalg as ops
from npgrad.tensor import Tensor, _array_of, tensor

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])
LUFactorResult = namedtuple("LUFactorResult", ["LU", "pivots"])
LUResult = namedtuple("LUResult", ["P", "L", "U"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])
CholeskyExResult = namedtuple("CholeskyExResult", ["L", "info"])


def _square(a, op):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"linalg.{op}: expected square matrices (..., n, n), got {a.shape}")


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """(sum |x|^ord)^(1/ord) over ``dim`` (all elements by default); inf and -inf are the
    largest and smallest |x|, 0 counts the non-zeros."""
    x = x if dtype is None else x.to(dtype)
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if ord == math.inf:
        return x.abs().amax(dim=dims, keepdim=keepdim)
    if ord == -math.inf:
        return x.abs().amin(dim=dims, keepdim=keepdim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dim=dims, keepdim=keepdim)
    if ord == 1:
        return x.abs().sum(dim=dims, keepdim=keepdim)
    return x.norm(ord, dims, keepdim)  # gradient 0 at a zero vector, as PyTorch's


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False):  # noqa: A002
    """A matrix norm over ``dim``: "fro", "nuc" (sum of singular values), 2 / -2 (largest /
    smallest singular value), 1 / -1 (largest / smallest column sum of |a|), inf / -inf (rows).
    """
    rows, columns = dim
    if ord == "fro":
        return vector_norm(a, 2, dim=dim, keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        rows, columns = rows % a.ndim, columns % a.ndim
        order = [d for d in range(a.ndim) if d not in (rows, columns)] + [rows, columns]
        values = svdvals(a.permute(*order))
        out = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else values.amin(-1)
        return _keep(out, a.ndim, dim) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        summed, reduced = (rows, columns) if ord in (1, -1) else (columns, rows)
        sums = a.abs().sum(dim=summed, keepdim=True)
        pick = sums.amax if ord > 0 else sums.amin
        out = pick(dim=reduced, keepdim=True)
        return out if keepdim else out.squeeze((rows, columns))
    raise ValueError(f"linalg.matrix_norm: unsupported ord {ord!r}")


def _keep(out, ndim, dim):
    for axis in sorted(d % ndim for d in dim):
        out = out.unsqueeze(axis)
    return out


def norm(a, ord=None, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """``vector_norm`` or ``matrix_norm``, as PyTorch picks: a matrix norm when ``ord`` is a
    string or ``dim`` names two dims (or ``ord`` is given for a 2-D input), else the vector
    2-norm of all elements."""
    a = a if dtype is None else a.to(dtype)
    two_dims = (dim is not None and not isinstance(dim, int) and len(dim) == 2) or (
        dim is None and ord is not None and a.ndim == 2
    )
    if isinstance(ord, str) or two_dims:
        return matrix_norm(a, "fro" if ord is None else ord, dim or (-2, -1), keepdim)
    return vector_norm(a, 2 if ord is None else ord, dim, keepdim)


def inv(a):
    """A^-1 (raises numpy.linalg.LinAlgError for a singular matrix)."""
    _square(a, "inv")
    return ops.Inverse.apply(a)


def matrix_exp(a):
    """e^A of square matrices (a batch over the leading dims), differentiable."""
    _square(a, "matrix_exp")
    return ops.MatrixExp.apply(a)


def det(a):
    """det(A); its gradient is the cofactor matrix, singular matrices included."""
    _square(a, "det")
    return ops.Det.apply(a)


def slogdet(a):
    """(sign, log |det A|): the determinant without overflow."""
    _square(a, "slogdet")
    sign = Tensor._wrap(numpy.asarray(numpy.linalg.slogdet(_array_of(a))[0]))
    return SlogdetResult(sign, ops.LogAbsDet.apply(a))


def logdet(a):
    """log det(A): NaN where the determinant is negative, as PyTorch."""
    sign, logabsdet = slogdet(a)
    return logabsdet + Tensor._wrap(numpy.log(numpy.where(sign._data < 0, numpy.nan, 1.0)))


def solve(a, b, left=True):
    """X with A X = B (or X A = B with ``left=False``); B a matrix or a vector."""
    _square(a, "solve")
    if not left:
        return solve(a.mT, b.mT).mT
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    return ops.Solve.apply(a, b, vector=vector)


def cholesky(a, upper=False):
    """L lower-triangular with L L^T = A (symmetric positive definite)."""
    _square(a, "cholesky")
    return ops.Cholesky.apply(a, upper=upper)


def cholesky_ex(A, *, upper=False, check_errors=False):  # noqa: N803 - PyTorch's name
    """(L, info): the Cholesky factor and, per matrix, 0 where A is positive definite, else
    the order of the first leading minor that is not (its L is then zeros). Raises instead
    with ``check_errors``."""
    _square(A, "cholesky_ex")
    data = _array_of(A)
    flat = data.reshape(-1, *data.shape[-2:])
    info = numpy.zeros(len(flat), dtype=numpy.int32)
    if not _positive_definite(data):  # some matrix fails: which, and at which minor
        for i, matrix in enumerate(flat):
            if not _positive_definite(matrix):
                orders = range(1, len(matrix) + 1)
                info[i] = next(k for k in orders if not _positive_definite(matrix[:k, :k]))
    if check_errors and info.any():
        raise numpy.linalg.LinAlgError(
            f"linalg.cholesky_ex: the leading minor of order {info[info > 0][0]} is not "
            "positive definite"
        )
    if not info.any():
        return CholeskyExResult(
            cholesky(A, upper=upper), Tensor._wrap(info.reshape(data.shape[:-2]))
        )
    good = numpy.where(info == 0, 1.0, 0.0).reshape(*data.shape[:-2], 1, 1)
    eye = numpy.eye(data.shape[-1], dtype=data.dtype)
    safe = A * tensor(good, dtype=A.dtype) + tensor((1 - good) * eye, dtype=A.dtype)
    factor = cholesky(safe, upper=upper) * tensor(good, dtype=A.dtype)
    return CholeskyExResult(factor, Tensor._wrap(info.reshape(data.shape[:-2])))


def _positive_definite(matrix):
    try:
        numpy.linalg.cholesky(matrix)
    except numpy.linalg.LinAlgError:
        return False
    return True


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):  # noqa: N803
    """X with A X = B (X A = B with ``left=False``), reading only A's upper or lower triangle
    (with ones on the diagonal when ``unitriangular``); differentiable, A's gradient
    triangular too."""
    _square(A, "solve_triangular")
    if unitriangular:
        eye = tensor(numpy.eye(A.shape[-1]), dtype=A.dtype)
        triangle = (A.triu(1) if upper else A.tril(-1)) + eye
    else:
        triangle = A.triu() if upper else A.tril()
    return solve(triangle, B, left=left)


def lu_factor(A, *, pivot=True):  # noqa: N803 - PyTorch's name
    """(LU, pivots) with A = P L U (partial pivoting): L's strict lower part and U in one
    matrix, the row swaps 1-based as LAPACK's. Differentiable in A."""
    if not pivot:
        raise NotImplementedError("lu_factor: pivot=False is not supported (nor on PyTorch's CPU)")
    _square(A, "lu_factor")
    factored = ops.lu_factor(_array_of(A))
    return LUFactorResult(ops.LUFactor.apply(A, factored=factored), Tensor._wrap(factored[1]))


def lu_unpack(LU, pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803
    """(P, L, U) from ``lu_factor``'s result: A = P L U."""
    size = LU.shape[-1]
    eye = tensor(numpy.eye(size), dtype=LU.dtype)
    lower, upper = LU.tril(-1) + eye, LU.triu()
    swaps = numpy.asarray(_array_of(pivots)).reshape(-1, size) - 1
    perm = numpy.tile(numpy.arange(size), (len(swaps), 1))
    for k in range(size):  # replay the row swaps: P^T A = A[perm]
        rows = numpy.arange(len(swaps))
        perm[rows, k], perm[rows, swaps[:, k]] = perm[rows, swaps[:, k]], perm[rows, k].copy()
    permutation = numpy.zeros((len(swaps), size, size), dtype=LU.dtype)
    permutation[numpy.arange(len(swaps))[:, None], perm, numpy.arange(size)] = 1  # P[perm[i], i]
    permutation = tensor(permutation.reshape(*LU.shape[:-2], size, size))
    return LUResult(permutation, lower, upper)


def lu(A, *, pivot=True):  # noqa: N803 - PyTorch's name
    """(P, L, U) with A = P L U: P a permutation, L unit lower and U upper triangular."""
    return lu_unpack(*lu_factor(A, pivot=pivot))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):  # noqa: N803 - PyTorch's names
    """X with A X = B (A^T X = B with ``adjoint``; X A = B with ``left=False``) from
    ``lu_factor``'s result: two triangular solves and the permutation."""
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    permutation, lower, upper = lu_unpack(LU, pivots)
    if adjoint:  # A^T = U^T L^T P^T
        return permutation @ solve(lower.mT, solve(upper.mT, B))
    return solve(upper, solve(lower, permutation.mT @ B))


def eigh(a, UPLO="L"):  # noqa: N803 - PyTorch's name
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric A."""
    _square(a, "eigh")
    packed = ops.Eigh.apply(a, uplo=UPLO)
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(a, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric A, ascending."""
    return eigh(a, UPLO).eigenvalues


def svdvals(a):
    """The singular values, descending (differentiable)."""
    return ops.SVDVals.apply(a)


def svd(a, full_matrices=True):
    """A = U diag(S) Vh. S is differentiable; U and Vh are not (their backward raises)."""
    u = ops.SingularVectors.apply(a, which="U", full_matrices=full_matrices)
    vh = ops.SingularVectors.apply(a, which="Vh", full_matrices=full_matrices)
    return SVDResult(u, svdvals(a), vh)


def qr(a, mode="reduced"):
    """A = Q R (no gradient: the backward of Q and R is not supported)."""
    q, r = numpy.linalg.qr(_array_of(a), mode=mode)
    return QRResult(Tensor._wrap(q), Tensor._wrap(r))


def pinv(a, rcond=None, hermitian=False, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse (differentiable where the rank does not change)."""
    cutoff = rtol if rtol is not None else rcond
    if cutoff is None:
        cutoff = max(a.shape[-2:]) * numpy.finfo(a.dtype).eps
    return ops.PInv.apply(a, rcond=cutoff)


def lstsq(a, b, rcond=None, driver=None):
    """The least-squares solution of A X = B (through the pseudo-inverse: differentiable);
    also the residuals, the rank and the singular values, without gradient."""
    solution = pinv(a, rcond) @ b
    data_a, data_b = _array_of(a), _array_of(b)
    rank = numpy.linalg.matrix_rank(data_a)
    singular = numpy.linalg.svd(data_a, compute_uv=False)
    residuals = numpy.zeros(0, dtype=data_a.dtype)
    if data_a.ndim == 2 and rank == data_a.shape[1] and data_a.shape[0] > data_a.shape[1]:
        fitted = data_a @ _array_of(solution)
        residuals = ((data_b - fitted) ** 2).sum(axis=0)
    return LstsqResult(solution, Tensor._wrap(residuals), tensor(rank), Tensor._wrap(singular))


def matrix_rank(a, tol=None, hermitian=False):
    """The number of singular values above the tolerance (no gradient)."""
    return tensor(numpy.linalg.matrix_rank(_array_of(a), tol=tol, hermitian=hermitian))


def matrix_power(a, n):
    """A^n by repeated squaring (n < 0: of the inverse; n = 0: the identity)."""
    _square(a, "matrix_power")
    if n < 0:
        return matrix_power(inv(a), -n)
    result, base = None, a
    while True:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            break
        base = base @ base
    if result is None:
        eye = numpy.broadcast_to(numpy.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return Tensor._wrap(eye.copy())
    return result


def multi_dot(tensors):
    """A_1 @ A_2 @ ... @ A_k (first and last may be vectors)."""
    result = tensors[0]
    for t in tensors[1:]:
        result = result @ t
    return result


def cross(a, b, dim=-1):
    """The cross product of 3-vectors along ``dim``."""
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise ShapeError(f"linalg.cross: dim {dim} must have size 3, got {a.shape} and {b.shape}")
    after, before = numpy.array([1, 2, 0]), numpy.array([2, 0, 1])
    return a.index_select(dim, after) * b.index_select(dim, before) - a.index_select(
        dim, before
    ) * b.index_select(dim, after)


def cond(a, p=None):
    """The condition number: largest over smallest singular value (for p None or 2)."""
    if p not in (None, 2):
        return matrix_norm(a, p) * matrix_norm(inv(a), p)
    values = svdvals(a)
    return values.amax(-1) / values.amin(-1)


def diagonal(a, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix (a differentiable view-like copy)."""
    return a.diagonal(offset, dim1, dim2)


def matmul(a, b):
    """a @ b."""
    return a @ b


def vecdot(x, y, dim=-1):
    """Dot products along ``dim``."""
    return (x * y).sum(dim)
