"""Mixed-precision helpers under PyTorch's names: ``autocast`` and ``GradScaler``.

npgrad computes every op in its inputs' dtype, so ``autocast`` changes nothing: a script that
wraps its forward in it runs unchanged, in full precision. ``GradScaler`` is the real dynamic
loss scaling (the loss multiplied by a scale before ``backward``, the gradients divided by it
before the step, steps with inf/NaN gradients skipped and the scale lowered), useful with
float16 parameters and harmless otherwise.

>>> import npgrad
>>> w = npgrad.nn.Parameter(npgrad.tensor([1.0]))
>>> opt = npgrad.optim.SGD([w], lr=0.1)
>>> scaler = npgrad.amp.GradScaler(init_scale=1024.0)
>>> with npgrad.autocast("cpu"):
...     loss = (w * 3).sum()
>>> scaler.scale(loss).backward()
>>> scaler.step(opt); scaler.update()
>>> round(w.item(), 4), scaler.get_scale()
(0.7, 1024.0)
"""

import functools
import math

import numpy

from npgrad.tensor import Tensor


class autocast:  # noqa: N801 - PyTorch's name
    """A context manager (or decorator) accepted for compatibility: npgrad runs every op in its
    inputs' dtype, so nothing is cast."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return wrapped


class GradScaler:
    """Dynamic loss scaling, as ``torch.amp.GradScaler``: ``scale(loss).backward()``, then
    ``step(optimizer)`` (unscales, skips the step if any gradient is inf or NaN) and
    ``update()`` (the scale halves after a skipped step and doubles after ``growth_interval``
    clean ones)."""

    def __init__(
        self,
        device="cpu",
        init_scale=2.0**16,
        growth_factor=2.0,
        backoff_factor=0.5,
        growth_interval=2000,
        enabled=True,
    ):
        if growth_factor <= 1.0 or not 0.0 < backoff_factor < 1.0:
            raise ValueError("GradScaler: growth_factor must be > 1 and backoff_factor in (0, 1)")
        self._enabled = enabled
        self._scale, self._growth_factor = float(init_scale), growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._growth_tracker = 0
        self._unscaled = {}  # id(optimizer) -> whether an inf/NaN gradient was found

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor, or an iterable of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        return type(outputs)(self.scale(output) for output in outputs)

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale, in place (once per step), e.g. before
        gradient clipping."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() was already called on this optimizer since update()")
        inverse, found_inf = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad._data
                grad *= inverse
                found_inf = found_inf or not bool(numpy.isfinite(grad).all())
        self._unscaled[id(optimizer)] = found_inf

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and step, unless a gradient is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if self._unscaled[id(optimizer)]:
            return None  # skipped: the scale is lowered by update()
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Adjust the scale after this iteration's steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif any(self._unscaled.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        if not math.isfinite(self._scale):
            raise ValueError(f"GradScaler: the scale became {self._scale}")
        self._unscaled = {}

    def state_dict(self):
        """The scale and counters, as PyTorch's keys."""
        if not self._enabled:
            return {}
        return {
            "scale": self._scale,
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` saved."""
        if not state_dict:
            return
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = state_dict["_growth_tracker"]
