"""Memory over 1,000 training steps of a small MLP written with raw npgrad tensors.

Prints the traced heap (tracemalloc, which sees NumPy's buffers) and the process RSS every 100
steps. A framework that leaks graph nodes or saved arrays grows linearly here.

Run:  python benchmarks/memory_flat.py [--steps 1000]
"""

import argparse
import tracemalloc

import npgrad


def rss_mib():
    """Resident set size of this process in MiB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0.0
    return pages * 4096 / 2**20


def run(steps=1000, every=100, batch=64):
    npgrad.manual_seed(0)
    x = npgrad.randn(batch, 64)
    y = npgrad.randint(0, 10, (batch,))
    w1 = (npgrad.randn(128, 64) * 0.1).requires_grad_()
    b1 = npgrad.zeros(128, requires_grad=True)
    w2 = (npgrad.randn(10, 128) * 0.1).requires_grad_()
    b2 = npgrad.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]
    rows = []
    tracemalloc.start()
    for step in range(1, steps + 1):
        hidden = (x @ w1.T + b1).relu()
        logits = hidden @ w2.T + b2
        log_probs = logits.log_softmax(dim=1)
        loss = -log_probs[npgrad.arange(batch), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with npgrad.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        if step % every == 0:
            current, _ = tracemalloc.get_traced_memory()
            rows.append((step, current / 2**20, rss_mib(), loss.item()))
    tracemalloc.stop()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    rows = run(args.steps)
    print("| step | traced heap (MiB) | RSS (MiB) | loss |")
    print("| ---: | ---: | ---: | ---: |")
    for step, heap, rss, loss in rows:
        print(f"| {step} | {heap:.3f} | {rss:.1f} | {loss:.4f} |")
    growth = rows[-1][1] - rows[0][1]
    print(f"\nheap growth from step {rows[0][0]} to {rows[-1][0]}: {growth * 1024:.1f} KiB")


if __name__ == "__main__":
    main()
