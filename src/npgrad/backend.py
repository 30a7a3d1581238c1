"""The one place that knows which array library runs the math, the default dtype and the RNG.

Everything else imports ``xp`` from here instead of ``numpy`` so that a CuPy backend can be slotted
in later without touching the ops.
"""

import copy
import os

import numpy

xp = numpy

_default_dtype = numpy.dtype(numpy.float32)
_initial_seed = int(numpy.random.SeedSequence().entropy % (2**63))
_generator = numpy.random.default_rng(_initial_seed)


def get_default_dtype():
    """Return the floating dtype used for new float tensors (``float32`` unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Set the floating dtype used for new float tensors (``float32`` or ``float64``).

    Args:
        dtype: ``npgrad.float32`` or ``npgrad.float64`` (any NumPy float dtype spelling).

    Raises:
        TypeError: if ``dtype`` is not a floating dtype.
    """
    global _default_dtype
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def tune_malloc(threshold=1 << 30):
    """Keep freed memory for reuse instead of handing it back to the OS (glibc only; opt-in).

    A training step allocates and frees the same large arrays every time. By default glibc's
    malloc returns such blocks to the operating system and every fresh page is faulted back in on
    the next step; on a virtual machine that can cost a third of a CNN's or LSTM's step (measured
    in ``benchmarks/README.md``). npgrad's own ops avoid it already (their large arrays come from
    the pool in ``npgrad.buffers``); this is for the other large arrays of a process (your own
    NumPy code, a data pipeline). This sets glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``
    to ``threshold`` bytes, as ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` do in the
    environment: the process keeps up to that much freed memory (its resident size stays near its
    peak) and no longer page-faults every step. It affects the whole process, which is why it is
    opt-in: call it once, or set ``NPGRAD_TUNE_MALLOC=1`` before importing npgrad. ``npgrad
    train`` turns it on.

    Returns:
        True if the settings were applied, False where the C library is not glibc.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False  # not glibc (macOS, Windows, musl without mallopt)
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    value = min(int(threshold), 2**31 - 1)
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h> constants
    return bool(mallopt(m_mmap_threshold, value)) and bool(mallopt(m_trim_threshold, value))


if os.environ.get("NPGRAD_TUNE_MALLOC", "") not in ("", "0"):
    tune_malloc()


# (library name fragment, setter, getter) for the BLAS libraries whose thread count can be set;
# NumPy's wheels bundle OpenBLAS with a ``scipy_`` prefix and a ``64_`` suffix on its symbols
_BLAS_THREAD_CONTROLS = [
    ("openblas", "scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("openblas", "scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas", "openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas", "openblas_set_num_threads", "openblas_get_num_threads"),
    ("mkl_rt", "MKL_Set_Num_Threads", "MKL_Get_Max_Threads"),
]
_blas_threads = None  # [(set, get) C functions] of every BLAS found, NumPy's first
_requested_threads = None


def _loaded_libraries():
    """Paths of the shared libraries loaded in this process (Linux), else NumPy's bundled ones."""
    try:
        with open("/proc/self/maps") as maps:  # address, perms, offset, dev, inode, path
            fields = [line.split(None, 5) for line in maps]
        return {entry[5].strip() for entry in fields if len(entry) == 6 and "/" in entry[5]}
    except OSError:
        import glob

        root = os.path.dirname(os.path.dirname(numpy.__file__))
        patterns = ("numpy.libs/*", "numpy/.libs/*", "numpy/.dylibs/*")
        return {path for pattern in patterns for path in glob.glob(os.path.join(root, pattern))}


def _blas_thread_functions():
    """The (set, get) thread-count functions of each BLAS loaded (NumPy's first; SciPy may bring
    another), empty for a BLAS without them (Apple's Accelerate, a reference BLAS). Kept until
    the next ``set_num_threads``, which looks again."""
    global _blas_threads
    if _blas_threads is None:
        import ctypes

        _blas_threads = []
        # NumPy's own libraries first, then by name
        libraries = sorted(_loaded_libraries(), key=lambda path: ("numpy" not in path, path))
        for path in libraries:
            name = os.path.basename(path)
            for fragment, setter, getter in _BLAS_THREAD_CONTROLS:
                if fragment not in name:
                    continue
                try:
                    library = ctypes.CDLL(path)
                    found = getattr(library, setter), getattr(library, getter)
                except (OSError, AttributeError):
                    continue
                found[0].restype, found[1].restype = None, ctypes.c_int
                found[0].argtypes, found[1].argtypes = [ctypes.c_int], []
                _blas_threads.append(found)
                break
    return _blas_threads


def set_num_threads(count):
    """Run the matrix products on ``count`` threads, as ``torch.set_num_threads``.

    npgrad's parallel work is its BLAS's (OpenBLAS in NumPy's wheels, or MKL): this sets the
    thread count of every such library loaded, for the whole process. NumPy's element-wise
    calls run on one thread whatever the setting. Fewer threads than cores can be faster for
    small matrices or when several processes share the machine. Where NumPy's BLAS offers no
    control (Apple's Accelerate), the number is only remembered: set its environment variable
    (``VECLIB_MAXIMUM_THREADS``) before importing NumPy instead.

    >>> import npgrad
    >>> before = npgrad.get_num_threads()
    >>> npgrad.set_num_threads(1); npgrad.get_num_threads()
    1
    >>> npgrad.set_num_threads(before)
    """
    global _requested_threads, _blas_threads
    if isinstance(count, bool) or not isinstance(count, int | numpy.integer) or count < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {count!r}")
    _blas_threads = None  # look again: a library loaded since (SciPy's) is set too
    for set_threads, _ in _blas_thread_functions():
        set_threads(int(count))
    _requested_threads = int(count)


def get_num_threads():
    """The number of threads the matrix products use (NumPy's BLAS), as
    ``torch.get_num_threads``."""
    functions = _blas_thread_functions()
    if functions:
        return int(functions[0][1]())
    return _requested_threads or os.cpu_count() or 1


def manual_seed(seed):
    """Seed npgrad's random generator so that ``randn``, init, dropout and shuffling repeat.

    Args:
        seed: a non-negative integer.

    Returns:
        The generator, as ``torch.manual_seed`` returns one.

    >>> import npgrad
    >>> _ = npgrad.manual_seed(0); a = npgrad.randn(3)
    >>> _ = npgrad.manual_seed(0); b = npgrad.randn(3)
    >>> bool((a == b).all())
    True
    """
    global _generator, _initial_seed
    _generator = numpy.random.default_rng(int(seed))
    _initial_seed = int(seed)
    return _generator


def initial_seed():
    """The seed of npgrad's global generator: the last ``manual_seed``, or the one drawn at
    import."""
    return _initial_seed


def get_rng_state():
    """The global generator's state (an opaque dict: pass it to ``set_rng_state``)."""
    return copy.deepcopy(_generator.bit_generator.state)


def set_rng_state(state):
    """Restore a state from ``get_rng_state``: the draws that followed it repeat."""
    _generator.bit_generator.state = copy.deepcopy(state)


class Generator(numpy.random.Generator):
    """A random generator with PyTorch's seeding interface, usable wherever NumPy's is.

    ``npgrad.Generator().manual_seed(42)`` can be passed as ``generator=`` to ``random_split``,
    ``DataLoader``, ``randn`` and the ``nn.init`` functions. Matches ``torch.Generator`` in use.

    >>> import npgrad
    >>> a = npgrad.randn(3, generator=npgrad.Generator().manual_seed(7))
    >>> b = npgrad.randn(3, generator=npgrad.Generator().manual_seed(7))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, device="cpu"):
        super().__init__(numpy.random.PCG64())
        self._seed = None

    def manual_seed(self, seed):
        """Reseed in place; returns the generator (so calls chain, as in PyTorch)."""
        self.bit_generator.state = numpy.random.PCG64(int(seed)).state
        self._seed = int(seed)
        return self

    def initial_seed(self):
        """The last seed set with ``manual_seed`` (None before any)."""
        return self._seed


def default_generator():
    """Return the current global ``numpy.random.Generator`` (reseeded by :func:`manual_seed`)."""
    return _generator


class device:  # noqa: N801 - PyTorch's name
    """A device name, as ``torch.device``. npgrad computes on the CPU; other devices can be named
    (scripts build ``device("cuda")`` conditionally) but moving a tensor there raises.

    >>> import npgrad
    >>> npgrad.device("cpu"), str(npgrad.device("cuda:1"))
    (device(type='cpu'), 'cuda:1')
    """

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index
        kind, _, number = str(type).partition(":")
        self.type = kind
        self.index = int(number) if number else index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return (
            str(self) == str(device(other)) if isinstance(other, str | device) else NotImplemented
        )

    def __hash__(self):
        return hash(str(self))


def check_device(name, where):
    """Accept the CPU (by name or ``device``); raise a clear error for anything else."""
    if device(name).type != "cpu":
        raise ValueError(f"{where}: npgrad runs on the CPU only, got device {str(name)!r}")


class _Cuda:
    """``npgrad.cuda``: answers PyTorch's CUDA queries truthfully (there is no GPU backend)."""

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def device_count():
        return 0

    @staticmethod
    def manual_seed(seed):
        """No-op: there is no CUDA generator (``npgrad.manual_seed`` seeds everything)."""

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize(device=None):
        """No-op."""

    @staticmethod
    def empty_cache():
        """No-op."""

    @property
    def amp(self):
        """``torch.cuda.amp``'s names (``autocast``, ``GradScaler``), as ``npgrad.amp``."""
        from npgrad import amp

        return amp


class _Flags:
    """A namespace of settable flags (e.g. ``backends.cudnn.benchmark = True``); they do nothing."""

    def __init__(self, **flags):
        self.__dict__.update(flags)

    def is_available(self):
        return False


class _Backends:
    """``npgrad.backends``: ``mps``/``cuda``/``cudnn`` report unavailable, flags are accepted."""

    def __init__(self):
        self.mps = _Flags()
        self.cuda = _Flags()
        self.cudnn = _Flags(benchmark=False, deterministic=False, enabled=False)


cuda = _Cuda()
backends = _Backends()


def use_deterministic_algorithms(mode, warn_only=False):
    """Accepted: npgrad's ops are deterministic already (same inputs, same results)."""


def are_deterministic_algorithms_enabled():
    """True: npgrad's ops are always deterministic."""
    return True


def set_float32_matmul_precision(precision):
    """Accepted ("highest", "high", "medium"): float32 products are always computed in full
    float32 here."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: unknown precision {precision!r}")


def set_default_device(name):
    """Accepted for the CPU, the only device npgrad computes on."""
    check_device(name, "set_default_device")
