"""Datasets as arrays plus a description (:class:`ArrayData`): generated, bundled, downloadable.

``load(name)`` finds any of them by name; ``available()`` lists them (``npgrad datasets``).
"""

from npgrad.data.datasets.base import ArrayData
from npgrad.data.datasets.bundled import digits
from npgrad.data.datasets.download import cache_dir, fashion_mnist, mnist, read_idx
from npgrad.data.datasets.generated import blobs, circles, moons, sine, spirals, xor
from npgrad.data.datasets.mnist1d import mnist1d

REGISTRY = {
    "digits": (digits, "8x8 handwritten digits, 10 classes (scikit-learn, bundled)"),
    "mnist1d": (mnist1d, "MNIST-1D: 1-D digit sequences of length 40, 10 classes (generated)"),
    "spirals": (spirals, "3 interleaved 2-D spirals, CS231n (generated)"),
    "moons": (moons, "2 interleaving half circles (generated)"),
    "circles": (circles, "2 concentric circles (generated)"),
    "blobs": (blobs, "3 Gaussian clusters in 2-D (generated)"),
    "xor": (xor, "XOR truth table (generated)"),
    "sine": (sine, "regression: y = sin(x) + noise (generated)"),
    "mnist": (mnist, "MNIST 28x28 handwritten digits (downloaded, cached)"),
    "fashion_mnist": (fashion_mnist, "Fashion-MNIST 28x28 clothing images (downloaded, cached)"),
}


def available():
    """``{name: one-line description}`` of every dataset."""
    return {name: summary for name, (_, summary) in REGISTRY.items()}


def load(name, **kwargs):
    """Load a dataset by name (see :func:`available`), passing ``kwargs`` to its function."""
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(REGISTRY)}")
    return REGISTRY[name][0](**kwargs)
