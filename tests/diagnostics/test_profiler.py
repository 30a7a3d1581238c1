"""The profiler: every op's forward and backward timed, nested ranges, PyTorch's table and
trace, schedules."""

import gzip
import json
import threading
import time

import pytest

import npgrad
from npgrad import autograd
from npgrad.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)


def small_step():
    model = npgrad.nn.Sequential(npgrad.nn.Linear(4, 3), npgrad.nn.ReLU(), npgrad.nn.Linear(3, 2))
    x = npgrad.ones(5, 4)
    return lambda: npgrad.nn.functional.cross_entropy(model(x), npgrad.tensor([0, 1, 0, 1, 1]))


def test_every_forward_and_backward_is_an_event_with_its_shapes():
    step = small_step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        step().backward()
    counts = {event.key: event.count for event in prof.key_averages()}
    assert counts == {
        "Linear": 2,
        "ReLU": 1,
        "CrossEntropy": 1,
        "CrossEntropyBackward": 1,
        "LinearBackward": 2,
        "ReLUBackward": 1,
    }
    first = prof.events()[0]
    assert first.name == "Linear" and first.input_shapes == [[5, 4], [3, 4], [3]]
    assert all(event.cpu_time_total >= 0 for event in prof.events())
    by_shape = prof.key_averages(group_by_input_shape=True)
    assert len([row for row in by_shape if row.key == "Linear"]) == 2  # two weight shapes
    assert autograd._profiler is None  # nothing recorded after the with block
    step().backward()
    assert len(prof.events()) == 8


def test_nested_ranges_split_self_time_from_total_time():
    with profile() as prof, record_function("outer"):
        time.sleep(0.002)
        with record_function("inner"):
            time.sleep(0.004)
    outer, inner = prof.events()
    assert (outer.name, inner.name) == ("outer", "inner")
    assert inner.cpu_time_total >= 4000
    assert outer.cpu_time_total >= inner.cpu_time_total + 2000
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner.cpu_time_total)
    assert prof.key_averages().self_cpu_time_total == pytest.approx(outer.cpu_time_total)


def test_an_op_inside_record_function_counts_in_its_total():
    x = npgrad.ones(200, 200, requires_grad=True)
    with profile() as prof, record_function("block"):
        (x @ x).sum()
    block = next(event for event in prof.events() if event.name == "block")
    ops = [event for event in prof.events() if event.name != "block"]
    assert ops and all(op.start_us >= block.start_us and op.end_us <= block.end_us for op in ops)
    assert block.self_cpu_time_total == pytest.approx(
        block.cpu_time_total - sum(op.cpu_time_total for op in ops)
    )


def test_table_has_pytorchs_columns_sorted_and_limited():
    step = small_step()
    with profile(record_shapes=True) as prof:
        for _ in range(3):
            step().backward()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = table.splitlines()
    header = lines[1]
    for title in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"):
        assert title in header
    assert "# of Calls" in header
    assert len(lines) == 3 + 3 + 2  # rules and header, three rows, rule and total
    assert lines[-1].startswith("Self CPU time total: ")
    rows = prof.key_averages()
    rows.sort(key=lambda row: row.cpu_time_total, reverse=True)
    assert lines[3].split()[0] == rows[0].key
    shaped = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in shaped and "[[5, 4], [3, 4], [3]]" in shaped
    assert prof.key_averages().table(sort_by="cuda_time_total")  # accepted, nothing to sort by


def test_time_cells_use_pytorchs_units():
    from npgrad.diagnostics.profiler import _format_time

    assert _format_time(12.3456) == "12.346us"
    assert _format_time(1234.5) == "1.234ms"
    assert _format_time(2_500_000) == "2.500s"


def test_chrome_trace_is_written_whole(tmp_path):
    step = small_step()
    with profile(record_shapes=True) as prof:
        step().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events())
    assert {"name", "ph", "ts", "dur", "pid", "tid", "args"} <= set(events[0])
    assert events[0]["ph"] == "X" and events[0]["args"]["Input Dims"] == [[5, 4], [3, 4], [3]]
    assert [entry.name for entry in tmp_path.iterdir()] == ["trace.json"]  # no temporary left


def test_schedule_records_the_active_steps_and_hands_each_cycle_over(tmp_path):
    plan = schedule(skip_first=1, wait=1, warmup=1, active=2, repeat=2)
    actions = [plan(step) for step in range(10)]
    none, warm, rec, save = (
        ProfilerAction.NONE,
        ProfilerAction.WARMUP,
        ProfilerAction.RECORD,
        ProfilerAction.RECORD_AND_SAVE,
    )
    assert actions == [none, none, warm, rec, save, none, warm, rec, save, none]
    step = small_step()
    cycles = []
    with profile(schedule=plan, on_trace_ready=lambda p: cycles.append(len(p.events()))) as prof:
        for _ in range(10):
            step().backward()
            prof.step()
    assert cycles == [16, 16]  # two recorded steps of 8 events, twice
    handler = tensorboard_trace_handler(str(tmp_path), worker_name="w", use_gzip=True)
    plan = schedule(wait=0, warmup=0, active=1, repeat=1)
    with profile(schedule=plan, on_trace_ready=handler) as prof:
        step().backward()
        prof.step()
        step().backward()  # after the one cycle: not recorded
    (written,) = tmp_path.iterdir()
    assert written.name.startswith("w.") and written.name.endswith(".pt.trace.json.gz")
    assert len(json.loads(gzip.decompress(written.read_bytes()))["traceEvents"]) == 8


def test_record_function_as_decorator_and_outside_a_profile():
    @record_function("helper")
    def helper(x):
        return x * 2

    assert helper(npgrad.ones(2)).tolist() == [2.0, 2.0]  # no profiler: nothing happens
    with profile() as prof:
        helper(npgrad.ones(2))
    assert [event.name for event in prof.events()] == ["helper", "Mul"]


def test_two_profilers_cannot_record_at_once_and_disabled_records_nothing():
    with profile(), pytest.raises(RuntimeError, match="already recording"), profile():
        pass
    with profile(enabled=False) as prof:
        npgrad.ones(2) * 2
    assert len(prof.events()) == 0 and autograd._profiler is None


def test_threads_keep_their_own_nesting():
    def work():
        with record_function("thread"):
            npgrad.ones(3) + 1

    with profile() as prof, record_function("main"):
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    main = next(event for event in prof.events() if event.name == "main")
    thread = next(event for event in prof.events() if event.name == "thread")
    assert main.thread != thread.thread
    assert main.self_cpu_time_total == pytest.approx(main.cpu_time_total)  # not its child


def test_torch_style_entry_points():
    assert npgrad.profiler.profile is profile
    with npgrad.autograd.profiler.profile(record_shapes=True) as prof:
        (npgrad.ones(2, requires_grad=True) * 3).sum().backward()
    assert {event.name for event in prof.function_events} == {
        "Mul",
        "Sum",
        "SumBackward",
        "MulBackward",
    }
    assert prof.self_cpu_time_total == pytest.approx(
        sum(event.self_cpu_time_total for event in prof.function_events)
    )
    assert "Self CPU time total" in prof.key_averages().table()


def test_an_op_that_raises_closes_its_event():
    with profile() as prof, record_function("outer"), pytest.raises(npgrad.errors.ShapeError):
        npgrad.nn.functional.linear(npgrad.ones(2, 3), npgrad.ones(4, 5))
    names = [event.name for event in prof.events()]
    assert names == ["outer", "Linear"]
    assert autograd._profiler is None
