"""``torch.testing``: ``assert_close`` compares tensors (or arrays, numbers, and nested lists,
tuples and dicts of them) with dtype-dependent tolerances and says where they differ."""

import numpy

from npgrad.nn.modules.module import _detached
from npgrad.tensor import Tensor

# PyTorch's defaults per dtype: (rtol, atol)
_TOLERANCES = {
    numpy.dtype(numpy.float16): (1e-3, 1e-5),
    numpy.dtype(numpy.float32): (1.3e-6, 1e-5),
    numpy.dtype(numpy.float64): (1e-7, 1e-7),
}


def _array(value):
    """A tensor (npgrad's or PyTorch's), an array or a number, as a NumPy array."""
    return numpy.asarray(_detached(value))


def assert_close(
    actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None, **_
):
    """Raise ``AssertionError`` unless |actual - expected| <= atol + rtol |expected| everywhere
    (tolerances from the dtype unless given: float32 1.3e-6 / 1e-5, float64 1e-7 / 1e-7, exact
    for integers and bools), with equal shapes and, by default, equal dtypes."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), msg or (
            f"keys differ: {sorted(actual)} != {sorted(expected)}"
        )
        for key in expected:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)  # fmt: skip
        return
    if isinstance(expected, list | tuple):
        assert len(actual) == len(expected), (
            msg or f"lengths differ: {len(actual)} != {len(expected)}"
        )
        for a, e in zip(actual, expected, strict=True):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)  # fmt: skip
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(
            msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}."
        )
    if (
        check_dtype
        and isinstance(actual, Tensor)
        and isinstance(expected, Tensor)
        and a.dtype != e.dtype
    ):
        raise AssertionError(
            msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}."
        )
    default_rtol, default_atol = _TOLERANCES.get(numpy.promote_types(a.dtype, e.dtype), (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    close = numpy.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = numpy.argwhere(~close)
        where = tuple(int(i) for i in bad[0])
        difference = numpy.abs(a.astype(numpy.float64) - e.astype(numpy.float64))
        raise AssertionError(
            msg
            or f"Tensor-likes are not close!\n\nMismatched elements: {len(bad)} / {a.size}\n"
            f"Greatest absolute difference: {numpy.nanmax(difference)}\nFirst mismatch at index "
            f"{where}: {a[where] if a.ndim else a} vs {e[where] if e.ndim else e} (up to {atol} "
            f"allowed, plus rtol {rtol})"
        )


assert_allclose = assert_close
