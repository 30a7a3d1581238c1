"""DataLoader throughput: the array fast path (one fancy-index per batch) versus a per-sample loop.

Run:  python benchmarks/dataloader.py [--samples 60000] [--features 784] [--batch-size 128]
"""

import argparse
import statistics
import time

import numpy as np

import npgrad
from npgrad.data import DataLoader, TensorDataset, default_collate


def epoch_seconds(loader, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _batch in loader:
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, args.features), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    dataset = TensorDataset(npgrad.from_numpy(x), npgrad.from_numpy(y))
    fast = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, generator=0)
    slow = DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, generator=0, collate_fn=default_collate
    )
    fast_s, slow_s = epoch_seconds(fast), epoch_seconds(slow, repeat=1)
    print(
        f"| loader ({args.samples} x {args.features} float32, batch {args.batch_size}, shuffled) "
        "| epoch time | samples/s |"
    )
    print("| --- | ---: | ---: |")
    print(f"| array fast path | {fast_s * 1000:.0f} ms | {args.samples / fast_s:,.0f} |")
    print(f"| per-sample loop + collate | {slow_s * 1000:.0f} ms | {args.samples / slow_s:,.0f} |")
    print(f"\nfast path speed-up: {slow_s / fast_s:.1f}x")


if __name__ == "__main__":
    main()
