"""More of torch's namespace (npgrad.functions' last section): values and gradients against
PyTorch where installed, float64 gradcheck always."""

import numpy as np
import pytest
from helpers import check_grad, check_op, torch

import npgrad

# name: (input shapes, torch function, npgrad function); None: the same call on both
DIFFERENTIABLE = {
    "absolute": ([(3, 4)], None, lambda x: npgrad.absolute(x)),
    "positive": ([(3,)], lambda x: torch.positive(x) * 2, lambda x: npgrad.positive(x) * 2),
    "swapdims": (
        [(2, 3, 4)],
        lambda x: torch.swapdims(x, 0, 2),
        lambda x: npgrad.swapdims(x, 0, 2),
    ),
    "ravel": ([(2, 3)], None, None),
    "unflatten": (
        [(2, 12)],
        lambda x: torch.unflatten(x, 1, (3, -1)),
        lambda x: npgrad.unflatten(x, 1, (3, -1)),
    ),
    "cosine_similarity": ([(3, 4), (3, 4)], None, None),
    "broadcast_tensors": ([(3, 1), (1, 4)], None, None),
    "atleast_2d": ([(3,)], None, None),
    "fliplr": ([(3, 4)], None, None),
    "flipud": ([(3, 4)], None, None),
    "rot90_1": ([(3, 4)], lambda x: torch.rot90(x, 1, (0, 1)), lambda x: npgrad.rot90(x)),
    "rot90_2": (
        [(3, 4, 2)],
        lambda x: torch.rot90(x, 2, (1, 2)),
        lambda x: npgrad.rot90(x, 2, (1, 2)),
    ),
    "rot90_3": ([(3, 4)], lambda x: torch.rot90(x, -1, (0, 1)), lambda x: npgrad.rot90(x, -1)),
    "deg2rad": ([(3,)], None, None),
    "rad2deg": ([(3,)], None, None),
    "exp2": ([(3, 2)], None, None),
    "erfc": ([(3, 2)], None, None),
    "logit": ([(4,)], lambda x: torch.logit(x.sigmoid()), lambda x: npgrad.logit(x.sigmoid())),
    "logit_eps": (
        [(4,)],
        lambda x: torch.logit(x.sigmoid(), 0.2),
        lambda x: npgrad.logit(x.sigmoid(), 0.2),
    ),
    "hypot": ([(3,), (3,)], None, None),
    "logaddexp": ([(3, 2), (2,)], None, None),
    "logaddexp2": ([(3,), (3,)], None, None),
    "diag_embed": ([(2, 3)], None, None),
    "block_diag": ([(2, 2), (1, 3)], None, None),
    "cov": ([(3, 5)], None, None),
    "corrcoef": ([(3, 5)], None, None),
    "trapezoid": ([(3, 5)], None, None),
    "trapezoid_dx": (
        [(3, 5)],
        lambda y: torch.trapezoid(y, dx=0.5, dim=0),
        lambda y: npgrad.trapezoid(y, dx=0.5, dim=0),
    ),
    "take": (
        [(3, 4)],
        lambda x: torch.take(x, torch.tensor([[0, 5], [11, 5]])),
        lambda x: npgrad.take(x, npgrad.tensor([[0, 5], [11, 5]])),
    ),
    "tensor_split": (
        [(7, 2)],
        lambda x: torch.tensor_split(x, 3),
        lambda x: npgrad.tensor_split(x, 3),
    ),
    "tensor_split_at": (
        [(7, 2)],
        lambda x: torch.tensor_split(x, [1, 5]),
        lambda x: npgrad.tensor_split(x, [1, 5]),
    ),
    "hsplit": ([(2, 6)], lambda x: torch.hsplit(x, 3), lambda x: npgrad.hsplit(x, 3)),
    "vsplit": ([(4, 2)], lambda x: torch.vsplit(x, [1]), lambda x: npgrad.vsplit(x, [1])),
    "dsplit": ([(2, 2, 4)], lambda x: torch.dsplit(x, 2), lambda x: npgrad.dsplit(x, 2)),
    "sinc": ([(5,)], None, None),
    "xlogy": (
        [(4,), (4,)],
        lambda x, y: torch.xlogy(x, y.abs() + 0.1),
        lambda x, y: npgrad.xlogy(x, y.abs() + 0.1),
    ),
}


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_against_torch_and_gradcheck(name):
    shapes, torch_fn, npgrad_fn = DIFFERENTIABLE[name]
    base = {"broadcast_tensors": "broadcast_tensors", "atleast_2d": "atleast_2d"}.get(name, name)
    if npgrad_fn is None:
        npgrad_fn = lambda *xs: getattr(npgrad, base)(*xs)  # noqa: E731
    if torch_fn is None:
        torch_fn = (lambda *xs: getattr(torch, base)(*xs)) if torch is not None else npgrad_fn  # noqa: E731
    check_op(shapes, torch_fn=torch_fn, npgrad_fn=npgrad_fn, low=0.2 if name == "cov" else -2.0)


def test_special_values():
    zero = npgrad.tensor([0.0, 0.0, 2.0], requires_grad=True)
    y = npgrad.tensor([0.0, 3.0, 0.5], requires_grad=True)
    out = npgrad.xlogy(zero, y)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 2.0 * np.log(np.float32(0.5))])
    assert np.isfinite(zero.grad.numpy()).all() and np.isfinite(y.grad.numpy()).all()
    x = npgrad.tensor([0.0, 0.5], requires_grad=True)
    s = npgrad.sinc(x)
    s.sum().backward()
    assert s.tolist()[0] == 1.0 and x.grad.tolist()[0] == 0.0
    assert npgrad.logaddexp(npgrad.tensor([1e4]), npgrad.tensor([1e4])).item() == pytest.approx(
        1e4 + np.log(2)
    )
    assert npgrad.frac(npgrad.tensor([-1.5, 2.25])).tolist() == [-0.5, 0.25]


def test_index_helpers_match_numpy_and_torch():
    assert npgrad.broadcast_shapes((3, 1), (1, 4), (4,)) == (3, 4)
    np.testing.assert_array_equal(
        npgrad.tril_indices(3, 4, 1).numpy(), np.stack(np.tril_indices(3, 1, 4))
    )
    np.testing.assert_array_equal(
        npgrad.triu_indices(4, 3).numpy(), np.stack(np.triu_indices(4, 0, 3))
    )
    boundaries = npgrad.tensor([1.0, 3.0, 5.0, 7.0])
    values = npgrad.tensor([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]])
    assert npgrad.bucketize(values, boundaries).tolist() == [[0, 1, 3], [3, 4, 0]]
    assert npgrad.bucketize(values, boundaries, right=True).tolist() == [[0, 2, 3], [4, 4, 1]]
    rows = npgrad.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    assert npgrad.searchsorted(rows, npgrad.tensor([[3.0], [3.0]])).tolist() == [[1], [1]]
    assert npgrad.searchsorted(rows, npgrad.tensor([[3.0], [3.0]]), side="right").tolist() == [
        [2],
        [1],
    ]
    assert npgrad.isin(npgrad.tensor([1, 2, 3]), npgrad.tensor([2, 5])).tolist() == [
        False,
        True,
        False,
    ]
    assert npgrad.isneginf(npgrad.tensor([-np.inf, np.inf, 0.0])).tolist() == [True, False, False]
    assert npgrad.isposinf(npgrad.tensor([-np.inf, np.inf, 0.0])).tolist() == [False, True, False]
    assert npgrad.signbit(npgrad.tensor([-0.0, 0.0, -2.0])).tolist() == [True, False, True]
    assert [t.tolist() for t in npgrad.unravel_index(npgrad.tensor([5, 7]), (2, 4))] == [
        [1, 1],
        [1, 3],
    ]
    if torch is not None:
        expected = torch.bucketize(torch.tensor(values.numpy()), torch.tensor(boundaries.numpy()))
        assert npgrad.bucketize(values, boundaries).tolist() == expected.tolist()
    check_grad(lambda x: npgrad.atleast_1d(x.sum()) * 2, np.random.rand(3))


def test_vander():
    """(PyTorch's own vander fails its autograd check with an in-place error: values only.)"""
    x = np.array([0.5, -1.0, 2.0, 3.0])
    check_grad(lambda t: npgrad.vander(t), x)
    check_grad(lambda t: npgrad.vander(t, 5, True), x)
    expected = np.vander(x, 5, increasing=True)
    np.testing.assert_allclose(npgrad.vander(npgrad.tensor(x), 5, True).numpy(), expected)
    np.testing.assert_allclose(npgrad.vander(npgrad.tensor(x)).numpy(), np.vander(x))


METHODS = {
    "tile": ([(3, 4)], lambda x: x.tile(2)),
    "tile_more_dims": ([(3, 4)], lambda x: x.tile(2, 1, 3)),
    "unfold": ([(3, 7)], lambda x: x.unfold(1, 3, 2)),
    "unfold_overlapping": ([(5, 2)], lambda x: x.unfold(0, 3, 1)),
    "unfold_whole": ([(2, 7)], lambda x: x.unfold(-1, 7, 3)),
    "addmm": ([(3, 2), (3, 4), (4, 2)], lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0)),
    "sum_to_size": ([(2, 3, 1)], lambda x: x.expand(2, 3, 4).sum_to_size(3, 1)),
    "nanmean": ([(3, 4)], lambda x: x.nanmean(1)),
    "nansum": ([(3, 4)], lambda x: x.nansum(0, keepdim=True)),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_tensor_methods_against_torch(name):
    shapes, fn = METHODS[name]
    check_op(shapes, torch_fn=fn, npgrad_fn=fn)


def test_fill_diagonal_byte_char_logical_not():
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0]]
    for wrap in (False, True):
        ours = npgrad.tensor(rows).fill_diagonal_(0.0, wrap=wrap).tolist()
        expected = np.array(rows)
        np.fill_diagonal(expected, 0.0, wrap=wrap)
        assert ours == expected.tolist()
    x = npgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    y.fill_diagonal_(5.0)
    y.sum().backward()  # the filled diagonal has no gradient
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert npgrad.tensor([1.7, -2.0]).byte().dtype == npgrad.uint8
    assert npgrad.tensor([1.7, -2.0]).char().tolist() == [1, -2]
    assert npgrad.tensor([1.0, 0.0]).logical_not().tolist() == [False, True]
    with pytest.raises(npgrad.errors.ShapeError, match="unfold"):
        npgrad.ones(3).unfold(0, 4, 1)


def test_random_in_place_fills():
    """Sample moments of 200k draws within ~5 standard errors, bounds exact, no gradient."""
    npgrad.manual_seed(0)
    t = npgrad.empty(200_000, dtype=npgrad.float64)
    assert abs(t.bernoulli_(0.3).mean().item() - 0.3) < 0.005
    assert set(np.unique(t.numpy())) == {0.0, 1.0}
    assert npgrad.empty(3).bernoulli_(npgrad.tensor([0.0, 1.0, 1.0])).tolist() == [0, 1, 1]
    assert abs(t.exponential_(2.0).mean().item() - 0.5) < 0.006
    assert abs(t.geometric_(0.25).mean().item() - 4.0) < 0.04 and t.min().item() >= 1
    assert abs(t.log_normal_(0.0, 0.5).mean().item() - np.exp(0.125)) < 0.01
    assert abs(float(np.median(t.cauchy_(1.0, 2.0).numpy())) - 1.0) < 0.05
    drawn = t.random_(5, 9).numpy()
    assert drawn.min() == 5 and drawn.max() == 8 and np.all(drawn == np.round(drawn))
    assert set(npgrad.empty(1000, dtype=npgrad.int64).random_(3).tolist()) == {0, 1, 2}
    assert npgrad.empty(1000).random_().max().item() < 2**24  # float32 holds these exactly
    assert npgrad.empty(100, dtype=npgrad.uint8).random_().max().item() <= 255  # the dtype's range
    leaf = npgrad.zeros(3, requires_grad=True)
    with pytest.raises(npgrad.errors.GradientError):
        leaf.bernoulli_()


def test_in_place_shape_methods():
    """unsqueeze_, squeeze_, t_, transpose_, swapaxes_ change the tensor itself; in a graph
    the gradient flows through the old shape (PyTorch's result for the same chain)."""
    b = npgrad.tensor(np.ones((2, 3)), requires_grad=True)
    c = b * 2
    assert c.t_() is c and c.unsqueeze_(0) is c and c.shape == (1, 3, 2)
    (c * npgrad.arange(6.0).reshape(1, 3, 2)).sum().backward()
    assert b.grad.tolist() == [[0.0, 4.0, 8.0], [2.0, 6.0, 10.0]]
    assert npgrad.ones(2, 1, 3).squeeze_().shape == (2, 3)
    assert npgrad.ones(2, 1, 3).squeeze_(1).shape == (2, 3)
    assert npgrad.ones(2, 3, 4).transpose_(0, 2).shape == (4, 3, 2)
    assert npgrad.ones(2, 3).swapaxes_(0, 1).shape == (3, 2)
    x = npgrad.arange(6.0).reshape(2, 3)
    assert x.t_().tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    leaf = npgrad.zeros(3, requires_grad=True)
    with pytest.raises(npgrad.errors.GradientError, match="unsqueeze_"):
        leaf.unsqueeze_(0)
    with npgrad.no_grad():
        leaf.unsqueeze_(0)
    assert leaf.shape == (1, 3) and leaf.is_leaf


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce(reduce, include_self, dim):
    """Small integers, so that maxima tie and indices repeat; values and gradients against
    PyTorch (its amax/amin split among ties, counting x's own value even when excluded)."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, (4, 4)).astype(np.float64)
    src = rng.integers(0, 3, (5, 4) if dim == 0 else (4, 5)).astype(np.float64)
    index = rng.integers(0, 4, src.shape)  # (PyTorch's amax backward fails on a larger src)
    xn, sn = npgrad.tensor(x, requires_grad=True), npgrad.tensor(src, requires_grad=True)
    y = xn.scatter_reduce(dim, npgrad.tensor(index), sn, reduce, include_self=include_self)
    g = rng.standard_normal(y.shape)
    (y * npgrad.tensor(g)).sum().backward()
    if reduce in ("sum", "mean"):  # smooth in both inputs: finite differences too
        check_grad(
            lambda a, b: npgrad.scatter_reduce(
                a, dim, npgrad.tensor(index), b, reduce, include_self=include_self
            ),
            x + rng.standard_normal(x.shape),
            src + rng.standard_normal(src.shape),
        )
    if torch is None:
        return
    xt, st = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    yt = xt.scatter_reduce(dim, torch.tensor(index), st, reduce, include_self=include_self)
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy())
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(sn.grad.numpy(), st.grad.numpy(), atol=1e-12)


def test_scatter_reduce_prod_is_refused():
    with pytest.raises(NotImplementedError, match="prod"):
        npgrad.zeros(3).scatter_reduce(0, npgrad.tensor([0]), npgrad.ones(1), "prod")


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (-1, True)])
@pytest.mark.parametrize("q", [0.3, [0.0, 0.25, 0.5, 1.0]], ids=["scalar", "tensor"])
def test_quantile_and_nanquantile(interpolation, dim, keepdim, q):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 5))
    with_nan = x.copy()
    with_nan[1, 2] = np.nan
    for name, data in (("quantile", x), ("nanquantile", with_nan), ("quantile", with_nan)):
        qs = q if np.ndim(q) == 0 else npgrad.tensor(q)
        xn = npgrad.tensor(data, requires_grad=True)
        out = getattr(npgrad, name)(xn, qs, dim=dim, keepdim=keepdim, interpolation=interpolation)
        g = rng.standard_normal(out.shape)
        (out * npgrad.tensor(g)).nansum().backward()
        if torch is None:
            continue
        qt = q if np.ndim(q) == 0 else torch.tensor(q, dtype=torch.float64)
        xt = torch.tensor(data, requires_grad=True)
        expected = getattr(torch, name)(
            xt, qt, dim=dim, keepdim=keepdim, interpolation=interpolation
        )
        (expected * torch.tensor(g)).nansum().backward()
        assert out.shape == tuple(expected.shape)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), equal_nan=True)
        np.testing.assert_allclose(
            np.nan_to_num(xn.grad.numpy()), np.nan_to_num(xt.grad.numpy()), atol=1e-12
        )
    if interpolation == "linear" and dim == 0:
        check_grad(lambda t: npgrad.quantile(t, 0.3, dim=0), x)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        npgrad.quantile(npgrad.tensor(x), 1.5)


def test_cartesian_prod_and_combinations():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])
    rows = npgrad.cartesian_prod(npgrad.tensor(a), npgrad.tensor(b)).tolist()
    assert rows == [[x, y] for x in a for y in b]
    x = np.array([1.0, 2.0, 3.0, 4.0])
    for r, replacement, count in ((2, False, 6), (3, False, 4), (2, True, 10), (5, False, 0)):
        out = npgrad.combinations(npgrad.tensor(x), r, replacement)
        assert out.shape == (count, r)
        if torch is not None:
            expected = torch.combinations(torch.tensor(x), r, replacement)
            np.testing.assert_array_equal(out.numpy(), expected.numpy())
    check_grad(lambda t: npgrad.combinations(t, 2) * npgrad.tensor([1.0, 3.0]), x)
    check_grad(lambda s, t: npgrad.cartesian_prod(s, t) ** 2, a, b)


def test_index_copy_masked_scatter_index_put():
    x = np.arange(12.0).reshape(4, 3)
    source = -np.arange(6.0).reshape(2, 3)
    check_grad(lambda t, s: t.index_copy(0, npgrad.tensor([2, 0]), s), x, source)
    mask = npgrad.tensor(
        [[True, False, True], [False, False, True], [True, True, False]] + [[False] * 3]
    )
    check_grad(lambda t, s: t.masked_scatter(mask, s), x, np.arange(100.0, 112.0).reshape(4, 3))
    out = npgrad.tensor(x).masked_scatter(mask, npgrad.tensor(np.arange(100.0, 112.0)))
    assert out.numpy()[mask.numpy()].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0]
    with pytest.raises(npgrad.errors.ShapeError, match="masked_scatter"):
        npgrad.tensor(x).masked_scatter(mask, npgrad.ones(2))
    for accumulate, expected in (
        (False, [[1, 2], [0, 0], [1, 2]]),
        (True, [[2, 4], [0, 0], [1, 2]]),
    ):
        target = npgrad.zeros(3, 2)
        target.index_put_((npgrad.tensor([0, 2, 0]),), npgrad.tensor([1.0, 2.0]), accumulate)
        assert target.tolist() == expected
    w = npgrad.ones(3, requires_grad=True)
    v = w * 1
    v.index_put_((npgrad.tensor([0, 0]),), npgrad.tensor(5.0), accumulate=True)
    (v * npgrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.tolist() == [11.0, 1.0, 1.0] and w.grad.tolist() == [1.0, 2.0, 3.0]  # PyTorch's
    if torch is not None:
        theirs = torch.tensor(x, requires_grad=True)
        ours = npgrad.tensor(x, requires_grad=True)
        g = np.random.default_rng(3).standard_normal((4, 3))
        (
            theirs.index_copy(0, torch.tensor([2, 0]), torch.tensor(source)) * torch.tensor(g)
        ).sum().backward()
        (
            ours.index_copy(0, npgrad.tensor([2, 0]), npgrad.tensor(source)) * npgrad.tensor(g)
        ).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    "name, shapes, torch_call, npgrad_call",
    [
        (
            "addmv",
            [(3,), (3, 4), (4,)],
            lambda t, i, m, v: t.addmv(i, m, v, beta=0.5, alpha=2),
            None,
        ),
        ("addr", [(3, 4), (3,), (4,)], lambda t, i, a, b: t.addr(i, a, b), None),
        ("addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)], lambda t, i, a, b: t.addbmm(i, a, b), None),
        ("msort", [(3, 4)], lambda t, x: t.msort(x), None),
        ("float_power", [(4,)], lambda t, x: t.float_power(x.abs() + 1, 2.5), None),
        ("mvlgamma", [(3,)], lambda t, x: t.mvlgamma(x.abs() + 2, 3), None),
        ("logcumsumexp", [(3, 7)], lambda t, x: t.logcumsumexp(x * 10, 1), None),
        ("cumulative_trapezoid", [(3, 5)], lambda t, y: t.cumulative_trapezoid(y), None),
        ("copysign", [(4,), (4,)], lambda t, x, y: t.copysign(x, y.detach()), None),
    ],
)
def test_small_helpers_against_torch(name, shapes, torch_call, npgrad_call):
    check_op(
        shapes,
        torch_fn=(lambda *xs: torch_call(torch, *xs))
        if torch
        else (lambda *xs: torch_call(npgrad, *xs)),
        npgrad_fn=lambda *xs: torch_call(npgrad, *xs),
        low=0.1 if name == "copysign" else -2.0,
    )


def test_nan_aware_extremes_and_stable_scans():
    a = np.array([1.0, np.nan, -2.0, 3.0, np.nan])
    b = np.array([0.5, 2.0, np.nan, 3.0, np.nan])
    for name, expected_x_grad in (("fmax", [1, 0, 1, 1, 1]), ("fmin", [0, 0, 1, 1, 1])):
        x, y = npgrad.tensor(a, requires_grad=True), npgrad.tensor(b, requires_grad=True)
        getattr(npgrad, name)(x, y).sum().backward()
        assert x.grad.tolist() == expected_x_grad  # ties and NaN pairs go to x (PyTorch's)
        assert (x.grad + y.grad).tolist() == [1.0] * 5
    wide = npgrad.logcumsumexp(npgrad.tensor([-1000.0, 0.0, 5.0, -np.inf, 7.0]), 0)
    np.testing.assert_allclose(wide.numpy()[:2], [-1000.0, 0.0])  # no underflow to -inf
    assert npgrad.logaddexp(npgrad.tensor([-np.inf]), npgrad.tensor([-np.inf])).item() == -np.inf
    assert npgrad.unique_consecutive(npgrad.tensor([1, 1, 2, 2, 3, 1])).tolist() == [1, 2, 3, 1]
    values, inverse, counts = npgrad.unique_consecutive(
        npgrad.tensor([1, 1, 2, 1]), return_inverse=True, return_counts=True
    )
    assert inverse.tolist() == [0, 0, 1, 2] and counts.tolist() == [2, 1, 1]
    assert npgrad.histc(npgrad.tensor([0.0, 1.0, 1.0, 2.0]), 2).tolist() == [1.0, 3.0]
    assert npgrad.heaviside(npgrad.tensor([-1.0, 0.0, 2.0]), npgrad.tensor([0.5])).tolist() == [
        0.0,
        0.5,
        1.0,
    ]
    ints = (npgrad.tensor([12, 18, 7]), npgrad.tensor([8, 12, 3]))
    assert npgrad.bitwise_and(*ints).tolist() == [8, 0, 3]
    assert npgrad.gcd(*ints).tolist() == [4, 6, 1] and npgrad.lcm(*ints).tolist() == [24, 36, 21]
    assert npgrad.aminmax(npgrad.tensor([3.0, -1.0, 2.0])).max.item() == 3.0
    spd = np.array([[4.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(npgrad.cholesky(npgrad.tensor(spd)).numpy(), np.linalg.cholesky(spd))
    np.testing.assert_allclose(npgrad.ldexp(npgrad.tensor([1.5]), npgrad.tensor([3])).item(), 12.0)


@pytest.mark.parametrize(
    "shapes, call",
    [
        ([(2, 3), (4, 3)], lambda t, a, b: t.inner(a, b)),
        ([(3,), (3,)], lambda t, a, b: t.vdot(a, b)),
        ([(2, 3), (2, 3)], lambda t, a, b: t.dstack([a, b])),
        ([(3,), (3,)], lambda t, a, b: t.dstack([a, b])),
        ([(2, 2)], lambda t, a: t.diagflat(a, 1)),
        ([(3,)], lambda t, a: t.acosh(a.abs() + 1.5)),
        ([(4, 3), (2, 3)], lambda t, a, b: t.index_copy(a, 0, t.tensor([3, 1]), b)),
    ],
)
def test_torch_level_aliases(shapes, call):
    check_op(
        shapes,
        torch_fn=(lambda *xs: call(torch, *xs)) if torch else (lambda *xs: call(npgrad, *xs)),
        npgrad_fn=lambda *xs: call(npgrad, *xs),
    )
    accumulated = npgrad.index_put(
        npgrad.zeros(3), (npgrad.tensor([0, 0]),), npgrad.tensor(2.0), True
    )
    assert accumulated.tolist() == [4.0, 0.0, 0.0]
    assert npgrad.isreal(npgrad.ones(2)).tolist() == [True, True]
