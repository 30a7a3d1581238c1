"""PyTorch's checkpoint files (``torch.save``), read and written without PyTorch.

A ``.pt``/``.pth`` file from PyTorch 1.6 on is a zip archive: ``<name>/data.pkl`` pickles the
saved structure (dicts, lists, numbers, strings) with every tensor as a call
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``, and
each storage (a flat run of one dtype's bytes) is the entry ``<name>/data/<key>``. Older files
(the "legacy" format, still used by some published weights) are a run of pickles in one stream:
a magic number, a protocol version, system information, the structure, the storage keys, and
then each storage as an int64 element count followed by its bytes.

Reading never runs code from the file: the pickle is read by an unpickler that knows a fixed
list of names (the tensor and parameter rebuilders, storage types, dtypes, ``OrderedDict``,
NumPy arrays) and refuses every other one, naming it, as ``torch.load(weights_only=True)`` does.
A whole pickled model (``torch.save(model)``) is refused with the way out: its state dict.

Writing produces the zip format with only those names, so ``torch.load(path)`` (weights only,
PyTorch's default since 2.6) reads it.
"""

import collections
import io
import pickle
import zipfile

import numpy

from npgrad.errors import SerializationError
from npgrad.io.serialization import bfloat16_to_float32
from npgrad.tensor import Tensor

# torch's storage classes and dtypes, by their names in a pickle, as NumPy dtypes
_STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "UntypedStorage": "uint8",
}
_DTYPES = {
    "float64": "float64",
    "double": "float64",
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "int64": "int64",
    "long": "int64",
    "int32": "int32",
    "int": "int32",
    "int16": "int16",
    "short": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
}
# the other way, for writing: NumPy dtype -> storage class name
_STORAGE_NAMES = {
    numpy.dtype(dtype): name
    for name, dtype in _STORAGE_DTYPES.items()
    if dtype != "bfloat16" and name != "UntypedStorage"
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def is_torch_zip(raw):
    """Whether ``raw`` (a file's bytes) is a zip archive holding a ``data.pkl``: PyTorch's."""
    if not raw.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False


def is_torch_legacy(raw):
    """Whether ``raw`` starts with the legacy format's pickled magic number."""
    if not raw.startswith(b"\x80"):
        return False
    try:
        return _Unpickler(io.BytesIO(raw[:64]), "").load() == _LEGACY_MAGIC
    except Exception:  # any bytes that are not that pickle  # noqa: BLE001
        return False


def _stored_dtype(dtype_name):
    """The NumPy dtype a storage's bytes are read as (bfloat16: its uint16 bit patterns)."""
    return numpy.dtype("uint16" if dtype_name == "bfloat16" else dtype_name)


def _as_numpy(storage, dtype_name):
    """A storage's values (a flat array as read) as ``dtype_name``'s: a view, or for bfloat16
    (which NumPy lacks) their exact float32 values."""
    if dtype_name == "bfloat16":
        return bfloat16_to_float32(storage.view(numpy.uint16))
    return storage.view(numpy.dtype(dtype_name))


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, *_, dtype=None):
    """A tensor from ``size`` values of ``storage`` (a flat array) at ``offset`` spaced by
    ``stride``; ``dtype`` reinterprets an untyped storage's bytes."""
    values = storage if dtype is None else _as_numpy(storage, dtype)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(s < 0 for s in (*size, *stride)) or offset < 0:
        raise SerializationError(f"a tensor's size {size} and stride {stride} do not fit")
    if all(size) and offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) >= len(
        values
    ):
        raise SerializationError(
            f"a tensor of size {size}, stride {stride} at offset {offset} reads past its "
            f"storage of {len(values)} elements (truncated or corrupt file)"
        )
    view = numpy.lib.stride_tricks.as_strided(
        values[offset:], size, [s * values.itemsize for s in stride], writeable=False
    )
    tensor = Tensor._wrap(numpy.array(view))  # a copy of its own: writable, compact
    tensor.requires_grad = bool(requires_grad) and tensor.dtype.kind == "f"
    return tensor


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    return _rebuild_tensor(storage, offset, size, stride, requires_grad)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, *rest):
    return _rebuild_tensor(storage, offset, size, stride, requires_grad, dtype=dtype)


def _rebuild_parameter(data, requires_grad=True, *rest):
    from npgrad.nn.parameter import Parameter

    return Parameter(data, requires_grad=bool(requires_grad))


def _rebuild_from_type(function, new_type, args, state=None):
    return function(*args)  # a Tensor subclass's own type is not rebuilt: a Tensor


class _Marker:
    """A name the pickle refers to that only tags something (a type, a dtype, a device)."""

    def __init__(self, name, value=None):
        self.name, self.value = name, value

    def __call__(self, *args):  # torch.device("cpu"), torch.Size([...]) and the like
        return args[0] if args else None


_SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch", "Size"): tuple,
    ("torch", "device"): _Marker("device"),
    ("torch", "Tensor"): _Marker("Tensor"),
    ("torch.nn.parameter", "Parameter"): _Marker("Parameter"),
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): lambda text, encoding="utf-8": text.encode(encoding),
    ("numpy", "dtype"): numpy.dtype,
    ("numpy", "ndarray"): numpy.ndarray,
}
_multiarray = (numpy._core if hasattr(numpy, "_core") else numpy.core).multiarray  # NumPy 2 / 1
for _module in (
    "numpy.core.multiarray",
    "numpy._core.multiarray",
):  # NumPy arrays, as NumPy pickles them
    _SAFE_GLOBALS[(_module, "_reconstruct")] = _multiarray._reconstruct
    _SAFE_GLOBALS[(_module, "scalar")] = _multiarray.scalar
_REBUILDERS = {key for key in _SAFE_GLOBALS if key[0] == "torch._utils"}


class _Unpickler(pickle.Unpickler):
    """Unpickles PyTorch's structure pickle, resolving only the names in ``_SAFE_GLOBALS``."""

    def __init__(self, stream, path, read_storage=None, build=True):
        super().__init__(stream)
        self.path, self.read_storage, self.build = path, read_storage, build

    def find_class(self, module, name):
        if not self.build and (module, name) in _REBUILDERS:
            return lambda *args: None  # a first pass, before the data: no tensor is built
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module in ("torch", "torch.storage") and name in _STORAGE_DTYPES:
            return _Marker(name, _STORAGE_DTYPES[name])
        if module == "torch" and name in _DTYPES:  # a dtype: NumPy's (bfloat16 by its name)
            return _DTYPES[name] if name == "bfloat16" else numpy.dtype(_DTYPES[name])
        if module == "torch._utils" or (module == "torch" and name.endswith("Storage")):
            raise SerializationError(
                f"load: {self.path} holds tensors npgrad cannot read ({module}.{name}): npgrad "
                "reads dense tensors of floating, integer and bool dtypes (not sparse, quantized "
                "or complex ones)"
            )
        raise SerializationError(
            f"load: {self.path} holds a pickled {module}.{name} object: a whole model or other "
            "Python object, which npgrad does not unpickle (that could run code). In PyTorch, "
            "save model.state_dict() instead, and load that into the same model in npgrad"
        )

    def persistent_load(self, saved_id):
        if not isinstance(saved_id, tuple) or not saved_id or saved_id[0] != "storage":
            raise SerializationError(f"load: {self.path}: unknown persistent id {saved_id!r}")
        storage_type, key = saved_id[1], str(saved_id[2])
        if not isinstance(storage_type, _Marker) or storage_type.value is None:
            raise SerializationError(f"load: {self.path}: storage {key} has an unknown type")
        return self.read_storage(key, storage_type.value, *saved_id[3:])


def load_torch(raw, path):
    """The object a PyTorch checkpoint's bytes hold, tensors as npgrad Tensors."""
    if raw.startswith(b"PK"):
        return _load_zip(raw, path)
    return _load_legacy(raw, path)


def _load_zip(raw, path):
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = archive.namelist()
        (pickle_name,) = [name for name in names if name.endswith("data.pkl")][:1]
        prefix = pickle_name[: -len("data.pkl")]
        order = "little"
        if prefix + "byteorder" in names:
            order = archive.read(prefix + "byteorder").decode("ascii").strip()
        storages = {}  # key -> values: tensors sharing a storage read it once

        def read_storage(key, dtype_name, *_):
            if key not in storages:
                data = archive.read(f"{prefix}data/{key}")
                dtype = _stored_dtype(dtype_name).newbyteorder(">" if order == "big" else "<")
                usable = len(data) - len(data) % dtype.itemsize
                array = numpy.frombuffer(data[:usable], dtype=dtype)
                native = array.astype(array.dtype.newbyteorder("="), copy=False)
                storages[key] = _as_numpy(native, dtype_name)
            return storages[key]

        return _Unpickler(io.BytesIO(archive.read(pickle_name)), path, read_storage).load()
    except SerializationError:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        pickle.UnpicklingError,
    ) as e:
        raise SerializationError(
            f"load: {path} is not a readable PyTorch checkpoint (truncated or corrupt: {e})"
        ) from e


def _load_legacy(raw, path):
    """The legacy format. Its storages come after the structure, so the structure is read twice:
    once to find where it ends, then with the storages in hand."""
    stream = io.BytesIO(raw)
    try:
        header = [_Unpickler(stream, path).load() for _ in range(2)]  # magic, protocol version
        if header != [_LEGACY_MAGIC, _LEGACY_PROTOCOL]:
            raise SerializationError(f"load: {path} is a legacy PyTorch file of an unknown version")
        _Unpickler(stream, path).load()  # the system information
        start = stream.tell()
        dtypes = {}  # storage key -> dtype name

        def note_storage(key, dtype_name, *_):
            dtypes[key] = dtype_name

        _Unpickler(stream, path, note_storage, build=False).load()
        keys = _Unpickler(stream, path).load()
        storages = {}
        for key in keys:
            dtype = _stored_dtype(dtypes[str(key)])
            count = int(numpy.frombuffer(stream.read(8), dtype="<i8")[0])
            data = stream.read(count * dtype.itemsize)
            if len(data) != count * dtype.itemsize:
                raise EOFError(f"storage {key} is cut short")
            storages[str(key)] = _as_numpy(numpy.frombuffer(data, dtype=dtype), dtypes[str(key)])

        def read_storage(key, dtype_name, location, numel, view=None):
            if view is None:
                return storages[key]
            _, offset, size = view  # (view key, offset, size) into the root storage
            return storages[key][offset : offset + size]

        stream.seek(start)
        return _Unpickler(stream, path, read_storage).load()
    except SerializationError:
        raise
    except (KeyError, ValueError, IndexError, EOFError, pickle.UnpicklingError) as e:
        raise SerializationError(
            f"load: {path} is not a readable legacy PyTorch checkpoint (truncated or corrupt: {e})"
        ) from e


class _Global:
    """Pickled as the name ``module.name`` (a GLOBAL opcode), whether or not it can be imported
    here: how a file refers to PyTorch's functions without PyTorch."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # (pickle requires a call's function to be callable)
        raise TypeError(f"{self.module}.{self.name} is only a name in a file here")


class _Rebuild:
    """Pickled as the call ``function(*args)``."""

    def __init__(self, function, args):
        self.function, self.args = function, args


class _StorageRef:
    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel = key, dtype, numel


class _Pickler(pickle._Pickler):
    """The pure-Python pickler, taught ``_Global`` (a name), ``_Rebuild`` (a call) and storages
    (persistent ids, as PyTorch writes them)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_named_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def save_rebuild(self, obj):
        self.save_reduce(obj.function, obj.args, obj=obj)

    dispatch[_Global] = save_named_global
    dispatch[_Rebuild] = save_rebuild

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            storage_type = _Global("torch", _STORAGE_NAMES[obj.dtype])
            return ("storage", storage_type, obj.key, "cpu", obj.numel)
        return None


def save_torch(obj, stream, name="archive"):
    """Write ``obj`` (a state dict, or nested dicts/lists of tensors, arrays, numbers, strings)
    to the binary ``stream`` as a PyTorch checkpoint (zip format)."""
    storages = []
    rebuild_tensor = _Global("torch._utils", "_rebuild_tensor_v2")
    rebuild_parameter = _Global("torch._utils", "_rebuild_parameter")

    def encode(value):
        from npgrad.nn.parameter import Parameter

        if isinstance(value, Tensor | numpy.ndarray):
            array = value.numpy() if isinstance(value, Tensor) else value
            array = numpy.asarray(array, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
            if array.dtype not in _STORAGE_NAMES:
                raise TypeError(f"save: PyTorch files have no dtype {array.dtype}")
            storage = _StorageRef(str(len(storages)), array.dtype, array.size)
            storages.append(array)
            strides = tuple(s // array.itemsize for s in array.strides)
            grad = isinstance(value, Tensor) and value.requires_grad
            hooks = _Rebuild(collections.OrderedDict, ())
            tensor = _Rebuild(rebuild_tensor, (storage, 0, array.shape, strides, grad, hooks))
            if isinstance(value, Parameter):
                return _Rebuild(rebuild_parameter, (tensor, value.requires_grad, hooks))
            return tensor
        if isinstance(value, dict):
            if not all(isinstance(key, str | int) for key in value):
                raise TypeError("save: dict keys must be str or int")
            kind = collections.OrderedDict if isinstance(value, collections.OrderedDict) else dict
            return kind((key, encode(item)) for key, item in value.items())
        if isinstance(value, list | tuple):
            return type(value)(encode(item) for item in value)
        if isinstance(value, numpy.generic):
            return value.item()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(
            f"save: cannot store an object of type {type(value).__name__} in a PyTorch file "
            "(tensors, arrays, numbers, strings, None and lists/tuples/dicts of them)"
        )

    structure = io.BytesIO()
    _Pickler(structure, protocol=2).dump(encode(obj))
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/data.pkl", structure.getvalue())
        archive.writestr(f"{name}/byteorder", "little")
        for key, array in enumerate(storages):
            archive.writestr(
                f"{name}/data/{key}",
                array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(),
            )
        archive.writestr(f"{name}/version", "3\n")
