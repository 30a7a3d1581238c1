"""Fit the CS231n spiral dataset with a 2-hidden-layer ReLU MLP and Adam, using Trainer.fit.

Run:  python examples/spirals.py
"""

import npgrad
from npgrad import nn
from npgrad.data import datasets
from npgrad.train import Trainer


def train(epochs=200, seed=0, verbose=1):
    """Returns the training accuracy after ``epochs`` epochs."""
    npgrad.manual_seed(seed)
    data = datasets.spirals()  # 3 classes x 100 points
    model = nn.Sequential(
        nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 3)
    )
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        npgrad.optim.Adam(model.parameters(), lr=1e-2),
        metrics=["accuracy"],
    )
    trainer.fit(data.x_train, data.y_train, epochs=epochs, batch_size=32, verbose=verbose)
    return trainer.evaluate(data.x_train, data.y_train)["accuracy"]


if __name__ == "__main__":
    print(f"training accuracy: {train(verbose=0):.2%}")
