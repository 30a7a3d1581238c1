"""XOR with a 2-2-1 sigmoid network, MSE loss and plain gradient descent — raw npgrad tensors.

This is the classic first network: two inputs, two hidden sigmoid neurons, one sigmoid output.
Nothing here but tensors and autograd.

A network this small has local minima: from some starting weights (seeds 1, 4 and 6 of the first
twelve) gradient descent settles with one or two outputs near 0.5. That is a property of XOR with
two hidden units, not a bug; a third hidden unit or another seed gets out of it.

Run:  python examples/xor.py
"""

import npgrad


def train(epochs=5000, lr=2.0, seed=0, verbose=True):
    """Train the 2-2-1 network on XOR and return its four outputs (a list of floats)."""
    npgrad.manual_seed(seed)
    x = npgrad.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = npgrad.tensor([[0.0], [1.0], [1.0], [0.0]])

    # Weights in PyTorch's layout: (out_features, in_features).
    w1 = npgrad.randn(2, 2, requires_grad=True)
    b1 = npgrad.zeros(2, requires_grad=True)
    w2 = npgrad.randn(1, 2, requires_grad=True)
    b2 = npgrad.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    for epoch in range(epochs):
        hidden = (x @ w1.T + b1).sigmoid()
        output = (hidden @ w2.T + b2).sigmoid()
        loss = ((output - y) ** 2).mean()  # mean squared error

        for p in params:
            p.grad = None
        loss.backward()  # backpropagation: d loss / d p for every p
        with npgrad.no_grad():  # gradient descent: p <- p - lr * dloss/dp
            for p in params:
                p -= lr * p.grad

        if verbose and epoch % 1000 == 0:
            print(f"epoch {epoch:5d}  loss {loss.item():.5f}")

    with npgrad.no_grad():
        output = ((x @ w1.T + b1).sigmoid() @ w2.T + b2).sigmoid()
    return [round(v, 4) for v in output.flatten().tolist()]


if __name__ == "__main__":
    outputs = train()
    for (a, b), out in zip([(0, 0), (0, 1), (1, 0), (1, 1)], outputs, strict=True):
        print(f"{a} XOR {b} -> {out:.4f}")
    correct = sum(round(o) == t for o, t in zip(outputs, [0, 1, 1, 0], strict=True))
    print(f"accuracy: {correct / 4:.0%}")
