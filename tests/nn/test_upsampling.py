"""F.interpolate and the upsampling layers, against PyTorch."""

import pytest
from helpers import check_layer, check_op, needs_torch, torch

import npgrad
from npgrad import nn

F = nn.functional

CASES = [
    ((2, 3, 5), {"scale_factor": 2}),
    ((2, 3, 5), {"size": 7}),
    ((2, 3, 5), {"size": 3, "mode": "nearest-exact"}),
    ((2, 3, 5), {"scale_factor": 1.7, "mode": "linear"}),
    ((2, 3, 5), {"size": 9, "mode": "linear", "align_corners": True}),
    ((2, 3, 5), {"size": 3, "mode": "linear"}),  # downsampling
    ((1, 2, 4, 5), {"scale_factor": 2, "mode": "bilinear"}),
    ((1, 2, 4, 5), {"size": (7, 3), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 4, 5), {"size": (6, 8)}),
    ((1, 2, 4, 5), {"scale_factor": (1.5, 2.5)}),
    ((1, 2, 4, 5), {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}),
    ((1, 2, 5, 5), {"scale_factor": 0.5, "mode": "bilinear"}),
    ((1, 2, 1, 5), {"size": (3, 1), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 4, 5), {"size": (3, 2), "mode": "area"}),
    ((2, 3, 7), {"size": 3, "mode": "area"}),
    ((1, 2, 4, 5), {"scale_factor": 2, "mode": "bicubic"}),
    ((1, 2, 4, 5), {"size": (7, 3), "mode": "bicubic", "align_corners": True}),
    ((1, 2, 4, 5), {"size": (9, 11), "mode": "bicubic", "align_corners": False}),
    ((1, 2, 8, 9), {"scale_factor": 0.5, "mode": "bicubic"}),  # downsampling: taps past edges
    ((1, 2, 5, 5), {"scale_factor": (1.7, 0.6), "mode": "bicubic"}),
    ((1, 2, 1, 6), {"size": (3, 1), "mode": "bicubic", "align_corners": True}),
]


@pytest.mark.parametrize("shape, kwargs", CASES, ids=str)
def test_interpolate(shape, kwargs):
    check_op(
        [shape],
        torch_fn=lambda x: torch.nn.functional.interpolate(x, **kwargs),
        npgrad_fn=lambda x: F.interpolate(x, **kwargs),
    )


@needs_torch
@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Upsample", {"scale_factor": 2}, (1, 2, 3, 3)),
        ("Upsample", {"size": (5, 4), "mode": "bilinear"}, (1, 2, 3, 3)),
        ("Upsample", {"scale_factor": 3, "mode": "linear", "align_corners": True}, (2, 2, 4)),
        ("UpsamplingNearest2d", {"scale_factor": 2}, (1, 2, 3, 3)),
        ("UpsamplingBilinear2d", {"size": (5, 7)}, (1, 2, 3, 3)),
        ("Upsample", {"scale_factor": 2, "mode": "bicubic"}, (1, 2, 3, 3)),
    ],
)
def test_upsampling_layers(name, kwargs, shape):
    check_layer(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), shape)


def test_interpolate_errors():
    x = npgrad.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="'linear' with 4-D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="'bicubic' with 3-D input"):
        F.interpolate(npgrad.ones(1, 1, 4), scale_factor=2, mode="bicubic")
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode='nearest')"


def test_bicubic_reproduces_a_linear_ramp_inside_and_a_constant_everywhere():
    """Cubic convolution is exact for polynomials up to degree 2 away from the edges, and
    its four weights sum to 1: a constant image stays constant, edges included."""
    ramp = npgrad.tensor([[[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]]])
    up = F.interpolate(ramp, size=(1, 11), mode="bicubic", align_corners=True)
    assert up[0, 0, 0, 3:8].tolist() == pytest.approx([1.5, 2.0, 2.5, 3.0, 3.5], abs=1e-6)
    flat = F.interpolate(npgrad.full((1, 1, 3, 4), 2.5), scale_factor=1.5, mode="bicubic")
    assert flat.numpy() == pytest.approx(2.5, abs=1e-6)
