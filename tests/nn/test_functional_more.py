"""The functional forms of the less common layers: gradcheck + torch parity in one table."""

import pytest
from helpers import check_op, torch

from npgrad import nn

F = nn.functional

# name, input shapes, keyword options (inputs avoid the kinks: random values, not integers)
CASES = [
    ("celu", [(3, 4)], {"alpha": 0.7}),
    ("prelu", [(2, 3, 4), (3,)], {}),
    ("prelu", [(2, 3), (1,)], {}),
    ("glu", [(2, 4, 3)], {"dim": 1}),
    ("softmin", [(2, 5)], {"dim": 1}),
    ("threshold", [(3, 4)], {"threshold": 0.1, "value": -2.0}),
    ("tanhshrink", [(3, 4)], {}),
    ("softshrink", [(3, 4)], {"lambd": 0.3}),
    ("hardshrink", [(3, 4)], {"lambd": 0.3}),
    ("pixel_shuffle", [(2, 8, 3, 2)], {"upscale_factor": 2}),
    ("pixel_unshuffle", [(1, 2, 4, 6)], {"downscale_factor": 2}),
    ("pairwise_distance", [(3, 5), (3, 5)], {}),
    ("pairwise_distance", [(3, 5), (1, 5)], {"p": 1.0, "keepdim": True}),
    ("bilinear", [(3, 4), (3, 2), (5, 4, 2), (5,)], {}),
    ("local_response_norm", [(2, 5, 3, 2)], {"size": 3}),
    ("local_response_norm", [(2, 4, 3)], {"size": 2, "alpha": 0.2, "k": 2.0}),
    ("unfold", [(2, 3, 5, 4)], {"kernel_size": (2, 3), "padding": 1, "stride": 2}),
    ("fold", [(2, 12, 6)], {"output_size": (3, 4), "kernel_size": 2}),
    ("rms_norm", [(3, 4)], {"normalized_shape": (4,)}),
    ("rms_norm", [(2, 2, 3)], {"normalized_shape": (2, 3), "eps": 1e-3}),
]


@pytest.mark.parametrize("name, shapes, kwargs", CASES, ids=str)
def test_functional(name, shapes, kwargs):
    check_op(
        shapes,
        torch_fn=lambda *xs: getattr(torch.nn.functional, name)(*xs, **kwargs),
        npgrad_fn=lambda *xs: getattr(F, name)(*xs, **kwargs),
        grad_atol=1e-7 if name == "celu" else 1e-6,  # (torch's celu gradient: 1e-8 off)
    )


def test_rms_norm_with_weight():
    check_op(
        [(3, 2, 4), (2, 4)],
        torch_fn=lambda x, w: torch.nn.functional.rms_norm(x, (2, 4), w),
        npgrad_fn=lambda x, w: F.rms_norm(x, (2, 4), w),
    )
