"""Sparse COO tensors: construction, conversion, products and their gradients, softmax over
stored entries; values against dense NumPy, and against torch.sparse where torch is installed."""

import numpy as np
import pytest

import npgrad
from npgrad.diagnostics import gradcheck
from npgrad.errors import ShapeError


def _random_sparse(rng, shape, nnz, duplicates=False, dtype=np.float64):
    index = np.stack([rng.integers(0, n, size=nnz) for n in shape])
    if not duplicates:  # distinct positions
        flat = rng.choice(int(np.prod(shape)), size=nnz, replace=False)
        index = np.stack(np.unravel_index(flat, shape))
    return index, rng.standard_normal(nnz).astype(dtype)


def _dense(index, values, shape):
    out = np.zeros(shape, dtype=values.dtype)
    np.add.at(out, tuple(index), values)
    return out


def test_construction_infers_size_and_checks_its_arguments():
    a = npgrad.sparse_coo_tensor([[0, 2], [1, 0]], [1.0, 2.0])
    assert a.shape == (3, 2) and a.is_sparse and a.layout is npgrad.sparse_coo
    assert a.dtype == npgrad.float32 and a._nnz() == 2 and a.sparse_dim() == 2
    assert not npgrad.ones(1).is_sparse and npgrad.ones(1).layout is npgrad.strided
    legacy = npgrad.sparse.FloatTensor(npgrad.tensor([[0, 1]]), npgrad.tensor([5.0, 6.0]), (4,))
    assert legacy.to_dense().tolist() == [5.0, 6.0, 0.0, 0.0]
    with pytest.raises(IndexError, match="out of bounds"):
        npgrad.sparse_coo_tensor([[0, 3]], [1.0, 2.0], (3,))
    with pytest.raises(ShapeError, match="2 indices but values of shape"):
        npgrad.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="integer"):
        npgrad.sparse_coo_tensor([[0.5, 1.0]], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="coalesce"):
        a.values()


def test_coalesce_sums_duplicates_and_to_dense_matches():
    rng = np.random.default_rng(0)
    index, values = _random_sparse(rng, (5, 4), 30, duplicates=True)
    a = npgrad.sparse_coo_tensor(index, values, (5, 4))
    expected = _dense(index, values, (5, 4))
    np.testing.assert_allclose(a.to_dense().numpy(), expected)
    c = a.coalesce()
    assert c.is_coalesced() and c._nnz() == np.count_nonzero(np.abs(expected) > 0)
    linear = np.ravel_multi_index(tuple(c.indices().numpy()), (5, 4))
    assert (np.diff(linear) > 0).all()
    np.testing.assert_allclose(c.values().numpy(), expected[tuple(c.indices().numpy())])
    np.testing.assert_allclose(c.to_dense().numpy(), expected)


def test_hybrid_values_and_to_sparse_with_dense_dims():
    x = npgrad.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    s = x.to_sparse(sparse_dim=1)
    assert s.indices().tolist() == [[1, 2]] and s.values().tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert s.dense_dim() == 1 and s.to_dense().tolist() == x.tolist()
    full = x.to_sparse()
    assert full.indices().tolist() == [[1, 2], [0, 1]] and full.values().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("duplicates", [False, True])
def test_mm_values_and_gradients(duplicates):
    rng = np.random.default_rng(1)
    index, values = _random_sparse(rng, (6, 5), 12, duplicates=duplicates)
    dense = rng.standard_normal((5, 3))
    a = npgrad.sparse_coo_tensor(index, values, (6, 5))
    expected = _dense(index, values, (6, 5)) @ dense
    np.testing.assert_allclose(npgrad.sparse.mm(a, npgrad.tensor(dense)).numpy(), expected)
    np.testing.assert_allclose((a @ npgrad.tensor(dense)).numpy(), expected)
    np.testing.assert_allclose(npgrad.spmm(a, npgrad.tensor(dense)).numpy(), expected)
    np.testing.assert_allclose(npgrad.mm(a, npgrad.tensor(dense)).numpy(), expected)
    left = rng.standard_normal((2, 6))
    np.testing.assert_allclose(
        (npgrad.tensor(left) @ a).numpy(), left @ _dense(index, values, (6, 5))
    )
    vector = rng.standard_normal(5)
    np.testing.assert_allclose(
        npgrad.mv(a, npgrad.tensor(vector)).numpy(), _dense(index, values, (6, 5)) @ vector
    )

    def product(vals, b):
        return npgrad.sparse.mm(npgrad.sparse_coo_tensor(index, vals, (6, 5)), b)

    def product_left(vals, b):
        return b @ npgrad.sparse_coo_tensor(index, vals, (6, 5))

    t = [npgrad.tensor(values, requires_grad=True), npgrad.tensor(dense, requires_grad=True)]
    assert gradcheck(product, t)
    t[1] = npgrad.tensor(left, requires_grad=True)
    assert gradcheck(product_left, t)


def test_sparse_leaf_gets_a_sparse_grad():
    a = npgrad.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2), requires_grad=True)
    b = npgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (a @ b).sum().backward()
    assert a.is_leaf and a.grad.is_sparse and a.grad.shape == (2, 2)
    # d sum(A B) / dA[r, c] = sum of row c of B
    assert a.grad._values().tolist() == [7.0, 3.0]
    assert b.grad.tolist() == [[3.0, 3.0], [2.0, 2.0]]


def test_arithmetic_sum_and_transpose():
    rng = np.random.default_rng(2)
    index, values = _random_sparse(rng, (4, 3, 2), 10)
    a = npgrad.sparse_coo_tensor(index, values, (4, 3, 2))
    d = _dense(index, values, (4, 3, 2))
    other = rng.standard_normal((4, 3, 2))
    np.testing.assert_allclose((a * 2).to_dense().numpy(), d * 2)
    np.testing.assert_allclose((a / 4).to_dense().numpy(), d / 4)
    np.testing.assert_allclose((a * npgrad.tensor(other)).to_dense().numpy(), d * other)
    np.testing.assert_allclose((a + a).to_dense().numpy(), 2 * d)
    np.testing.assert_allclose((a - a).coalesce().to_dense().numpy(), 0 * d)
    np.testing.assert_allclose((a + npgrad.tensor(other)).numpy(), d + other)
    np.testing.assert_allclose(a.sum().item(), d.sum())
    for dim in (0, 1, 2, (0, 2), (0, 1)):
        out = npgrad.sparse.sum(a, dim)
        dense_out = out.to_dense() if out.is_sparse else out
        np.testing.assert_allclose(dense_out.numpy(), d.sum(axis=dim))
    m = npgrad.sparse_coo_tensor(index[:2], values, (4, 3))
    np.testing.assert_allclose(m.t().to_dense().numpy(), _dense(index[:2], values, (4, 3)).T)


def test_softmax_over_stored_entries():
    a = npgrad.sparse_coo_tensor([[0, 0, 1, 2, 2], [0, 2, 1, 0, 1]], [1.0, 2.0, 5.0, 0.0, 0.0])
    s = npgrad.sparse.softmax(a, dim=1).to_dense().numpy()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(s[0], [e[0] / e.sum(), 0, e[1] / e.sum()], rtol=1e-6)
    np.testing.assert_allclose(s[1], [0, 1, 0]) and np.testing.assert_allclose(s[2], [0.5, 0.5, 0])

    def soft(vals):
        b = npgrad.sparse_coo_tensor([[0, 0, 1, 2, 2], [0, 2, 1, 0, 1]], vals, (3, 3))
        return npgrad.sparse.softmax(b, dim=0).to_dense() * npgrad.arange(9.0).double().reshape(
            3, 3
        )

    assert gradcheck(
        soft, [npgrad.tensor([1.0, 2.0, 5.0, 0.3, -1.0], dtype=npgrad.float64, requires_grad=True)]
    )


def test_parity_with_torch_sparse():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    index, values = _random_sparse(rng, (7, 6), 20, duplicates=True)
    dense = rng.standard_normal((6, 4))
    ours = npgrad.sparse_coo_tensor(index, npgrad.tensor(values, requires_grad=True), (7, 6))
    theirs = torch.sparse_coo_tensor(
        torch.tensor(index), torch.tensor(values), (7, 6), requires_grad=True
    )
    b_ours = npgrad.tensor(dense, requires_grad=True)
    b_theirs = torch.tensor(dense, requires_grad=True)
    out_ours = npgrad.sparse.mm(ours, b_ours)
    out_theirs = torch.sparse.mm(theirs, b_theirs)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    (out_ours**2).sum().backward()
    (out_theirs**2).sum().backward()
    np.testing.assert_allclose(b_ours.grad.numpy(), b_theirs.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        ours.grad.to_dense().numpy(), theirs.grad.to_dense().numpy(), rtol=1e-12
    )
    c_ours, c_theirs = ours.coalesce(), theirs.detach().coalesce()
    assert c_ours.indices().tolist() == c_theirs.indices().tolist()
    for dim in (0, 1):
        np.testing.assert_allclose(
            npgrad.sparse.softmax(c_ours, dim).to_dense().detach().numpy(),
            torch.sparse.softmax(c_theirs, dim).to_dense().numpy(),
            rtol=1e-12,
        )
