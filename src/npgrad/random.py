"""``torch.random``: the global generator's seed and state, and ``fork_rng``.

>>> import npgrad
>>> _ = npgrad.manual_seed(0)
>>> with npgrad.random.fork_rng():
...     _ = npgrad.randn(3)  # draws inside leave the outer sequence alone
>>> a = npgrad.randn(2); _ = npgrad.manual_seed(0)
>>> bool((a == npgrad.randn(2)).all())
True
"""

import contextlib
import secrets

from npgrad.backend import get_rng_state, initial_seed, manual_seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    value = secrets.randbits(63)
    manual_seed(value)
    return value


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type="cpu"):
    """Run a block with the global generator's state saved and restored after it, so that its
    random draws do not change the ones that follow. ``devices`` is accepted (CPU only)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
