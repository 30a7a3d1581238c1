"""PyTorch-compatible aliases: ``npgrad.utils.data`` is ``npgrad.data``."""

from npgrad.utils import data
