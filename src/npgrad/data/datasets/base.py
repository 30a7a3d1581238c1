"""``ArrayData``: what every dataset function returns (arrays plus a description)."""

from dataclasses import dataclass, field

import numpy


@dataclass
class ArrayData:
    """A dataset as NumPy arrays: a train split, a test split (possibly empty), and metadata.

    Attributes:
        name: short name, as ``npgrad datasets`` lists it.
        x_train, y_train: training inputs (N, ...) float32 and targets (N,) int64 (or float32
            for regression).
        x_test, y_test: held-out data, same layout.
        description: one paragraph: where the data comes from and what it is.
        num_classes: number of classes, or ``None`` for regression.
        class_names: optional names of the classes.
    """

    name: str
    x_train: numpy.ndarray
    y_train: numpy.ndarray
    x_test: numpy.ndarray
    y_test: numpy.ndarray
    description: str
    num_classes: int | None = None
    class_names: list = field(default_factory=list)

    @property
    def task(self):
        """``"classification"`` or ``"regression"``."""
        return "regression" if self.num_classes is None else "classification"

    @property
    def num_features(self):
        """Size of one flattened input."""
        return int(numpy.prod(self.x_train.shape[1:]))

    def __repr__(self):
        return (
            f"ArrayData({self.name!r}: train {self.x_train.shape}, test {self.x_test.shape}, "
            f"{self.task}{'' if self.num_classes is None else f', {self.num_classes} classes'})"
        )


def split(name, x, y, test_fraction, rng, description, num_classes):
    """Shuffle (x, y) and cut off ``test_fraction`` of it as the test split."""
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    cut = len(x) - int(round(len(x) * test_fraction))
    return ArrayData(name, x[:cut], y[:cut], x[cut:], y[cut:], description, num_classes)
