"""torchvision's datasets on small files the tests write in their formats: MNIST's IDX files,
CIFAR's pickled batches and archive, image folders of PNGs; downloads through file:// URLs."""

import gzip
import hashlib
import os
import pickle
import tarfile

import numpy as np
import pytest

import npgrad
from npgrad.data import DataLoader
from npgrad.errors import DownloadError, SerializationError
from npgrad.io.png import write_png
from npgrad.vision import datasets, transforms


def _idx(array, magic):
    header = bytes([0, 0, magic, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.tobytes()


def _write_mnist(raw, count=12, seed=0, gz=True):
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    files = {}
    for prefix in ("train", "t10k"):
        for kind, array, magic in (("images-idx3", images, 8), ("labels-idx1", labels, 8)):
            name = f"{prefix}-{kind}-ubyte"
            data = _idx(array, magic)
            if gz:
                data, name = gzip.compress(data), name + ".gz"
            (raw / name).write_bytes(data)
            files[name] = hashlib.md5(data).hexdigest()
    return images, labels, files


def test_mnist_reads_torchvisions_folder_and_batches_through_the_fast_path(tmp_path):
    images, labels, _ = _write_mnist(tmp_path / "MNIST" / "raw")
    normalize = transforms.Normalize((0.1307,), (0.3081,))
    pipeline = transforms.Compose([transforms.ToTensor(), normalize])
    train = datasets.MNIST(str(tmp_path), train=True, download=False, transform=pipeline)
    assert len(train) == 12 and train.data.dtype == np.uint8 and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == np.int64 and train.targets.tolist() == labels.tolist()
    assert train.class_to_idx["3 - three"] == 3
    image, target = train[5]
    assert image.shape == (1, 28, 28) and isinstance(target, int) and target == labels[5]
    np.testing.assert_allclose(image.numpy()[0], (images[5] / 255 - 0.1307) / 0.3081, rtol=1e-5)
    loader = DataLoader(train, batch_size=4, shuffle=False)
    assert loader.fast_path
    x, y = next(iter(loader))
    assert x.shape == (4, 1, 28, 28) and y.dtype == np.int64
    np.testing.assert_allclose(x.numpy()[1], train[1][0].numpy(), rtol=1e-6)
    raw_image, _ = datasets.MNIST(tmp_path, train=False)[0]  # no transform: PIL's layout
    assert raw_image.dtype == np.uint8 and raw_image.shape == (28, 28)
    slow = datasets.MNIST(tmp_path, transform=transforms.Lambda(lambda im: im[:2]))
    assert not DataLoader(slow, batch_size=4).fast_path
    assert next(iter(DataLoader(slow, batch_size=4)))[0].shape == (4, 2, 28)


def test_mnist_download_checks_the_md5_and_names_what_is_missing(tmp_path, monkeypatch):
    source = tmp_path / "mirror"
    _, _, files = _write_mnist(source)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [source.as_uri() + "/"])
    monkeypatch.setattr(datasets.MNIST, "resources", list(files.items()))
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"not found in .*MNIST.raw.*download=True"):
        datasets.MNIST(root)
    assert len(datasets.MNIST(root, download=True)) == 12
    assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(files)
    tampered = dict(files, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})
    monkeypatch.setattr(datasets.MNIST, "resources", list(tampered.items()))
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DownloadError, match="checksum mismatch"):
        datasets.MNIST(root, train=False, download=True)
    left = sorted(set(files) - {"t10k-labels-idx1-ubyte.gz"})
    assert sorted(os.listdir(root / "MNIST" / "raw")) == left  # nothing half-written


def test_fashion_mnist_extracted_files_and_a_truncated_one(tmp_path):
    _write_mnist(tmp_path / "FashionMNIST" / "raw", count=3, gz=False)
    fashion = datasets.FashionMNIST(tmp_path, train=False)
    assert len(fashion) == 3 and fashion.classes[9] == "Ankle boot"
    path = tmp_path / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SerializationError, match="truncated or corrupt"):
        datasets.FashionMNIST(tmp_path, train=False)


def _write_cifar(folder, per_batch=4, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels, "batch_label": name}, f, protocol=2)
        batches[name] = (data, labels)
    with open(folder / "batches.meta", "wb") as f:
        names = ["airplane", "automobile", "bird", "cat", "deer"]
        pickle.dump({"label_names": names + ["dog", "frog", "horse", "ship", "truck"]}, f)
    return batches


def test_cifar10_layout_augmentation_pipeline_and_download(tmp_path, monkeypatch):
    batches = _write_cifar(tmp_path / "src" / "cifar-10-batches-py")
    train = datasets.CIFAR10(tmp_path / "src", train=True)
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    first, label = train[0]
    data, labels = batches["data_batch_1"]
    np.testing.assert_array_equal(first, data[0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert label == labels[0] and train.classes[3] == "cat" and len(train.targets) == 20
    augment = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)),
        ]
    )
    augmented = datasets.CIFAR10(tmp_path / "src", transform=augment)
    assert augmented[0][0].shape == (3, 32, 32)
    x, y = next(iter(DataLoader(augmented, batch_size=8, shuffle=True)))
    assert x.shape == (8, 3, 32, 32) and y.shape == (8,)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())
    fresh = datasets.CIFAR10(tmp_path / "data", train=False, download=True)
    assert len(fresh) == 4 and fresh.targets == batches["test_batch"][1]


def test_cifar_pickles_and_archives_cannot_run_code_or_escape(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar(folder)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with open(folder / "data_batch_3", "wb") as f:
        pickle.dump({"data": Evil(), "labels": []}, f)
    with pytest.raises(SerializationError, match="refusing to load .*system"):
        datasets.CIFAR10(tmp_path)
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "batches.meta", arcname="../outside")
    with pytest.raises(SerializationError, match="points outside"):
        datasets._extract(archive, tmp_path / "unpack")
    assert not (tmp_path / "outside").exists()


def test_image_folder_reads_pngs_without_pillow(tmp_path):
    rng = np.random.default_rng(0)
    pictures = {}
    for name, count in (("dogs", 3), ("cats", 2)):
        (tmp_path / name).mkdir()
        for i in range(count):
            pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            write_png(tmp_path / name / f"{i}.png", pixels)
            pictures[f"{name}/{i}"] = pixels
    write_png(tmp_path / "cats" / "grey.png", np.full((6, 5), 7, np.uint8))
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    folder = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert folder.classes == ["cats", "dogs"] and folder.class_to_idx == {"cats": 0, "dogs": 1}
    assert len(folder) == 6 and folder.targets == [0, 0, 0, 1, 1, 1]
    assert [os.path.basename(p) for p, _ in folder.imgs[:3]] == ["0.png", "1.png", "grey.png"]
    image, target = folder[3]
    assert target == 1 and image.shape == (3, 6, 5)
    np.testing.assert_allclose(
        image.numpy(), pictures["dogs/0"].transpose(2, 0, 1) / 255, rtol=1e-6
    )
    grey, _ = datasets.ImageFolder(tmp_path)[2]  # grey PNGs become RGB, as Pillow's convert
    assert grey.shape == (6, 5, 3) and (grey == 7).all()
    x, y = next(iter(DataLoader(folder, batch_size=4)))
    assert x.shape == (4, 3, 6, 5) and y.tolist() == [0, 0, 0, 1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid files for classes empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 6


def test_dataset_folder_with_a_loader_and_fake_data():
    fake = datasets.FakeData(
        size=5, image_size=(1, 4, 6), num_classes=3, transform=transforms.ToTensor()
    )
    image, target = fake[2]
    assert image.shape == (1, 4, 6) and 0 <= target < 3
    again, same = fake[2]
    assert again.equal(image) and same == target  # an index always gives the same sample
    with pytest.raises(IndexError):
        fake[5]
    assert "Number of datapoints: 5" in repr(fake)


def test_dataset_folder_of_arrays(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "x.npy", np.full((2, 3), ord(name), np.float32))
    folder = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=(".npy",))
    sample, target = folder[1]
    assert target == 1 and sample[0, 0] == ord("b")
    with pytest.raises(ValueError, match="either extensions or is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=np.load)


def test_vision_namespace():
    assert npgrad.vision.datasets is datasets and npgrad.vision.transforms is transforms
