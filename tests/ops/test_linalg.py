"""Matrix products."""

import numpy as np
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


def test_linear_gradient_keeps_a_transposed_inputs_layout():
    """A flattened batch-last activation is a transposed view: its gradient comes back the same
    way (no transposing copy below), with the same values as for a contiguous input."""
    rng = np.random.default_rng(0)
    x_data, w_data = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    grads = []
    for layout in (x_data, np.asfortranarray(x_data)):
        x, w = npgrad.tensor(layout, requires_grad=True), npgrad.tensor(w_data, requires_grad=True)
        x._data = layout  # keep the layout (tensor() copies in C order)
        Linear.apply(x, w).square().sum().backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    assert grads[1][0].flags.f_contiguous
    for ours, reference in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_linear_feature_mismatch():
    with pytest.raises(ShapeError, match=r"linear.*\(4, 2\).*\(5, 3\)"):
        Linear.apply(npgrad.ones(4, 2), npgrad.ones(5, 3))


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
        ("i,i->", [(4,), (4,)]),
        ("i,j->ij", [(3,), (4,)]),
        ("ij->ji", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("ijk->ik", [(2, 3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("bi,bi->b", [(3, 4), (3, 4)]),
    ],
)
def test_einsum(equation, shapes):
    check_op(
        shapes,
        torch_fn=lambda *xs: torch.einsum(equation, *xs),
        npgrad_fn=lambda *xs: npgrad.einsum(equation, *xs),
    )


def test_einsum_unsupported_cases_say_so():
    with pytest.raises(NotImplementedError, match="diagonal"):
        npgrad.einsum("ii->i", npgrad.ones(3, 3))
    with pytest.raises(NotImplementedError, match="broadcasting"):
        npgrad.einsum("ij,ij->ij", npgrad.ones(1, 3), npgrad.ones(2, 3))
    with pytest.raises(ShapeError, match="do not fit"):
        npgrad.einsum("ijk->i", npgrad.ones(2, 3))
