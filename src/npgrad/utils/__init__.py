"""PyTorch-compatible aliases: ``npgrad.utils.data`` is ``npgrad.data``;
``npgrad.utils.checkpoint`` (gradient checkpointing) and ``npgrad.utils.tensorboard`` (event
logs, from ``npgrad.viz``) are imported on first use, as PyTorch's are."""

from npgrad.utils import data
