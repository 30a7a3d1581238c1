"""PyTorch's path to the TensorBoard writer: ``from npgrad.utils.tensorboard import
SummaryWriter`` (it lives in ``npgrad.viz``)."""

from npgrad.viz.tensorboard import SummaryWriter

__all__ = ["SummaryWriter"]
