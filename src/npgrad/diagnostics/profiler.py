"""Where the time goes: PyTorch's profiler API over npgrad's ops.

While a :class:`profile` is recording, every op's forward (``Function.apply``) and every
backward step of the graph walk is timed, as are the ranges a script marks with
:func:`record_function`. ``key_averages().table()`` prints PyTorch's table (self and total
CPU time, calls, optionally per input shape); ``export_chrome_trace`` writes a trace for
``chrome://tracing`` or Perfetto. Only the host's clock is read: with the CuPy backend an op's
time is the time to launch it.

    >>> import npgrad
    >>> from npgrad.profiler import profile, record_function
    >>> model = npgrad.nn.Linear(4, 2)
    >>> with profile(record_shapes=True) as prof:
    ...     with record_function("step"):
    ...         model(npgrad.ones(3, 4)).sum().backward()
    >>> sorted({event.key for event in prof.key_averages()})
    ['Linear', 'LinearBackward', 'Sum', 'SumBackward', 'step']

Forward events carry the op's name (``Linear``), backward events its grad_fn name
(``LinearBackward``). An op inside another (a composite op's parts) is nested in it: its time
counts in the outer op's total, not in its self time.
"""

import enum
import json
import os
import threading
import time

from npgrad import autograd

__all__ = [
    "FunctionEvent",
    "FunctionEventAvg",
    "ProfilerAction",
    "ProfilerActivity",
    "EventList",
    "profile",
    "record_function",
    "schedule",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    """What to record. npgrad records host (CPU) time only; CUDA is accepted and adds nothing."""

    CPU = "CPU"
    CUDA = "CUDA"


class ProfilerAction(enum.Enum):
    """What a ``schedule`` asks of one step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """PyTorch's step schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps (not recorded) and ``active`` recorded steps, the last of which hands the
    trace to ``on_trace_ready``; ``repeat`` cycles (0: until the profiler stops)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("schedule: wait, warmup, repeat, skip_first >= 0 and active > 0")
    cycle = wait + warmup + active

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat and step >= cycle * repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if position == cycle - 1 else ProfilerAction.RECORD

    return action


class FunctionEvent:
    """One timed range: an op's forward or backward, or a ``record_function`` range. Times in
    microseconds, as PyTorch reports them."""

    __slots__ = ("name", "start_us", "end_us", "child_us", "input_shapes", "thread")

    def __init__(self, name, start_us, input_shapes, thread):
        self.name, self.start_us, self.input_shapes, self.thread = (
            name,
            start_us,
            input_shapes,
            thread,
        )
        self.end_us, self.child_us = start_us, 0.0

    key = property(lambda self: self.name)
    count = property(lambda self: 1)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    self_cpu_time_total = property(lambda self: self.cpu_time_total - self.child_us)
    cpu_time = cpu_time_total

    def __repr__(self):
        return (
            f"<FunctionEvent {self.name} cpu_time_total={self.cpu_time_total:.3f}us "
            f"self_cpu_time_total={self.self_cpu_time_total:.3f}us shapes={self.input_shapes}>"
        )


class FunctionEventAvg:
    """The events of one key (a name, or a name and input shapes) added up."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0

    def add(self, event):
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    @property
    def cpu_time(self):
        """Average total time a call."""
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (
            f"<FunctionEventAvg key={self.key} count={self.count} "
            f"cpu_time_total={_format_time(self.cpu_time_total)} "
            f"self_cpu_time_total={_format_time(self.self_cpu_time_total)}>"
        )


class EventList(list):
    """A list of events (or of their averages) that prints as PyTorch's table."""

    def key_averages(self, group_by_input_shape=False):
        """One ``FunctionEventAvg`` per name (and per input shapes when asked), in the order
        the keys first occur."""
        groups = {}
        for event in self:
            shapes = event.input_shapes if group_by_input_shape else None
            key = (event.key, str(shapes) if group_by_input_shape else None)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, shapes)
            groups[key].add(event)
        return EventList(groups.values())

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def total_average(self):
        """Every event added into one."""
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None, **_):
        """PyTorch's table: name, self CPU (% and time), CPU total (% and time), average,
        calls, and the input shapes when they were grouped by. ``sort_by``: an attribute such
        as "cpu_time_total", "self_cpu_time_total", "cpu_time" or "count" (descending); a
        CUDA or memory column name is accepted and sorts nothing (there are none here)."""
        rows = list(self)
        if sort_by is not None and rows and hasattr(rows[0], sort_by):
            rows.sort(key=lambda event: getattr(event, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        shapes = any(getattr(row, "input_shapes", None) is not None for row in self)
        width = min(max([len(row.key) for row in rows] + [4]) + 4, max_name_column_width)
        columns = [("Name", width)] + [
            (title, 12)
            for title in (
                "Self CPU %",
                "Self CPU",
                "CPU total %",
                "CPU total",
                "CPU time avg",
                "# of Calls",
            )
        ]
        if shapes:
            columns.append(("Input Shapes", 40))
        rule = "  ".join("-" * size for _, size in columns) + "  "
        lines = [header] if header else []
        lines += [rule, "  ".join(title.rjust(size) for title, size in columns) + "  ", rule]
        for row in rows:
            name = row.key if len(row.key) <= width else row.key[: width - 3] + "..."
            cells = [
                name.rjust(width),
                f"{100 * row.self_cpu_time_total / total:.2f}%".rjust(12),
                _format_time(row.self_cpu_time_total).rjust(12),
                f"{100 * row.cpu_time_total / total:.2f}%".rjust(12),
                _format_time(row.cpu_time_total).rjust(12),
                _format_time(row.cpu_time).rjust(12),
                str(row.count).rjust(12),
            ]
            if shapes:
                cells.append(str(row.input_shapes if row.input_shapes is not None else []))
            lines.append("  ".join(cells) + ("" if shapes else "  "))
        lines += [rule, f"Self CPU time total: {_format_time(self.self_cpu_time_total)}"]
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.table()


def _format_time(microseconds):
    """PyTorch's time cells: 12.345us, 1.234ms, 1.234s."""
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"


class _Recorder:
    """The events of one recording, and each thread's stack of open ranges."""

    def __init__(self, record_shapes):
        self.record_shapes = record_shapes
        self.events = []
        self.local = threading.local()
        self.origin = time.perf_counter_ns()

    def begin(self, name, arrays=()):
        """Open a range; returns its event (for ``end``)."""
        stack = self.local.__dict__.setdefault("stack", [])
        shapes = None
        if self.record_shapes:
            shapes = [list(getattr(array, "shape", ())) for array in arrays]
        start = (time.perf_counter_ns() - self.origin) / 1e3
        event = FunctionEvent(name, start, shapes, threading.get_ident())
        stack.append(event)
        return event

    def end(self, event):
        event.end_us = (time.perf_counter_ns() - self.origin) / 1e3
        stack = self.local.stack
        while stack and stack.pop() is not event:  # (a range left open by an exception)
            pass
        if stack:
            stack[-1].child_us += event.cpu_time_total
        self.events.append(event)


class profile:  # noqa: N801 - PyTorch's name
    """Record the time of every op run inside ``with profile() as prof:`` (``torch.profiler``).

    Args:
        activities: ``ProfilerActivity`` values; npgrad records CPU time only.
        schedule: a ``schedule(...)``: which of the steps counted by ``prof.step()`` to record.
        on_trace_ready: called with the profiler when a scheduled cycle ends (and at exit), e.g.
            ``tensorboard_trace_handler(dir)``.
        record_shapes: keep each op's input shapes (``key_averages(group_by_input_shape=True)``).
        profile_memory, with_stack, with_flops, with_modules: accepted for PyTorch scripts;
            npgrad records none of these.
    """

    def __init__(
        self,
        activities=None,
        *,
        schedule=None,
        on_trace_ready=None,
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=False,
        with_modules=False,
        experimental_config=None,
        execution_trace_observer=None,
        acc_events=False,
        use_cuda=None,
        enabled=True,
    ):
        self.activities = set(activities or [ProfilerActivity.CPU])
        self.schedule, self.on_trace_ready = schedule, on_trace_ready
        self.record_shapes, self.enabled = record_shapes, enabled
        self.step_num = 0
        self._recorder = None
        self._finished = EventList()

    # ----------------------------------------------------------------- recording
    def start(self):
        if self.enabled:
            self._set_action(self._action())
        return self

    def stop(self):
        if self._recorder is not None:  # what was recorded since the last cycle is one too
            self._finish_cycle()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def step(self):
        """Mark the end of a training step (for ``schedule``)."""
        if not self.enabled:
            return
        before = self._action()
        self.step_num += 1
        if before == ProfilerAction.RECORD_AND_SAVE:
            self._finish_cycle()
        self._set_action(self._action())

    def _action(self):
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def _set_action(self, action):
        recording = action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if recording and self._recorder is None:
            if autograd._profiler is not None:
                raise RuntimeError("profile: another profiler is already recording")
            self._recorder = _Recorder(self.record_shapes)
            self._finished = EventList()
            autograd._profiler = self._recorder
        elif not recording and self._recorder is not None:
            self._stop_recording()

    def _finish_cycle(self):
        self._stop_recording()
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _stop_recording(self):
        if autograd._profiler is self._recorder:
            autograd._profiler = None
        self._finished = EventList(sorted(self._recorder.events, key=lambda e: e.start_us))
        self._recorder = None

    # ----------------------------------------------------------------- results
    def events(self):
        """The recorded events, in start order (of the last recorded cycle)."""
        return self._finished

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """The events added up per name (and input shapes): print with ``.table()``."""
        return self._finished.key_averages(group_by_input_shape)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (JSON ``traceEvents``), all or nothing."""
        from npgrad.io.serialization import write_atomically

        trace = self._chrome_trace()
        write_atomically(path, lambda f: f.write(trace))

    def _chrome_trace(self):
        """The Chrome trace's JSON, encoded."""
        trace = {
            "traceEvents": [
                {
                    "name": event.name,
                    "cat": "cpu_op",
                    "ph": "X",
                    "ts": event.start_us,
                    "dur": event.cpu_time_total,
                    "pid": os.getpid(),
                    "tid": event.thread,
                    "args": {}
                    if event.input_shapes is None
                    else {"Input Dims": event.input_shapes},
                }
                for event in self._finished
            ],
            "displayTimeUnit": "ms",
        }
        return json.dumps(trace).encode("utf-8")

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)


class record_function:  # noqa: N801 - PyTorch's name
    """Mark a range of a script under ``name`` in the profile (a context manager, or a
    decorator); does nothing when no profiler is recording."""

    def __init__(self, name, args=None):
        self.name, self._event, self._recorder = name, None, None

    def __enter__(self):
        self._recorder = autograd._profiler
        if self._recorder is not None:
            self._event = self._recorder.begin(self.name)
        return self

    def __exit__(self, *exc_info):
        if self._event is not None:
            self._recorder.end(self._event)
            self._event = self._recorder = None
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return function(*args, **kwargs)

        return wrapper


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each cycle's trace to
    ``dir_name/<worker>.<nanoseconds>.pt.trace.json`` (gzipped with ``use_gzip``)."""
    import socket

    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = f"{worker}.{time.time_ns()}.pt.trace.json"
        path = os.path.join(dir_name, name)
        if not use_gzip:
            prof.export_chrome_trace(path)
            return
        import gzip

        from npgrad.io.serialization import write_atomically

        data = gzip.compress(prof._chrome_trace())
        write_atomically(path + ".gz", lambda f: f.write(data))

    return handler
