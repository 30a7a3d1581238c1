"""Reusing large arrays between training steps, instead of allocating them afresh.

A training step allocates and frees the same large arrays every time. glibc's malloc hands
blocks that large back to the operating system when they are freed, and every page of the next
step's array is then faulted back in: on a virtual machine that costs about a microsecond a
page, a large part of a CNN's or an LSTM's step (``benchmarks/README.md``). npgrad's ops take
their large arrays from here instead:

* ``empty(shape, dtype)``, ``empty_like(array)``, ``zeros(shape, dtype)``: an ordinary NumPy
  array whose memory is a block from npgrad's pool. When the last reference to the array, and to
  every view of it, is gone, its block goes back to the pool (a weak-reference callback: no
  reference counting by hand, nothing the caller must remember) and the next request of that
  size reuses it. Arrays smaller than ``MIN_BYTES`` come from NumPy as usual.
* ``matmul(a, b)``, ``arithmetic(ufunc, *operands)``, ``reshape(array, shape)``: a product, an
  element-wise result, a reshaping copy in such an array when it is large.
* ``workspace(name, shape, dtype)``: a per-thread scratch array used only while one forward or
  backward runs (the convolution's column buffer).

How a block knows it is free: the array is made over a memoryview of the block, so its
``base`` is that memoryview, not an array; NumPy then makes every view of the array (slices,
reshapes, transposes, views of views) keep the array itself as its ``base``. The array is
therefore alive exactly as long as anything can still reach its memory, and a weak reference to
it fires when nothing can.

At most ``POOL_BYTES`` of free blocks wait in the pool; ``clear()`` empties it.
``backend.tune_malloc`` is the process-wide alternative: it makes glibc keep all freed memory.
"""

import math
import threading
import weakref

import numpy

from npgrad.backend import xp

MIN_BYTES = 1 << 18  # smaller arrays come from NumPy (glibc keeps those in its heap anyway)
POOL_BYTES = 256 << 20  # free blocks kept for reuse, at most
ALIGN = 64  # bytes: a cache line, and what AVX-512 loads like

_workspaces = threading.local()
_free = {}  # block size (bytes) -> blocks (uint8 arrays) ready for reuse
_free_bytes = 0
_live = {}  # id(array handed out) -> (weak reference to it, its block)
_lock = threading.RLock()  # re-entrant: a callback may fire inside ``empty`` (garbage collection)


def _block_size(nbytes):
    """Round up to one of 8 sizes per power of two, so that nearby sizes share blocks."""
    step = 1 << max(nbytes.bit_length() - 4, 0)
    return -(-nbytes // step) * step + ALIGN


class _Reference(weakref.ref):
    __slots__ = ("key",)


def _released(reference):
    """Weak-reference callback: the array is gone, its block can be reused."""
    global _free_bytes
    with _lock:
        entry = _live.pop(reference.key, None)
        if entry is None or entry[0] is not reference:
            return
        block = entry[1]
        if _free_bytes + block.nbytes <= POOL_BYTES:
            _free.setdefault(block.nbytes, []).append(block)
            _free_bytes += block.nbytes


def empty(shape, dtype):
    """An uninitialised C-contiguous array; its memory comes back to the pool when it is gone."""
    dtype = xp.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES or xp is not numpy:  # (another backend has its own allocator)
        return xp.empty(shape, dtype=dtype)
    global _free_bytes
    size = _block_size(nbytes)
    with _lock:
        waiting = _free.get(size)
        block = waiting.pop() if waiting else None
        if block is not None:
            _free_bytes -= size
    if block is None:
        block = xp.empty(size, dtype=xp.uint8)
    start = -block.ctypes.data % ALIGN
    memory = memoryview(block)[start : start + nbytes]
    try:  # the array's base is the memoryview itself, shaped
        array = xp.asarray(memory.cast(dtype.char, shape))
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype != dtype:  # no buffer-protocol letter, or a byte order
        array = xp.frombuffer(memory, dtype=dtype)
    reference = _Reference(array, _released)
    reference.key = id(array)
    with _lock:
        _live[reference.key] = (reference, block)
    if array.shape != shape:  # (the frombuffer case: a view of the registered array)
        return array.reshape(shape)
    return array


def matmul(a, b):
    """``a @ b`` (NumPy's rules), into a pooled array when the result is large."""
    if a.ndim < 2 or b.ndim < 2:
        return xp.matmul(a, b)
    if a.ndim == 2 and b.ndim == 2:  # (the common case, without broadcast_shapes' cost)
        shape = (a.shape[0], b.shape[1])
    else:
        shape = (*xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1])
    if math.prod(shape) * max(a.itemsize, b.itemsize) < MIN_BYTES:
        return xp.matmul(a, b)  # small: NumPy allocates (decided before the dtype's cost)
    return xp.matmul(a, b, out=empty(shape, xp.result_type(a, b)))


def arithmetic(ufunc, *operands):
    """``ufunc(*operands)`` for an arithmetic ufunc (add, multiply, ...: the result has the
    operands' promoted dtype), into a pooled array when the result is large. The result keeps
    the memory layout of the largest operand (a batch-last activation stays batch last)."""
    largest, most = None, MIN_BYTES - 1
    for operand in operands:  # (a plain loop: this runs for every element-wise op)
        size = getattr(operand, "nbytes", 0)
        if size > most:
            largest, most = operand, size
    if largest is None:
        return ufunc(*operands)
    shape = xp.broadcast_shapes(*(xp.shape(operand) for operand in operands))
    dtype = xp.result_type(*operands)
    out = empty_like(largest, dtype) if largest.shape == shape else empty(shape, dtype)
    return ufunc(*operands, out=out)


def reshape(array, shape):
    """``array.reshape(shape)``: a view when the layout allows, else a copy into a pooled array."""
    if array.flags.c_contiguous:
        return array.reshape(shape)
    try:
        return array.reshape(shape, copy=False)
    except ValueError:  # a copy is needed (a transposed array, say), or the shape is wrong
        # the shape checked and its -1 resolved on a zero-stride view, which owns no memory
        resolved = xp.broadcast_to(array.dtype.type(0), array.shape).reshape(shape).shape
        out = empty(resolved, array.dtype)
        out.reshape(array.shape)[...] = array  # row-major order, as reshape copies
        return out


def is_whole(array):
    """True for an array from ``empty`` itself (not a view of one): nothing else sees its memory
    that does not go through it."""
    return id(array) in _live


def zeros(shape, dtype):
    """Like ``empty``, filled with zeros."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if math.prod(shape) * xp.dtype(dtype).itemsize < MIN_BYTES:
        return xp.zeros(shape, dtype=dtype)
    array = empty(shape, dtype)
    array.fill(0)
    return array


def empty_like(array, dtype=None, shape=None):
    """Like ``numpy.empty_like``: the memory layout (axis order) of ``array`` is kept, so that a
    batch-last activation gives a batch-last result. ``shape`` overrides the sizes."""
    dtype = array.dtype if dtype is None else xp.dtype(dtype)
    if shape is None:
        if array.size * dtype.itemsize < MIN_BYTES:
            return xp.empty_like(array, dtype=dtype)  # (NumPy keeps the layout too)
        shape = array.shape
    order = axis_order(array)
    result = empty([shape[axis] for axis in order], dtype)
    return result.transpose([order.index(axis) for axis in range(len(shape))])


def axis_order(array):
    """The axes of ``array`` from the slowest-varying in memory to the fastest."""
    return sorted(range(array.ndim), key=lambda axis: -array.strides[axis])


def workspace(name, shape, dtype):
    """A scratch array of this thread's workspace ``name``, kept (and grown) between calls.

    Its contents are undefined; use it only while one forward or backward runs, never save,
    return or share it.
    """
    size, key = math.prod(shape), (name, xp.dtype(dtype).name)
    buffers = _workspaces.__dict__
    if key not in buffers or buffers[key].size < size:
        buffers[key] = xp.empty(size, dtype=dtype)
    return buffers[key][:size].reshape(shape)


def pool_bytes():
    """Bytes of free blocks waiting in the pool."""
    return _free_bytes


def clear():
    """Free every block waiting in the pool and this thread's workspaces."""
    global _free_bytes
    with _lock:
        _free.clear()
        _free_bytes = 0
    _workspaces.__dict__.clear()
