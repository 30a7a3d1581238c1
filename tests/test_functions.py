"""The ``torch.*`` free functions and the Tensor methods behind them, against PyTorch."""

import numpy as np
import pytest
from helpers import check_op, needs_torch, torch

import npgrad
from npgrad.errors import ShapeError

# name, input shapes, extra arguments: differentiable, checked by gradcheck and against torch
DIFFERENTIABLE = [
    ("add", [(2, 3), (3,)], {"alpha": 2.5}),
    ("sub", [(2, 3), (2, 3)], {"alpha": -1}),
    ("mul", [(2, 3), (1, 3)], {}),
    ("clone", [(2, 3)], {}),
    ("narrow", [(3, 5)], {"dim": 1, "start": 1, "length": 3}),
    ("roll", [(3, 4)], {"shifts": 2}),
    ("roll", [(3, 4)], {"shifts": (1, -3), "dims": (0, 1)}),
    ("diag", [(4,)], {}),
    ("diag", [(4,)], {"diagonal": -1}),
    ("diag", [(3, 5)], {"diagonal": 2}),
    ("diag", [(4, 3)], {"diagonal": -1}),
    ("trace", [(3, 4)], {}),
    ("diff", [(3, 5)], {}),
    ("diff", [(4, 3)], {"n": 2, "dim": 0}),
    ("outer", [(3,), (4,)], {}),
    ("tile", [(2, 3)], {"dims": (2,)}),
    ("tile", [(3,)], {"dims": (2, 2)}),
    ("broadcast_to", [(3, 1)], {"size": (2, 3, 4)}),
    ("movedim", [(2, 3, 4)], {"source": 0, "destination": 2}),
    ("unbind", [(3, 2)], {"dim": 1}),
    ("t", [(2, 3)], {}),
    ("lerp", [(3,), (3,)], {"weight": 0.3}),
]


@pytest.mark.parametrize("name, shapes, kwargs", DIFFERENTIABLE, ids=str)
def test_differentiable_functions(name, shapes, kwargs):
    check_op(
        shapes,
        torch_fn=lambda *xs: getattr(torch, name)(*xs, **kwargs),
        npgrad_fn=lambda *xs: getattr(npgrad, name)(*xs, **kwargs),
    )


@pytest.mark.parametrize("stack", ["hstack", "vstack", "column_stack"])
@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=str)
def test_stacks(stack, shape):
    check_op(
        [shape, shape],
        torch_fn=lambda a, b: getattr(torch, stack)([a, b]),
        npgrad_fn=lambda a, b: getattr(npgrad, stack)([a, b]),
    )


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_median_is_the_lower_median_with_its_index(dim):
    data = np.random.default_rng(0).standard_normal((4, 6))
    if dim is None:
        check_op([(4, 6)], lambda x: torch.median(x), npgrad.median, vals=[data])
    else:
        check_op(
            [(4, 6)],
            torch_fn=lambda x: torch.median(x, dim=dim, keepdim=True).values,
            npgrad_fn=lambda x: npgrad.median(x, dim=dim, keepdim=True).values,
            vals=[data],
        )
        values, indices = npgrad.median(npgrad.tensor(data), dim=dim)
        np.testing.assert_array_equal(
            indices.numpy(), np.argsort(data, axis=dim).take((data.shape[dim] - 1) // 2, axis=dim)
        )
        assert values.shape == indices.shape


@needs_torch
@pytest.mark.parametrize("mode", ["floor", "trunc", None])
def test_div_rounding_modes_match_torch(mode):
    for a, b in [([7, -7, 7, -7, 6], [2, 2, -2, -2, -3]), ([7.5, -7.5], [2.0, 2.0])]:
        ours = npgrad.div(npgrad.tensor(a), npgrad.tensor(b), rounding_mode=mode)
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert ours.tolist() == theirs.tolist()
        assert (ours.dtype.kind == "i") == (not theirs.dtype.is_floating_point)
    with pytest.raises(ValueError, match="rounding_mode"):
        npgrad.div(npgrad.ones(1), 2, rounding_mode="up")


@needs_torch
def test_non_differentiable_functions_match_torch():
    data = [[3, 0, 1], [0, 2, 3]]
    ours, theirs = npgrad.tensor(data), torch.tensor(data)
    assert npgrad.nonzero(ours).tolist() == torch.nonzero(theirs).tolist()
    assert [t.tolist() for t in ours.nonzero(as_tuple=True)] == [
        t.tolist() for t in theirs.nonzero(as_tuple=True)
    ]
    for kwargs in ({}, {"return_inverse": True, "return_counts": True}, {"dim": 1}):
        got, expected = npgrad.unique(ours, **kwargs), torch.unique(theirs, **kwargs)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert [t.tolist() for t in got] == [t.tolist() for t in expected]
    assert npgrad.count_nonzero(ours, dim=1).tolist() == torch.count_nonzero(theirs, dim=1).tolist()
    values, weights = [1, 3, 1, 0], [0.5, 1.0, 2.0, 1.5]
    assert npgrad.bincount(npgrad.tensor(values), minlength=6).tolist() == (
        torch.bincount(torch.tensor(values), minlength=6).tolist()
    )
    assert npgrad.tensor(values).bincount(npgrad.tensor(weights)).tolist() == (
        torch.tensor(values).bincount(torch.tensor(weights)).tolist()
    )
    a, b = npgrad.tensor([0.0, 1.0, 1.0]), npgrad.tensor([1.0, 1.0, 1.0 + 1e-9])
    assert npgrad.isclose(a, b).tolist() == [False, True, True]
    assert npgrad.logical_and(a, b).tolist() == [False, True, True]
    assert npgrad.logical_or(a, npgrad.zeros(3)).tolist() == [False, True, True]
    assert npgrad.logical_xor(a, b).tolist() == [True, False, False]
    assert npgrad.logical_not(a).tolist() == [True, False, False]
    for x, y in [([1.0, 2.0, 3.0], [4.0, 5.0]), ([1.0], [2.0, 3.0, 4.0])]:
        for indexing in ("ij", "xy"):
            got = npgrad.meshgrid(npgrad.tensor(x), npgrad.tensor(y), indexing=indexing)
            expected = torch.meshgrid(torch.tensor(x), torch.tensor(y), indexing=indexing)
            assert [g.tolist() for g in got] == [e.tolist() for e in expected]
    assert npgrad.finfo(npgrad.float32).eps == torch.finfo(torch.float32).eps
    assert npgrad.iinfo(npgrad.int64).max == torch.iinfo(torch.int64).max
    assert npgrad.Size([2, 3]) == npgrad.ones(2, 3).shape


def test_tensor_helpers():
    x = npgrad.ones(2, 3, dtype=npgrad.float64)
    assert x.nelement() == 6 and x.itemsize == 8 and x.nbytes == 48
    assert x.stride() == (3, 1) and x.t().stride(0) == 1
    assert x.new_empty(4).shape == (4,) and x.new_empty(4).dtype == npgrad.float64
    with pytest.raises(ShapeError, match=r"narrow: start \(2\) \+ length \(2\) exceeds"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match="same length"):
        x.roll((1, 2), 0)
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        npgrad.ones(2, 2, 2).diag()
