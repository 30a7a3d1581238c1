"""Matrix products."""

import pytest
from helpers import check_op, torch

import npgrad
from npgrad.errors import ShapeError
from npgrad.ops.linalg import Linear

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    check_op(shapes, lambda a, b: a @ b)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        npgrad.ones(2, 3) @ npgrad.ones(4, 5)
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        npgrad.ones(()) @ npgrad.ones(3)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 4, 3), (3,), (0, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear(x_shape, bias):
    shapes = [x_shape, (5, 3)] + ([(5,)] if bias else [])

    def ours(x, w, b=None):
        return Linear.apply(x, w, b)

    def theirs(x, w, b=None):
        return torch.nn.functional.linear(x, w, b)

    check_op(shapes, torch_fn=theirs if torch else ours, npgrad_fn=ours)


def test_linear_feature_mismatch():
    with pytest.raises(ShapeError, match=r"linear.*\(4, 2\).*\(5, 3\)"):
        Linear.apply(npgrad.ones(4, 2), npgrad.ones(5, 3))
