"""Activation functions, forward and backward on one large float32 array, npgrad beside PyTorch.

Each activation runs through its functional form (``F.elu(x)``, ``F.gelu(x)``, ...) with the
same code for both libraries, and ``y.backward(ones)``; the table gives milliseconds per
forward + backward (median of ``--repeat`` calls after warm-up) and torch / npgrad, so a ratio
below 1 means npgrad is slower. PyTorch runs with its default threads; without it, npgrad alone.

Run:  python benchmarks/activations.py [--shape 2048 512] [--repeat 15] [--only gelu elu ...]
      [--json FILE]
"""

import argparse
import json
import statistics
import time

import numpy as np

import npgrad

try:
    import torch
except ImportError:  # the npgrad column alone
    torch = None

ACTIVATIONS = {
    "relu": lambda F, lib: F.relu,
    "leaky_relu": lambda F, lib: F.leaky_relu,
    "elu": lambda F, lib: F.elu,
    "selu": lambda F, lib: F.selu,
    "celu": lambda F, lib: F.celu,
    "gelu": lambda F, lib: F.gelu,
    "gelu_tanh": lambda F, lib: lambda x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, lib: F.silu,
    "mish": lambda F, lib: F.mish,
    "softplus": lambda F, lib: F.softplus,
    "logsigmoid": lambda F, lib: F.logsigmoid,
    "sigmoid": lambda F, lib: lib.sigmoid,
    "tanh": lambda F, lib: lib.tanh,
    "hardtanh": lambda F, lib: F.hardtanh,
    "relu6": lambda F, lib: F.relu6,
    "hardsigmoid": lambda F, lib: F.hardsigmoid,
    "hardswish": lambda F, lib: F.hardswish,
    "hardshrink": lambda F, lib: F.hardshrink,
    "softshrink": lambda F, lib: F.softshrink,
    "softsign": lambda F, lib: F.softsign,
    "tanhshrink": lambda F, lib: F.tanhshrink,
    "prelu": lambda F, lib: lambda x: F.prelu(x, lib.full((1,), 0.25)),
}


def time_ms(lib, name, data, repeat):
    """Median ms of forward + backward for one activation in ``lib`` (npgrad or torch)."""
    fn = ACTIVATIONS[name](lib.nn.functional, lib)
    x = lib.from_numpy(data.copy()).requires_grad_()
    ones = lib.ones(data.shape)
    times = []
    for i in range(repeat + 3):
        start = time.perf_counter()
        fn(x).backward(ones)
        if i >= 3:  # warm-up excluded
            times.append(time.perf_counter() - start)
        x.grad = None
    return statistics.median(times) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[2048, 512])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", nargs="+", choices=sorted(ACTIVATIONS), default=None)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    data = np.random.default_rng(0).standard_normal(args.shape, dtype=np.float32) * 3
    results = []
    print(f"forward + backward, float32 {tuple(args.shape)}, ms (median of {args.repeat})\n")
    print("| activation | npgrad | torch | torch / npgrad |")
    print("| --- | --- | --- | --- |")
    for name in args.only or ACTIVATIONS:
        ours = time_ms(npgrad, name, data, args.repeat)
        theirs = time_ms(torch, name, data, args.repeat) if torch is not None else None
        results.append({"activation": name, "npgrad_ms": ours, "torch_ms": theirs})
        if theirs is None:
            print(f"| {name} | {ours:.2f} | | |")
        else:
            print(f"| {name} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"shape": args.shape, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
