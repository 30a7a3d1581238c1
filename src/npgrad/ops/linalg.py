"""Matrix products: ``MatMul`` with NumPy's 1-D, 2-D and batched rules, and the fused ``Linear``.

``Linear`` is a hot path of every MLP: one GEMM forward, two GEMMs and a column sum backward, no
transposed copies (NumPy passes ``W.T`` to BLAS as a flag, not a copy).
"""

from npgrad import buffers
from npgrad.autograd import Function
from npgrad.backend import xp
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
        return buffers.matmul(x, y)

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
            grad_x = buffers.matmul(grad, _swap(y))  # dz/dx = grad y^T
        if ctx.needs_input_grad[1]:
            grad_y = buffers.matmul(_swap(x), grad)  # dz/dy = x^T grad
        return grad_x, grad_y

    @staticmethod
    def backward_graph(ctx, grad, x, y):
        if x.ndim == 1 and y.ndim == 1:
            return grad * y, grad * x
        if x.ndim == 1:
            return (grad.unsqueeze(-2) @ y.mT).squeeze(-2), x.unsqueeze(-1) * grad.unsqueeze(-2)
        if y.ndim == 1:
            return grad.unsqueeze(-1) * y, (x.mT @ grad.unsqueeze(-1)).squeeze(-1)
        return grad @ y.mT, x.mT @ grad


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
        # leading axes flattened: one 2-D GEMM (NumPy runs a 3-D product as a loop of small
        # GEMMs, 1.5x slower for (32, 64, 128) inputs), copying only an input that is not
        # contiguous (a transposed view, as in batch_first attention)
        rows = x if x.ndim == 2 else buffers.reshape(x, (-1, x.shape[-1]))
        ctx.save_for_backward(rows, weight, x)  # (x itself too: in-place checks look for it)
        y = buffers.matmul(rows, weight.T)
        if bias is not None:
            y += bias  # in place: y is our own fresh array
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        rows, weight, x = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad + [False] * (3 - len(ctx.needs_input_grad))
        grad_2d = grad if grad.ndim == 2 else buffers.reshape(grad, (-1, grad.shape[-1]))
        grad_x = None
        if needs_x:  # dy/dx = W
            if rows.flags.f_contiguous and not rows.flags.c_contiguous:
                # x is a transposed view (a batch-last convolution's output, flattened): the
                # gradient is laid out the same way, so the layers below need no transposing copy
                grad_x = buffers.matmul(weight.T, grad_2d.T).T
            else:
                grad_x = buffers.matmul(grad_2d, weight)
            if grad_x.shape != x.shape:
                grad_x = grad_x.reshape(x.shape)
        grad_w = buffers.matmul(grad_2d.T, rows) if needs_w else None  # dy/dW = grad^T x
        grad_b = grad_2d.sum(axis=0) if needs_b else None  # dy/db = 1, summed over the batch
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad, x, weight, bias=None):
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_x = (grad_2d @ weight).reshape(x.shape)  # dy/dx = W
        grad_w = grad_2d.mT @ x.reshape(-1, x.shape[-1])  # dy/dW = grad^T x
        grad_b = grad_2d.sum(dim=0) if bias is not None else None  # dy/db = 1
        return grad_x, grad_w, grad_b


def parse_einsum(equation, shapes):
    """Explicit subscripts for ``equation``: (one string per operand, the output string).

    Expands ``...`` into unused capital letters (right-aligned, as NumPy does) and fills in the
    implicit output (letters used once, sorted) when there is no ``->``.
    """
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ShapeError(f"einsum: {len(inputs)} operand subscripts for {len(shapes)} operands")
    spare = iter(letter for letter in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if letter not in equation)
    widest = max(
        (
            len(shape) - (len(subs) - 3)
            for subs, shape in zip(inputs, shapes, strict=True)
            if "..." in subs
        ),
        default=0,
    )
    ellipsis = "".join(next(spare) for _ in range(widest))
    expanded = []
    for subs, shape in zip(inputs, shapes, strict=True):
        if "..." in subs:
            dims = len(shape) - (len(subs) - 3)
            subs = subs.replace("...", ellipsis[len(ellipsis) - dims :])
        if len(subs) != len(shape):
            raise ShapeError(f"einsum: subscripts {subs!r} do not fit an operand of shape {shape}")
        if len(set(subs)) != len(subs):
            raise NotImplementedError(
                f"einsum: a letter repeated within one operand ({subs!r}, a diagonal) has no "
                "gradient in npgrad yet"
            )
        expanded.append(subs)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis)
        )
    sizes = {}
    for subs, shape in zip(expanded, shapes, strict=True):
        for letter, size in zip(subs, shape, strict=True):
            if sizes.setdefault(letter, size) != size:
                raise NotImplementedError(
                    f"einsum: dimension {letter!r} has sizes {sizes[letter]} and {size}; "
                    "broadcasting inside einsum is not supported (expand the operand first)"
                )
    return expanded, output


class Einsum(Function):
    """y = einsum(equation, x_1, x_2, ...) (sums of products over the letters not in the output)"""

    @staticmethod
    def forward(ctx, *operands, equation=None):
        inputs, output = parse_einsum(equation, [x.shape for x in operands])
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*operands)
        return xp.einsum(f"{','.join(inputs)}->{output}", *operands)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return tuple(
            _einsum_partial(ctx, k, grad, operands, xp.einsum, xp.broadcast_to)
            if ctx.needs_input_grad[k]
            else None
            for k in range(len(operands))
        )

    @staticmethod
    def backward_graph(ctx, grad, *operands):
        def einsum(spec, *arrays):
            return Einsum.apply(*arrays, equation=spec)

        return tuple(
            _einsum_partial(ctx, k, grad, operands, einsum, lambda t, shape: t.expand(*shape))
            if ctx.needs_input_grad[k]
            else None
            for k in range(len(operands))
        )


def _einsum_partial(ctx, k, grad, operands, einsum, broadcast_to):
    """dy/dx_k of an einsum: the same sum of products with grad in place of x_k; letters that
    x_k alone summed away come back by broadcasting (the derivative of a sum is 1 everywhere).
    ``einsum`` and ``broadcast_to`` are NumPy's (backward) or Tensor ops (backward_graph)."""
    others = [op for j, op in enumerate(operands) if j != k]
    other_subs = [s for j, s in enumerate(ctx.inputs) if j != k]
    reachable = set(ctx.output) | set("".join(other_subs))
    kept = "".join(letter for letter in ctx.inputs[k] if letter in reachable)
    partial = einsum(",".join([ctx.output, *other_subs]) + "->" + kept, grad, *others)
    shape = [
        size if letter in kept else 1
        for letter, size in zip(ctx.inputs[k], operands[k].shape, strict=True)
    ]
    return broadcast_to(partial.reshape(shape), tuple(operands[k].shape))


# ----------------------------------------------------------------------- decompositions
# Matrices are the last two axes; leading axes are a batch. Gradients assume the real case.


def _solve_left(a, b):
    """a^-1 b for batched matrices (b a matrix, or a vector per batch)."""
    return xp.linalg.solve(a, b)


def _expm(a):
    """e^A for batched square matrices: scaling and squaring. A is halved s times until its
    1-norm is at most 1/2, e^(A / 2^s) summed as a Taylor series to degree 18 (the remainder is
    below 0.5^19 / 19!, under float64's rounding), then squared s times."""
    norm = xp.abs(a).sum(axis=-2).max() if a.size else 0.0  # the largest 1-norm in the batch
    squarings = max(0, int(xp.ceil(xp.log2(norm / 0.5)))) if norm > 0.5 else 0
    scaled = a / 2.0**squarings
    term = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    total = term.copy()
    for k in range(1, 19):
        term = term @ scaled / k  # A^k / k!
        total += term
    for _ in range(squarings):
        total = total @ total
    return total


class MatrixExp(Function):
    """Y = e^A = I + A + A^2/2! + ..."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(a)

    @staticmethod
    def backward(ctx, grad):
        # the Frechet derivative of exp at A^T applied to G is the top-right block of
        # exp([[A^T, G], [0, A^T]]) (Mathias 1996), and dL/dA = L(A^T, G)
        (a,) = ctx.saved_tensors
        size = a.shape[-1]
        block = xp.zeros((*a.shape[:-2], 2 * size, 2 * size), dtype=a.dtype)
        block[..., :size, :size] = block[..., size:, size:] = _swap(a)
        block[..., :size, size:] = grad
        return _expm(block)[..., :size, size:]


class Inverse(Function):
    """Y = A^-1"""

    @staticmethod
    def forward(ctx, a):
        y = xp.linalg.inv(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -_swap(y) @ grad @ _swap(y)  # dY = -Y dA Y  =>  gA = -Y^T G Y^T


def _cofactors(a):
    """The cofactor matrix det(A) A^-T, valid for singular A too (through the SVD: with
    A = U S V^T, adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T)."""
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(
        xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1
    )
    signs = xp.linalg.det(u) * xp.linalg.det(vh)
    return signs[..., None, None] * (u * (before * after)[..., None, :]) @ vh


class Det(Function):
    """y = det(A)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp.asarray(xp.linalg.det(a))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad[..., None, None] * _cofactors(a)  # d det(A) / dA = cofactor(A)


class LogAbsDet(Function):
    """y = log |det(A)| (the sign, piecewise constant, is computed apart)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp.asarray(xp.linalg.slogdet(a)[1])

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad[..., None, None] * _swap(xp.linalg.inv(a))  # d log|det A| / dA = A^-T


class Solve(Function):
    """X = A^-1 B (B a matrix, or a vector with ``vector=True``)"""

    @staticmethod
    def forward(ctx, a, b, vector=False):
        x = _solve_left(a, b[..., None])[..., 0] if vector else _solve_left(a, b)
        ctx.save_for_backward(a, x)
        ctx.vector = vector
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.vector:
            grad_b = _solve_left(_swap(a), grad[..., None])[..., 0]  # gB = A^-T G
            return -grad_b[..., :, None] * x[..., None, :], grad_b  # gA = -gB X^T
        grad_b = _solve_left(_swap(a), grad)
        return -grad_b @ _swap(x), grad_b


def lu_factor(a):
    """Doolittle's LU with partial pivoting, batched over the leading dims: (LU, pivots, perm)
    with P^T A = L U, LU holding L's strict lower part (its diagonal is 1) and U, ``pivots``
    LAPACK's 1-based row swaps (row k was swapped with row pivots[k]) and ``perm`` the rows of
    A in the order the factors use (P^T A = A[perm])."""
    size = a.shape[-1]
    lu = a.reshape(-1, size, size).astype(xp.result_type(a.dtype, xp.float32), copy=True)
    count = lu.shape[0]
    rows = xp.arange(count)
    perm = xp.tile(xp.arange(size), (count, 1))
    pivots = xp.empty((count, size), dtype=xp.int32)
    for k in range(size):
        best = k + xp.abs(lu[:, k:, k]).argmax(axis=1)  # the largest pivot: stable
        pivots[:, k] = best + 1
        lu[rows, k], lu[rows, best] = lu[rows, best].copy(), lu[rows, k].copy()
        perm[rows, k], perm[rows, best] = perm[rows, best].copy(), perm[rows, k].copy()
        pivot = lu[:, k, k]
        safe = xp.where(pivot == 0, 1, pivot)  # a zero column: multipliers 0, as LAPACK's
        lu[:, k + 1 :, k] /= safe[:, None]
        lu[:, k + 1 :, k + 1 :] -= lu[:, k + 1 :, k, None] * lu[:, k, None, k + 1 :]
    shape = a.shape[:-2]
    return lu.reshape(a.shape), pivots.reshape(*shape, size), perm.reshape(*shape, size)


class LUFactor(Function):
    """LU = L + U - I with P^T A = L U (L unit lower triangular, U upper)"""

    @staticmethod
    def forward(ctx, a, factored=None):
        lu, _, perm = factored if factored is not None else lu_factor(a)  # (linalg: done once)
        ctx.save_for_backward(lu, perm)
        return lu

    @staticmethod
    def backward(ctx, grad):
        # with F = L^-1 P^T dA U^-1: dL = L strict_tril(F), dU = triu(F) U, so
        # gA = P L^-T (strict_tril(L^T gL) + triu(gU U^T)) U^-T
        lu, perm = ctx.saved_tensors
        eye = xp.eye(lu.shape[-1], dtype=lu.dtype)
        lower, upper = xp.tril(lu, -1) + eye, xp.triu(lu)
        inner = xp.tril(_swap(lower) @ xp.tril(grad, -1), -1) + xp.triu(
            xp.triu(grad) @ _swap(upper)
        )
        permuted = _swap(_solve_left(upper, _swap(_solve_left(_swap(lower), inner))))
        grad_a = xp.empty_like(permuted)
        xp.put_along_axis(grad_a, perm[..., None], permuted, axis=-2)  # rows back in A's order
        return grad_a


class Cholesky(Function):
    """L lower-triangular with L L^T = A (A symmetric positive definite; its lower triangle is
    read)"""

    @staticmethod
    def forward(ctx, a, upper=False):
        lower = xp.linalg.cholesky(a)
        ctx.save_for_backward(lower)
        ctx.upper = upper
        return _swap(lower) if upper else lower

    @staticmethod
    def backward(ctx, grad):
        (lower,) = ctx.saved_tensors
        if ctx.upper:
            grad = _swap(grad)
        # gA = L^-T Phi(L^T gL) L^-1, symmetrised; Phi keeps the lower triangle, halving the
        # diagonal (Murray, 2016)
        phi = xp.tril(_swap(lower) @ grad)
        phi -= 0.5 * xp.tril(xp.triu(phi))
        left = _solve_left(_swap(lower), phi)  # L^-T Phi
        grad_a = _swap(_solve_left(_swap(lower), _swap(left)))  # (L^-T (L^-T Phi)^T)^T
        return 0.5 * (grad_a + _swap(grad_a))


class Eigh(Function):
    """Eigenvalues (ascending) and eigenvectors of symmetric A, packed in one output of shape
    (..., n + 1, n): row 0 the eigenvalues, rows 1..n the eigenvectors (as columns)"""

    @staticmethod
    def forward(ctx, a, uplo="L"):
        values, vectors = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(values, vectors)
        return xp.concatenate([values[..., None, :], vectors], axis=-2)

    @staticmethod
    def backward(ctx, grad):
        values, vectors = ctx.saved_tensors
        grad_values, grad_vectors = grad[..., 0, :], grad[..., 1:, :]
        # gA = V (diag(g_w) + F o (V^T gV)) V^T with F_ij = 1 / (w_j - w_i), 0 on the diagonal
        gaps = values[..., None, :] - values[..., :, None]
        eye = xp.eye(values.shape[-1], dtype=bool)
        with xp.errstate(divide="ignore"):
            inverse_gaps = xp.where(eye, 0.0, 1.0 / xp.where(eye, 1.0, gaps))
        inner = inverse_gaps * (_swap(vectors) @ grad_vectors)
        inner = inner + grad_values[..., None, :] * xp.eye(values.shape[-1], dtype=values.dtype)
        grad_a = vectors @ inner @ _swap(vectors)
        return 0.5 * (grad_a + _swap(grad_a))


class SVDVals(Function):
    """The singular values of A, descending"""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, grad):
        u, vh = ctx.saved_tensors
        return (u * grad[..., None, :]) @ vh  # d s_i = u_i^T dA v_i


class SingularVectors(Function):
    """U or V^T of A's reduced SVD (``which``), without a gradient: differentiating through
    singular vectors is not supported (the singular values are: ``SVDVals``)"""

    @staticmethod
    def forward(ctx, a, which="U", full_matrices=False):
        u, _, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        return u if which == "U" else vh

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            "svd: gradients through the singular vectors U and Vh are not supported; "
            "gradients through the singular values (linalg.svdvals) are"
        )


class PInv(Function):
    """Y = A^+, the Moore-Penrose pseudo-inverse"""

    @staticmethod
    def forward(ctx, a, rcond=1e-15):
        y = xp.linalg.pinv(a, rcond=rcond)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        # where the rank is constant (Golub & Pereyra, 1973):
        # gA = -Y^T G Y^T + (I - A Y) G^T Y Y^T + Y^T Y G^T (I - Y A)
        eye_m = xp.eye(a.shape[-2], dtype=a.dtype)
        eye_n = xp.eye(a.shape[-1], dtype=a.dtype)
        y_t, g_t = _swap(y), _swap(grad)
        return -y_t @ grad @ y_t + (eye_m - a @ y) @ g_t @ y @ y_t + y_t @ y @ g_t @ (eye_n - y @ a)
