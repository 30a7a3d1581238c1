"""npgrad.special (torch.special's names): values against the C library and PyTorch, float64
gradchecks, the tails of erfc, ndtr, log_ndtr and ndtri."""

import math

import numpy as np
import pytest
from helpers import check_grad, needs_torch, torch

import npgrad
from npgrad import special

X = np.array([-30.0, -21.0, -12.0, -6.0, -2.5, -0.7, 0.0, 0.3, 1.9, 4.0, 9.0])


def _normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def test_tails_have_full_relative_precision():
    np.testing.assert_allclose(
        special.erfc(npgrad.tensor(X)).numpy(), [math.erfc(v) for v in X], rtol=1e-15
    )
    np.testing.assert_allclose(
        special.ndtr(npgrad.tensor(X)).numpy(), [_normal_cdf(v) for v in X], rtol=1e-15
    )
    points = npgrad.tensor([-25.0, -21.0, -19.0, -6.0, 0.5, 9.0], dtype=npgrad.float64)
    tail = special.log_ndtr(points).numpy()
    exact = [math.log(_normal_cdf(v)) for v in (-25.0, -21.0, -19.0, -6.0)]
    np.testing.assert_allclose(tail[:4], exact, rtol=1e-12)
    np.testing.assert_allclose(
        tail[4:], [math.log(_normal_cdf(0.5)), -_normal_cdf(-9.0)], rtol=1e-12
    )
    p = np.array([1e-300, 1e-100, 1e-10, 1e-4, 0.01, 0.3, 0.5, 0.99])
    quantiles = special.ndtri(npgrad.tensor(p)).numpy()
    np.testing.assert_allclose([_normal_cdf(q) for q in quantiles], p, rtol=1e-12)
    assert special.ndtri(npgrad.tensor([0.0, 1.0], dtype=npgrad.float64)).tolist() == [
        -math.inf,
        math.inf,
    ]
    single = special.log_ndtr(points.float()).numpy()  # float32: the series from -10 on
    np.testing.assert_allclose(single[:4], exact, rtol=1e-6)
    float32 = special.erfc(npgrad.tensor([-1.0, 3.0, 9.0], dtype=npgrad.float32)).numpy()
    np.testing.assert_allclose(
        float32, [math.erfc(-1.0), math.erfc(3.0), math.erfc(9.0)], rtol=1e-5
    )


def test_entr_xlog1py_and_multigammaln():
    assert special.entr(npgrad.tensor([-1.0, 0.0, 0.5], dtype=npgrad.float64)).tolist() == [
        -math.inf,
        0.0,
        pytest.approx(-0.5 * math.log(0.5)),
    ]
    assert special.xlog1py(npgrad.tensor([0.0, 2.0]), npgrad.tensor([-1.0, 3.0])).tolist() == [
        0.0,
        pytest.approx(2 * math.log(4.0)),
    ]
    value = special.multigammaln(npgrad.tensor([2.5], dtype=npgrad.float64), 3).item()
    expected = 3 * 2 / 4 * math.log(math.pi) + sum(math.lgamma(2.5 - j / 2) for j in range(3))
    assert value == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="p must be at least 1"):
        special.multigammaln(npgrad.tensor([2.5], dtype=npgrad.float64), 0)


@pytest.mark.parametrize(
    "name, low, high",
    [
        ("erfc", -3, 3),
        ("ndtr", -6, 6),
        ("log_ndtr", -30, 5),
        ("ndtri", 1e-6, 0.9),
        ("entr", 0.1, 3),
        ("expit", -5, 5),
        ("logit", 0.05, 0.95),
        ("gammaln", 0.2, 6),
    ],
)
def test_gradients(name, low, high):
    values = np.linspace(low, high, 7)
    assert check_grad(getattr(special, name), values, rtol=1e-4).passed


def test_gradient_of_xlog1py_and_multigammaln():
    assert check_grad(special.xlog1py, np.array([0.5, 2.0]), np.array([0.3, 4.0])).passed
    assert check_grad(lambda x: special.multigammaln(x, 2), np.array([1.7, 3.0])).passed


@needs_torch
@pytest.mark.parametrize(
    "name",
    [
        "expit",
        "logit",
        "erf",
        "erfc",
        "erfinv",
        "expm1",
        "exp2",
        "log1p",
        "gammaln",
        "digamma",
        "psi",
        "sinc",
        "entr",
        "log_ndtr",
        "round",
    ],
)
def test_matches_pytorch(name):
    values = np.linspace(-0.95, 0.95, 9) if name in ("erfinv", "logit") else np.linspace(-8, 8, 17)
    if name in ("logit",):
        values = np.linspace(0.05, 0.95, 9)
    if name in ("gammaln", "digamma", "psi"):
        values = np.linspace(0.3, 8, 9)
    ours = getattr(special, name)(npgrad.tensor(values)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(values)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    ours = special.softmax(npgrad.tensor(values), 0).numpy()
    np.testing.assert_allclose(
        ours, torch.special.softmax(torch.tensor(values), 0).numpy(), rtol=1e-12
    )


def test_namespace():
    assert npgrad.special.expit is npgrad.sigmoid and npgrad.special.gammaln is npgrad.lgamma
