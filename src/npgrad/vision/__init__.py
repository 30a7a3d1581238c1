"""Vision, as torchvision: ``models`` (torchvision's names and parameter layout, so that its
pretrained weights load: the start of transfer learning), ``datasets`` (MNIST, CIFAR, image
folders, with torchvision's arguments and files), ``transforms`` (the same module as
``npgrad.data.transforms``) and ``utils`` (``make_grid``, ``save_image``)."""

from npgrad.data import transforms
from npgrad.vision import datasets, models, utils

__all__ = ["datasets", "models", "transforms", "utils"]
