"""Element-wise ops: gradcheck + torch parity over broadcasting and edge shapes."""

import numpy as np
import pytest
from helpers import check_op, torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import npgrad

BROADCAST_PAIRS = [
    ((), ()),
    ((3,), ()),
    ((), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((1,), (5, 1)),
    ((2, 1, 3), (4, 1)),
    ((0, 3), (3,)),
]

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y.abs() + 0.5),
    "maximum": lambda x, y: x.maximum(y),
    "minimum": lambda x, y: x.minimum(y),
    "pow": lambda x, y: (x.abs() + 0.5) ** y,
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_broadcasting(name, shapes):
    check_op(shapes, BINARY[name])


@settings(max_examples=15, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(BINARY)),
)
def test_binary_hypothesis_shapes(shapes, name):
    check_op(shapes.input_shapes, BINARY[name])


UNARY = {
    "neg": (lambda x: -x, -2, 2),
    "exp": (lambda x: x.exp(), -2, 2),
    "log": (lambda x: x.log(), 0.1, 3),
    "log1p": (lambda x: x.log1p(), -0.5, 3),
    "sqrt": (lambda x: x.sqrt(), 0.1, 3),
    "rsqrt": (lambda x: x.rsqrt(), 0.1, 3),
    "abs": (lambda x: x.abs(), -2, 2),
    "sin": (lambda x: x.sin(), -3, 3),
    "cos": (lambda x: x.cos(), -3, 3),
    "square": (lambda x: x.square(), -2, 2),
    "reciprocal": (lambda x: x.reciprocal(), 0.5, 2),
    "pow_scalar": (lambda x: x**3, -2, 2),
    "pow_fraction": (lambda x: x**0.5, 0.1, 2),
    "rpow": (lambda x: 2.0**x, -2, 2),
    "rsub": (lambda x: 1.0 - x, -2, 2),
    "rdiv": (lambda x: 1.0 / x, 0.5, 2),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), -2, 2),
    "clamp_min": (lambda x: x.clamp(min=0.1), -2, 2),
    "clamp_max": (lambda x: x.clamp(max=0.1), -2, 2),
    "scalar_mix": (lambda x: 3 * x + 2 - x / 4, -2, 2),
    # (rounding: the values avoid integers and halves, where finite differences jump)
    "floor": (lambda x: x.floor(), 0.1, 0.4),
    "ceil": (lambda x: x.ceil(), -1.9, -1.6),
    "round": (lambda x: x.round(), 1.6, 1.9),
    "round_decimals": (lambda x: x.round(decimals=1), 0.21, 0.24),
    "trunc": (lambda x: x.trunc(), -0.9, -0.6),
    "tan": (lambda x: x.tan(), -1.2, 1.2),
    "sinh": (lambda x: x.sinh(), -2, 2),
    "cosh": (lambda x: x.cosh(), -2, 2),
    "asin": (lambda x: x.asin(), -0.9, 0.9),
    "acos": (lambda x: x.acos(), -0.9, 0.9),
    "atan": (lambda x: x.atan(), -3, 3),
    "expm1": (lambda x: x.expm1(), -2, 2),
    "log2": (lambda x: x.log2(), 0.1, 3),
    "log10": (lambda x: x.log10(), 0.1, 3),
    "erf": (lambda x: x.erf(), -2.5, 2.5),
    "remainder_scalar": (lambda x: x.remainder(0.7), 0.1, 0.6),
    "addcmul": (lambda x: x.addcmul(x, x.exp(), value=0.5), -2, 2),
    "addcdiv": (lambda x: x.addcdiv(x, x.exp(), value=-2), -2, 2),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (1,), (3, 4), (2, 0)], ids=str)
def test_unary(name, shape):
    fn, low, high = UNARY[name]
    check_op([shape], fn, low=low, high=high)


def test_sign_has_zero_gradient():
    check_op([(3, 4)], lambda x: x.sign())


def test_where():
    check_op(
        [(3, 4), (3, 4)],
        torch_fn=lambda x, y: torch.where(x > 0, x, y),
        npgrad_fn=lambda x, y: npgrad.where(x > 0, x, y),
    )


def test_where_broadcasts():
    check_op(
        [(3, 1), (4,)],
        torch_fn=lambda x, y: torch.where(y > 0, x, y),
        npgrad_fn=lambda x, y: npgrad.where(y > 0, x, y),
    )


def test_masked_fill():
    check_op([(3, 4)], lambda x: x.masked_fill(x > 0.5, -1.0))


def test_maximum_tie_splits_gradient():
    check_op([(4,), (4,)], lambda x, y: x.maximum(y), vals=[[1, 2, 3, 4], [1, 0, 3, 5]])


def test_python_scalars_do_not_upcast_float32():
    x = npgrad.ones(3)
    for result in (x + 1.5, 1.5 * x, x / 3.0, x**2.0, 2.0**x, x - 1, x.maximum(npgrad.zeros(3))):
        assert result.dtype == npgrad.float32


def test_mixed_tensor_dtypes_follow_numpy_promotion():
    a = npgrad.ones(2, dtype=npgrad.float32)
    b = npgrad.ones(2, dtype=npgrad.float64)
    assert (a + b).dtype == npgrad.float64
    assert (npgrad.tensor([1, 2]) + 0.5).dtype == npgrad.float32  # int tensor, float scalar
    assert (npgrad.tensor([1, 2]) / npgrad.tensor([2, 2])).dtype == npgrad.float32
    assert (npgrad.tensor([1, 2]) * 3).dtype == npgrad.int64


def test_float32_gradient_stays_float32():
    x = npgrad.ones(3, requires_grad=True)
    (x * npgrad.ones(3, dtype=npgrad.float64)).sum().backward()
    assert x.grad.dtype == npgrad.float32


def test_comparisons_carry_no_grad():
    x = npgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert mask.dtype == npgrad.bool and not mask.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(npgrad.errors.ShapeError, match=r"add.*\(2, 3\).*\(4,\)"):
        npgrad.ones(2, 3) + npgrad.ones(4)


def test_cast_backward_returns_input_dtype():
    x = npgrad.ones(3, requires_grad=True)
    y = x.double() * 2
    y.sum().backward()
    assert x.grad.dtype == npgrad.float32
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


@pytest.mark.parametrize("name", ["atan2", "remainder", "fmod"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3), (3,)), ((4,), ())], ids=str)
def test_binary_functions(name, shapes):
    """atan2 over all four quadrants; remainder (sign of the divisor) and fmod (sign of the
    dividend) with negative operands, away from the jumps at multiples of the divisor."""
    rng = np.random.default_rng(0)
    y = rng.uniform(1.1, 1.4, shapes[1]) * rng.choice([-1, 1], shapes[1])
    if name == "atan2":
        x = rng.uniform(-2, 2, shapes[0])
    else:  # a whole number of |y| plus a fraction 0.2-0.8 of it
        steps, fraction = rng.integers(-2, 3, shapes[0]), rng.uniform(0.2, 0.8, shapes[0])
        x = (steps + fraction) * np.abs(y)
    check_op(
        shapes,
        torch_fn=lambda a, b: getattr(torch, name)(a, b),
        npgrad_fn=lambda a, b: getattr(npgrad, name)(a, b),
        vals=[x.tolist(), y.tolist()],
    )


def test_nan_to_num_and_its_gradient():
    data = [1.0, float("nan"), float("inf"), -float("inf"), -2.0]
    check_op(
        [(5,)],
        torch_fn=lambda x: torch.nan_to_num(x * 2, nan=0.5, posinf=9.0),
        npgrad_fn=lambda x: npgrad.nan_to_num(x * 2, nan=0.5, posinf=9.0),
        vals=[data],
        forward_only=True,
    )
    x = npgrad.tensor(data, requires_grad=True)
    x.nan_to_num().sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]  # the gradient passes where x is finite
    assert npgrad.tensor([float("inf")]).nan_to_num().item() == np.finfo(np.float32).max


@pytest.mark.parametrize(
    "name, args",
    [
        ("relu_", ()),
        ("sigmoid_", ()),
        ("tanh_", ()),
        ("exp_", ()),
        ("abs_", ()),
        ("floor_", ()),
        ("round_", ()),
        ("masked_fill_", "mask"),
    ],
)
def test_inplace_functions_keep_the_gradient(name, args):
    """In place on a non-leaf inside a graph: the same values and gradients as out of place."""
    data = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    results = []
    for inplace in (True, False):
        x = npgrad.tensor(data, requires_grad=True)
        y = x * 1.5
        call_args = (y > 0.5, -1.0) if args == "mask" else ()
        out = getattr(y, name if inplace else name.rstrip("_"))(*call_args)
        assert (out is y) == inplace
        (out * npgrad.tensor(data)).sum().backward()
        results.append((out.numpy().copy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])
    leaf = npgrad.tensor(data.copy())
    leaf.relu_()  # no graph: written into the same array
    assert (leaf.numpy() >= 0).all()
