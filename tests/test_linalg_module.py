"""npgrad.linalg against torch.linalg (values and gradients) and finite differences."""

import math

import numpy as np
import pytest
from helpers import check_grad, check_op, make_inputs, needs_torch, torch

import npgrad
from npgrad import linalg

TL = torch.linalg if torch else None


def spd(x, lib):
    """A symmetric positive definite matrix from any square x."""
    return x @ x.mT + 4 * lib.eye(x.shape[-1], dtype=x.dtype)


# name, input shapes, npgrad function, torch function (differentiable: gradcheck + parity)
CASES = [
    ("inv", [(3, 4, 4)], linalg.inv, lambda a: TL.inv(a)),
    ("det", [(3, 4, 4)], linalg.det, lambda a: TL.det(a)),
    ("logabsdet", [(2, 3, 3)], lambda a: linalg.slogdet(a)[1], lambda a: TL.slogdet(a)[1]),
    ("solve", [(3, 4, 4), (3, 4, 2)], linalg.solve, lambda a, b: TL.solve(a, b)),
    ("solve_vector", [(3, 4, 4), (3, 4)], linalg.solve, lambda a, b: TL.solve(a, b)),
    (
        "solve_right",
        [(2, 3, 3), (2, 4, 3)],
        lambda a, b: linalg.solve(a, b, left=False),
        lambda a, b: TL.solve(a, b, left=False),
    ),
    (
        "cholesky",
        [(2, 4, 4)],
        lambda x: linalg.cholesky(spd(x, npgrad)),
        lambda x: TL.cholesky(spd(x, torch)),
    ),
    (
        "cholesky_upper",
        [(4, 4)],
        lambda x: linalg.cholesky(spd(x, npgrad), upper=True),
        lambda x: TL.cholesky(spd(x, torch), upper=True),
    ),
    ("eigvalsh", [(2, 4, 4)], lambda x: linalg.eigvalsh(x + x.mT), lambda x: TL.eigvalsh(x + x.mT)),
    (  # eigenvectors up to sign: compare |V|
        "eigh_vectors",
        [(2, 4, 4)],
        lambda x: linalg.eigh(x + x.mT).eigenvectors.abs(),
        lambda x: TL.eigh(x + x.mT).eigenvectors.abs(),
    ),
    ("svdvals", [(3, 5, 3)], linalg.svdvals, lambda a: TL.svdvals(a)),
    ("pinv_tall", [(2, 5, 3)], linalg.pinv, lambda a: TL.pinv(a)),
    ("pinv_wide", [(3, 5)], linalg.pinv, lambda a: TL.pinv(a)),
    ("norm", [(3, 4)], linalg.norm, lambda a: TL.norm(a)),
    ("norm_dim", [(3, 4)], lambda a: linalg.norm(a, dim=1), lambda a: TL.norm(a, dim=1)),
    (
        "vector_norm_3",
        [(3, 4)],
        lambda a: linalg.vector_norm(a, 3, dim=-1),
        lambda a: TL.vector_norm(a, 3, dim=-1),
    ),
    (
        "vector_norm_inf",
        [(3, 4)],
        lambda a: linalg.vector_norm(a, math.inf),
        lambda a: TL.vector_norm(a, math.inf),
    ),
    (
        "matrix_power_3",
        [(2, 3, 3)],
        lambda a: linalg.matrix_power(a, 3),
        lambda a: TL.matrix_power(a, 3),
    ),
    (
        "matrix_power_-2",
        [(3, 3)],
        lambda a: linalg.matrix_power(a, -2),
        lambda a: TL.matrix_power(a, -2),
    ),
    ("cross", [(4, 3), (4, 3)], linalg.cross, lambda a, b: TL.cross(a, b)),
    ("cond", [(2, 3, 3)], linalg.cond, lambda a: TL.cond(a)),
    (
        "lstsq",
        [(6, 3), (6, 2)],
        lambda a, b: linalg.lstsq(a, b).solution,
        lambda a, b: TL.lstsq(a, b).solution,
    ),
    (
        "multi_dot",
        [(2, 3), (3, 4), (4,)],
        lambda *m: linalg.multi_dot(m),
        lambda *m: TL.multi_dot(m),
    ),
]


@pytest.mark.parametrize("name, shapes, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_linalg(name, shapes, ours, theirs):
    check_op(shapes, torch_fn=theirs, npgrad_fn=ours, atol=1e-9, grad_atol=1e-8)


@pytest.mark.parametrize("order", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norms(order):
    check_op(
        [(2, 5, 3)],
        torch_fn=lambda a: TL.matrix_norm(a, order),
        npgrad_fn=lambda a: linalg.matrix_norm(a, order),
        atol=1e-9,
        grad_atol=1e-8,
    )


def test_det_gradient_of_a_singular_matrix():
    """The cofactor matrix, not A^-T: finite for rank n - 1 (through the SVD)."""
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    a = npgrad.tensor(singular, requires_grad=True)
    linalg.det(a).backward()
    cofactors = np.array(
        [
            [
                np.linalg.det(np.delete(np.delete(singular, i, 0), j, 1)) * (-1) ** (i + j)
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(a.grad.numpy(), cofactors, atol=1e-12)


def test_slogdet_logdet_and_svd():
    a = npgrad.tensor([[0.0, 2.0], [1.0, 0.0]])  # det -2
    sign, logabsdet = linalg.slogdet(a)
    assert sign.item() == -1.0 and math.isclose(logabsdet.item(), math.log(2), rel_tol=1e-6)
    assert math.isnan(linalg.logdet(a).item())
    x = npgrad.tensor(make_inputs([(4, 3)])[0], requires_grad=True)
    u, s, vh = linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose((u * s) @ vh, x.numpy(), atol=1e-12)  # A = U diag(S) Vh
    s.sum().backward()  # through the singular values: fine
    assert x.grad is not None
    with pytest.raises(NotImplementedError, match="singular vectors"):
        linalg.svd(x, full_matrices=False).U.sum().backward()
    q, r = linalg.qr(x)
    np.testing.assert_allclose((q @ r).numpy(), x.numpy(), atol=1e-12)
    assert linalg.matrix_rank(npgrad.ones(3, 3)).item() == 1


def test_torch_level_aliases_and_functions():
    a, b = make_inputs([(3, 3), (3, 3)])
    check_grad(lambda x: npgrad.inverse(x) + x.det(), a)
    check_grad(lambda x: x.cumprod(1), np.array([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 0.0]]))
    check_grad(lambda x, y: npgrad.cdist(x, y), a, b)
    check_grad(lambda x, y: npgrad.tensordot(x, y, dims=([1], [0])), a, b)
    check_grad(lambda x, y: npgrad.kron(x, y), a[:2, :2], b)
    if torch is None:
        return
    for name, args in [
        ("addmm", (a, a, b)),
        ("kron", (a, b)),
        ("cdist", (a, b)),
        ("dist", (a, b)),
        ("cumprod", (a, 1)),
        ("diagonal", (a, 1)),
        ("take_along_dim", (a, np.argsort(a, axis=1), 1)),
        ("logdet", (a @ a.T + np.eye(3),)),
    ]:
        ours = getattr(npgrad, name)(
            *(npgrad.tensor(x) if isinstance(x, np.ndarray) else x for x in args)
        )
        theirs = getattr(torch, name)(
            *(torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args)
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12, err_msg=name)


@needs_torch
def test_reductions_with_nan_and_moments():
    x = make_inputs([(3, 4)])[0]
    x[1, 2] = np.nan
    for name in ("nansum", "nanmean"):
        ours = getattr(npgrad, name)(npgrad.tensor(x), dim=1)
        theirs = getattr(torch, name)(torch.tensor(x), dim=1)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    y = make_inputs([(3, 4)])[0]
    for ours, theirs in zip(
        npgrad.var_mean(npgrad.tensor(y), 1), torch.var_mean(torch.tensor(y), 1), strict=True
    ):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        npgrad.logspace(0, 2, 5).numpy(), torch.logspace(0, 2, 5).numpy(), rtol=1e-6
    )


def test_matrix_exp_values_and_gradient():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    symmetric = a + a.T
    values, vectors = np.linalg.eigh(symmetric)
    expected = vectors @ np.diag(np.exp(values)) @ vectors.T  # e^S through its eigenvalues
    np.testing.assert_allclose(
        linalg.matrix_exp(npgrad.tensor(symmetric)).numpy(), expected, rtol=1e-12
    )
    batch = npgrad.tensor(rng.standard_normal((2, 3, 3)) * 4)  # large norms: squarings happen
    product = linalg.matrix_exp(batch) @ npgrad.matrix_exp(-batch)  # e^A e^-A = I
    np.testing.assert_allclose(product.numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-9)
    np.testing.assert_allclose(linalg.matrix_exp(npgrad.zeros(2, 2)).numpy(), np.eye(2))
    assert check_grad(linalg.matrix_exp, rng.standard_normal((2, 3, 3)))
    if torch is not None:
        check_op([(2, 3, 3)], TL.matrix_exp, npgrad_fn=linalg.matrix_exp)
    with pytest.raises(ValueError, match="matrix_exp"):
        linalg.matrix_exp(npgrad.zeros(2, 3))


def test_lu_factor_lu_and_lu_solve():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 3))
    factors, pivots = linalg.lu_factor(npgrad.tensor(a))
    p, lower, upper = linalg.lu(npgrad.tensor(a))
    np.testing.assert_allclose((p @ lower @ upper).numpy(), a, atol=1e-12)
    assert np.all(np.abs(np.tril(lower.numpy(), -1)) <= 1)  # partial pivoting: |multipliers| <= 1
    assert pivots.dtype == npgrad.int32 and pivots.numpy().min() >= 1
    unpacked = npgrad.lu_unpack(factors, pivots)
    np.testing.assert_array_equal(unpacked.P.numpy(), p.numpy())
    x = linalg.lu_solve(factors, pivots, npgrad.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10)
    x_adjoint = linalg.lu_solve(factors, pivots, npgrad.tensor(b), adjoint=True)
    np.testing.assert_allclose(x_adjoint.numpy(), np.linalg.solve(np.swapaxes(a, -1, -2), b))
    right = linalg.lu_solve(factors, pivots, npgrad.tensor(np.swapaxes(b, -1, -2)), left=False)
    np.testing.assert_allclose(right.numpy() @ a, np.swapaxes(b, -1, -2), atol=1e-12)
    singular = npgrad.tensor([[1.0, 2.0], [2.0, 4.0]])  # factorises; U has a zero pivot
    assert linalg.lu(singular).U.numpy()[1, 1] == 0
    assert check_grad(lambda m: linalg.lu_factor(m).LU, a)
    assert check_grad(lambda m, rhs: linalg.lu_solve(*linalg.lu_factor(m), rhs), a, b)
    with pytest.raises(NotImplementedError, match="pivot=False"):
        linalg.lu_factor(npgrad.tensor(a), pivot=False)


@needs_torch
def test_lu_matches_torch():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((3, 5, 5)), rng.standard_normal((3, 5, 2))
    results = []
    for lib, module in ((npgrad, linalg), (torch, TL)):
        matrix, rhs = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        factors, pivots = module.lu_factor(matrix)
        p, lower, upper = module.lu(matrix)
        x = module.lu_solve(factors, pivots, rhs)
        (factors.cos().sum() + (x * x).sum() + (lower * upper).sum()).backward()
        values = [factors, p, lower, upper, x, matrix.grad, rhs.grad]
        results.append([t.detach().numpy() for t in values] + [pivots.numpy().astype(int)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_cholesky_ex_and_solve_triangular():
    good = npgrad.tensor([[4.0, 2.0], [2.0, 3.0]], dtype=npgrad.float64)
    bad = npgrad.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=npgrad.float64)
    factor, info = npgrad.linalg.cholesky_ex(npgrad.stack([good, bad]))
    assert info.tolist() == [0, 2]
    np.testing.assert_allclose(factor[0].numpy(), np.linalg.cholesky(good.numpy()))
    assert not factor[1].numpy().any()
    with pytest.raises(np.linalg.LinAlgError, match="order 2"):
        npgrad.linalg.cholesky_ex(bad, check_errors=True)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    for upper in (True, False):
        for unit in (True, False):
            tri = np.triu(a) if upper else np.tril(a)
            if unit:
                tri = tri - np.diag(np.diag(tri)) + np.eye(3)
            x = npgrad.linalg.solve_triangular(
                npgrad.tensor(a), npgrad.tensor(b), upper=upper, unitriangular=unit
            )
            np.testing.assert_allclose(tri @ x.numpy(), b, atol=1e-10)
            y = npgrad.linalg.solve_triangular(
                npgrad.tensor(a), npgrad.tensor(b.T), upper=upper, left=False
            )
            np.testing.assert_allclose(y.numpy() @ (np.triu(a) if upper else np.tril(a)), b.T)
    ta = npgrad.tensor(a, requires_grad=True)
    tb = npgrad.tensor(b, requires_grad=True)
    assert check_grad(lambda p, q: npgrad.linalg.solve_triangular(p, q, upper=True), a, b)
    npgrad.linalg.solve_triangular(ta, tb, upper=True).sum().backward()
    assert not np.tril(ta.grad.numpy(), -1).any()  # only the triangle read gets a gradient
