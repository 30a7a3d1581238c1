"""``Trainer``: the Keras-style short path (``fit``/``evaluate``/``predict``) over PyTorch parts.

Each training step is the PyTorch loop: ``model.train()``, ``optimizer.zero_grad()``, forward,
loss, ``loss.backward()``, ``optimizer.step()``. Around it ``fit`` does the bookkeeping: batching,
validation, metrics, callbacks (with ``History`` and a progress bar added), and the
learning-rate scheduler.
"""

import numpy

from npgrad.autograd import no_grad
from npgrad.data import DataLoader, Dataset, TensorDataset
from npgrad.errors import DataError, ShapeError
from npgrad.optim.lr_scheduler import ReduceLROnPlateau
from npgrad.tensor import Tensor, _array_of
from npgrad.train import metrics as metrics_module
from npgrad.train.callbacks import CallbackList, History, ProgressBar


def check_arrays(x, y, where):
    """Raise a one-line ``DataError`` for empty data, mismatched lengths, or NaN/inf values."""
    x_array = numpy.asarray(_array_of(x))
    if x_array.ndim == 0 or len(x_array) == 0:
        raise DataError(f"{where}: the data is empty (0 samples)")
    if y is not None:
        y_array = numpy.asarray(_array_of(y))
        if y_array.ndim == 0 or len(y_array) != len(x_array):
            raise ShapeError(
                f"{where}: x has {len(x_array)} samples but y has "
                f"{len(y_array) if y_array.ndim else 'no'} samples; they must match"
            )
    for name, array in (("x", x_array), ("y", None if y is None else y_array)):
        if array is not None and array.dtype.kind == "f" and not numpy.isfinite(array).all():
            bad = ~numpy.isfinite(array)
            first = tuple(int(i) for i in numpy.argwhere(bad)[0])
            raise DataError(
                f"{where}: {name} contains {int(bad.sum())} NaN or infinite values (first at "
                f"index {first}); clean or impute them before training"
            )


def _unpack(batch):
    """(inputs, targets) from a batch: a tuple/list (x, y) or (x,), or a dict with 'x'/'y'."""
    if isinstance(batch, dict):
        return batch.get("x", batch.get("input")), batch.get("y", batch.get("target"))
    if isinstance(batch, tuple | list):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _batch_size(inputs):
    return len(inputs) if hasattr(inputs, "__len__") else 1


class Trainer:
    """Train, evaluate and run a model with a loss, an optimizer and metrics.

    Args:
        model: an ``nn.Module`` (or any callable on a batch of inputs).
        loss_fn: ``loss_fn(output, target)`` -> scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: an ``npgrad.optim`` optimizer over the model's parameters.
        metrics: names ('accuracy', 'top5_accuracy', 'f1', 'mae', 'r2', ...) or ``Metric``s.
        scheduler: an ``npgrad.optim.lr_scheduler`` scheduler, stepped once per epoch
            (``ReduceLROnPlateau`` with ``val_loss`` when there is validation data, else ``loss``).

    >>> import npgrad
    >>> from npgrad import nn
    >>> _ = npgrad.manual_seed(0)
    >>> x = npgrad.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), npgrad.optim.Adam(model.parameters(), 0.05),
    ...                   metrics=["accuracy"])
    >>> history = trainer.fit(x, y, epochs=20, batch_size=16, verbose=0)
    >>> history.history["accuracy"][-1] > 0.9
    True
    """

    def __init__(self, model, loss_fn, optimizer, metrics=None, scheduler=None):
        self.model, self.loss_fn, self.optimizer, self.scheduler = (
            model,
            loss_fn,
            optimizer,
            scheduler,
        )
        self.metrics = [metrics_module.get(m) for m in (metrics or [])]
        self.stop_training = False
        self.history = None
        self.fit_epochs = self.fit_steps = None

    # ----------------------------------------------------------------- data
    def _loader(self, x, y, batch_size, shuffle, where):
        if isinstance(x, DataLoader):
            return x
        if isinstance(x, Dataset):
            if len(x) == 0:
                raise DataError(f"{where}: the dataset is empty (0 samples)")
            return DataLoader(x, batch_size=batch_size, shuffle=shuffle)
        check_arrays(x, y, where)
        tensors = [x if isinstance(x, Tensor) else Tensor._wrap(numpy.asarray(x))]
        if y is not None:
            tensors.append(y if isinstance(y, Tensor) else Tensor._wrap(numpy.asarray(y)))
        return DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle)

    @staticmethod
    def _split_validation(x, y, validation_split):
        """Hold out the last ``validation_split`` of (x, y) before shuffling, as Keras does."""
        if not 0.0 < validation_split < 1.0:
            raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
        if isinstance(x, Dataset | DataLoader):
            raise ValueError("validation_split needs arrays; split a Dataset with random_split")
        check_arrays(x, y, "fit")
        cut = int(len(x) * (1.0 - validation_split))
        if cut == 0 or cut == len(x):
            raise DataError(
                f"fit: validation_split={validation_split} of {len(x)} samples leaves an empty "
                "training or validation set"
            )
        return (x[:cut], None if y is None else y[:cut]), (x[cut:], None if y is None else y[cut:])

    # ----------------------------------------------------------------- steps
    def train_step(self, inputs, targets):
        """One optimisation step on a batch; returns the batch's loss as a float."""
        self.optimizer.zero_grad()
        output = self.model(inputs)
        loss = self.loss_fn(output, targets)
        loss.backward()
        self.optimizer.step()
        for metric in self.metrics:
            metric.update(output.detach(), targets)
        return loss.item()

    def _run_evaluation(self, loader, callbacks=None):
        """Mean loss and metrics over a loader, without building graphs."""
        for metric in self.metrics:
            metric.reset()
        total, count = 0.0, 0
        was_training = getattr(self.model, "training", False)
        if hasattr(self.model, "eval"):
            self.model.eval()
        if callbacks:
            callbacks.on_test_begin()
        with no_grad():
            for step, batch in enumerate(loader):
                inputs, targets = _unpack(batch)
                if callbacks:
                    callbacks.on_test_batch_begin(step)
                output = self.model(inputs)
                size = _batch_size(inputs)
                loss = self.loss_fn(output, targets).item()
                total += loss * size
                count += size
                for metric in self.metrics:
                    metric.update(output, targets)
                if callbacks:
                    callbacks.on_test_batch_end(step, {"loss": loss, "size": size})
        logs = {"loss": total / count}
        logs.update({metric.name: metric.compute() for metric in self.metrics})
        if callbacks:
            callbacks.on_test_end(logs)
        if was_training and hasattr(self.model, "train"):
            self.model.train()
        return logs

    # ----------------------------------------------------------------- public API
    def fit(
        self,
        x=None,
        y=None,
        epochs=1,
        batch_size=32,
        validation_data=None,
        validation_split=0.0,
        shuffle=True,
        callbacks=None,
        verbose=1,
        initial_epoch=0,
    ):
        """Train for ``epochs`` epochs; returns the ``History``.

        Args:
            x: inputs (array or Tensor), or a ``Dataset`` or ``DataLoader`` yielding (x, y).
            y: targets, when ``x`` is an array.
            epochs: index of the last epoch (training runs ``initial_epoch``..``epochs - 1``).
            batch_size: samples per step (ignored for a DataLoader).
            validation_data: ``(x_val, y_val)``, a Dataset or a DataLoader, evaluated each epoch.
            validation_split: fraction of (x, y), taken from the end, held out for validation.
            shuffle: reshuffle the training data every epoch.
            callbacks: ``Callback`` objects; ``History`` and a ``ProgressBar`` are added.
            verbose: 0 silent, 1 progress bar (or one line per epoch off a terminal).
            initial_epoch: epoch to start from (when resuming).

        Returns:
            ``History`` with ``history[key]`` per epoch (loss, metrics, ``val_*``, lr) and
            ``step_history[key]`` per batch.

        Raises:
            DataError, ShapeError: empty data, mismatched lengths, NaN inputs.
        """
        if validation_split:
            (x, y), validation_data = self._split_validation(x, y, validation_split)
        train_loader = self._loader(x, y, batch_size, shuffle, "fit")
        val_loader = None
        if validation_data is not None:
            if isinstance(validation_data, tuple | list):
                val_x, val_y = validation_data
            else:
                val_x, val_y = validation_data, None
            val_loader = self._loader(val_x, val_y, batch_size, False, "fit (validation data)")

        self.history = History()
        extra = [ProgressBar(verbose)] if verbose else []
        callbacks = CallbackList([self.history, *(callbacks or []), *extra], self)
        self.fit_epochs, self.fit_steps = epochs, len(train_loader)
        self.stop_training = False
        callbacks.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            if hasattr(self.model, "train"):
                self.model.train()
            for metric in self.metrics:
                metric.reset()
            callbacks.on_epoch_begin(epoch)
            total, count = 0.0, 0
            for step, batch in enumerate(train_loader):
                inputs, targets = _unpack(batch)
                callbacks.on_train_batch_begin(step)
                loss = self.train_step(inputs, targets)
                size = _batch_size(inputs)
                total += loss * size
                count += size
                callbacks.on_train_batch_end(step, {"loss": loss, "size": size})
                if self.stop_training:
                    break
            epoch_logs = {"loss": total / max(count, 1)}
            epoch_logs.update({metric.name: metric.compute() for metric in self.metrics})
            if val_loader is not None:
                val_logs = self._run_evaluation(val_loader, callbacks)
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
            epoch_logs["lr"] = self.optimizer.param_groups[0]["lr"]
            self._step_scheduler(epoch_logs)
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def _step_scheduler(self, logs):
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs["loss"]))
        else:
            self.scheduler.step()

    def evaluate(self, x=None, y=None, batch_size=32, verbose=0):
        """Mean loss and metrics on data (arrays, Dataset or DataLoader), as a dict."""
        loader = self._loader(x, y, batch_size, False, "evaluate")
        logs = self._run_evaluation(loader)
        if verbose:
            print(" - ".join(f"{key}: {value:.4g}" for key, value in logs.items()))
        return logs

    def predict(self, x, batch_size=32):
        """Model outputs for inputs ``x`` (array, Tensor, Dataset or DataLoader), concatenated."""
        loader = self._loader(x, None, batch_size, False, "predict")
        outputs = []
        was_training = getattr(self.model, "training", False)
        if hasattr(self.model, "eval"):
            self.model.eval()
        with no_grad():
            for batch in loader:
                inputs, _ = _unpack(batch)
                outputs.append(self.model(inputs).numpy())
        if was_training and hasattr(self.model, "train"):
            self.model.train()
        return Tensor._wrap(numpy.concatenate(outputs))
