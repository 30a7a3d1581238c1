"""Callbacks: objects whose hooks ``Trainer.fit`` calls at fixed points of training.

The hooks and their order follow Keras: ``on_train_begin``, then per epoch ``on_epoch_begin``,
per batch ``on_train_batch_begin``/``on_train_batch_end``, validation (``on_test_*``),
``on_epoch_end`` (with ``val_`` prefixed logs), and finally ``on_train_end``. A callback can stop
training by setting ``trainer.stop_training = True``.
"""

import csv
import math
import os
import sys
import time

import numpy

from npgrad.io.serialization import save
from npgrad.viz.tensorboard import SummaryWriter


class Callback:
    """Base class with every hook as a no-op; ``self.trainer`` and ``self.model`` are set by fit."""

    trainer = None

    @property
    def model(self):
        return self.trainer.model if self.trainer is not None else None

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Forwards every hook to a list of callbacks, in order."""

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_trainer(trainer)

    def __getattr__(self, name):
        if name not in _HOOKS:
            raise AttributeError(name)

        def call_all(*args, **kwargs):
            for callback in self.callbacks:
                getattr(callback, name)(*args, **kwargs)

        return call_all


class History(Callback):
    """Records the logs: ``history[key]`` per epoch and ``step_history[key]`` per batch."""

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}
        self.step_history = {}

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            self.step_history.setdefault(key, []).append(value)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        keys = list(getattr(self, "history", {}))
        return f"History(epochs={len(getattr(self, 'epoch', []))}, keys={keys})"


def _format_logs(logs, skip=("batch", "size")):
    parts = []
    for key, value in logs.items():
        if key in skip:
            continue
        parts.append(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    return " - ".join(parts)


def _format_seconds(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.1f}s"


class ProgressBar(Callback):
    """A progress bar with loss, metrics, throughput and ETA, redrawn at most every ``interval`` s.

    On a terminal it redraws one line per epoch; elsewhere (a log file, CI) it prints one plain
    summary line per epoch and nothing in between.
    """

    def __init__(self, verbose=1, stream=None, interval=0.1, width=24):
        self.verbose, self.interval, self.width = verbose, interval, width
        self.stream = stream or sys.stdout

    @property
    def interactive(self):
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_train_begin(self, logs=None):
        self.epochs = self.trainer.fit_epochs
        self.steps = self.trainer.fit_steps

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = self.last_draw = time.perf_counter()
        self.samples, self.epoch = 0, epoch
        self.running = {}

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self.samples += size
        for key, value in logs.items():
            if key not in ("batch", "size"):
                total, count = self.running.get(key, (0.0, 0))
                self.running[key] = (total + value * size, count + size)
        now = time.perf_counter()
        last = self.steps is not None and batch + 1 == self.steps
        if self.interactive and (now - self.last_draw >= self.interval or last):
            self.last_draw = now
            self._draw(batch + 1, now)

    def _draw(self, done, now):
        elapsed = now - self.epoch_start
        averages = {k: t / c for k, (t, c) in self.running.items() if c}
        averages.update({metric.name: metric.compute() for metric in self.trainer.metrics})
        if self.steps:
            filled = int(self.width * done / self.steps)
            bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=")
            bar = f"{done}/{self.steps} [{bar.ljust(self.width, '.')}]"
            eta = elapsed / done * (self.steps - done)
            timing = (
                f"ETA {_format_seconds(eta)}" if done < self.steps else _format_seconds(elapsed)
            )
        else:
            bar, timing = f"{done}", _format_seconds(elapsed)
        rate = self.samples / elapsed if elapsed > 0 else 0.0
        line = f"\r{bar} - {timing} - {_format_logs(averages)} - {rate:,.0f} samples/s"
        self.stream.write(line)
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.epoch_start
        prefix = f"epoch {epoch + 1}/{self.epochs}"
        summary = f"{prefix} - {_format_seconds(elapsed)} - {_format_logs(logs or {})}"
        if self.interactive:
            self.stream.write("\r\x1b[K" + summary + "\n")
        else:
            self.stream.write(summary + "\n")
        self.stream.flush()


class _Monitor(Callback):
    """Shared logic of callbacks that watch one logged quantity for improvement."""

    def __init__(self, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = (
                "max"
                if any(k in monitor for k in ("acc", "f1", "precision", "recall", "r2"))
                else "min"
            )
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def improved(self, current, reference):
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(
                f"{type(self).__name__}: monitored quantity {self.monitor!r} is not in the logs "
                f"(available: {sorted(logs or {})}); pass validation data for 'val_' metrics"
            )
        return float(value)


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; optionally restore the best.

    Matches ``keras.callbacks.EarlyStopping``: with ``restore_best_weights`` the model ends with
    the weights of its best epoch (copied at that epoch), whether or not training stopped early.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.baseline = patience, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        current = self.current(logs)
        self.wait += 1
        if self.improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = {
                    k: v.numpy().copy() for k, v in self.model.state_dict().items()
                }
            if self.baseline is None or self.improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model's state dict after each epoch (or only when ``monitor`` improves).

    ``filepath`` may contain ``{epoch}`` and any logged key, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"`` (epochs counted from 1, as Keras does). Files are
    written atomically by ``npgrad.save``.
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto", verbose=0):
        super().__init__(monitor, mode, 0.0)
        self.filepath, self.save_best_only, self.verbose = str(filepath), save_best_only, verbose
        self.saved = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self.current(logs)
            if not self.improved(current, self.best):
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save(self.model.state_dict(), path)
        self.saved.append(path)
        if self.verbose:
            print(f"epoch {epoch + 1}: saved the model to {path}")


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = lr


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (epoch from 0)."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.trainer.optimizer
        lr = float(self.schedule(epoch, optimizer.param_groups[0]["lr"]))
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule returned an invalid rate {lr}")
        _set_lr(optimizer, lr)
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {lr:.4g}")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` once ``monitor`` stalls for ``patience`` epochs."""

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        verbose=0,
    ):
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor must be < 1")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown = factor, patience, cooldown
        self.min_lr, self.verbose = min_lr, verbose

    def on_train_begin(self, logs=None):
        self.wait = self.cooldown_counter = 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        current = self.current(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improved(current, self.best):
            self.best, self.wait = current, 0
            return
        self.wait += 1
        if self.wait >= self.patience and self.cooldown_counter == 0:
            for group in self.trainer.optimizer.param_groups:
                group["lr"] = max(group["lr"] * self.factor, self.min_lr)
            if self.verbose:
                print(f"epoch {epoch + 1}: reducing the learning rate to {group['lr']:.4g}")
            self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Append one row of epoch logs per epoch to a CSV file (flushed every epoch)."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = str(filename), separator, append

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename)
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = None
        self.write_header = not exists

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **(logs or {})}
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=list(row), delimiter=self.separator)
            if self.write_header:
                self.writer.writeheader()
        self.writer.writerow(row)
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class TensorBoard(Callback):
    """Epoch logs to TensorBoard (``tensorboard --logdir <log_dir>``), as Keras's callback: the
    training values in ``<log_dir>/train`` and the validation ones (``val_*``) in
    ``<log_dir>/validation``, under the same tags (``epoch_loss``, ``epoch_accuracy``, ...), so
    that TensorBoard draws each pair in one chart. Every ``histogram_freq`` epochs (0: never),
    also each parameter's histogram."""

    def __init__(self, log_dir="logs", histogram_freq=0):
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.writers = {}

    def _writer(self, run):
        if run not in self.writers:
            self.writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self.writers[run]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float | numpy.number):
                continue
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(run).add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            for name, parameter in self.model.named_parameters():
                self._writer("train").add_histogram(name, parameter, epoch)

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite (and say at which batch)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not numpy.isfinite(loss):
            print(f"batch {batch}: invalid loss {loss}, terminating training")
            self.trainer.stop_training = True
