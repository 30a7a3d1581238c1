"""affine_grid, grid_sample (the spatial transformer's pieces) and gumbel_softmax."""

import numpy as np
import pytest
from helpers import check_op, make_inputs, torch

import npgrad
from npgrad import nn

F = nn.functional
TF = torch.nn.functional if torch else None


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    check_op(
        [(2, 2, 3)],
        torch_fn=lambda t: TF.affine_grid(t, (2, 3, 5, 4), align_corners=align_corners),
        npgrad_fn=lambda t: F.affine_grid(t, (2, 3, 5, 4), align_corners=align_corners),
    )


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    """Points inside and outside the image (the grid spans [-1.2, 1.2])."""
    image, grid = make_inputs([(2, 3, 5, 6), (2, 4, 3, 2)], low=-1.2, high=1.2)
    kwargs = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    check_op(
        [image.shape, grid.shape],
        torch_fn=lambda x, g: TF.grid_sample(x, g, **kwargs),
        npgrad_fn=lambda x, g: F.grid_sample(x, g, **kwargs),
        vals=[image, grid],
        forward_only=mode == "nearest",  # (finite differences jump at pixel boundaries)
    )


def test_spatial_transformer_identity_and_shift():
    """The identity transform reproduces the image; a shift by one pixel moves it."""
    image = npgrad.arange(16.0).reshape(1, 1, 4, 4)
    identity = npgrad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = F.affine_grid(identity, (1, 1, 4, 4), align_corners=False)
    np.testing.assert_allclose(
        F.grid_sample(image, grid, align_corners=False).numpy(), image.numpy(), atol=1e-6
    )
    shift = npgrad.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])  # half the width's range = 1 px
    moved = F.grid_sample(
        image, F.affine_grid(shift, (1, 1, 4, 4), align_corners=False), align_corners=False
    )
    np.testing.assert_allclose(moved.numpy()[0, 0, :, :3], image.numpy()[0, 0, :, 1:], atol=1e-5)


def test_gumbel_softmax():
    npgrad.manual_seed(0)
    logits = npgrad.tensor([[2.0, 0.0, -1.0]] * 2000, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(1).numpy(), 1.0, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0} and (hard.sum(1).numpy() == 1).all()
    frequencies = hard.numpy().mean(0)  # samples follow softmax(logits)
    np.testing.assert_allclose(
        frequencies, np.exp([2, 0, -1]) / np.exp([2, 0, -1]).sum(), atol=0.04
    )
    hard.sum().backward()  # the straight-through gradient is the soft sample's
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()
