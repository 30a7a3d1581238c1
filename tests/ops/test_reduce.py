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
