"""The safetensors format (Hugging Face's): flat dicts of named tensors, no code, no pickle.

A file is an 8-byte little-endian header length, a JSON header, then the tensors' bytes. The
header maps each name to ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}``
(offsets into the bytes after the header) and may hold ``"__metadata__"``, a dict of strings.
The functions have the names and arguments of the ``safetensors`` package's NumPy and PyTorch
modules (``save_file``, ``load_file``, ``save``, ``load``), with npgrad Tensors for values.

>>> import npgrad
>>> from npgrad.io import safetensors
>>> data = safetensors.save({"w": npgrad.ones(2, 3)}, metadata={"step": "10"})
>>> safetensors.load(data)["w"].shape
(2, 3)
"""

import json
import os

import numpy

from npgrad.errors import SerializationError
from npgrad.io.serialization import bfloat16_to_float32, write_atomically
from npgrad.tensor import Tensor

# the format's dtype names; BF16 (no NumPy dtype) is read as float32
_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_NAMES = {numpy.dtype(code): name for name, code in _DTYPES.items() if name != "BF16"}
_MAX_HEADER = 100_000_000  # bytes, as the reference implementation's limit


def is_safetensors(raw):
    """Whether ``raw`` (a file's bytes) looks like a safetensors file: a plausible header
    length, then a JSON object."""
    if len(raw) < 10:
        return False
    size = int.from_bytes(raw[:8], "little")
    return 2 <= size <= min(len(raw) - 8, _MAX_HEADER) and raw[8:9] == b"{"


def save(tensors, metadata=None):
    """The bytes of a safetensors file holding ``tensors`` (a dict name -> Tensor or array)."""
    if not isinstance(tensors, dict):
        raise TypeError(
            f"safetensors: expected a dict of named tensors, got {type(tensors).__name__}"
        )
    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError("safetensors: metadata must map strings to strings")
    header = {"__metadata__": dict(metadata)} if metadata else {}
    arrays, offset = [], 0
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors: tensor names must be strings, got {name!r}")
        if isinstance(value, Tensor):
            value = value.numpy()
        elif not isinstance(value, numpy.ndarray) and not hasattr(value, "__array__"):
            raise TypeError(
                f"safetensors: a file holds a flat dict of tensors; {name!r} is a "
                f"{type(value).__name__}"
            )
        array = numpy.asarray(value)
        if array.dtype not in _NAMES:
            raise TypeError(
                f"safetensors: tensor {name!r} has dtype {array.dtype}, which the format lacks"
            )
        array = numpy.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
        header[name] = {
            "dtype": _NAMES[array.dtype.newbyteorder("=")],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        arrays.append(array)
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    return b"".join([len(text).to_bytes(8, "little"), text, *(a.tobytes() for a in arrays)])


def load(data, path="the data"):
    """The named tensors in ``data`` (a safetensors file's bytes), as npgrad Tensors, after
    checking the header: every tensor's bytes inside the file, of its shape's size, and the
    tensors covering the data with no gaps or overlaps."""
    tensors, _ = _read(data, path)
    return tensors


def metadata(data, path="the data"):
    """The ``__metadata__`` dict of a safetensors file's bytes (empty when it has none)."""
    return _read(data, path)[1]


def _read(data, path):
    if len(data) < 8:
        raise SerializationError(f"load: {path} is too short for a safetensors file")
    size = int.from_bytes(data[:8], "little")
    if size > min(len(data) - 8, _MAX_HEADER):
        raise SerializationError(
            f"load: {path}: the safetensors header claims {size} bytes, the file has "
            f"{len(data) - 8} after the length (truncated or not a safetensors file)"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SerializationError(
            f"load: {path} has a corrupt safetensors header ({error})"
        ) from error
    if not isinstance(header, dict):
        raise SerializationError(f"load: {path}: the safetensors header is not a JSON object")
    extra = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + size :]
    tensors, spans = {}, []
    for name, entry in header.items():
        try:
            code, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            dtype = numpy.dtype(_DTYPES[code])
            count = int(numpy.prod(shape, dtype=numpy.int64))
        except (KeyError, TypeError, ValueError) as error:
            raise SerializationError(
                f"load: {path}: tensor {name!r} has a malformed header entry {entry!r}"
            ) from error
        if not 0 <= begin <= end <= len(body) or end - begin != count * dtype.itemsize:
            raise SerializationError(
                f"load: {path}: tensor {name!r} ({code}, shape {shape}) should span "
                f"{count * dtype.itemsize} bytes, its offsets [{begin}, {end}] do not fit the "
                f"{len(body)} bytes of data (truncated or corrupt file)"
            )
        array = numpy.frombuffer(body[begin:end], dtype=dtype).reshape(shape)
        if code == "BF16":
            array = bfloat16_to_float32(array)  # (a new array)
        else:  # a copy of its own, writable, in native byte order
            array = array.astype(array.dtype.newbyteorder("="), copy=True)
        tensors[name] = Tensor._wrap(array)
        spans.append((begin, end, name))
    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            raise SerializationError(
                f"load: {path}: tensor {name!r} starts at byte {begin}, expected {covered} "
                "(overlapping tensors or a gap in the data)"
            )
        covered = end
    if covered != len(body):
        raise SerializationError(
            f"load: {path}: {len(body) - covered} bytes after the last tensor (corrupt file)"
        )
    return tensors, extra


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` to ``filename`` as safetensors, atomically (see ``npgrad.save``)."""
    data = save(tensors, metadata)
    write_atomically(filename, lambda f: f.write(data))


def load_file(filename):
    """The named tensors of the safetensors file ``filename``."""
    filename = os.fspath(filename)
    with open(filename, "rb") as f:
        return load(f.read(), filename)
