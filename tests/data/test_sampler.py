"""Samplers, batch samplers and iterable datasets, alone and through the DataLoader."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad.data import (
    BatchSampler,
    ChainDataset,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


def test_sequential_and_random_samplers():
    data = list(range(7))
    assert list(SequentialSampler(data)) == data and len(SequentialSampler(data)) == 7
    sampler = RandomSampler(data, generator=3)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == data and sorted(second) == data and first != second  # a new epoch
    assert list(RandomSampler(data, generator=3)) == first  # the same seed, the same order
    npgrad.manual_seed(5)
    seeded = list(RandomSampler(data))
    npgrad.manual_seed(5)
    assert list(RandomSampler(data)) == seeded  # the global generator, reseeded
    longer = list(RandomSampler(data, num_samples=16, generator=0))  # without replacement:
    assert len(longer) == 16 and sorted(longer[:7]) == data and sorted(longer[7:14]) == data
    drawn = list(RandomSampler(data, replacement=True, num_samples=50, generator=0))
    assert len(drawn) == 50 and set(drawn) <= set(data) and len(set(drawn)) < 50


def test_subset_and_weighted_samplers():
    subset = SubsetRandomSampler([2, 4, 8], generator=0)
    assert sorted(subset) == [2, 4, 8] and len(subset) == 3
    weights = [1.0, 0.0, 3.0]
    drawn = np.array(list(WeightedRandomSampler(weights, 20_000, generator=0)))
    assert (drawn != 1).all()  # a zero weight is never drawn
    assert abs((drawn == 2).mean() - 0.75) < 0.02  # in proportion to the weights
    distinct = list(WeightedRandomSampler(npgrad.tensor([1.0, 2.0, 3.0]), 3, replacement=False))
    assert sorted(distinct) == [0, 1, 2]
    with pytest.raises(ValueError, match="without replacement from 2 non-zero weights"):
        WeightedRandomSampler(weights, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="positive integer"):
        WeightedRandomSampler(weights, 0)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler(drop_last):
    batches = list(BatchSampler(SequentialSampler(range(7)), 3, drop_last))
    expected = [[0, 1, 2], [3, 4, 5]] + ([] if drop_last else [[6]])
    assert batches == expected and len(BatchSampler(range(7), 3, drop_last)) == len(expected)
    if torch is not None:
        theirs = torch.utils.data.BatchSampler(range(7), 3, drop_last)
        assert list(theirs) == batches and len(theirs) == len(batches)


def test_dataloader_with_samplers():
    dataset = TensorDataset(npgrad.arange(10) * 10)
    loader = DataLoader(dataset, batch_size=2, sampler=SubsetRandomSampler([1, 3, 5], 0))
    assert sorted(v for batch in loader for v in batch[0].tolist()) == [10, 30, 50]
    assert len(loader) == 2
    custom = DataLoader(dataset, batch_sampler=[[9, 0], [4]])  # any iterable of index lists
    assert [batch[0].tolist() for batch in custom] == [[90, 0], [40]]
    weighted = DataLoader(dataset, batch_size=4, sampler=WeightedRandomSampler([0] * 9 + [1], 8))
    assert [batch[0].tolist() for batch in weighted] == [[90] * 4] * 2
    assert isinstance(DataLoader(dataset, shuffle=True).sampler, RandomSampler)
    assert isinstance(DataLoader(dataset).sampler, SequentialSampler)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, shuffle=True, sampler=SequentialSampler(dataset))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_size=4, batch_sampler=[[0]])


class Countdown(IterableDataset):
    def __init__(self, start):
        self.start = start

    def __iter__(self):
        return iter(range(self.start, 0, -1))

    def __len__(self):
        return self.start


def test_iterable_datasets():
    loader = DataLoader(Countdown(5), batch_size=2)
    assert [batch.tolist() for batch in loader] == [[5, 4], [3, 2], [1]] and len(loader) == 3
    dropping = DataLoader(Countdown(5), batch_size=2, drop_last=True)
    assert [batch.tolist() for batch in dropping] == [[5, 4], [3, 2]] and len(dropping) == 2
    assert list(DataLoader(Countdown(2), batch_size=None)) == [2, 1]
    chained = Countdown(2) + Countdown(1)
    assert isinstance(chained, ChainDataset) and list(chained) == [2, 1, 1] and len(chained) == 3
    with pytest.raises(ValueError, match="IterableDataset gives its own order"):
        DataLoader(Countdown(3), shuffle=True)
    with pytest.raises(TypeError, match="no indexing"):
        Countdown(3)[0]


@needs_torch
def test_pytorch_style_imports():
    from npgrad.utils import data

    for name in ("Sampler", "RandomSampler", "WeightedRandomSampler", "IterableDataset"):
        assert hasattr(data, name) and hasattr(torch.utils.data, name)
