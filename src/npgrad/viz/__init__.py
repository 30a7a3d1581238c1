"""Seeing training: TensorBoard event logs (``SummaryWriter``, written with NumPy alone, and read
back with ``read_events``/``read_scalars``)."""

from npgrad.viz.tensorboard import SummaryWriter, read_events, read_scalars

__all__ = ["SummaryWriter", "read_events", "read_scalars"]
