"""Signal windows, renorm, frexp, nextafter, gradient and histogram: values against NumPy and,
where torch is installed, against torch; gradients of the differentiable ones."""

import numpy as np
import pytest

import npgrad
from npgrad.diagnostics import gradcheck

WINDOWS = ["hann_window", "hamming_window", "bartlett_window", "blackman_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
def test_windows(name):
    make = getattr(npgrad, name)
    assert make(0).shape == (0,) and make(1).tolist() == [1.0]
    w = make(8)
    assert w.dtype == npgrad.float32 and w.shape == (8,)
    assert np.allclose(make(8, periodic=False).numpy(), make(8, periodic=False).numpy()[::-1])
    assert np.allclose(w.numpy(), make(9, periodic=False).numpy()[:-1], atol=1e-7)
    assert make(5, dtype=npgrad.float64).dtype == npgrad.float64


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_torch(name):
    torch = pytest.importorskip("torch")
    for length in (1, 2, 7, 16):
        for periodic in (True, False):
            ours = getattr(npgrad, name)(length, periodic=periodic, dtype=npgrad.float64)
            theirs = getattr(torch, name)(length, periodic=periodic, dtype=torch.float64)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_renorm_values_and_gradient():
    x = npgrad.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], dtype=npgrad.float64)
    out = npgrad.renorm(x, p=2, dim=0, maxnorm=1.0)
    norms = np.linalg.norm(out.numpy(), axis=1)
    np.testing.assert_allclose(norms, [1.0, 0.5, 1.0], atol=1e-6)
    x.requires_grad_()
    assert gradcheck(lambda t: npgrad.renorm(t, 1, 1, 2.0), [x])
    assert gradcheck(lambda t: npgrad.renorm(t, float("inf"), 0, 2.0), [x])


def test_frexp_nextafter_histogram():
    x = npgrad.tensor([8.0, 0.3, -5.0])
    mantissa, exponent = npgrad.frexp(x)
    assert exponent.dtype == npgrad.int32
    np.testing.assert_allclose((mantissa * 2.0**exponent).numpy(), x.numpy())
    up = npgrad.nextafter(npgrad.tensor([1.0]), npgrad.tensor([2.0]))
    assert up.item() == np.nextafter(np.float32(1), np.float32(2))
    hist, edges = npgrad.histogram(npgrad.tensor([1.0, 2.0, 1.0, 4.0]), bins=3)
    assert hist.tolist() == [2.0, 1.0, 1.0] and edges.tolist() == [1.0, 2.0, 3.0, 4.0]
    weighted = npgrad.histogram(
        npgrad.tensor([1.0, 2.0]), bins=2, range=(0.0, 4.0), weight=npgrad.tensor([0.5, 2.0])
    )
    assert weighted.hist.tolist() == [0.5, 2.0]


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_against_numpy(edge_order):
    data = np.random.default_rng(0).standard_normal((5, 6))
    x = npgrad.tensor(data, requires_grad=True)
    ours = npgrad.gradient(x, spacing=[0.5, 2.0], edge_order=edge_order)
    expected = np.gradient(data, 0.5, 2.0, edge_order=edge_order)
    for o, e in zip(ours, expected, strict=True):
        np.testing.assert_allclose(o.detach().numpy(), e)
    (one,) = npgrad.gradient(x, dim=1, edge_order=edge_order)
    np.testing.assert_allclose(
        one.detach().numpy(), np.gradient(data, axis=1, edge_order=2 if edge_order == 2 else 1)
    )
    assert gradcheck(lambda t: npgrad.gradient(t, dim=0, edge_order=edge_order)[0], [x])
    coordinates = npgrad.tensor([0.0, 1.0, 3.0, 4.0, 7.0, 8.0], dtype=npgrad.float64)
    (uneven,) = npgrad.gradient(x, spacing=[coordinates], dim=1, edge_order=edge_order)
    np.testing.assert_allclose(
        uneven.numpy(), np.gradient(data, coordinates.numpy(), axis=1, edge_order=edge_order)
    )


def test_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((4, 7))
    for edge_order in (1, 2):
        ours = npgrad.gradient(npgrad.tensor(data), spacing=3.0, edge_order=edge_order)
        theirs = torch.gradient(torch.tensor(data), spacing=3.0, edge_order=edge_order)
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.numpy(), t.numpy())
