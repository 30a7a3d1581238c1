"""F.pad's modes, the padding layers and convolutions' padding_mode, against PyTorch."""

import numpy as np
import pytest
from helpers import check_layer, check_op, needs_torch, torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npgrad
from npgrad import nn
from npgrad.errors import ShapeError

F = nn.functional


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize(
    "shape, pad",
    [((2, 3, 5), (2, 1)), ((1, 2, 4, 5), (1, 3, 2, 0)), ((1, 2, 4, 5), (-1, 2, 1, -2))],
    ids=str,
)
def test_pad_modes(mode, shape, pad):
    check_op(
        [shape],
        torch_fn=lambda x: torch.nn.functional.pad(x, pad, mode),
        npgrad_fn=lambda x: F.pad(x, pad, mode),
    )


@needs_torch
@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 6),
    before=st.integers(-2, 6),
    after=st.integers(-2, 6),
    mode=st.sampled_from(["reflect", "replicate", "circular"]),
)
def test_pad_random_widths_match_torch_or_fail_as_it_does(size, before, after, mode):
    kept = size + min(before, 0) + min(after, 0)
    # (torch reads past the cropped input when circular padding exceeds it: npgrad raises)
    assume(kept > 0 and (mode != "circular" or max(before, after) <= kept))
    x = np.arange(2.0 * size).reshape(1, 2, size)
    try:
        expected = torch.nn.functional.pad(torch.tensor(x), (before, after), mode).tolist()
    except RuntimeError:
        with pytest.raises(ShapeError, match=f"{mode} padding"):
            F.pad(npgrad.tensor(x), (before, after), mode)
        return
    assert F.pad(npgrad.tensor(x), (before, after), mode).tolist() == expected


@needs_torch
@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("ZeroPad2d", ((1, 2, 0, 3),), (1, 2, 3, 3)),
        ("ZeroPad1d", (2,), (2, 3, 4)),
        ("ConstantPad2d", (1, 2.5), (1, 2, 3, 3)),
        ("ConstantPad1d", ((0, 2), -1.0), (2, 3, 4)),
        ("ReflectionPad2d", (2,), (1, 2, 3, 4)),
        ("ReflectionPad1d", ((1, 3),), (2, 3, 4)),
        ("ReplicationPad2d", ((3, 0, 1, 1),), (1, 2, 3, 4)),
        ("ReplicationPad1d", (2,), (2, 3, 4)),
        ("CircularPad2d", (1,), (1, 2, 3, 4)),
        ("CircularPad1d", ((2, 1),), (2, 3, 4)),
    ],
)
def test_padding_layers(name, args, shape):
    check_layer(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), shape)


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m, mode: m.Conv2d(2, 3, 3, padding=1, padding_mode=mode), (2, 2, 5, 6)),
        (
            lambda m, mode: m.Conv2d(
                2, 3, (2, 3), padding="same", dilation=(1, 2), padding_mode=mode
            ),
            (2, 2, 5, 6),
        ),
        (lambda m, mode: m.Conv1d(2, 4, 3, padding=2, stride=2, padding_mode=mode), (2, 2, 7)),
    ],
)
def test_convolution_padding_modes(mode, make, shape):
    check_layer(make(nn, mode), make(torch.nn, mode), shape)


def test_padding_errors():
    with pytest.raises(ShapeError, match=r"circular padding of \(2, -1\)"):
        F.pad(npgrad.ones(1, 1, 2), (2, -1), "circular")  # wider than the 1 element left
    with pytest.raises(ValueError, match="padding_mode must be"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="only padding_mode 'zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="pad: mode must be"):
        F.pad(npgrad.ones(2, 2), (1, 1), "mirror")
    with pytest.raises(ValueError, match="padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))
    assert repr(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")).endswith(
        "padding_mode=circular)"
    )
