"""Reusing large scratch arrays between training steps, instead of allocating them afresh.

A training step allocates and frees the same large arrays every time. glibc's malloc hands
blocks that large back to the operating system when they are freed, and every page of the next
step's array is then faulted back in: on a virtual machine that costs several microseconds a
page, a large part of a CNN's or an LSTM's step (``benchmarks/README.md``). Ops avoid it for the
arrays that never leave them:

* ``workspace(name, shape, dtype)``: a per-thread array used only while one forward or backward
  runs (the convolution's column buffer).
* ``take(shape, dtype)`` / the ``recyclable`` attribute of a graph node: arrays an op saves for
  its backward and nobody else sees (an LSTM's gate activations). The op takes them with
  ``take`` and lists them in ``ctx.recyclable``; the engine gives them back with ``recycle``
  when it frees the node's saved arrays after backward (or at once when nothing is recorded),
  and the next forward takes them again.

At most ``POOL_BYTES`` of recycled arrays wait in the pool. ``backend.tune_malloc`` is the
process-wide alternative: it makes glibc keep all freed memory.
"""

import math
import threading

from npgrad.backend import xp

POOL_BYTES = 256 << 20

_workspaces = threading.local()
_pool = {}  # (shape, dtype) -> arrays ready for reuse
_pool_bytes = 0
_lock = threading.Lock()


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


def take(shape, dtype):
    """An array of ``shape`` and ``dtype`` with undefined contents: a recycled one if any."""
    global _pool_bytes
    key = (tuple(shape), xp.dtype(dtype).str)
    with _lock:
        waiting = _pool.get(key)
        if waiting:
            array = waiting.pop()
            _pool_bytes -= array.nbytes
            return array
    return xp.empty(shape, dtype=dtype)


def recycle(*arrays):
    """Give arrays from ``take`` back for reuse; the caller must hold no other reference."""
    global _pool_bytes
    with _lock:
        for array in arrays:
            if _pool_bytes + array.nbytes > POOL_BYTES:
                continue  # the pool is full: let it be freed
            _pool.setdefault((array.shape, array.dtype.str), []).append(array)
            _pool_bytes += array.nbytes


def clear():
    """Free every array waiting in the pool and this thread's workspaces."""
    global _pool_bytes
    with _lock:
        _pool.clear()
        _pool_bytes = 0
    _workspaces.__dict__.clear()
