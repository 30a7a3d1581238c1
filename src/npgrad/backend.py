"""The one place that knows which array library runs the math, the default dtype and the RNG.

Everything else imports ``xp`` from here instead of ``numpy`` so that a CuPy backend can be slotted
in later without touching the ops.
"""

import numpy

xp = numpy

_default_dtype = numpy.dtype(numpy.float32)
_generator = numpy.random.default_rng()


def get_default_dtype():
    """Return the floating dtype used for new float tensors (``float32`` unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Set the floating dtype used for new float tensors (``float32`` or ``float64``).

    Args:
        dtype: ``npgrad.float32`` or ``npgrad.float64`` (any NumPy float dtype spelling).

    Raises:
        TypeError: if ``dtype`` is not a floating dtype.
    """
    global _default_dtype
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Seed npgrad's random generator so that ``randn``, init, dropout and shuffling repeat.

    Args:
        seed: a non-negative integer.

    Returns:
        The generator, as ``torch.manual_seed`` returns one.

    >>> import npgrad
    >>> _ = npgrad.manual_seed(0); a = npgrad.randn(3)
    >>> _ = npgrad.manual_seed(0); b = npgrad.randn(3)
    >>> bool((a == b).all())
    True
    """
    global _generator
    _generator = numpy.random.default_rng(int(seed))
    return _generator


def default_generator():
    """Return the current global ``numpy.random.Generator`` (reseeded by :func:`manual_seed`)."""
    return _generator
