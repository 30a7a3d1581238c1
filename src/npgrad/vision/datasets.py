"""torchvision's datasets: ``MNIST``, ``FashionMNIST``, ``KMNIST``, ``CIFAR10``, ``CIFAR100``,
``ImageFolder``, ``DatasetFolder`` and ``FakeData``, with its arguments, folder layout and
attributes (``data``, ``targets``, ``classes``, ``class_to_idx``), so that

    train = datasets.MNIST("../data", train=True, download=True, transform=transform)

reads and writes the same files as torchvision (``../data/MNIST/raw/...``).

A sample is ``(image, target)``. Without a transform the image is a uint8 NumPy array in PIL's
layout, (H, W) grey or (H, W, 3) RGB, where torchvision gives a PIL image: npgrad's transforms
and ``ToTensor`` take either. When the transforms are npgrad's, ``DataLoader`` reads whole
batches (one fancy index into the images, ``transform.batch`` once) instead of one sample at a
time.

Downloads go to a temporary file and are checked against torchvision's MD5 before they are
used (``npgrad.data.datasets.download``); files already in place are read as they are, with their
format and sizes checked, so a truncated file is an error, not silently fewer images.
"""

import os
import pathlib
import pickle

import numpy

from npgrad.data.dataset import Dataset
from npgrad.data.datasets.download import FASHION_MNIST as _FASHION_FILES
from npgrad.data.datasets.download import MNIST as _MNIST_FILES
from npgrad.data.datasets.download import download as _fetch
from npgrad.data.datasets.download import read_idx
from npgrad.data.transforms import batchable
from npgrad.errors import DownloadError, SerializationError
from npgrad.tensor import Tensor, _array_of


class VisionDataset(Dataset):
    """The base of the image datasets: ``root``, ``transform``, ``target_transform``."""

    def __init__(self, root, transform=None, target_transform=None):
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else None
        self.transform, self.target_transform = transform, target_transform

    def _transformed(self, image, target):
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


class _ArrayImages(VisionDataset):
    """Images held in one uint8 array or Tensor ``data`` (N, H, W[, C]) with integer
    ``targets`` (a Tensor, an array or a list): MNIST's and CIFAR's layout, readable a whole
    batch at a time. Both are read afresh on every access, so a script that subsets or relabels
    them (``ds.data = ds.data[keep]``) gets what it set."""

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self._transformed(_array_of(self.data)[index], int(_array_of(self.targets)[index]))

    @property
    def batched(self):
        """Whole batches at once when the transforms take batches (npgrad's do)."""
        return batchable(self.transform) and batchable(self.target_transform)

    def get_batch(self, indices):
        """Images ``indices`` transformed together, and their targets as an int64 Tensor."""
        images = _array_of(self.data)[indices]
        labels = _array_of(self.targets)
        if not isinstance(labels, numpy.ndarray):  # a list: only the batch's labels
            labels = numpy.array([labels[i] for i in indices])
        else:
            labels = labels[indices]
        targets = Tensor._wrap(labels.astype(numpy.int64, copy=False))
        images = Tensor._wrap(images) if self.transform is None else self.transform.batch(images)
        if self.target_transform is not None:
            targets = self.target_transform.batch(targets)
        return images, targets

    @property
    def class_to_idx(self):
        return {name: index for index, name in enumerate(self.classes)}


def _missing(name, folder, files):
    return DownloadError(
        f"{name}: dataset not found in {folder} (missing {', '.join(files)}). Pass "
        "download=True to download it, or copy the files there by hand."
    )


class MNIST(_ArrayImages):
    """MNIST's 28x28 grey digits, 60,000 for training (``train=True``) and 10,000 for testing,
    from ``root/MNIST/raw`` (the IDX files, gzipped or not), as torchvision's ``MNIST``.

    ``data`` is a uint8 Tensor (N, 28, 28), ``targets`` an int64 Tensor (N,).
    """

    mirrors = _MNIST_FILES["mirrors"]
    resources = [(name, md5.removeprefix("md5:")) for name, md5 in _MNIST_FILES["files"].values()]
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise SerializationError(
                f"{type(self).__name__}: images of shape {images.shape} do not go with labels "
                f"of shape {labels.shape} in {self.raw_folder}"
            )
        self.data = Tensor._wrap(numpy.ascontiguousarray(images, dtype=numpy.uint8))
        self.targets = Tensor._wrap(labels.astype(numpy.int64))

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _find(self, stem):
        """``stem`` in the raw folder, extracted or gzipped (torchvision keeps both)."""
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.exists(path):
                return path
        raise _missing(type(self).__name__, self.raw_folder, [stem + ".gz"])

    def download(self):
        """Fetch the missing files from the first mirror that answers, MD5-checked."""
        for filename, md5 in self.resources:
            stem = filename[: -len(".gz")]
            if os.path.exists(os.path.join(self.raw_folder, stem)):
                continue
            path = os.path.join(self.raw_folder, filename)
            if not os.path.exists(path):
                _fetch([m + filename for m in self.mirrors], path, f"md5:{md5}")


class FashionMNIST(MNIST):
    """Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, MNIST's format and sizes."""

    mirrors = _FASHION_FILES["mirrors"]
    resources = [(name, md5.removeprefix("md5:")) for name, md5 in _FASHION_FILES["files"].values()]
    classes = list(_FASHION_FILES["classes"])


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grey images of 10 cursive Japanese characters."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays, nothing else: a CIFAR batch
    file is a pickle, and a pickle may otherwise call any function while it loads."""

    allowed = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes in protocol 2
    }

    def find_class(self, module, name):
        if (module, name) not in self.allowed:
            raise SerializationError(
                f"refusing to load {module}.{name} from a dataset pickle: only NumPy arrays and "
                "plain containers are expected"
            )
        if module == "_codecs":
            import codecs

            return codecs.encode
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        return getattr(numpy, name)


def _unpickle(path):
    try:
        with open(path, "rb") as f:
            return _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as error:
        raise SerializationError(f"{path}: not a readable CIFAR batch ({error})") from None


class CIFAR10(_ArrayImages):
    """CIFAR-10: 32x32 colour images of 10 classes, 50,000 for training and 10,000 for
    testing, from ``root/cifar-10-batches-py`` (the "python version"), as torchvision's.

    ``data`` is a uint8 array (N, 32, 32, 3), ``targets`` a list of ints (as torchvision's).
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        if download:
            self.download()
        folder = os.path.join(self.root, self.base_folder)
        files = self.train_list if train else self.test_list
        missing = [
            f
            for f in [*files, self.meta["filename"]]
            if not os.path.exists(os.path.join(folder, f))
        ]
        if missing:
            raise _missing(type(self).__name__, folder, missing)
        data, targets = [], []
        for name in files:
            entry = _unpickle(os.path.join(folder, name))
            images, labels = entry.get("data"), entry.get(self.labels_key)
            if images is None or labels is None or len(images) != len(labels):
                raise SerializationError(
                    f"{os.path.join(folder, name)}: expected 'data' and '{self.labels_key}' of "
                    "the same length"
                )
            data.append(numpy.asarray(images, numpy.uint8).reshape(-1, 3, 32, 32))
            targets.extend(int(label) for label in labels)
        self.data = numpy.ascontiguousarray(numpy.concatenate(data).transpose(0, 2, 3, 1))
        self.targets = targets
        self.classes = list(
            _unpickle(os.path.join(folder, self.meta["filename"]))[self.meta["key"]]
        )

    def download(self):
        """Fetch the archive (MD5-checked) and unpack it, unless the batches are there."""
        folder = os.path.join(self.root, self.base_folder)
        if all(os.path.exists(os.path.join(folder, f)) for f in self.train_list + self.test_list):
            return
        archive = os.path.join(self.root, self.filename)
        if not os.path.exists(archive):
            _fetch([self.url], archive, f"md5:{self.tgz_md5}")
        _extract(archive, self.root)


class CIFAR100(CIFAR10):
    """CIFAR-100: 32x32 colour images of 100 classes (the fine labels), CIFAR-10's sizes."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"


def _extract(archive, folder):
    """Unpack a .tar.gz into ``folder``, refusing members that would land outside it."""
    import tarfile

    target = pathlib.Path(folder).resolve()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            destination = (target / member.name).resolve()
            if target not in destination.parents and destination != target:
                raise SerializationError(
                    f"{archive}: member {member.name!r} points outside {folder}"
                )
            if not (member.isfile() or member.isdir()):
                raise SerializationError(f"{archive}: member {member.name!r} is not a plain file")
        tar.extractall(folder)  # noqa: S202 - every member checked above


IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".npy")


def default_loader(path):
    """An image file as a uint8 (H, W, 3) RGB array: through Pillow when it is installed (any
    format it reads), else PNG (npgrad's reader) and ``.npy`` arrays."""
    try:
        from PIL import Image
    except ImportError:
        Image = None  # noqa: N806
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npy":
        return numpy.load(path, allow_pickle=False)
    if Image is not None:
        with open(path, "rb") as f:
            return numpy.asarray(Image.open(f).convert("RGB"))
    if suffix != ".png":
        raise ImportError(
            f"reading {path} needs Pillow (pip install pillow); without it npgrad reads PNG "
            "and .npy files"
        )
    from npgrad.io.png import read_png

    pixels = read_png(path)
    if pixels.dtype != numpy.uint8:
        pixels = (pixels >> 8).astype(numpy.uint8)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[-1] in (2, 4):  # drop alpha, as Pillow's convert("RGB")
        pixels = pixels[..., :-1]
    return numpy.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels


class DatasetFolder(VisionDataset):
    """Samples in ``root/<class>/.../<file>``: the class is the sub-folder (sorted names give
    the indices), the sample ``loader(path)``; files chosen by ``extensions`` or
    ``is_valid_file``. torchvision's ``DatasetFolder``: ``classes``, ``class_to_idx``,
    ``samples`` ((path, index) pairs) and ``targets``."""

    def __init__(
        self,
        root,
        loader,
        extensions=None,
        transform=None,
        target_transform=None,
        is_valid_file=None,
        allow_empty=False,
    ):
        super().__init__(root, transform, target_transform)
        if (extensions is None) == (is_valid_file is None):
            raise ValueError("DatasetFolder: pass either extensions or is_valid_file")
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(
            self.root, self.class_to_idx, extensions, is_valid_file, allow_empty
        )
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def find_classes(directory):
        """Sorted sub-folder names and their indices."""
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"DatasetFolder: {directory} is not a folder")
        classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
        if not classes:
            raise FileNotFoundError(f"DatasetFolder: no class folders in {directory}")
        return classes, {name: index for index, name in enumerate(classes)}

    @staticmethod
    def make_dataset(
        directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False
    ):
        """(path, class index) for every valid file, classes in order, files sorted."""
        if is_valid_file is None:
            lowered = tuple(e.lower() for e in extensions)

            def is_valid_file(path):
                return path.lower().endswith(lowered)

        samples, empty = [], []
        for name in sorted(class_to_idx):
            found = []
            for folder, _, files in sorted(
                os.walk(os.path.join(directory, name), followlinks=True)
            ):
                found += [
                    os.path.join(folder, f)
                    for f in sorted(files)
                    if is_valid_file(os.path.join(folder, f))
                ]
            if not found:
                empty.append(name)
            samples += [(path, class_to_idx[name]) for path in found]
        if empty and not allow_empty:
            raise FileNotFoundError(
                f"DatasetFolder: no valid files for classes {', '.join(empty)} in {directory}"
                + (f" (extensions {', '.join(extensions)})" if extensions else "")
            )
        return samples

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._transformed(self.loader(path), target)

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/<file>``: torchvision's ``ImageFolder`` (``imgs`` too)."""

    def __init__(
        self,
        root,
        transform=None,
        target_transform=None,
        loader=default_loader,
        is_valid_file=None,
        allow_empty=False,
    ):
        super().__init__(
            root,
            loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform,
            target_transform,
            is_valid_file,
            allow_empty,
        )
        self.imgs = self.samples


class FakeData(VisionDataset):
    """Random images with random labels, the same for an index every time (torchvision's
    ``FakeData``): ``size`` samples of ``image_size`` (C, H, W) and ``num_classes`` classes."""

    def __init__(
        self,
        size=1000,
        image_size=(3, 224, 224),
        num_classes=10,
        transform=None,
        target_transform=None,
        random_offset=0,
    ):
        super().__init__(None, transform, target_transform)
        self.size, self.image_size = size, tuple(image_size)
        self.num_classes, self.random_offset = num_classes, random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData: index {index} out of range for {self.size} samples")
        rng = numpy.random.default_rng(index % self.size + self.random_offset)
        channels, height, width = self.image_size
        image = rng.integers(0, 256, (height, width, channels), dtype=numpy.uint8)
        image = image[..., 0] if channels == 1 else image
        return self._transformed(image, int(rng.integers(0, self.num_classes)))
