"""Convolution and pooling: gradcheck + torch parity over geometries, layer parity, errors."""

import numpy as np
import pytest
from helpers import check_layer, check_op, make_inputs, needs_torch, torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npgrad
from npgrad import nn
from npgrad.errors import ShapeError
from npgrad.ops import conv as conv_ops

F = nn.functional
TF = torch.nn.functional if torch else None


def assert_matches_torch(name, arrays, kwargs):
    """F.<name>(*arrays, **kwargs) against torch's: output and every input's gradient."""
    ours = [npgrad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = getattr(F, name)(*ours, **kwargs), getattr(TF, name)(*theirs, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-10)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * npgrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), atol=1e-10)


CONV2D_CASES = [
    # (x shape, w shape, kwargs)
    ((2, 3, 5, 5), (4, 3, 3, 3), {}),
    ((1, 2, 6, 5), (3, 2, 3, 2), {"stride": 2, "padding": 1}),
    ((2, 1, 7, 7), (2, 1, 3, 3), {"stride": (2, 1), "padding": (0, 2), "dilation": 2}),
    ((1, 2, 4, 4), (2, 2, 1, 1), {}),
    ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": "same"}),
    ((1, 2, 5, 6), (3, 2, 2, 4), {"padding": "same"}),
    ((1, 2, 5, 6), (3, 2, 3, 3), {"padding": "valid"}),
    ((0, 2, 4, 4), (3, 2, 3, 3), {}),
    # grouped: two groups, depthwise (a group per channel), depthwise with a multiplier
    ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 2}),
    ((1, 3, 6, 5), (3, 1, 3, 3), {"groups": 3, "stride": 2, "padding": 1}),
    ((1, 2, 5, 6), (4, 1, 2, 3), {"groups": 2, "padding": "same", "dilation": (2, 1)}),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(x_shape, w_shape, kwargs, bias):
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    check_op(
        shapes,
        torch_fn=lambda x, w, b=None: TF.conv2d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b=None: F.conv2d(x, w, b, **kwargs),
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding": 1, "dilation": (2, 1)}, {"stride": (2, 1), "padding": 1}, {"groups": 2}],
)
def test_conv2d_one_sample_per_chunk(monkeypatch, kwargs):
    """Column buffers built a chunk of samples at a time: chunk edges change nothing."""
    monkeypatch.setattr(conv_ops, "CHUNK_ELEMENTS", 1)
    check_op(
        [(3, 2, 6, 5), (4, 2 // kwargs.get("groups", 1), 3, 3), (4,)],
        torch_fn=lambda x, w, b: TF.conv2d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b: F.conv2d(x, w, b, **kwargs),
    )


def test_conv2d_output_is_batch_last_and_flattens_without_a_copy():
    """(N, O, H, W) over (O, H, W, N) memory: a flatten is a view and pooling keeps the layout."""
    x = npgrad.randn(5, 2, 8, 8)
    y = F.conv2d(x, npgrad.randn(3, 2, 3, 3), npgrad.randn(3))
    assert y.shape == (5, 3, 6, 6)
    assert y.numpy().strides[0] == y.numpy().itemsize  # the sample index varies fastest
    pooled = F.max_pool2d(F.relu(y), 2)
    assert pooled.numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    assert np.shares_memory(pooled.flatten(1).numpy(), pooled.numpy())


def test_conv2d_frozen_weight_or_input():
    """Only the gradients asked for are computed, and they are the same ones."""
    rng = np.random.default_rng(0)
    x_data, w_data = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    x, w = npgrad.tensor(x_data, requires_grad=True), npgrad.tensor(w_data, requires_grad=True)
    F.conv2d(x, w, padding=1).square().sum().backward()
    x_only = npgrad.tensor(x_data, requires_grad=True)
    F.conv2d(x_only, npgrad.tensor(w_data), padding=1).square().sum().backward()
    w_only = npgrad.tensor(w_data, requires_grad=True)
    F.conv2d(npgrad.tensor(x_data), w_only, padding=1).square().sum().backward()
    np.testing.assert_allclose(x_only.grad.numpy(), x.grad.numpy())
    np.testing.assert_allclose(w_only.grad.numpy(), w.grad.numpy())
    # the bias gradient with and without the weight's (folded into its GEMM, or summed)
    b_data = rng.standard_normal(4)
    b_with_w, w_too = (
        npgrad.tensor(b_data, requires_grad=True),
        npgrad.tensor(w_data, requires_grad=True),
    )
    F.conv2d(npgrad.tensor(x_data), w_too, b_with_w).square().sum().backward()
    b_alone = npgrad.tensor(b_data, requires_grad=True)
    F.conv2d(npgrad.tensor(x_data), npgrad.tensor(w_data), b_alone).square().sum().backward()
    np.testing.assert_allclose(b_alone.grad.numpy(), b_with_w.grad.numpy())
    w_frozen_b = npgrad.tensor(w_data, requires_grad=True)  # the bias there but frozen
    F.conv2d(npgrad.tensor(x_data), w_frozen_b, npgrad.tensor(b_data)).square().sum().backward()
    np.testing.assert_allclose(w_frozen_b.grad.numpy(), w_too.grad.numpy())


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"stride": 2, "padding": 1}, {"dilation": 2}, {"padding": "same"}, {"groups": 2}],
)
def test_conv1d(kwargs):
    groups = kwargs.get("groups", 1)
    check_op(
        [(2, 2 * groups, 9), (4, 2, 3), (4,)],
        torch_fn=lambda x, w, b: TF.conv1d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b: F.conv1d(x, w, b, **kwargs),
    )


CONV_TRANSPOSE2D_CASES = [
    # (x shape, w shape (C_in, C_out / groups, kh, kw), kwargs)
    ((2, 3, 4, 4), (3, 2, 3, 3), {}),
    ((1, 2, 3, 4), (2, 3, 4, 4), {"stride": 2, "padding": 1}),  # the usual 2x upsampling
    ((1, 2, 3, 3), (2, 2, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": 1}),
    ((1, 2, 4, 3), (2, 1, 2, 3), {"dilation": 2, "output_padding": (1, 0)}),
    ((2, 4, 3, 3), (4, 1, 3, 3), {"groups": 2, "stride": 2}),
    ((1, 3, 3, 4), (3, 1, 3, 3), {"groups": 3, "padding": 1}),  # depthwise
    ((0, 2, 3, 3), (2, 2, 2, 2), {"stride": 2}),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_TRANSPOSE2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d(x_shape, w_shape, kwargs, bias):
    shapes = [x_shape, w_shape] + ([(w_shape[1] * kwargs.get("groups", 1),)] if bias else [])
    check_op(
        shapes,
        torch_fn=lambda x, w, b=None: TF.conv_transpose2d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kwargs),
    )


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1}])
def test_conv_transpose2d_one_sample_per_chunk(monkeypatch, kwargs):
    monkeypatch.setattr(conv_ops, "CHUNK_ELEMENTS", 1)
    check_op(
        [(3, 2, 4, 3), (2, 3, 3, 3), (3,)],
        torch_fn=lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "dilation": 2}]
)
def test_conv_transpose1d(kwargs):
    check_op(
        [(2, 4, 5), (4, 3, 3), (3 * kwargs.get("groups", 1),)],
        torch_fn=lambda x, w, b: TF.conv_transpose1d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b: F.conv_transpose1d(x, w, b, **kwargs),
    )


CONV_TRANSPOSE3D_CASES = [
    # (x shape, w shape (C_in, C_out / groups, kd, kh, kw), kwargs)
    ((2, 2, 2, 3, 2), (2, 3, 2, 2, 2), {"stride": 2}),
    ((1, 2, 3, 2, 3), (2, 2, 3, 2, 2), {"stride": (2, 1, 2), "padding": (1, 0, 1)}),
    ((1, 2, 2, 2, 2), (2, 1, 2, 3, 2), {"output_padding": (1, 0, 1), "stride": 2}),
    ((1, 4, 2, 3, 2), (4, 1, 2, 2, 2), {"groups": 2, "dilation": (2, 1, 1), "padding": 1}),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_TRANSPOSE3D_CASES, ids=str)
def test_conv_transpose3d(x_shape, w_shape, kwargs):
    bias = (w_shape[1] * kwargs.get("groups", 1),)
    check_op(
        [x_shape, w_shape, bias],
        torch_fn=lambda x, w, b: TF.conv_transpose3d(x, w, b, **kwargs),
        npgrad_fn=lambda x, w, b: F.conv_transpose3d(x, w, b, **kwargs),
    )


def test_conv_transpose3d_module():
    up = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1)
    x = npgrad.ones(1, 4, 3, 4, 5)
    assert up(x).shape == (1, 2, 5, 7, 9)
    assert up(x, output_size=(6, 8, 10)).shape == (1, 2, 6, 8, 10)
    assert up.weight.shape == (4, 2, 3, 3, 3)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose3d(x, up.weight, output_padding=(2, 0, 0))
    with pytest.raises(ShapeError, match="conv_transpose3d: expected input"):
        F.conv_transpose3d(npgrad.ones(4, 3, 4, 5), up.weight)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(z, w), x> = <z, conv_transpose2d(x, w)> for every geometry: the definition."""
    rng = np.random.default_rng(0)
    w = npgrad.tensor(rng.standard_normal((4, 3, 3, 3)))
    z = npgrad.tensor(rng.standard_normal((2, 3, 9, 8)))  # conv2d input: (N, 3, 9, 8)
    kwargs = {"stride": 2, "padding": 1}
    y = F.conv2d(z, w, **kwargs)  # (2, 4, 5, 4)
    x = npgrad.tensor(rng.standard_normal(y.shape))
    back = F.conv_transpose2d(x, w, output_padding=(0, 1), **kwargs)
    assert back.shape == z.shape
    np.testing.assert_allclose((y * x).sum().item(), (z * back).sum().item(), rtol=1e-12)


@needs_torch
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    o=st.integers(1, 3),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    extra=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    groups=st.sampled_from([1, 1, 2]),
    per_chunk=st.sampled_from([1, 1 << 21]),
)
def test_conv_transpose2d_random_geometries_match_torch(
    n, c, o, size, kernel, stride, padding, dilation, extra, groups, per_chunk
):
    limits = [max(s, d) - 1 for s, d in zip(stride, dilation, strict=True)]  # torch's rule
    output_padding = tuple(min(e, limit) for e, limit in zip(extra, limits, strict=True))
    out = [
        conv_ops.transposed_output_size(
            size[d], kernel[d], stride[d], padding[d], output_padding[d], dilation[d]
        )
        for d in range(2)
    ]
    assume(min(out) >= 1)
    previous, conv_ops.CHUNK_ELEMENTS = conv_ops.CHUNK_ELEMENTS, per_chunk
    try:  # c and o are per group
        x, w, b = make_inputs([(n, c * groups, *size), (c * groups, o, *kernel), (o * groups,)])
        kwargs = {
            "stride": stride,
            "padding": padding,
            "output_padding": output_padding,
            "dilation": dilation,
            "groups": groups,
        }
        assert_matches_torch("conv_transpose2d", (x, w, b), kwargs)
    finally:
        conv_ops.CHUNK_ELEMENTS = previous


@needs_torch
def test_conv_transpose_output_size_and_errors():
    up, reference = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    x = npgrad.ones(1, 3, 5, 5)
    for size in [(9, 9), (10, 9), [1, 2, 10, 10]]:
        assert up(x, output_size=size).shape == tuple(
            reference(torch.ones(1, 3, 5, 5), output_size=size).shape
        )
    with pytest.raises(ValueError, match=r"output_size \(11, 9\) is not reachable.*9 to 10"):
        up(x, output_size=(11, 9))
    with pytest.raises(ValueError, match="output_padding .* smaller than either the stride"):
        F.conv_transpose2d(x, npgrad.ones(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ShapeError, match=r"conv_transpose2d: input of shape \(1, 3, 5, 5\)"):
        F.conv_transpose2d(x, npgrad.ones(4, 2, 3, 3))
    with pytest.raises(ShapeError, match="empty output"):
        F.conv_transpose2d(npgrad.ones(1, 3, 1, 1), npgrad.ones(3, 2, 1, 1), padding=1)
    with pytest.raises(ValueError, match="padding must be ints"):
        nn.ConvTranspose2d(3, 2, 3, padding="same")
    assert repr(nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1, groups=2)) == (
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), groups=2, output_padding=(1, 1))"
    )
    grouped = nn.ConvTranspose2d(4, 6, 3, groups=2)  # as torch: fan_in = weight.shape[1] * 9
    assert grouped.weight.shape == (4, 3, 3, 3)
    assert np.abs(grouped.bias.numpy()).max() <= 1 / np.sqrt(3 * 9)


POOL_CASES = [
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((1, 2, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 6, 6), {"kernel_size": (2, 3), "stride": (1, 2)}),
]


@pytest.mark.parametrize("shape, kwargs", POOL_CASES, ids=str)
def test_max_and_avg_pool(shape, kwargs):
    check_op(
        [shape],
        torch_fn=lambda x: TF.max_pool2d(x, **kwargs),
        npgrad_fn=lambda x: F.max_pool2d(x, **kwargs),
    )
    check_op(
        [shape],
        torch_fn=lambda x: TF.avg_pool2d(x, **kwargs),
        npgrad_fn=lambda x: F.avg_pool2d(x, **kwargs),
    )


def test_max_pool_dilation_and_ties():
    check_op(
        [(1, 1, 7, 7)],
        torch_fn=lambda x: TF.max_pool2d(x, 2, stride=2, dilation=2),
        npgrad_fn=lambda x: F.max_pool2d(x, 2, stride=2, dilation=2),
    )
    x = npgrad.ones(1, 1, 2, 2, requires_grad=True)  # all tied: the first maximum gets the grad
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("size", [40, 41])
def test_max_pool_gradient_is_zero_where_no_window_reaches(size):
    """Large enough for the pool (npgrad.buffers): a reused block full of NaN must not leak."""
    from npgrad import buffers

    shape = (4, 8, size, size)
    x = np.random.default_rng(0).standard_normal(shape)
    stale = buffers.empty(shape, np.float64)  # the block backward will get next
    stale.fill(np.nan)
    del stale
    ours = npgrad.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 2).sum().backward()
    grad = ours.grad.numpy()
    assert np.isfinite(grad).all()
    windows = x[:, :, :40, :40].reshape(4, 8, 20, 2, 20, 2)
    expected = np.zeros(shape)
    expected[:, :, :40, :40] = (windows == windows.max(axis=(3, 5), keepdims=True)).reshape(
        4, 8, 40, 40
    )
    np.testing.assert_array_equal(grad, expected)  # the 41st row and column get nothing


@pytest.mark.parametrize("size", [1, (2, 3), (None, 1), (3, 4), (5, None), 7])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool(size, kind):
    """Sizes that divide the input and uneven, overlapping windows (7 -> 3: [0, 3), [2, 5),
    [4, 7)), and sizes larger than the input (windows of one element, repeated)."""
    name = f"adaptive_{kind}_pool2d"
    check_op(
        [(2, 3, 4, 6)],
        torch_fn=lambda x: getattr(TF, name)(x, size),
        npgrad_fn=lambda x: getattr(F, name)(x, size),
    )


NO_PAD_COUNT = {"count_include_pad": False}
POOL_OPTION_CASES = [
    # (shape, kwargs): ceil_mode's partial last windows, padding left out of the mean, divisors
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((1, 2, 8, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((1, 2, 7, 5), {"kernel_size": (3, 2), "stride": (2, 3), "ceil_mode": True}),
]


@pytest.mark.parametrize("shape, kwargs", POOL_OPTION_CASES, ids=str)
def test_pool_ceil_mode(shape, kwargs):
    for kind in ("max", "avg"):
        check_op(
            [shape],
            torch_fn=lambda x, kind=kind: getattr(TF, f"{kind}_pool2d")(x, **kwargs),
            npgrad_fn=lambda x, kind=kind: getattr(F, f"{kind}_pool2d")(x, **kwargs),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3, "stride": 2, "padding": 1, **NO_PAD_COUNT},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, **NO_PAD_COUNT},
        {"kernel_size": 2, "divisor_override": 3},
    ],
    ids=str,
)
def test_avg_pool_divisors(kwargs):
    check_op(
        [(2, 3, 7, 6)],
        torch_fn=lambda x: TF.avg_pool2d(x, **kwargs),
        npgrad_fn=lambda x: F.avg_pool2d(x, **kwargs),
    )


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("max_pool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
        ("max_pool1d", (2,), {"dilation": 2}),
        ("avg_pool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
        ("avg_pool1d", (4,), {}),
        ("adaptive_avg_pool1d", (4,), {}),
        ("adaptive_max_pool1d", (3,), {}),
    ],
    ids=str,
)
@pytest.mark.parametrize("shape", [(2, 3, 10), (3, 9)])  # batched and unbatched
def test_pool1d(name, args, kwargs, shape):
    check_op(
        [shape],
        torch_fn=lambda x: getattr(TF, name)(x, *args, **kwargs),
        npgrad_fn=lambda x: getattr(F, name)(x, *args, **kwargs),
    )


@needs_torch
@settings(max_examples=40, deadline=None)
@given(
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    extra=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
)
def test_avg_pool_random_geometries_match_torch(
    kernel, stride, padding, extra, ceil_mode, count_include_pad
):
    assume(all(2 * padding[d] <= kernel[d] for d in range(2)))  # torch's rule
    size = [kernel[d] - 2 * padding[d] + extra[d] for d in range(2)]
    assume(min(size) >= 1)
    kwargs = {
        "stride": stride,
        "padding": padding,
        "ceil_mode": ceil_mode,
        "count_include_pad": count_include_pad,
    }
    x = np.random.default_rng(sum(size)).standard_normal((2, 3, *size))
    ours, theirs = npgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.avg_pool2d(ours, kernel, **kwargs), TF.avg_pool2d(theirs, kernel, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-12)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * npgrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)


@needs_torch
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Conv2d(3, 4, 3), (2, 3, 6, 6)),
        (lambda m: m.Conv2d(2, 3, (3, 2), stride=2, padding=1, bias=False), (1, 2, 7, 6)),
        (lambda m: m.Conv1d(3, 2, 5, padding=2), (2, 3, 10)),
        (lambda m: m.Conv2d(4, 6, 3, groups=2), (2, 4, 5, 5)),
        (lambda m: m.Conv2d(3, 3, 3, padding=1, groups=3, bias=False), (2, 3, 5, 5)),
        (lambda m: m.Conv1d(4, 8, 3, groups=4), (2, 4, 7)),
        (lambda m: m.ConvTranspose2d(4, 2, 4, stride=2, padding=1), (2, 4, 3, 3)),
        (lambda m: m.ConvTranspose2d(4, 6, 3, groups=2, bias=False, dilation=2), (1, 4, 3, 4)),
        (lambda m: m.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1), (2, 3, 5)),
        (lambda m: m.MaxPool2d(2), (1, 2, 6, 6)),
        (lambda m: m.AvgPool2d(3, stride=2, padding=1), (1, 2, 7, 7)),
        (lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
        (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
        (lambda m: m.AdaptiveMaxPool2d(3), (2, 3, 7, 5)),
        (lambda m: m.MaxPool2d(3, 2, ceil_mode=True), (1, 2, 8, 8)),
        (lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False, divisor_override=2), (1, 2, 8, 8)),
        (lambda m: m.MaxPool1d(3, 2, padding=1), (2, 3, 9)),
        (lambda m: m.AvgPool1d(2), (2, 3, 9)),
        (lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 9)),
        (lambda m: m.AdaptiveMaxPool1d(4), (2, 3, 9)),
        (
            lambda m: m.Sequential(
                m.Conv2d(1, 4, 3),
                m.ReLU(),
                m.Conv2d(4, 8, 3),
                m.ReLU(),
                m.MaxPool2d(2),
                m.Flatten(),
                m.Linear(8 * 3 * 3, 5),
            ),
            (2, 1, 10, 10),
        ),
    ],
)
def test_layer_parity(make, shape):
    check_layer(make(nn), make(torch.nn), shape)


def test_default_init_bounds_and_repr():
    npgrad.manual_seed(0)
    layer = nn.Conv2d(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)
    assert np.abs(layer.weight.numpy()).max() <= bound and layer.weight.shape == (32, 16, 3, 3)
    assert repr(layer) == "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1))"
    grouped = nn.Conv2d(16, 32, 3, groups=8)  # fan_in 2 * 9: each output sees 2 channels
    assert grouped.weight.shape == (32, 2, 3, 3)
    assert np.abs(grouped.bias.numpy()).max() <= 1 / np.sqrt(2 * 9)
    assert repr(grouped).endswith("groups=8)")


def test_dropout2d_drops_whole_channels():
    npgrad.manual_seed(0)
    out = F.dropout2d(npgrad.ones(4, 8, 3, 3), p=0.5)
    per_channel = out.numpy().reshape(4, 8, 9)
    assert ((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2)).all()
    assert (
        nn.Dropout2d(0.5).eval()(npgrad.ones(1, 2, 2, 2)).tolist()
        == npgrad.ones(1, 2, 2, 2).tolist()
    )


def test_clear_errors():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(
        ShapeError, match=r"conv2d: input of shape \(1, 2, 5, 5\).*expected input \(N, 3, H, W\)"
    ):
        conv(npgrad.ones(1, 2, 5, 5))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        conv(npgrad.ones(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"in_channels \(4\).*divisible by groups \(3\)"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ShapeError, match=r"weight of shape \(4, 2, 3, 3\) in 2 groups"):
        F.conv2d(npgrad.ones(1, 3, 5, 5), npgrad.ones(4, 2, 3, 3), groups=2)
    with pytest.raises(ShapeError, match="output channels divisible by 2"):
        F.conv2d(npgrad.ones(1, 4, 5, 5), npgrad.ones(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        F.conv2d(npgrad.ones(1, 4, 5, 5), npgrad.ones(4, 4, 3, 3), groups=0)
    with pytest.raises(ValueError, match="stride 1"):
        F.conv2d(npgrad.ones(1, 1, 4, 4), npgrad.ones(1, 1, 3, 3), stride=2, padding="same")


@needs_torch
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    o=st.integers(1, 3),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    extra=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    per_chunk=st.sampled_from([1, 1 << 21]),
    groups=st.sampled_from([1, 1, 2, 3]),
)
def test_conv2d_random_geometries_match_torch(
    n, c, o, kernel, stride, padding, dilation, extra, per_chunk, groups
):
    """Shifted rows (stride 1) and strided columns, chunked or not, grouped or not."""
    size = [dilation[d] * (kernel[d] - 1) + 1 - 2 * padding[d] + extra[d] for d in range(2)]
    assume(min(size) >= 1)
    previous, conv_ops.CHUNK_ELEMENTS = conv_ops.CHUNK_ELEMENTS, per_chunk
    try:  # c and o are per group
        x, w, b = make_inputs([(n, c * groups, *size), (o * groups, c, *kernel), (o * groups,)])
        kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        assert_matches_torch("conv2d", (x, w, b), kwargs)
    finally:
        conv_ops.CHUNK_ELEMENTS = previous


@needs_torch
@settings(max_examples=40, deadline=None)
@given(
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    extra=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    batch_last=st.booleans(),
    ceil_mode=st.booleans(),
)
def test_max_pool_random_geometries_and_ties_match_torch(
    kernel, stride, padding, dilation, extra, batch_last, ceil_mode
):
    """Small integers make ties common: each window's gradient goes to its first maximum."""
    assume(all(2 * padding[d] <= kernel[d] for d in range(2)))  # torch's rule
    size = [dilation[d] * (kernel[d] - 1) + 1 - 2 * padding[d] + extra[d] for d in range(2)]
    assume(min(size) >= 1)
    x = np.random.default_rng(sum(size)).integers(-2, 3, (2, 3, *size)).astype(np.float64)
    if batch_last:  # laid out as a convolution's output is
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode}
    ours, theirs = npgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.max_pool2d(ours, kernel, **kwargs), TF.max_pool2d(theirs, kernel, **kwargs)
    # a window of padding only gives -inf in both; torch then sends its gradient to an input
    # outside the window, which npgrad does not copy
    assume(np.isfinite(expected.detach().numpy()).all())
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * npgrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)


@needs_torch
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 6, 6), {"kernel_size": 2}),
        ((1, 2, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((1, 2, 8, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
        ((1, 2, 9, 9), {"kernel_size": 2, "stride": 2, "dilation": 2}),
    ],
    ids=str,
)
def test_max_pool_indices_and_unpool_match_torch(shape, kwargs):
    """Small integers: ties are common, and the first maximum's index is the one returned."""
    x = np.random.default_rng(0).integers(-3, 4, shape).astype(np.float64)
    out, where = F.max_pool2d(npgrad.tensor(x), return_indices=True, **kwargs)
    t_out, t_where = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(where.numpy(), t_where.numpy())
    size = shape[2:]
    values = npgrad.tensor(out.numpy(), requires_grad=True)
    t_values = torch.tensor(t_out.numpy(), requires_grad=True)
    unpooled = F.max_unpool2d(
        values,
        where,
        kwargs["kernel_size"],
        kwargs.get("stride"),
        kwargs.get("padding", 0),
        output_size=size,
    )
    t_unpooled = TF.max_unpool2d(
        t_values,
        t_where,
        kwargs["kernel_size"],
        kwargs.get("stride"),
        kwargs.get("padding", 0),
        output_size=size,
    )
    np.testing.assert_array_equal(unpooled.numpy(), t_unpooled.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(unpooled.shape)
    (unpooled * npgrad.tensor(weights)).sum().backward()
    (t_unpooled * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(values.grad.numpy(), t_values.grad.numpy())


def test_pool_and_unpool_layers_1d_and_2d():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    x = npgrad.randn(2, 3, 6, 6)
    values, where = pool(x)
    restored = unpool(values, where)
    assert restored.shape == x.shape
    kept = restored.numpy() != 0
    np.testing.assert_array_equal(restored.numpy()[kept], x.numpy()[kept])  # maxima in place
    line = npgrad.randn(2, 3, 9)
    values, where = nn.MaxPool1d(3, 2, return_indices=True)(line)
    assert nn.MaxUnpool1d(3, 2)(values, where, output_size=(9,)).shape == (2, 3, 9)
