"""Vision, as torchvision: ``models`` (torchvision's names and parameter layout, so that its
pretrained weights load: the start of transfer learning) and ``transforms`` (the same module
as ``npgrad.data.transforms``: ``ToTensor``, ``Normalize``, ``Resize``, ``CenterCrop``, ...)."""

from npgrad.data import transforms
from npgrad.vision import models

__all__ = ["models", "transforms"]
