"""Datasets and DataLoader: coverage, order, fast path, collation, errors."""

import numpy as np
import pytest

import npgrad
from npgrad.data import DataLoader, Dataset, Subset, TensorDataset, random_split, transforms
from npgrad.errors import ShapeError


def ids_seen(loader):
    return np.concatenate([batch[0].numpy() for batch in loader])


@pytest.mark.parametrize("batch_size, drop_last", [(7, False), (7, True), (100, False), (1, False)])
def test_every_sample_exactly_once_per_epoch(batch_size, drop_last):
    ds = TensorDataset(npgrad.arange(50), npgrad.randn(50, 3))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=drop_last, generator=0)
    for _ in range(2):
        seen = ids_seen(loader)
        expected = 50 - (50 % batch_size if drop_last else 0)
        assert len(seen) == expected and len(set(seen.tolist())) == expected
    assert len(loader) == (50 // batch_size if drop_last else -(-50 // batch_size))


def test_same_seed_same_order_and_epochs_differ():
    ds = TensorDataset(npgrad.arange(30))
    npgrad.manual_seed(3)
    first = [ids_seen(DataLoader(ds, batch_size=8, shuffle=True)) for _ in range(2)]
    npgrad.manual_seed(3)
    second = [ids_seen(DataLoader(ds, batch_size=8, shuffle=True)) for _ in range(2)]
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert not (first[0] == first[1]).all()
    seeded = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    again = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    assert (ids_seen(seeded) == ids_seen(again)).all()
    assert (ids_seen(DataLoader(ds, batch_size=8)) == np.arange(30)).all()


def test_fast_path_gives_batches_identical_to_the_sample_loop():
    x, y = npgrad.randn(20, 4), npgrad.randint(0, 3, (20,))
    ds = TensorDataset(x, y)
    fast = DataLoader(ds, batch_size=6, shuffle=True, generator=1)
    slow = DataLoader(
        ds, batch_size=6, shuffle=True, generator=1, collate_fn=npgrad.data.default_collate
    )
    assert fast.fast_path and not slow.fast_path
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.equal(sx) and fy.equal(sy)


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.float32(i), "pair": (i, float(i * i))}


def test_generic_dataset_and_collate_of_dicts_and_tuples():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].tolist() == [0.0, 1.0]
    assert batches[1]["pair"][1].tolist() == [4.0, 9.0]
    assert batches[2]["pair"][0].tolist() == [4]


def test_subset_random_split_and_transforms():
    ds = TensorDataset(npgrad.arange(10).float(), npgrad.arange(10))
    train, val = random_split(ds, [0.8, 0.2], generator=np.random.default_rng(0))
    assert len(train) == 8 and len(val) == 2
    assert sorted(
        ids_seen(DataLoader(train, 3)).tolist() + ids_seen(DataLoader(val, 3)).tolist()
    ) == list(range(10))
    assert DataLoader(Subset(ds, [1, 3]), batch_size=2).fast_path
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [4, 5])
    normalize = transforms.Normalize.fit(ds.tensors[0].numpy()[:, None])
    wrapped = transforms.TransformDataset(
        ds, transform=lambda x: x * 2, target_transform=transforms.OneHot(10)
    )
    x, y = next(iter(DataLoader(wrapped, batch_size=4)))
    assert x.tolist() == [0.0, 2.0, 4.0, 6.0] and y.shape == (4, 10)
    assert abs(float(normalize(np.array([[4.5]]))[0, 0])) < 1e-6


def test_errors():
    with pytest.raises(ShapeError, match=r"same first dimension.*\(10, 2\), \(9,\)"):
        TensorDataset(npgrad.ones(10, 2), npgrad.ones(9))
    with pytest.raises(ValueError, match="empty"):
        DataLoader(TensorDataset(npgrad.ones(0, 2)))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(npgrad.ones(3)), batch_size=0)


def test_utils_data_alias():
    from npgrad.utils.data import DataLoader as Alias

    assert Alias is DataLoader
