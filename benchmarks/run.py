"""The benchmark suite: npgrad beside PyTorch (default and malloc-tuned) and scikit-learn.

Every measurement runs in its own process (``workloads.py``); frameworks alternate within each
repeat, the warm-up steps are excluded, and the table shows the median of the repeats with the
min-max range. Also measured: import time, peak RSS, per-op overhead, and memory over 1,000
training steps. Results are written as JSON so that two runs can be compared (``--compare``).

Run:  python benchmarks/run.py [--quick] [--repeats 5] [--output FILE] [--compare OLD.json]
      python benchmarks/run.py --workloads --sweep mlp_512_b128   (throughput versus batch size,
      and a chart next to the JSON when matplotlib is installed)
      python benchmarks/run.py --blas-own-kernels   (where the environment pins OpenBLAS's
      kernels with OPENBLAS_CORETYPE: npgrad also without it, as another column)
"""

import argparse
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import memory_flat  # noqa: E402
import op_overhead  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

NOT_MLP = ("cnn", "lstm", "transformer")
SWEEP_BATCHES = (8, 16, 32, 64, 128, 256, 512)
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
# the ratio columns: (numerator, denominator); a column appears when both ran
RATIOS = [
    ("npgrad", "torch"),
    ("npgrad (malloc-tuned)", "torch (malloc-tuned)"),
    ("npgrad (malloc-tuned)", "torch"),
    ("npgrad (own BLAS kernels)", "torch"),
    ("npgrad", "sklearn"),
]
# OpenBLAS picks kernels for the CPU it runs on unless this names them (read when it loads)
CORETYPE = "OPENBLAS_CORETYPE"


def installed(module):
    return importlib.util.find_spec(module) is not None


def contestants(blas_own_kernels=False):
    """(label, framework, environment changes) for every framework installed here; a None value
    removes that variable. ``blas_own_kernels`` adds npgrad without a pinned OPENBLAS_CORETYPE."""
    found = [
        ("npgrad", "npgrad", {}),
        ("npgrad (malloc-tuned)", "npgrad", {"NPGRAD_TUNE_MALLOC": "1"}),  # backend.tune_malloc
    ]
    if blas_own_kernels and os.environ.get(CORETYPE):
        found.append(("npgrad (own BLAS kernels)", "npgrad", {CORETYPE: None}))
    if installed("torch"):
        found += [("torch", "torch", {}), ("torch (malloc-tuned)", "torch", MALLOC_TUNED)]
    if installed("sklearn"):
        found.append(("sklearn", "sklearn", {}))
    return found


# each measurement runs at least this long (more steps for the small, fast workloads)
MIN_SECONDS = {"full": 2.0, "quick": 0.5}


def run_one(framework, workload, steps, warmup, environment, batch_size=None, min_seconds=0.0):
    command = [
        sys.executable,
        str(HERE / "workloads.py"),
        "--framework",
        framework,
        "--workload",
        workload,
        "--steps",
        str(steps),
        "--warmup",
        str(warmup),
        "--min-seconds",
        str(min_seconds),
    ]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    output = subprocess.run(
        command, capture_output=True, text=True, env=_environment(environment), check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _environment(changes):
    """This process's environment with ``changes`` applied (None removes a variable)."""
    env = {**os.environ, **changes}
    return {name: value for name, value in env.items() if value is not None}


def import_seconds(module, repeats=5):
    """Median seconds ``import module`` takes in a fresh process, its bytecode cached.

    An installed package has its modules compiled to bytecode (pip does it on install), but a
    source checkout only gets them on a first import that may write them: where the environment
    sets PYTHONDONTWRITEBYTECODE, every import would compile npgrad's modules again (0.28-0.35 s
    measured instead of 0.12-0.15 s), timing the compiler rather than the import. One untimed
    import with writing allowed comes first.
    """
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    writing = _environment({"PYTHONDONTWRITEBYTECODE": None})
    subprocess.run([sys.executable, "-c", f"import {module}"], env=writing, check=True)
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(times)


def blas_description(changes=None):
    """Which BLAS kernels NumPy runs here (with these environment ``changes``): the GEMMs' speed
    depends on it (PyTorch brings its own MKL). OpenBLAS picks its kernels for the CPU unless
    OPENBLAS_CORETYPE names them."""
    code = (
        "import numpy, threadpoolctl\n"
        "info = threadpoolctl.threadpool_info()\n"
        "print(', '.join(f\"{i['internal_api']} {i['version']} ({i.get('architecture')} kernels, \""
        "f\"{i['num_threads']} threads)\" for i in info if i['user_api'] == 'blas'))"
    )
    env = _environment(changes or {})
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    description = found.stdout.strip() if found.returncode == 0 else "unknown (no threadpoolctl)"
    forced = env.get(CORETYPE)
    return description + (f"; {CORETYPE}={forced} is set" if forced else "")


def cpu_description():
    """The CPU the run measured: its model, family and model numbers, vector width, cores.

    Ratios against PyTorch depend on it (OpenBLAS's and oneDNN's kernels differ per CPU), and
    the same virtual machine type has been seen on different hosts: a table says where it ran.
    """
    fields = {}
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                name, _, value = line.partition(":")
                fields.setdefault(name.strip(), value.strip())
    except OSError:
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"
    flags = fields.get("flags", "").split()
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    family = f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
    return f"{fields.get('model name', '?')} ({family}), {vectors}, {os.cpu_count()} logical cores"


def players_for(workload, players):
    """scikit-learn has no convolutional or recurrent networks."""
    return [p for p in players if not (p[1] == "sklearn" and WORKLOADS[workload][0] in NOT_MLP)]


def measure_alternating(
    workload, players, steps, warmup, repeats, batch_size=None, min_seconds=MIN_SECONDS["full"]
):
    """samples/s of every player, ``repeats`` times, who goes first rotating; and peak RSS."""
    runs = {label: [] for label, _, _ in players}
    rss = {}
    for repeat in range(repeats):
        shift = repeat % len(players)
        for label, framework, environment in players[shift:] + players[:shift]:
            measured = run_one(
                framework, workload, steps, warmup, environment, batch_size, min_seconds
            )
            runs[label].append(measured["samples_per_second"])
            rss[label] = max(rss.get(label, 0), measured["peak_rss_mib"])
        batch = f" batch {batch_size}" if batch_size else ""
        print(f"  {workload}{batch}: repeat {repeat + 1}/{repeats} done", file=sys.stderr)
    return {
        label: {**summarize(values), "peak_rss_mib": rss[label]} for label, values in runs.items()
    }


def plot_sweep(sweep, path):
    """Throughput versus batch size, one line per player (a PNG); False without matplotlib."""
    if not installed("matplotlib"):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label, by_batch in sweep["results"].items():
        batches = sorted(by_batch, key=int)
        medians = [by_batch[b]["median"] for b in batches]
        lows = [by_batch[b]["min"] for b in batches]
        highs = [by_batch[b]["max"] for b in batches]
        sizes = [int(b) for b in batches]
        axes.plot(sizes, medians, marker="o", label=label)
        axes.fill_between(sizes, lows, highs, alpha=0.15)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    all_sizes = sorted({int(b) for by_batch in sweep["results"].values() for b in by_batch})
    axes.set_xticks(all_sizes, [str(size) for size in all_sizes])
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes.set_xlabel("batch size")
    axes.set_ylabel("training samples / s (median, min-max band)")
    axes.set_title(f"{sweep['workload']}: throughput versus batch size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def summarize(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a rough look)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", help="JSON file (default: benchmarks/results/<time>.json)")
    parser.add_argument("--compare", help="an earlier JSON file to show ratios against")
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--sweep", choices=sorted(WORKLOADS), help="throughput versus batch size")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=list(SWEEP_BATCHES))
    parser.add_argument(
        "--blas-own-kernels",
        action="store_true",
        help=f"also run npgrad without {CORETYPE} when the environment sets it",
    )
    args = parser.parse_args()
    steps, warmup = (60, 10) if args.quick else (200, 20)
    min_seconds = MIN_SECONDS["quick" if args.quick else "full"]
    repeats = max(3, args.repeats if not args.quick else 3)

    players = contestants(args.blas_own_kernels)
    results = {
        "workloads": {},
        "machine": platform.platform(),
        "python": platform.python_version(),
        "steps": steps,
        "min_seconds": min_seconds,
        "repeats": repeats,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "blas": blas_description(),
        "cpu": cpu_description(),
    }
    if any(label == "npgrad (own BLAS kernels)" for label, _, _ in players):
        results["blas_own_kernels"] = blas_description({CORETYPE: None})
    for workload in args.workloads:
        results["workloads"][workload] = measure_alternating(
            workload,
            players_for(workload, players),
            steps,
            warmup,
            repeats,
            min_seconds=min_seconds,
        )
    if args.sweep:
        # each framework as it comes (no environment changes)
        sweep_players = [p for p in players_for(args.sweep, players) if not p[2]]
        results["sweep"] = {
            "workload": args.sweep,
            "results": {label: {} for label, _, _ in sweep_players},
        }
        for batch_size in args.batch_sizes:
            measured = measure_alternating(
                args.sweep, sweep_players, steps, warmup, repeats, batch_size, min_seconds
            )
            for label, summary in measured.items():
                results["sweep"]["results"][label][str(batch_size)] = summary

    results["import_seconds"] = {
        m: import_seconds(m) for m in ("numpy", "npgrad", "torch") if installed(m)
    }
    results["op_overhead_us"] = op_overhead.measure(size=1, repeat=5)
    results["op_overhead_32x32_us"] = op_overhead.measure(size=32, repeat=5)
    memory = memory_flat.run(steps=1000)
    results["memory_mib_every_100_steps"] = [round(row[1], 4) for row in memory]

    path = (
        pathlib.Path(args.output)
        if args.output
        else HERE / "results" / (datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = path.with_suffix(".png")
    if "sweep" in results and plot_sweep(results["sweep"], chart):
        results["sweep"]["chart"] = str(chart)
    path.write_text(json.dumps(results, indent=2))
    print(
        render(
            results, json.loads(pathlib.Path(args.compare).read_text()) if args.compare else None
        )
    )
    print(f"\nresults written to {path}")


def _cell(values):
    """'median (min-max)' of one contestant, or '-' where it did not run."""
    if values is None:
        return "-"
    return f"{values['median']:,.0f} ({values['min']:,.0f}-{values['max']:,.0f})"


def render_sweep(sweep):
    """The batch-size sweep as a markdown table: samples/s per player, and npgrad / torch."""
    labels = list(sweep["results"])
    batches = sorted(next(iter(sweep["results"].values())), key=int)
    ratio = "npgrad" in labels and "torch" in labels
    lines = [
        f"\nThroughput versus batch size, {sweep['workload']} (samples/s, median (min-max))\n",
        "| batch | " + " | ".join(labels) + (" | npgrad / torch |" if ratio else " |"),
        "| ---: |" + " ---: |" * (len(labels) + ratio),
    ]
    for batch in batches:
        cells = [_cell(sweep["results"][label][batch]) for label in labels]
        if ratio:
            by = sweep["results"]
            cells.append(f"{by['npgrad'][batch]['median'] / by['torch'][batch]['median']:.2f}x")
        lines.append(f"| {batch} | " + " | ".join(cells) + " |")
    if sweep.get("chart"):
        lines.append(f"\nChart: {sweep['chart']}")
    return lines


def render(results, previous=None):
    workloads = results["workloads"].values()
    labels = list(next(iter(workloads))) if workloads else []
    pairs = [(a, b) for a, b in RATIOS if a in labels and b in labels]
    lines = []
    if labels:
        lines += [
            f"Training throughput, samples/s: median of {results['repeats']} alternating runs "
            f"of {results['steps']} steps or more (at least {results.get('min_seconds', 0)} s "
            "each) (min-max)\n",
            "| workload | " + " | ".join(labels + [f"{a} / {b}" for a, b in pairs]) + " |",
            "| --- |" + " ---: |" * (len(labels) + len(pairs)),
        ]
    for workload, by_label in results["workloads"].items():
        cells = [_cell(by_label.get(label)) for label in labels]
        ratios = [
            f"{by_label[a]['median'] / by_label[b]['median']:.2f}x"
            if a in by_label and b in by_label
            else "-"
            for a, b in pairs
        ]
        lines.append(f"| {workload} | " + " | ".join(cells + ratios) + " |")
    if "sweep" in results:
        lines += render_sweep(results["sweep"])
    lines.append(f"\nCPU: {results.get('cpu', 'not recorded')}")
    lines.append(f"NumPy's BLAS: {results.get('blas', 'not recorded')}")
    if "blas_own_kernels" in results:
        lines.append(f"npgrad (own BLAS kernels): {results['blas_own_kernels']}")
    if labels:
        rss = {
            label: max(w[label]["peak_rss_mib"] for w in workloads if label in w)
            for label in labels
        }
        lines.append("Peak RSS (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
    lines.append(
        "Import time (bytecode cached, median of 5): "
        + ", ".join(
            f"{module} {seconds:.3f}s" for module, seconds in results["import_seconds"].items()
        )
    )
    overhead = results["op_overhead_us"]
    lines.append(
        "Per-op overhead, 1-element add with grad (µs): "
        + ", ".join(f"{name} {us:.2f}" for name, us in overhead.items())
    )
    overhead32 = results["op_overhead_32x32_us"]
    lines.append(
        "Per-op overhead, 32x32 add with grad (µs): "
        + ", ".join(f"{name} {us:.2f}" for name, us in overhead32.items())
    )
    memory = results["memory_mib_every_100_steps"]
    lines.append(
        f"Traced heap over 1,000 MLP steps (MiB, every 100): {memory} "
        f"(growth over the last 500 steps: {(memory[-1] - memory[4]) * 1024:.1f} KiB)"
    )
    if previous:
        lines.append("\nnpgrad versus the previous run:")
        for workload, by_label in results["workloads"].items():
            old = previous["workloads"].get(workload, {}).get("npgrad")
            if old:
                lines.append(f"- {workload}: {by_label['npgrad']['median'] / old['median']:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
