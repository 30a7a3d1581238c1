"""Tensor printing: PyTorch's layout, checked on fixed cases and, with torch, on random ones."""

import numpy as np
import pytest

import npgrad


@pytest.fixture(autouse=True)
def default_print_options():
    npgrad.set_printoptions(profile="default", linewidth=80)
    yield
    npgrad.set_printoptions(profile="default", linewidth=80)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: npgrad.tensor([1.5, 2.25]), "tensor([1.5000, 2.2500])"),
        (lambda: npgrad.tensor([1.123456789, 2.0]), "tensor([1.1235, 2.0000])"),
        (lambda: npgrad.tensor(3.5), "tensor(3.5000)"),
        (lambda: npgrad.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
        (lambda: npgrad.tensor([1e6, 2.0]), "tensor([1.0000e+06, 2.0000e+00])"),
        (lambda: npgrad.tensor([float("nan"), float("inf"), 1.0]), "tensor([nan, inf, 1.])"),
        (lambda: npgrad.tensor([-1.5, 100.25]), "tensor([ -1.5000, 100.2500])"),
        (lambda: npgrad.tensor([True, False]), "tensor([ True, False])"),
        (lambda: npgrad.tensor([1, 200], dtype=npgrad.int32), "tensor([  1, 200], dtype=int32)"),
        (lambda: npgrad.zeros(0, 3), "tensor([], size=(0, 3))"),
        (lambda: npgrad.zeros(0, dtype=npgrad.int64), "tensor([], dtype=int64)"),
        (
            lambda: npgrad.tensor([0.1, 0.2], requires_grad=True),
            "tensor([0.1000, 0.2000], requires_grad=True)",
        ),
        (
            lambda: npgrad.arange(24.0).reshape(2, 3, 4) - 5,
            "tensor([[[-5., -4., -3., -2.],\n"
            "         [-1.,  0.,  1.,  2.],\n"
            "         [ 3.,  4.,  5.,  6.]],\n\n"
            "        [[ 7.,  8.,  9., 10.],\n"
            "         [11., 12., 13., 14.],\n"
            "         [15., 16., 17., 18.]]])",
        ),
        (
            lambda: npgrad.arange(2000.0),
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03])",
        ),
    ],
)
def test_prints_as_pytorch_does(make, expected):
    assert repr(make()) == expected and str(make()) == expected


def test_summarised_rows_and_a_suffix_on_its_own_line():
    x = npgrad.ones(1000, 2)
    lines = repr(x).split("\n")
    assert lines[3] == "        ...," and len(lines) == 7  # three rows, "...", three rows
    npgrad.set_printoptions(linewidth=30)
    y = npgrad.ones(2, 8, requires_grad=True) * 2
    assert repr(y).endswith("2., 2., 2.]],\n       grad_fn=<MulBackward>)")


def test_printoptions_precision_sci_mode_and_profiles():
    npgrad.set_printoptions(precision=2, sci_mode=True)
    assert repr(npgrad.tensor([1.5, 2.0])) == "tensor([1.50e+00, 2.00e+00])"
    npgrad.set_printoptions(sci_mode=False)
    assert repr(npgrad.tensor([1e-6, 2.0])) == "tensor([0.00, 2.00])"
    npgrad.set_printoptions(profile="full")
    assert "..." not in repr(npgrad.zeros(2000))
    npgrad.set_printoptions(edgeitems=0, threshold=5)
    assert repr(npgrad.ones(4, 4)) == "tensor([...], size=(4, 4))"
    with pytest.raises(ValueError, match="profile"):
        npgrad.set_printoptions(profile="long")


def _random_case(rng):
    shape = tuple(rng.integers(0, 7, size=rng.integers(0, 4)))
    kind = rng.integers(0, 6)
    if kind == 0:
        return rng.integers(-1000, 1000, size=shape).astype(np.int64)
    if kind == 1:
        return rng.integers(-5, 5, size=shape).astype(np.float32)
    if kind == 2:
        return rng.random(shape) > 0.5
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 10)
    if kind == 4 and values.size:
        values.flat[rng.integers(0, values.size)] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
    return values.astype(rng.choice([np.float32, np.float64]))


def test_random_tensors_print_as_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    cases = [_random_case(rng) for _ in range(300)]
    cases += [np.arange(3000, dtype=np.float32).reshape(30, 100) / 7, np.arange(1500) * 7]
    default = torch.get_default_dtype()  # tests/helpers.py sets float64 for parity tests
    torch.set_default_dtype(torch.float32)
    try:
        _compare_with_torch(torch, cases)
    finally:
        torch.set_default_dtype(default)


def _compare_with_torch(torch, cases):
    for values in cases:
        ours = repr(npgrad.tensor(values))
        theirs = repr(torch.tensor(values)).replace("torch.", "")
        # torch's longer "dtype=torch.float64" moves it to its own line sooner
        ours, theirs = (s.replace(",\n       dtype=", ", dtype=") for s in (ours, theirs))
        assert ours == theirs, (values.dtype, values.shape)
