"""The gamma family (npgrad.ops.special): values against math.lgamma and PyTorch, gradients by
float64 gradcheck, poles."""

import math

import numpy as np
import pytest
from helpers import check_grad, torch

import npgrad
from npgrad.ops import special

POINTS = np.concatenate(
    [np.linspace(-4.9, 12.0, 171), [1e-8, 1e-3, 0.5, 1.0, 2.0, 3.0, 50.0, 170.5, 1e5, -0.5]]
)
POINTS = POINTS[~((POINTS <= 0) & (np.round(POINTS) == POINTS))]


def test_lgamma_matches_the_c_library():
    expected = np.array([math.lgamma(v) for v in POINTS])
    np.testing.assert_allclose(special.lgamma(POINTS), expected, rtol=1e-13, atol=1e-13)


def test_digamma_and_trigamma_are_the_derivatives():
    """Central differences of lgamma and digamma themselves (step 1e-5: error ~1e-10)."""
    h = 1e-5
    away = POINTS[np.abs(POINTS - np.round(POINTS)) > 0.05]  # not near a pole
    numeric = (special.lgamma(away + h) - special.lgamma(away - h)) / (2 * h)
    np.testing.assert_allclose(special.digamma(away), numeric, rtol=1e-8, atol=1e-7)
    numeric = (special.digamma(away + h) - special.digamma(away - h)) / (2 * h)
    np.testing.assert_allclose(special.trigamma(away), numeric, rtol=1e-7, atol=1e-6)
    assert special.digamma(np.array([1.0]))[0] == pytest.approx(-0.5772156649015329, abs=1e-14)
    assert special.trigamma(np.array([1.0]))[0] == pytest.approx(math.pi**2 / 6, abs=1e-14)


def test_against_torch_and_poles():
    poles = np.array([0.0, -1.0, -3.0, 1.0, 2.0])
    lg = npgrad.lgamma(npgrad.tensor(poles)).tolist()
    assert lg[:3] == [math.inf] * 3 and lg[3:] == [0.0, 0.0]  # exactly 0 at 1 and 2
    dg = npgrad.digamma(npgrad.tensor(poles)).tolist()
    assert dg[0] == -math.inf and math.isnan(dg[1]) and math.isnan(dg[2])
    if torch is None:
        return
    x = torch.tensor(POINTS)
    np.testing.assert_allclose(
        npgrad.lgamma(npgrad.tensor(POINTS)).numpy(), torch.lgamma(x).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        npgrad.digamma(npgrad.tensor(POINTS)).numpy(), torch.digamma(x).numpy(), rtol=1e-9
    )
    np.testing.assert_allclose(  # PyTorch's trigamma is the less precise one (~5e-10)
        npgrad.polygamma(1, npgrad.tensor(POINTS)).numpy(),
        torch.polygamma(1, x).numpy(),
        rtol=1e-8,
    )
    assert torch.lgamma(torch.tensor(poles[:3])).tolist() == lg[:3]


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_gradcheck(name):
    check_grad(lambda t: getattr(t, name)(), np.array([[0.3, 1.7, 4.2], [-0.6, -2.3, 9.5]]))


def test_dtypes():
    assert npgrad.lgamma(npgrad.tensor([3, 4])).dtype == npgrad.float32  # integers promote
    assert npgrad.digamma(npgrad.tensor([1.5], dtype=npgrad.float64)).dtype == npgrad.float64
    with pytest.raises(NotImplementedError, match="polygamma"):
        npgrad.polygamma(2, npgrad.tensor([1.0]))


def test_erfinv_inverts_erf():
    x = np.concatenate([np.linspace(-0.999999, 0.999999, 201), [1e-10, 0.9999999999, -0.99]])
    y = special.erfinv(x)
    np.testing.assert_allclose([math.erf(v) for v in y], x, rtol=1e-14, atol=1e-16)
    near_one = special.erfinv(np.array([0.9999999999]))[0]  # checked against mpmath
    assert near_one == pytest.approx(4.572824958544925, rel=1e-14)
    assert npgrad.erfinv(npgrad.tensor([1.0, -1.0, 1.5, 0.0])).tolist()[:2] == [math.inf, -math.inf]
    assert math.isnan(npgrad.erfinv(npgrad.tensor([1.5])).item())
    check_grad(lambda t: t.erfinv(), np.array([[-0.9, -0.3, 0.0], [0.2, 0.6, 0.95]]))
    if torch is not None:
        np.testing.assert_allclose(
            npgrad.erfinv(npgrad.tensor(x)).numpy(),
            torch.erfinv(torch.tensor(x)).numpy(),
            rtol=1e-13,
        )
