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
    with pytest.raises(NotImplementedError, match="'bicubic'"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode='nearest')"
