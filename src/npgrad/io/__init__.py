"""File formats: ``save``/``load`` of state dicts and checkpoints (safe ``.npz`` with a header)."""

from npgrad.io.serialization import load, save
