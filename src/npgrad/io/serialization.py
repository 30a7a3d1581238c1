"""``save`` and ``load``: state dicts and nested containers of tensors in a safe ``.npz`` archive.

The archive holds one array per tensor plus a JSON header (``__npgrad__``) describing the nested
structure, the format version, the npgrad version, and each array's shape, dtype and SHA-256.
Loading uses ``allow_pickle=False``, so a file can never execute code, and every array is checked
against the header before anything is returned. Writing goes to a temporary file in the target
folder that is renamed into place, so a crash never leaves a half-written file under your name.
"""

import io
import json
import os

import numpy

from npgrad import __version__
from npgrad.errors import SerializationError
from npgrad.tensor import Tensor

FORMAT = "npgrad"
FORMAT_VERSION = 1
_HEADER = "__npgrad__"


def _encode(obj, arrays):
    """The JSON form of ``obj``; tensors and arrays go to ``arrays`` and leave a reference."""
    if isinstance(obj, Tensor | numpy.ndarray):
        key = f"array_{len(arrays)}"
        array = obj.numpy() if isinstance(obj, Tensor) else obj
        arrays[key] = numpy.asarray(array, order="C")  # (ascontiguousarray would make 0-d 1-d)
        return {"__tensor__" if isinstance(obj, Tensor) else "__ndarray__": key}
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):  # a PyTorch tensor
        return _encode(Tensor._wrap(obj.detach().numpy()), arrays)
    if isinstance(obj, dict):
        return {"__dict__": [[_encode_key(k), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, numpy.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if hasattr(obj, "state_dict"):
        raise TypeError(
            f"save: npgrad does not pickle whole {type(obj).__name__} objects (loading a pickle "
            "can run code); save obj.state_dict() and rebuild the object before load_state_dict"
        )
    raise TypeError(
        f"save: cannot store an object of type {type(obj).__name__}; npgrad files hold tensors, "
        "arrays, numbers, strings, None, and lists/tuples/dicts of them (no pickles)"
    )


def _encode_key(key):
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__}")
    return key


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            return Tensor._wrap(arrays[node["__tensor__"]])
        if "__ndarray__" in node:
            return arrays[node["__ndarray__"]]
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
        if "__dict__" in node:
            return {key: _decode(value, arrays) for key, value in node["__dict__"]}
        raise SerializationError(f"load: unknown node in the file's structure: {sorted(node)}")
    return node


def bfloat16_to_float32(bits):
    """bfloat16 values (NumPy has no such dtype), given as their uint16 bit patterns, as the
    float32 values they are exactly: a bfloat16 is a float32's upper half."""
    return (bits.astype(numpy.uint32) << 16).view(numpy.float32)


def _digest(array):
    import hashlib  # here rather than at `import npgrad`, which stays fast

    return hashlib.sha256(array.tobytes()).hexdigest()


FORMATS = ("npgrad", "torch", "safetensors")


def save(obj, path, format="npgrad"):
    """Save a state dict (or a nested dict/list of tensors, arrays, numbers, strings) to ``path``.

    Args:
        obj: e.g. ``model.state_dict()``, ``optimizer.state_dict()``, or a dict of several.
        path: the file to write (``.npz`` is conventional); replaced atomically if it exists.
            A file object (``io.BytesIO``, an open binary file) is written to as it is.
        format: ``"npgrad"`` (an ``.npz`` archive with checksums, the default), ``"torch"``
            (PyTorch's zip checkpoint, which ``torch.load`` reads without npgrad) or
            ``"safetensors"`` (a flat dict of tensors, for Hugging Face's tools).

    >>> import npgrad, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
    >>> npgrad.save(npgrad.nn.Linear(2, 3).state_dict(), path)
    >>> sorted(npgrad.load(path))
    ['bias', 'weight']
    """
    if format not in FORMATS:
        raise ValueError(f"save: unknown format {format!r}; expected one of {FORMATS}")
    if format == "torch":
        from npgrad.io.torch_format import save_torch

        write = lambda f: save_torch(obj, f)  # noqa: E731
    elif format == "safetensors":
        from npgrad.io import safetensors

        data = safetensors.save(obj)
        write = lambda f: f.write(data)  # noqa: E731
    else:
        write = _npz_writer(obj)
    if hasattr(path, "write"):  # a file object (io.BytesIO, an open file): written as is
        write(path)
    else:
        write_atomically(path, write)


def _npz_writer(obj):
    """A function writing ``obj`` as an npgrad archive to a binary file (checked beforehand)."""
    arrays = {}
    structure = _encode(obj, arrays)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "npgrad_version": __version__,
        "structure": structure,
        "arrays": {
            key: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _digest(a)}
            for key, a in arrays.items()
        },
    }
    for array in arrays.values():
        if array.dtype.hasobject:
            raise TypeError("save: object arrays cannot be stored safely")
    encoded = numpy.frombuffer(json.dumps(header).encode("utf-8"), dtype=numpy.uint8)
    return lambda f: numpy.savez(f, **{_HEADER: encoded}, **arrays)


def write_atomically(path, write):
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it to ``path``: a crash
    or an error midway leaves any earlier file under that name as it was."""
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".npgrad-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load(path, map_location=None, weights_only=True):
    """Load what :func:`save` wrote, after checking format, version, shapes, dtypes and checksums.

    Also reads PyTorch's checkpoints (``torch.save``'s zip files and its older "legacy" ones:
    state dicts, optimizer states, nested containers of tensors) and safetensors files, whatever
    their names: the format is told from the content. Their tensors become npgrad Tensors
    (bfloat16 as float32; parameters as ``nn.Parameter``). ``map_location`` and
    ``weights_only`` are accepted for PyTorch compatibility: nothing is ever unpickled beyond
    tensors and plain containers, as with ``weights_only=True``, so a file cannot run code.

    Raises:
        FileNotFoundError: no file at ``path``.
        SerializationError: the file is truncated, corrupt, not an npgrad file, or of a newer
            format version; the message says which.
    """
    import zipfile

    if hasattr(path, "read"):  # a file object, read from where it stands
        raw, path = path.read(), getattr(path, "name", "the file object")
    else:
        path = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read()
    from npgrad.io import safetensors, torch_format

    if torch_format.is_torch_zip(raw) or torch_format.is_torch_legacy(raw):
        return torch_format.load_torch(raw, path)
    if safetensors.is_safetensors(raw):
        return safetensors.load(raw, path)
    if not raw.startswith(b"PK"):
        empty = " (the file is empty)" if not raw else ""
        raise SerializationError(
            f"load: {path} is not an npgrad file: not an .npz archive{empty}, nor a PyTorch "
            "checkpoint or a safetensors file"
        )
    try:
        archive = numpy.load(io.BytesIO(raw), allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise SerializationError(
            f"load: {path} is not a readable npgrad file (truncated or corrupt archive: {error})"
        ) from error
    with archive:
        if _HEADER not in archive.files:
            raise SerializationError(
                f"load: {path} is an .npz archive but not an npgrad file (no {_HEADER} header); "
                "use numpy.load for plain archives"
            )
        try:
            header = json.loads(archive[_HEADER].tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as error:
            raise SerializationError(f"load: {path} has a corrupt header ({error})") from error
        if header.get("format") != FORMAT:
            raise SerializationError(
                f"load: {path} is not an npgrad file (format {header.get('format')!r})"
            )
        version = header.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise SerializationError(
                f"load: {path} has format version {version}, newer than this npgrad reads "
                f"({FORMAT_VERSION}); upgrade npgrad (it was written by npgrad "
                f"{header.get('npgrad_version')})"
            )
        arrays = {}
        for key, meta in header["arrays"].items():
            try:
                array = archive[key]
            except (KeyError, zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
                raise SerializationError(
                    f"load: {path}: array {key} is missing or corrupt ({error})"
                ) from error
            if list(array.shape) != meta["shape"] or array.dtype.str != meta["dtype"]:
                raise SerializationError(
                    f"load: {path}: array {key} has shape {array.shape} and dtype {array.dtype}, "
                    f"the header says {tuple(meta['shape'])} and {meta['dtype']}"
                )
            if _digest(array) != meta["sha256"]:
                raise SerializationError(
                    f"load: {path}: array {key} fails its checksum (corrupt file)"
                )
            arrays[key] = array
    return _decode(header["structure"], arrays)
