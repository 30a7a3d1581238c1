"""File formats: ``save``/``load`` of state dicts and checkpoints (safe ``.npz`` with a header),
PyTorch's checkpoints (``torch_format``) and safetensors files (``safetensors``)."""

from npgrad.io.serialization import load, save
