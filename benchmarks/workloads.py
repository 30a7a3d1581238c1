"""One benchmark measurement in this process: a framework, a workload, timed training steps.

Used by ``benchmarks/run.py``, which starts one process per measurement (so each framework gets
a clean heap and its own malloc settings) and alternates frameworks between repeats. Prints one
JSON line: samples per second, seconds per step, peak RSS.

Run by hand:  python benchmarks/workloads.py --framework npgrad --workload mlp_512_b128
"""

import argparse
import json
import resource
import sys
import time

import numpy as np

WORKLOADS = {
    # name: (layer sizes, batch size); "cnn" is PyTorch's MNIST example network
    "mlp_512_b128": ((784, 512, 512, 10), 128),
    "mlp_512_b32": ((784, 512, 512, 10), 32),
    "mlp_32_b32": ((784, 32, 10), 32),
    "cnn_b64": ("cnn", 64),
    "lstm_b64": ("lstm", 64),  # T=50, input 32, hidden 128, a linear head on the last state
    # 2 post-norm encoder layers (d 128, 4 heads, feed-forward 512) over T=64, mean-pooled head
    "transformer_b32": ("transformer", 32),
}


def synthetic_batches(sizes, batch_size, count=8, seed=0):
    """A few fixed random batches (inputs float32, labels int64) cycled during timing."""
    rng = np.random.default_rng(seed)
    # lstm: (T, input) per sample, batch_first; transformer: (T, d_model), batch_first
    shapes = {"cnn": (1, 28, 28), "lstm": (50, 32), "transformer": (64, 128)}
    input_shape = shapes[sizes] if isinstance(sizes, str) else (sizes[0],)
    return [
        (
            rng.standard_normal((batch_size, *input_shape), dtype=np.float32),
            rng.integers(0, 10, batch_size),
        )
        for _ in range(count)
    ]


def build_model(library, sizes):
    """The workload's network in ``library`` (npgrad or torch: the same code)."""
    nn = library.nn
    if sizes == "cnn":  # conv32, conv64, pool, fc128: the MNIST example without dropout
        return nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(9216, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    if sizes == "lstm":

        class LastStateClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(32, 128, batch_first=True)
                self.head = nn.Linear(128, 10)

            def forward(self, x):
                _, (h_n, _) = self.lstm(x)
                return self.head(h_n[-1])

        return LastStateClassifier()
    if sizes == "transformer":

        class EncoderClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                layer = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
                self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
                self.head = nn.Linear(128, 10)

            def forward(self, x):
                return self.head(self.encoder(x).mean(dim=1))

        return EncoderClassifier()
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def pytorch_style_step_fn(library, sizes, batches):
    """The same PyTorch-style training step for npgrad and torch: their APIs are the same."""
    nn = library.nn
    model = build_model(library, sizes)
    optimizer = library.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    data = [(library.from_numpy(x), library.from_numpy(y)) for x, y in batches]

    def step(i):
        x, y = data[i % len(data)]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def npgrad_step_fn(sizes, batches):
    import npgrad

    return pytorch_style_step_fn(npgrad, sizes, batches)


def torch_step_fn(sizes, batches):
    import torch

    return pytorch_style_step_fn(torch, sizes, batches)


def sklearn_step_fn(sizes, batches):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=sizes[1:-1],
        solver="adam",
        batch_size=len(batches[0][0]),
        learning_rate_init=1e-3,
        shuffle=False,
        max_iter=1,
    )
    classes = np.arange(sizes[-1])

    def step(i):
        x, y = batches[i % len(batches)]
        model.partial_fit(x, y, classes=classes)  # one batch: exactly one Adam step

    return step


FRAMEWORKS = {"npgrad": npgrad_step_fn, "torch": torch_step_fn, "sklearn": sklearn_step_fn}


def measure(framework, workload, steps, warmup, batch_size=None, min_seconds=0.0):
    """Time ``steps`` training steps after ``warmup`` untimed ones; more steps, ``steps`` at a
    time, until at least ``min_seconds`` have passed (a short run is at the mercy of a moment's
    noise: 200 steps of the smallest MLP take 30 ms)."""
    sizes, default_batch = WORKLOADS[workload]
    batch_size = batch_size or default_batch
    batches = synthetic_batches(sizes, batch_size)
    step = FRAMEWORKS[framework](sizes, batches)
    for i in range(warmup):
        step(i)
    start, done = time.perf_counter(), 0
    while done == 0 or time.perf_counter() - start < min_seconds:
        for i in range(done, done + steps):
            step(i)
        done += steps
    elapsed = time.perf_counter() - start
    return {
        "framework": framework,
        "workload": workload,
        "batch_size": batch_size,
        "steps": done,
        "seconds_per_step": elapsed / done,
        "samples_per_second": done * batch_size / elapsed,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=sorted(FRAMEWORKS), required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch-size", type=int, help="instead of the workload's own")
    parser.add_argument("--min-seconds", type=float, default=0.0, help="time at least this long")
    args = parser.parse_args()
    result = measure(
        args.framework, args.workload, args.steps, args.warmup, args.batch_size, args.min_seconds
    )
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
