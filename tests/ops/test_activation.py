"""Activations: parity, gradcheck, float32 stability for |x| up to 1e4."""

import numpy as np
import pytest
from helpers import check_op, torch

import npgrad
from npgrad.diagnostics import gradcheck
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
    "logsigmoid": (lambda x: F_TORCH.logsigmoid(x), lambda x: A.LogSigmoid.apply(x)),
    "hardswish": (lambda x: F_TORCH.hardswish(x), lambda x: A.Hardswish.apply(x)),
    "hardsigmoid": (lambda x: F_TORCH.hardsigmoid(x), lambda x: A.Hardsigmoid.apply(x)),
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
    if torch is not None and name in ("sigmoid", "tanh", "softplus", "silu", "elu", "logsigmoid"):
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


def _with_special_values(dtype, shape=(30, 40), spread=4.0, seed=5):
    """Random values with zeros of both signs, infinities and NaN scattered in."""
    x = (np.random.default_rng(seed).standard_normal(shape) * spread).astype(dtype)
    flat = x.reshape(-1)
    flat[::7], flat[::11], flat[::13], flat[::17], flat[::19] = 0.0, -0.0, np.inf, -np.inf, np.nan
    return x


def _forward_backward(fn, x, g, *params):
    xt = npgrad.tensor(x, requires_grad=True)
    pt = [npgrad.tensor(p, requires_grad=True) for p in params]
    with np.errstate(all="ignore"):
        y = fn(xt, *pt)
        y.backward(npgrad.tensor(g))
    return y.numpy(), xt.grad.numpy(), [p.grad.numpy() for p in pt]


# alpha, scale, input_scale: ELU for several alphas, SELU, CELU (input_scale 1 / alpha)
ELU_SETTINGS = [(1.0, 1.0, 1.0), (0.7, 1.0, 1.0), (0.0, 1.0, 1.0), (1.5, 1.0, 1.0)]
ELU_SETTINGS += [(1.6732632423543772, 1.0507009873554805, 1.0), (0.7, 1.0, 1 / 0.7)]
ELU_SETTINGS += [(-0.5, 1.0, 1.0), (-0.8, 1.0, -1.25)]


@pytest.mark.parametrize("alpha, scale, input_scale", ELU_SETTINGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_family_without_where_matches_the_select(alpha, scale, input_scale, dtype):
    """max(x, 0) + expm1(min(x, 0)) and the masked gradient factor give the two-branch formulas
    bitwise, specials included (NaN where either branch is NaN)."""
    x = _with_special_values(dtype)
    g = np.random.default_rng(6).standard_normal(x.shape).astype(dtype)
    c = scale * alpha
    y, dx, _ = _forward_backward(
        lambda t: A.ELU.apply(t, alpha=alpha, scale=scale, input_scale=input_scale), x, g
    )
    with np.errstate(all="ignore"):
        expected = np.where(x > 0, scale * x, c * np.expm1(input_scale * x))
        slope = (expected + c) * input_scale if input_scale != 1 else expected + c
        expected_dx = np.where(x > 0, scale * g, slope * g)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(dx, expected_dx)
    assert y.dtype == dx.dtype == dtype


@pytest.mark.parametrize("name", ["selu", "celu", "elu"])
def test_elu_family_matches_torch(name):
    if torch is None:
        pytest.skip("torch not installed")
    x = _with_special_values(np.float32)
    x[~np.isfinite(x)] = 0.5  # (torch's gradient for NaN differs: it takes the x > 0 branch)
    g = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)
    kwargs = {"celu": {"alpha": 0.6}, "elu": {"alpha": 1.3}}.get(name, {})
    ours = getattr(npgrad.nn.functional, name)
    y, dx, _ = _forward_backward(lambda t: ours(t, **kwargs), x, g)
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(F_TORCH, name)(xt, **kwargs)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=2e-6, atol=1e-7)
    # (the gradient from y + c, PyTorch's from e^x: equal to ~1e-7 times the input's gradient)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=2e-6, atol=1e-6)


def test_erf_float32_accuracy():
    """The float32 path (Numerical Recipes' erfcc, Horner in place, sign by a factor)."""
    import math

    grid = np.linspace(-9, 9, 40001).astype(np.float32)
    exact = np.array([math.erf(v) for v in grid.astype(np.float64)])
    ours = A.erf(grid)
    assert ours.dtype == np.float32
    assert np.max(np.abs(ours - exact)) < 4e-7
    small = np.float32([1e-3, -0.2, 0.5, -1.0])  # away from 0, relative error at the 1e-6 level
    np.testing.assert_allclose(A.erf(small), [math.erf(v) for v in small], rtol=1e-6, atol=2e-7)
    assert np.isnan(A.erf(np.float32([np.nan]))).all()
    np.testing.assert_array_equal(A.erf(np.float32([np.inf, -np.inf])), [1, -1])


def test_gelu_cdf_is_accurate_in_the_negative_tail():
    """Phi(x) for x < 0 is erfc(|x| / sqrt 2) / 2 itself, not 1 minus something near 1: relative
    accuracy down to x = -12 (PyTorch's 0.5 (1 + erf) loses it all below about -5), limited by
    the float32 rounding of x^2 / 2 in the exponent (~1e-5 at x = -12)."""
    import math

    x = np.linspace(-12, 6, 1801).astype(np.float32)
    exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    y, dx, _ = _forward_backward(lambda t: A.GELU.apply(t), x, np.ones_like(x))
    np.testing.assert_allclose(y, x * exact, rtol=3e-5, atol=0)
    pdf = np.exp(-0.5 * x.astype(np.float64) ** 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(dx, exact + x * pdf, rtol=1e-4, atol=1e-30)


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 3.0), (0.5, 20.0)])
def test_softplus_accurate_where_one_plus_e_z_rounds_to_one(beta, threshold):
    """log1p(e^-|z|) from log(1 + u) with the rounding of 1 + u added back: float32 softplus is
    relatively accurate for very negative inputs (e^z under float32's epsilon), and the
    threshold switches to y = x exactly."""
    import math

    x = np.float32([-80, -40, -30, -17, -16.5, -10, -1e-3, -1e-8, 0, 1e-8, 0.5, 5, 15, 19.9])
    x = np.concatenate([x, np.float32([25, 41, 1e4])])
    y, dx, _ = _forward_backward(
        lambda t: A.Softplus.apply(t, beta=beta, threshold=threshold), x, np.ones_like(x)
    )
    z = x.astype(np.float64) * beta
    exact = np.array([math.log1p(math.exp(v)) / beta if v < 700 else v / beta for v in z])
    over = z > threshold
    np.testing.assert_array_equal(y[over], x[over])
    tiny = np.finfo(np.float32).tiny  # (below it float32 has too few digits)
    np.testing.assert_allclose(y[~over], exact[~over], rtol=3e-6, atol=tiny)
    sigmoid = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(dx[~over], sigmoid[~over], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(dx[over], 1)
    with np.errstate(all="ignore"):
        special, _, _ = _forward_backward(
            lambda t: A.Softplus.apply(t), np.float32([np.inf, -np.inf, np.nan]), np.ones(3)
        )
    np.testing.assert_array_equal(special, [np.inf, 0, np.nan])


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_without_where_matches_the_select(channels, dtype):
    """max(x, 0) + w min(x, 0): the slope applies at x = 0 too, as in PyTorch (gradient w)."""
    x = _with_special_values(dtype, shape=(4, 3, 5, 6))
    g = np.random.default_rng(7).standard_normal(x.shape).astype(dtype)
    w = np.array([0.25, -0.1, 1.7][:channels], dtype=dtype)
    y, dx, (dw,) = _forward_backward(npgrad.nn.functional.prelu, x, g, w)
    slopes = w.reshape(1, -1, 1, 1) if channels > 1 else w
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(y, np.where(x > 0, x, slopes * x))
        np.testing.assert_array_equal(dx, np.where(x > 0, g, slopes * g))
        per_element = np.where(x > 0, 0, x * g)
    axes = (0, 2, 3) if channels > 1 else None
    np.testing.assert_allclose(dw, per_element.sum(axis=axes).reshape(w.shape), rtol=1e-5)
    assert y.dtype == dx.dtype == dw.dtype == dtype


def test_prelu_gradient_at_zero_matches_torch():
    x = np.float32([-1.0, 0.0, 2.0])
    _, dx, (dw,) = _forward_backward(npgrad.nn.functional.prelu, x, np.ones(3), np.float32([0.25]))
    np.testing.assert_array_equal(dx, [0.25, 0.25, 1.0])  # (torch 2.x: the same)
    np.testing.assert_array_equal(dw, [-1.0])


def test_hardshrink_keeps_nan_and_infinities():
    x = np.float32([np.nan, np.inf, -np.inf, 0.3, -0.3, 0.6, -0.7, 0.0])
    y, dx, _ = _forward_backward(npgrad.nn.functional.hardshrink, x, np.ones(8, np.float32))
    np.testing.assert_array_equal(y, np.float32([np.nan, np.inf, -np.inf, 0, 0, 0.6, -0.7, 0]))
    np.testing.assert_array_equal(dx[1:], [1, 1, 0, 0, 1, 1, 0])


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid", "logsigmoid"])
def test_piecewise_and_log_activations_match_torch_at_the_ends(name):
    """PyTorch's formulas and rounding, its slopes at x = -3 and 3 (hardswish takes the middle
    formula at both ends, hardsigmoid's interval is open), and large |x|."""
    if torch is None:
        pytest.skip("torch not installed")
    x = np.float32([-1e4, -40, -3.5, -3, -2.999, -1, -0.0, 0, 0.7, 2.999, 3, 3.001, 25, 1e4])
    x = np.concatenate([x, np.random.default_rng(8).standard_normal(200).astype(np.float32) * 4])
    g = np.random.default_rng(9).standard_normal(x.shape).astype(np.float32)
    y, dx, _ = _forward_backward(ACTIVATIONS[name][1], x, g)
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(F_TORCH, name)(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "fn, bounds",
    [
        (lambda x: npgrad.nn.functional.hardtanh(x), (-1.0, 1.0)),
        (lambda x: npgrad.nn.functional.hardtanh(x, -0.5, 2.0), (-0.5, 2.0)),
        (lambda x: npgrad.nn.functional.relu6(x), (0.0, 6.0)),
        (npgrad.nn.ReLU6(), (0.0, 6.0)),
        (npgrad.nn.Hardtanh(0.0, 6.0), (0.0, 6.0)),
    ],
)
def test_hardtanh_and_relu6_gradient_is_zero_at_the_bounds(fn, bounds):
    """PyTorch's hardtanh (and so ReLU6) passes the gradient strictly inside its bounds only,
    unlike clamp, whose gradient is 1 at them: ReLU6's gradient at x = 0 is 0. A NaN keeps
    its gradient (PyTorch tests x <= min_val or x >= max_val)."""
    low, high = bounds
    x = np.float32([low, high, -0.0, 0.0, low - 1, high + 1, (low + high) / 2, np.nan, np.inf])
    g = np.arange(1, 10, dtype=np.float32)
    y, dx, _ = _forward_backward(fn, x, g)
    np.testing.assert_array_equal(y, np.clip(x, low, high))
    inside = ~((x <= low) | (x >= high))
    np.testing.assert_array_equal(dx, np.where(inside, g, 0))
    assert dx[-2] == g[-2]  # NaN
    if torch is not None:
        xt = torch.tensor(x, requires_grad=True)
        F_TORCH.hardtanh(xt, low, high).backward(torch.tensor(g))
        np.testing.assert_array_equal(dx, xt.grad.numpy())


def test_hardtanh_gradcheck_and_bound_order():
    x = npgrad.tensor(
        [[-2.5, -0.7, 0.3], [1.1, 2.9, -1.6]], dtype=npgrad.float64, requires_grad=True
    )
    assert gradcheck(lambda t: npgrad.nn.functional.hardtanh(t, -1.5, 2.0), (x,))
    with pytest.raises(ValueError, match="max_val"):
        npgrad.nn.functional.hardtanh(x, 1.0, -1.0)
