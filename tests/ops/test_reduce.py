"""Reductions: every dim form (None, int, negative, tuple) with and without keepdim."""

import numpy as np
import pytest
from helpers import check_grad, check_op, torch

import npgrad

DIMS = [None, 0, -1, (0, 2), (-1, 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "logsumexp", "var", "std"])
def test_reduction_dims(name, dim, keepdim):
    if name == "logsumexp" and dim is None:
        pytest.skip("torch.logsumexp needs dim")
    if name == "prod" and not isinstance(dim, int):
        check_grad(lambda x: x.prod(dim=dim, keepdim=keepdim), np.random.rand(2, 3, 4))
        return  # torch.prod takes one int dim only; ours takes any, checked by gradcheck
    check_op([(2, 3, 4)], lambda x: getattr(x, name)(dim=dim, keepdim=keepdim))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod"])
def test_reduction_of_0d(name):
    check_op([()], lambda x: getattr(x, name)())


@pytest.mark.parametrize("name", ["sum", "prod"])
def test_reduction_over_empty_dim(name):
    check_op([(0, 3)], lambda x: getattr(x, name)(dim=0))


def test_var_correction():
    check_op([(4, 5)], lambda x: x.var(dim=1, correction=0))
    check_op([(4, 5)], lambda x: x.var(dim=0, unbiased=False))


def test_max_min_whole_tensor_and_ties():
    check_op([(3, 4)], lambda x: x.max())
    check_op([(3, 4)], lambda x: x.min())
    check_op([(4,)], lambda x: x.max(), vals=[[1.0, 3.0, 3.0, 2.0]])


@pytest.mark.parametrize("keepdim", [False, True])
def test_max_with_dim_returns_values_and_indices(keepdim):
    check_op(
        [(3, 4)],
        torch_fn=lambda x: x.max(dim=1, keepdim=keepdim).values,
    )
    check_op([(3, 4)], torch_fn=lambda x: x.min(dim=0, keepdim=keepdim).values)
    x = npgrad.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]


def test_prod_with_zeros_is_exact():
    check_op([(2, 3)], lambda x: x.prod(dim=1), vals=[[[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]])
    check_op([(2, 2)], lambda x: x.prod(), vals=[[[0.0, 2.0], [3.0, 4.0]]])


def test_logsumexp_is_stable():
    x = npgrad.tensor([1e4, 1e4, -1e4])
    assert np.isfinite(x.logsumexp(dim=0).item())
    check_op([(3,)], lambda x: x.logsumexp(dim=0), vals=[[500.0, 499.0, -800.0]])


def test_cumsum():
    check_op([(3, 4)], lambda x: x.cumsum(dim=1))
    check_op([(3, 4)], lambda x: x.cumsum(dim=0))


def test_argmax_argmin_all_any():
    x = npgrad.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax().item() == 3
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=0, keepdim=True).shape == (1, 3)
    assert bool((x > -1).all()) and not bool((x > 6).all()) and bool((x > 6).any())


def test_integer_sum_is_int64_and_mean_needs_float():
    assert npgrad.tensor([True, True, False]).sum().item() == 2
    with pytest.raises(TypeError, match="mean"):
        npgrad.tensor([1, 2]).mean()


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        npgrad.ones(2, 3).sum(dim=2)


def test_norm():
    check_op([(3, 4)], lambda x: x.norm())
    if torch is not None:
        check_op([(3, 4)], lambda x: x.norm(p=1, dim=1))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_topk(dim, descending):
    check_op([(3, 4)], lambda x: x.sort(dim=dim, descending=descending).values)
    check_op([(3, 4)], lambda x: x.topk(2, dim=dim, largest=descending).values)
    x = npgrad.tensor([[3.0, 1.0, 2.0]])
    assert x.argsort(dim=1).tolist() == [[1, 2, 0]]
    assert x.topk(2).indices.tolist() == [[0, 2]]
    with pytest.raises(IndexError, match="topk"):
        x.topk(4)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5, 1])
def test_norm_dims_and_orders(p, dim, keepdim):
    if p == 0.5:  # |x|^(p-1) is steep near 0: keep finite differences away from it
        check_op([(2, 3, 4)], lambda x: x.norm(p, dim, keepdim), low=0.5, high=2.0)
        return
    check_op([(2, 3, 4)], lambda x: x.norm(p, dim, keepdim))


@pytest.mark.parametrize("shape", [(), (3,), (0,), (2, 0)], ids=str)
def test_norm_and_std_edge_shapes(shape):
    check_op([shape], lambda x: x.norm())
    if shape and np.prod(shape) > 1:
        check_op([shape], lambda x: x.std())


ZERO_SUBGRADIENT = {
    # PyTorch gives these 0 (not 0 / 0 = nan) where the norm or the deviation is 0
    "norm": lambda x: x.norm(),
    "norm_p3": lambda x: x.norm(p=3),
    "norm_dim": lambda x: x.reshape(2, 2).norm(dim=1),
    "vector_norm": lambda x: npgrad.linalg.vector_norm(x),
    "vector_norm_p3": lambda x: npgrad.linalg.vector_norm(x, 3),
    "matrix_norm": lambda x: npgrad.linalg.matrix_norm(x.reshape(2, 2)),
    "std": lambda x: x.std(),
    "std_dim": lambda x: x.reshape(2, 2).std(dim=1),
    "dist": lambda x: npgrad.dist(x, npgrad.zeros(4, dtype=x.dtype)),
}


@pytest.mark.parametrize("name", list(ZERO_SUBGRADIENT))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_and_std_gradient_is_zero_where_they_are_zero(name, dtype):
    """A zero vector (or a constant one, for std) gets gradient 0, as in PyTorch: a
    regulariser like sum(p.norm()) over zero-initialised biases must not make NaNs."""
    fn = ZERO_SUBGRADIENT[name]
    for values in ([0.0, 0.0, 0.0, 0.0], [1.5, 1.5, 1.5, 1.5], [0.0, 0.0, 3.0, -4.0]):
        x = npgrad.tensor(np.array(values, dtype), requires_grad=True)
        with np.errstate(all="raise"):
            fn(x).sum().backward()
        grad = x.grad.numpy()
        assert grad.dtype == dtype and np.isfinite(grad).all(), (name, values, grad)
        if torch is not None:
            xt = torch.tensor(
                values, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True
            )
            torch_fn = {
                "vector_norm": lambda t: torch.linalg.vector_norm(t),
                "vector_norm_p3": lambda t: torch.linalg.vector_norm(t, 3),
                "matrix_norm": lambda t: torch.linalg.matrix_norm(t.reshape(2, 2)),
                "dist": lambda t: torch.dist(t, torch.zeros(4, dtype=t.dtype)),
            }.get(name, fn)
            torch_fn(xt).sum().backward()
            np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_normalize_and_cosine_similarity_of_a_zero_vector_match_torch():
    """x / max(||x||, eps) at x = 0: the norm's gradient is 0 there, so the gradient is 1 / eps
    (PyTorch's), not NaN; cosine similarity likewise."""
    x = npgrad.tensor([[0.0, 0.0]], requires_grad=True)
    npgrad.nn.functional.normalize(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1e12, 1e12]], rtol=1e-6)
    y = npgrad.tensor([[0.0, 0.0]], requires_grad=True)
    npgrad.nn.functional.cosine_similarity(y, npgrad.tensor([[1.0, 0.0]])).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[1e8, 0.0]], rtol=1e-6)


def test_pow_with_exponent_zero_has_gradient_zero_at_zero():
    x = npgrad.tensor([0.0, 2.0, -1.0], requires_grad=True)
    (x**0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    x.grad = None
    exponent = npgrad.tensor([0.0, 2.0, 0.0])
    (x**exponent).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 0.0])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(name, dim):
    check_op([(3, 4, 5)], lambda x: getattr(x, name)(dim).values)
    ties = np.float32([[1, 3, 3, 2, 5, 0, 5, 7, np.nan, 9]])  # ties take the later index
    x = np.repeat(ties, 2, axis=0).T.copy() if dim == 0 else np.repeat(ties, 2, axis=0)
    values, indices = getattr(npgrad.tensor(x), name)(dim)
    if torch is not None:
        expected = getattr(torch.tensor(x), name)(dim)
        np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    assert indices.dtype == npgrad.int64


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(k, keepdim):
    check_op([(3, 4)], lambda x: x.kthvalue(k, 1, keepdim).values)
    check_op([(4, 3)], lambda x: x.kthvalue(k, 0, keepdim).values)
    x = npgrad.tensor([[3.0, 1.0, 4.0, 2.0]])
    assert x.kthvalue(k, 1).indices.tolist() == [[1, 3, 0, 2][k - 1]]
    with pytest.raises(IndexError, match="kthvalue"):
        x.kthvalue(5)


def test_median_of_all_elements_splits_the_gradient_among_ties():
    check_op([(4,)], lambda x: x.median(), vals=[[1.0, 2.0, 2.0, 3.0]])  # torch: 0.5 each
    check_op([(3, 3)], lambda x: x.median())
    x = npgrad.tensor([1.0, np.nan, 2.0, np.nan], requires_grad=True)
    x.median().backward()  # NaN is the median; its gradient goes to the NaNs, as PyTorch's
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.0, 0.5])


MODE_VALUES = np.array([[1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 5.0], [4.0, 4.0, 4.0, 0.0, 0.0, 0.0, 1.0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_takes_the_smallest_most_frequent_value_at_its_last_place(dim, keepdim):
    x = npgrad.tensor(MODE_VALUES, dtype=npgrad.float64, requires_grad=True)
    values, indices = npgrad.mode(x, dim, keepdim)
    if dim != 0:
        np.testing.assert_array_equal(values.detach().numpy().ravel(), [1.0, 0.0])
        np.testing.assert_array_equal(indices.numpy().ravel(), [5, 5])
    values.sum().backward()
    expected = np.zeros_like(MODE_VALUES)
    np.put_along_axis(
        expected, indices.numpy().reshape(-1, 1) if dim != 0 else indices.numpy().reshape(1, -1),
        1.0, axis=dim,
    )  # fmt: skip
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    if torch is not None:
        theirs = torch.mode(torch.tensor(MODE_VALUES), dim, keepdim)
        np.testing.assert_array_equal(values.detach().numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
    assert npgrad.tensor(3.0).mode().values.item() == 3.0


def test_nanmedian_ignores_nans():
    data = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 2.0], [3.0, 1.0, 2.0]])
    x = npgrad.tensor(data, requires_grad=True)
    values, indices = x.nanmedian(1)
    np.testing.assert_array_equal(values.detach().numpy(), [np.nan, 1.0, 2.0])
    np.testing.assert_array_equal(indices.numpy(), [0, 0, 2])
    x.nanmedian().backward()  # the lower median of the six numbers, 2, appears twice
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [0, 0, 0, 0, 0, 0.5, 0, 0, 0.5])
    assert np.isnan(npgrad.tensor([np.nan, np.nan]).nanmedian().item())
    if torch is not None:
        theirs = torch.tensor(data).nanmedian(0, keepdim=True)
        ours = npgrad.nanmedian(npgrad.tensor(data), 0, keepdim=True)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_mode_and_nanmedian_of_an_empty_dim_raise_and_name_it():
    for name in ("mode", "nanmedian"):
        with pytest.raises(IndexError, match=rf"{name}: dim 1 of a tensor of shape \(2, 0\)"):
            getattr(npgrad.zeros(2, 0), name)(1)
        assert getattr(npgrad.zeros(0, 3), name)(1).values.shape == (0,)
