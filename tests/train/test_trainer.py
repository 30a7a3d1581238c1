"""Trainer: hook order, History keys, validation, early stopping with restored weights, errors."""

import math

import numpy as np
import pytest

import npgrad
from npgrad import nn
from npgrad.data import datasets
from npgrad.errors import DataError, OutOfRangeError, ShapeError
from npgrad.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    metrics,
)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *args, **kwargs: self.calls.append(name)
        return super().__getattribute__(name)


def make_trainer(seed=0, lr=0.05, **kwargs):
    npgrad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = npgrad.optim.Adam(model.parameters(), lr=lr)
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], **kwargs)


def blobs():
    data = datasets.moons(n_samples=120, noise=0.1)
    return data.x_train, data.y_train


def test_hook_order_and_history_keys():
    x, y = blobs()
    recorder = Recorder()
    trainer = make_trainer()
    history = trainer.fit(
        x, y, epochs=2, batch_size=50, validation_split=0.25, callbacks=[recorder], verbose=0
    )
    epoch = (
        ["on_epoch_begin"]
        + ["on_train_batch_begin", "on_train_batch_end"] * 2
        + [
            "on_test_begin",
            "on_test_batch_begin",
            "on_test_batch_end",
            "on_test_end",
            "on_epoch_end",
        ]
    )
    assert recorder.calls == ["on_train_begin"] + epoch * 2 + ["on_train_end"]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert len(history.history["loss"]) == 2 and history.epoch == [0, 1]
    assert len(history.step_history["loss"]) == 4  # 90 samples / 50 per batch, 2 epochs


def test_fit_learns_and_evaluate_predict():
    x, y = blobs()
    trainer = make_trainer()
    trainer.fit(x, y, epochs=60, batch_size=32, verbose=0)
    logs = trainer.evaluate(x, y)
    assert logs["accuracy"] > 0.95
    out = trainer.predict(x)
    assert out.shape == (len(x), 2)
    assert np.isclose((out.numpy().argmax(1) == y).mean(), logs["accuracy"])


def test_early_stopping_restores_the_best_epoch_weights_with_a_scheduler():
    x, y = blobs()
    trainer = make_trainer(lr=0.5)  # a large rate makes the validation loss bounce
    trainer.scheduler = npgrad.optim.lr_scheduler.StepLR(trainer.optimizer, step_size=3, gamma=0.5)
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = {k: v.numpy().copy() for k, v in self.model.state_dict().items()}

    stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = trainer.fit(
        x,
        y,
        epochs=40,
        batch_size=16,
        validation_split=0.3,
        callbacks=[Snapshot(), stopper],
        verbose=0,
    )
    losses = history.history["val_loss"]
    best = int(np.argmin(losses))
    assert stopper.best_epoch == best
    for key, value in trainer.model.state_dict().items():
        assert np.array_equal(value.numpy(), snapshots[best][key]), key
    # the scheduler ran once per epoch: lr halves every 3 epochs
    assert history.history["lr"][:4] == [0.5, 0.5, 0.5, 0.25]
    if stopper.stopped_epoch is not None:
        assert len(losses) == stopper.stopped_epoch + 1


def test_checkpoint_csv_lr_schedule_and_plateau(tmp_path):
    x, y = blobs()
    trainer = make_trainer()
    checkpoint = ModelCheckpoint(
        tmp_path / "m-{epoch:02d}.npz", monitor="loss", save_best_only=True
    )
    logger = CSVLogger(tmp_path / "log.csv")
    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    plateau = ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10.0)
    history = trainer.fit(
        x, y, epochs=3, callbacks=[checkpoint, logger, schedule, plateau], verbose=0
    )
    assert checkpoint.saved and all(p.endswith(".npz") for p in checkpoint.saved)
    npgrad.load(checkpoint.saved[-1])
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,loss,accuracy") and len(rows) == 4
    assert history.history["lr"] == [0.1, 0.05, 0.025]


def test_terminate_on_nan():
    x, y = blobs()
    trainer = make_trainer(lr=1e30)
    history = trainer.fit(x, y, epochs=5, batch_size=8, callbacks=[TerminateOnNaN()], verbose=0)
    assert len(history.history["loss"]) == 1 and not math.isfinite(history.step_history["loss"][-1])


def test_dataloader_input_and_progress_output(capsys):
    x, y = blobs()
    loader = npgrad.data.DataLoader(
        npgrad.data.TensorDataset(npgrad.tensor(x), npgrad.tensor(y)), 40
    )
    make_trainer().fit(loader, epochs=2, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "loss:" in lines[0]


def test_bad_inputs_give_one_line_errors():
    x, y = blobs()
    trainer = make_trainer()
    with pytest.raises(ShapeError, match="x has 120 samples but y has 119"):
        trainer.fit(x, y[:-1], verbose=0)
    with pytest.raises(DataError, match="empty"):
        trainer.fit(x[:0], y[:0], verbose=0)
    bad = x.copy()
    bad[5, 1] = np.nan
    with pytest.raises(DataError, match=r"x contains 1 NaN.*\(5, 1\)"):
        trainer.fit(bad, y, verbose=0)
    with pytest.raises(OutOfRangeError, match="target 2 is out of bounds for 2 classes"):
        trainer.fit(x, y + 1, verbose=0)


def test_metrics():
    scores = npgrad.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 2.0], [0.0, 2.0, 1.0]])
    labels = npgrad.tensor([0, 1, 1, 2])
    assert metrics.Accuracy()(scores, labels) == 0.5
    assert metrics.TopKAccuracy(2)(scores, labels) == 0.75
    confusion = metrics.ConfusionMatrix(3)(scores, labels)
    assert confusion.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 0]]
    precision = metrics.Precision(3)(scores, labels)
    assert math.isclose(precision, (1 + 0.5 + 0) / 3)
    assert math.isclose(metrics.Recall(3)(scores, labels), (1 + 0.5 + 0) / 3)
    assert math.isclose(metrics.F1Score(3, average="micro")(scores, labels), 0.5)
    assert math.isclose(
        metrics.MeanAbsoluteError()(npgrad.tensor([1.0, 3.0]), npgrad.tensor([2.0, 1.0])), 1.5
    )
    assert metrics.R2Score()(npgrad.tensor([1.0, 2.0, 3.0]), npgrad.tensor([1.0, 2.0, 3.0])) == 1.0
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get("bleu")
