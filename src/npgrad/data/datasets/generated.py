"""Small generated datasets for classification and regression, each fully determined by a seed."""

import math

import numpy

from npgrad.data.datasets.base import ArrayData, split


def _rng(seed):
    return numpy.random.default_rng(seed)


def _finish(name, x, y, test_fraction, rng, description, num_classes):
    y = y.astype(numpy.int64) if num_classes is not None else y.astype(numpy.float32)
    return split(name, x.astype(numpy.float32), y, test_fraction, rng, description, num_classes)


def xor(n_samples=4, noise=0.0, test_fraction=0.0, seed=0):
    """The XOR truth table (4 points), or ``n_samples`` noisy points around its corners.

    >>> from npgrad.data import datasets
    >>> data = datasets.xor()
    >>> data.x_train.tolist(), data.y_train.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    corners = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)
    labels = numpy.array([0, 1, 1, 0], dtype=numpy.int64)
    if n_samples == 4 and noise == 0:
        empty = numpy.zeros((0, 2), dtype=numpy.float32)
        description = "XOR truth table: the four corners of the unit square, label x1 xor x2."
        return ArrayData("xor", corners, labels, empty, labels[:0], description, 2)
    rng = _rng(seed)
    which = rng.integers(0, 4, n_samples)
    x = corners[which] + rng.normal(0.0, noise, (n_samples, 2))
    description = f"XOR: {n_samples} points around the unit square's corners (noise {noise})."
    return _finish("xor", x, labels[which], test_fraction, rng, description, 2)


def spirals(n_per_class=100, n_classes=3, noise=0.2, test_fraction=0.0, seed=0):
    """Interleaved spiral arms, one per class (the CS231n toy problem: not linearly separable).

    Arm j has radius r in [0, 1] and angle 4j + 4r plus N(0, noise^2) jitter.
    """
    rng = _rng(seed)
    xs, ys = [], []
    for label in range(n_classes):
        radius = numpy.linspace(0.0, 1.0, n_per_class)
        angle = numpy.linspace(label * 4, (label + 1) * 4, n_per_class)
        angle = angle + rng.normal(0.0, noise, n_per_class)
        xs.append(numpy.stack([radius * numpy.sin(angle), radius * numpy.cos(angle)], axis=1))
        ys.append(numpy.full(n_per_class, label))
    description = (
        f"Spirals: {n_classes} interleaved arms of {n_per_class} 2-D points each "
        f"(CS231n), angle noise {noise}."
    )
    return _finish(
        "spirals",
        numpy.concatenate(xs),
        numpy.concatenate(ys),
        test_fraction,
        rng,
        description,
        n_classes,
    )


def moons(n_samples=200, noise=0.1, test_fraction=0.0, seed=0):
    """Two interleaving half circles (as scikit-learn's make_moons)."""
    rng = _rng(seed)
    outer = n_samples // 2
    inner = n_samples - outer
    t_outer = numpy.linspace(0, math.pi, outer)
    t_inner = numpy.linspace(0, math.pi, inner)
    x = numpy.concatenate(
        [
            numpy.stack([numpy.cos(t_outer), numpy.sin(t_outer)], axis=1),
            numpy.stack([1 - numpy.cos(t_inner), 0.5 - numpy.sin(t_inner)], axis=1),
        ]
    )
    x = x + rng.normal(0.0, noise, x.shape)
    y = numpy.concatenate([numpy.zeros(outer), numpy.ones(inner)])
    description = f"Moons: two interleaving half circles, {n_samples} points, noise {noise}."
    return _finish("moons", x, y, test_fraction, rng, description, 2)


def circles(n_samples=200, noise=0.05, factor=0.5, test_fraction=0.0, seed=0):
    """A small circle inside a large one (as scikit-learn's make_circles)."""
    rng = _rng(seed)
    outer = n_samples // 2
    inner = n_samples - outer
    t_outer = numpy.linspace(0, 2 * math.pi, outer, endpoint=False)
    t_inner = numpy.linspace(0, 2 * math.pi, inner, endpoint=False)
    x = numpy.concatenate(
        [
            numpy.stack([numpy.cos(t_outer), numpy.sin(t_outer)], axis=1),
            factor * numpy.stack([numpy.cos(t_inner), numpy.sin(t_inner)], axis=1),
        ]
    )
    x = x + rng.normal(0.0, noise, x.shape)
    y = numpy.concatenate([numpy.zeros(outer), numpy.ones(inner)])
    description = f"Circles: two concentric circles (radius ratio {factor}), noise {noise}."
    return _finish("circles", x, y, test_fraction, rng, description, 2)


def blobs(n_samples=300, centers=3, n_features=2, cluster_std=1.0, test_fraction=0.0, seed=0):
    """Isotropic Gaussian clusters with centres drawn uniformly from [-10, 10]^n_features."""
    rng = _rng(seed)
    means = rng.uniform(-10.0, 10.0, (centers, n_features))
    y = numpy.arange(n_samples) % centers
    x = means[y] + rng.normal(0.0, cluster_std, (n_samples, n_features))
    description = (
        f"Blobs: {centers} Gaussian clusters in {n_features}-D, std {cluster_std}, "
        f"{n_samples} points."
    )
    return _finish("blobs", x, y, test_fraction, rng, description, centers)


def sine(n_samples=200, noise=0.1, test_fraction=0.0, seed=0):
    """Regression: y = sin(x) + N(0, noise^2) for x uniform in [-pi, pi]; x is (N, 1), y (N, 1)."""
    rng = _rng(seed)
    x = rng.uniform(-math.pi, math.pi, (n_samples, 1))
    y = numpy.sin(x) + rng.normal(0.0, noise, x.shape)
    description = f"Sine: y = sin(x) + noise ({noise}), x in [-pi, pi], {n_samples} points."
    return _finish("sine", x, y, test_fraction, rng, description, None)
