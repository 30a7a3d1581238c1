"""The Keras-style training path: ``Trainer`` (fit/evaluate/predict), callbacks and metrics."""

from npgrad.train import metrics
from npgrad.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from npgrad.train.trainer import Trainer
