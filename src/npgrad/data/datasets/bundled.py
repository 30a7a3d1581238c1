"""scikit-learn's bundled 8x8 handwritten digits (needs the ``datasets`` extra)."""

import numpy

from npgrad.data.datasets.base import split


def digits(test_fraction=0.2, seed=0):
    """The 1,797 8x8 handwritten digits bundled with scikit-learn, scaled to [0, 1].

    x is (N, 64) float32, y int64 in 0..9; ``test_fraction`` of it is held out (seeded).

    Raises:
        ImportError: scikit-learn is not installed (``pip install "npgrad[datasets]"``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "the digits dataset comes with scikit-learn: pip install 'npgrad[datasets]' "
            "(or use mnist1d, which needs nothing)"
        ) from None
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(numpy.float32)
    description = (
        "Digits: 1,797 8x8 grey-level images of handwritten digits (UCI, bundled with "
        f"scikit-learn), scaled to [0, 1]; {test_fraction:.0%} held out."
    )
    data = split(
        "digits", x, bunch.target, test_fraction, numpy.random.default_rng(seed), description, 10
    )
    data.class_names = [str(d) for d in range(10)]
    return data
