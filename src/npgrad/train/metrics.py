"""Metrics that accumulate over batches: ``reset()``, ``update(output, target)``, ``compute()``.

Outputs are model outputs (logits or scores (N, C) for classification, values for regression);
targets are labels (N,) or values. Everything here is NumPy; metrics never build a graph.
"""

import numpy

from npgrad.tensor import _array_of


class Metric:
    """Base class: a named quantity accumulated over batches."""

    name = "metric"

    def reset(self):
        raise NotImplementedError

    def update(self, output, target):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def __call__(self, output, target):
        """The metric of one batch alone."""
        self.reset()
        self.update(output, target)
        return self.compute()


def _predicted_classes(output):
    scores = _array_of(output)
    if scores.ndim == 1 or scores.shape[-1] == 1:  # one logit per sample: binary
        return (scores.reshape(len(scores), -1)[:, 0] > 0).astype(numpy.int64)
    return scores.argmax(axis=-1)


class Accuracy(Metric):
    """Fraction of samples whose highest-scoring class is the target."""

    name = "accuracy"

    def reset(self):
        self.correct = self.total = 0

    def update(self, output, target):
        labels = _array_of(target).reshape(-1)
        self.correct += int((_predicted_classes(output).reshape(-1) == labels).sum())
        self.total += labels.size

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class TopKAccuracy(Metric):
    """Fraction of samples whose target is among the ``k`` highest-scoring classes."""

    def __init__(self, k=5):
        self.k = k
        self.name = f"top{k}_accuracy"
        self.reset()

    def reset(self):
        self.correct = self.total = 0

    def update(self, output, target):
        scores, labels = _array_of(output), _array_of(target).reshape(-1)
        top = numpy.argpartition(-scores, min(self.k, scores.shape[1]) - 1, axis=1)[:, : self.k]
        self.correct += int((top == labels[:, None]).any(axis=1).sum())
        self.total += labels.size

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class ConfusionMatrix(Metric):
    """counts[i, j] = number of samples of true class i predicted as class j."""

    name = "confusion_matrix"

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.reset()

    def reset(self):
        self.counts = numpy.zeros((self.num_classes, self.num_classes), dtype=numpy.int64)

    def update(self, output, target):
        predicted = _predicted_classes(output).reshape(-1)
        labels = _array_of(target).reshape(-1)
        numpy.add.at(self.counts, (labels, predicted), 1)

    def compute(self):
        return self.counts.copy()


class _FromConfusion(Metric):
    """Precision, recall and F1 from a confusion matrix, averaged ``macro`` or ``micro``."""

    def __init__(self, num_classes=None, average="macro"):
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        self.num_classes, self.average = num_classes, average
        self.name = f"{self.base_name}" if average == "macro" else f"{self.base_name}_micro"
        self.reset()

    def reset(self):
        self.outputs, self.targets = [], []

    def update(self, output, target):
        self.outputs.append(_predicted_classes(output).reshape(-1))
        self.targets.append(_array_of(target).reshape(-1))

    def _counts(self):
        predicted, labels = numpy.concatenate(self.outputs), numpy.concatenate(self.targets)
        classes = self.num_classes or int(max(predicted.max(), labels.max())) + 1
        true_positive = numpy.bincount(labels[predicted == labels], minlength=classes)
        predicted_count = numpy.bincount(predicted, minlength=classes)
        actual_count = numpy.bincount(labels, minlength=classes)
        return true_positive, predicted_count, actual_count

    @staticmethod
    def _ratio(numerator, denominator):
        return numpy.divide(
            numerator, denominator, out=numpy.zeros(len(numerator)), where=denominator > 0
        )

    def compute(self):
        if not self.outputs:
            return 0.0
        tp, predicted, actual = self._counts()
        if self.average == "micro":
            tp, predicted, actual = (
                tp.sum(keepdims=True),
                predicted.sum(keepdims=True),
                actual.sum(keepdims=True),
            )
        return float(self._score(tp, predicted, actual).mean())


class Precision(_FromConfusion):
    """Of the samples predicted as a class, the fraction that belong to it."""

    base_name = "precision"

    def _score(self, tp, predicted, actual):
        return self._ratio(tp, predicted)


class Recall(_FromConfusion):
    """Of the samples of a class, the fraction predicted as it."""

    base_name = "recall"

    def _score(self, tp, predicted, actual):
        return self._ratio(tp, actual)


class F1Score(_FromConfusion):
    """Harmonic mean of precision and recall, per class, then averaged."""

    base_name = "f1"

    def _score(self, tp, predicted, actual):
        return self._ratio(2 * tp, predicted + actual)


class MeanAbsoluteError(Metric):
    """mean(|output - target|)."""

    name = "mae"

    def reset(self):
        self.total_error = 0.0
        self.count = 0

    def update(self, output, target):
        difference = _array_of(output).reshape(-1) - _array_of(target).reshape(-1)
        self.total_error += float(numpy.abs(difference).sum())
        self.count += difference.size

    def compute(self):
        return self.total_error / self.count if self.count else 0.0


class R2Score(Metric):
    """Coefficient of determination: 1 - SS_residual / SS_total."""

    name = "r2"

    def reset(self):
        self.outputs, self.targets = [], []

    def update(self, output, target):
        self.outputs.append(_array_of(output).reshape(-1).astype(numpy.float64))
        self.targets.append(_array_of(target).reshape(-1).astype(numpy.float64))

    def compute(self):
        if not self.outputs:
            return 0.0
        output, target = numpy.concatenate(self.outputs), numpy.concatenate(self.targets)
        total = ((target - target.mean()) ** 2).sum()
        residual = ((target - output) ** 2).sum()
        return float(1 - residual / total) if total > 0 else 0.0


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "mae": MeanAbsoluteError,
    "r2": R2Score,
    "precision": Precision,
    "recall": Recall,
    "f1": F1Score,
}


def get(metric):
    """A Metric from an instance, a class, or a name ('accuracy', 'top5_accuracy', 'f1', ...)."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, type) and issubclass(metric, Metric):
        return metric()
    if isinstance(metric, str):
        if metric.startswith("top") and metric.endswith("_accuracy"):
            return TopKAccuracy(int(metric[3 : -len("_accuracy")]))
        if metric in _BY_NAME:
            return _BY_NAME[metric]()
    raise ValueError(f"unknown metric {metric!r}; use one of {sorted(_BY_NAME)} or a Metric")
