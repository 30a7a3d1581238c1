"""Activations: parity, gradcheck, float32 stability for |x| up to 1e4."""

import numpy as np
import pytest
from helpers import check_op, torch

import npgrad
from npgrad.ops import activation as A

F_TORCH = torch.nn.functional if torch else None

ACTIVATIONS = {
    "sigmoid": (lambda x: x.sigmoid(), lambda x: A.Sigmoid.apply(x)),
    "tanh": (lambda x: x.tanh(), lambda x: A.Tanh.apply(x)),
    "relu": (lambda x: x.relu(), lambda x: A.ReLU.apply(x)),
    "leaky_relu": (
        lambda x: F_TORCH.leaky_relu(x, 0.1),
        lambda x: A.LeakyReLU.apply(x, negative_slope=0.1),
    ),
    "elu": (lambda x: F_TORCH.elu(x, 0.7), lambda x: A.ELU.apply(x, alpha=0.7)),
    "gelu": (lambda x: F_TORCH.gelu(x), lambda x: A.GELU.apply(x)),
    "gelu_tanh": (
        lambda x: F_TORCH.gelu(x, approximate="tanh"),
        lambda x: A.GELU.apply(x, approximate="tanh"),
    ),
    "silu": (lambda x: F_TORCH.silu(x), lambda x: A.SiLU.apply(x)),
    "softplus": (lambda x: F_TORCH.softplus(x), lambda x: A.Softplus.apply(x)),
    "softplus_beta": (
        lambda x: F_TORCH.softplus(x, beta=2.0, threshold=3.0),
        lambda x: A.Softplus.apply(x, beta=2.0, threshold=3.0),
    ),
    "softmax": (lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
    "softmax_dim0": (lambda x: x.softmax(0), lambda x: x.softmax(0)),
    "log_softmax": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1)),
    "log_softmax_dim0": (lambda x: x.log_softmax(0), lambda x: x.log_softmax(0)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (0, 4)], ids=str)
def test_activation(name, shape):
    theirs, ours = ACTIVATIONS[name]
    if name.endswith("dim0") and shape == ():
        shape = (1,)
    # keep away from the kinks of relu-like functions, where finite differences are meaningless
    vals = None
    if shape == (5,):
        vals = [[-2.5, -0.7, 0.3, 1.1, 2.9]]
    check_op([shape], torch_fn=theirs if torch else ours, npgrad_fn=ours, vals=vals, low=-3, high=3)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_stable_for_large_inputs(name):
    _, ours = ACTIVATIONS[name]
    x = npgrad.tensor([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = ours(x)
        y.backward(npgrad.ones_like(y))
    assert y.dtype == npgrad.float32 and x.grad.dtype == npgrad.float32
    assert np.isfinite(y.numpy()).all() or name.startswith("log_softmax")
    assert np.isfinite(x.grad.numpy()).all()
    if torch is not None and name in ("sigmoid", "tanh", "softplus", "silu", "elu"):
        theirs, _ = ACTIVATIONS[name]
        expected = theirs(torch.tensor(x.numpy(), dtype=torch.float32)).numpy()
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_erf_accuracy():
    import math

    grid = np.linspace(-6, 6, 2001)
    exact = np.array([math.erf(v) for v in grid])
    assert np.max(np.abs(A.erf(grid) - exact)) < 2e-7


@pytest.mark.parametrize(
    "shape",
    [(5,), (100, 81), (16384,), (16385,), (2, 16384), (3, 7, 1000), (64, 3, 5, 33)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "batch_last", "strided"])
@pytest.mark.parametrize("bounds", [(0, None), (None, 0.5), (-1.0, 1.0), (0.0, 6), (1.0, -1.0)])
def test_clip_into_equals_numpy(shape, dtype, layout, bounds):
    """Infinities for missing bounds give NumPy's clip: every layout, NaN included, in place,
    into another memory order, and into a new array."""
    low, high = bounds
    rng = np.random.default_rng(sum(shape))
    base = (2 * rng.standard_normal(shape)).astype(dtype)
    base.reshape(-1)[:: max(1, base.size // 7)] = np.nan
    x = {
        "C": base,
        "F": np.asfortranarray(base),
        "batch_last": np.ascontiguousarray(np.moveaxis(base, 0, -1)).transpose(
            -1, *range(base.ndim - 1)
        ),
        "strided": base[..., ::2],
    }[layout]
    expected = np.clip(x, low, high)
    out = np.empty_like(x)
    got = A.clip_into(x, low, high, out)
    assert got is out
    np.testing.assert_array_equal(got, expected)
    new = A.clip_into(x, low, high)
    assert new.dtype == x.dtype
    np.testing.assert_array_equal(new, expected)
    copy = x.copy(order="K")
    A.clip_into(copy, low, high, copy)  # in place
    np.testing.assert_array_equal(copy, expected)
    other_order = np.empty(x.shape, dtype, order="F" if x.flags.c_contiguous else "C")
    np.testing.assert_array_equal(A.clip_into(x, low, high, other_order), expected)


def test_clip_into_keeps_numpy_promotion_off_the_fast_path():
    """Integer arrays, array bounds and no bounds keep NumPy's results and result types."""
    ints = np.arange(-10000, 10000)
    assert A.clip_into(ints, 0.5, None).dtype == np.clip(ints, 0.5, None).dtype
    np.testing.assert_array_equal(A.clip_into(ints, 0, 7), np.clip(ints, 0, 7))
    x = np.linspace(-3, 3, 20000, dtype=np.float32)
    lows = np.full_like(x, -1.0)
    np.testing.assert_array_equal(A.clip_into(x, lows, 2.0), np.clip(x, lows, 2.0))
    np.testing.assert_array_equal(A.clip_into(x, None, None), x)


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, 1.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_without_where_is_exact(slope, dtype):
    """max(x, s x) and the factor (1 - m) s + m give where()'s values bitwise: any slope,
    zeros of both signs and NaN included; the gradient through the layer too."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 50)).astype(dtype)
    x.reshape(-1)[::7], x.reshape(-1)[::11], x.reshape(-1)[::13] = 0.0, -0.0, np.nan
    g = rng.standard_normal(x.shape).astype(dtype)
    xt = npgrad.tensor(x, requires_grad=True)
    y = npgrad.nn.functional.leaky_relu(xt, slope)
    y.backward(npgrad.tensor(g))
    np.testing.assert_array_equal(y.numpy(), np.where(x > 0, x, x * slope))
    np.testing.assert_array_equal(xt.grad.numpy(), np.where(x > 0, g, g * slope))
    assert y.dtype == xt.grad.dtype == xt.dtype
