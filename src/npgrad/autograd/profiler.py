"""``torch.autograd.profiler``'s names, over ``npgrad.diagnostics.profiler``."""

from npgrad.diagnostics import profiler as _profiler
from npgrad.diagnostics.profiler import EventList, FunctionEvent, FunctionEventAvg, record_function

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]


class profile(_profiler.profile):  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.profile(enabled=True, *, record_shapes=False, ...)``: the
    older entry point, the same recorder (CPU time only; ``use_cuda`` is accepted)."""

    def __init__(
        self,
        enabled=True,
        *,
        use_cuda=False,
        use_device=None,
        record_shapes=False,
        with_flops=False,
        profile_memory=False,
        with_stack=False,
        with_modules=False,
        use_kineto=False,
        use_cpu=True,
        experimental_config=None,
        acc_events=False,
        custom_trace_id_callback=None,
    ):
        super().__init__(record_shapes=record_shapes, enabled=enabled)

    @property
    def self_cpu_time_total(self):
        """Self CPU time of every event, in microseconds."""
        return self.events().self_cpu_time_total

    @property
    def function_events(self):
        return self.events()

    def total_average(self):
        return self.events().total_average()
