"""Per-op overhead: ``a + b`` on tiny float32 tensors with grad, versus raw NumPy and PyTorch.

The arithmetic on one element is free, so these timings are the framework's own cost per op: the
Python dispatch, graph recording, and the backward walk.

Run:  python benchmarks/op_overhead.py [--size 1] [--repeat 7]
"""

import argparse
import statistics
import timeit

import numpy as np

import npgrad


def best_us(stmt, number, repeat):
    """Median over ``repeat`` runs of the per-call time of ``stmt``, in microseconds."""
    runs = timeit.repeat(stmt, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def measure(size=1, repeat=7, number=20000):
    shape = (size, size) if size > 1 else (1,)
    results = {}

    a_np = np.ones(shape, dtype=np.float32)
    b_np = np.ones(shape, dtype=np.float32)

    def numpy_forward_backward():
        c = a_np + b_np
        grad = np.ones_like(c)
        return grad, grad  # d(a+b)/da = d(a+b)/db = 1

    results["numpy add"] = best_us(lambda: a_np + b_np, number, repeat)
    results["numpy add + hand backward"] = best_us(numpy_forward_backward, number, repeat)

    a = npgrad.ones(*shape, requires_grad=True)
    b = npgrad.ones(*shape, requires_grad=True)

    def npgrad_forward_backward():
        a.grad = b.grad = None
        (a + b).sum().backward() if size > 1 else (a + b).backward(npgrad_seed)

    npgrad_seed = npgrad.ones(*shape)
    results["npgrad add (recording)"] = best_us(lambda: a + b, number, repeat)
    with npgrad.no_grad():
        results["npgrad add (no_grad)"] = best_us(lambda: a + b, number, repeat)
    results["npgrad add + backward"] = best_us(npgrad_forward_backward, number, repeat)

    try:
        import torch
    except ImportError:
        return results
    torch.set_num_threads(1)
    ta = torch.ones(*shape, requires_grad=True)
    tb = torch.ones(*shape, requires_grad=True)
    torch_seed = torch.ones(*shape)

    def torch_forward_backward():
        ta.grad = tb.grad = None
        (ta + tb).sum().backward() if size > 1 else (ta + tb).backward(torch_seed)

    results["torch add (recording)"] = best_us(lambda: ta + tb, number, repeat)
    with torch.no_grad():
        results["torch add (no_grad)"] = best_us(lambda: ta + tb, number, repeat)
    results["torch add + backward"] = best_us(torch_forward_backward, number, repeat)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1, help="side of the tensors (1 = one element)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = measure(args.size, args.repeat)
    base = results["numpy add"]
    print(f"| op ({args.size}x{args.size} float32) | µs per call | × numpy add |")
    print("| --- | ---: | ---: |")
    for name, us in results.items():
        print(f"| {name} | {us:.2f} | {us / base:.1f} |")


if __name__ == "__main__":
    main()
