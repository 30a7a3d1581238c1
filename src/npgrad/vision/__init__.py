"""Vision models with torchvision's names and parameter layout (``npgrad.vision.models``), so
that torchvision's pretrained weights load into them: the start of transfer learning."""

from npgrad.vision import models

__all__ = ["models"]
