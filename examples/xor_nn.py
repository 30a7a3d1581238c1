"""XOR again, written the PyTorch way: nn.Sequential, nn.Sigmoid, nn.MSELoss and optim.SGD.

Same 2-2-1 sigmoid network as `examples/xor.py`, now built from layers instead of raw tensors.

Run:  python examples/xor_nn.py
"""

import npgrad
from npgrad import nn, optim


def train(epochs=5000, lr=2.0, seed=0, verbose=True):
    """Train the network on XOR; returns its four outputs (a list of floats)."""
    npgrad.manual_seed(seed)
    x = npgrad.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = npgrad.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    nn.init.normal_(model[0].weight)  # the classic N(0, 1) start of the raw-tensor version
    nn.init.normal_(model[2].weight)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if verbose and epoch % 1000 == 0:
            print(f"epoch {epoch:5d}  loss {loss.item():.5f}")
    with npgrad.no_grad():
        return [round(v, 4) for v in model(x).flatten().tolist()]


if __name__ == "__main__":
    outputs = train()
    for (a, b), out in zip([(0, 0), (0, 1), (1, 0), (1, 1)], outputs, strict=True):
        print(f"{a} XOR {b} -> {out:.4f}")
