"""A Transformer encoder learns to sort: each output position predicts the digit that belongs there.

Input: 8 random digits (0-9). Target: the same digits sorted. Every output position must look at
the whole sequence (how many digits are smaller than which), which is what attention does; a
per-position MLP cannot. Token embeddings plus learned position embeddings, two pre-norm encoder
layers, a linear read-out per position, AdamW.

Run:  python examples/sort_transformer.py
"""

import numpy as np

import npgrad
from npgrad import nn

DIGITS, LENGTH = 10, 8


class Sorter(nn.Module):
    def __init__(self, width=64, heads=4, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(DIGITS, width)
        self.positions = nn.Embedding(LENGTH, width)
        layer = nn.TransformerEncoderLayer(
            width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, DIGITS)

    def forward(self, digits):  # (N, LENGTH) integers -> (N, LENGTH, DIGITS) logits
        x = self.tokens(digits) + self.positions(npgrad.arange(LENGTH))
        return self.read_out(self.norm(self.encoder(x)))


def batch(rng, size):
    digits = rng.integers(0, DIGITS, (size, LENGTH))
    return npgrad.tensor(digits), npgrad.tensor(np.sort(digits, axis=1))


def train(steps=600, seed=0, verbose=True):
    """Returns the share of test sequences sorted entirely right after ``steps`` steps."""
    npgrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Sorter()
    optimizer = npgrad.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = npgrad.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(1, steps + 1):
        digits, target = batch(rng, 64)
        loss = loss_fn(model(digits).reshape(-1, DIGITS), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if verbose and step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    model.eval()
    digits, target = batch(rng, 1000)
    with npgrad.no_grad():
        predicted = model(digits).argmax(-1)
    return (predicted == target).all(dim=1).float().mean().item()


if __name__ == "__main__":
    print(f"test sequences sorted entirely right: {train():.1%}")
