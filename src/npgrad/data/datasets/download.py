"""Downloadable datasets (MNIST, Fashion-MNIST): fetch once, verify, cache, parse IDX files.

Files land in ``$NPGRAD_DATA/<name>/`` (default ``~/.cache/npgrad/<name>/``). Each download goes
to a temporary file, is checked against its published checksum, and only then is renamed into
place, so an interrupted or corrupted download never poses as data.
"""

import os
import pathlib

import numpy

from npgrad.data.datasets.base import ArrayData
from npgrad.errors import DownloadError, SerializationError

# Published MD5 checksums of the canonical files (the ones torchvision verifies).
MNIST = {
    "mirrors": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "files": {
        "train_images": ("train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "classes": [str(d) for d in range(10)],
    "description": "MNIST (LeCun et al., 1998): 70,000 28x28 grey-level handwritten digits, "
    "60,000 train / 10,000 test.",
}

FASHION_MNIST = {
    "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "files": {
        "train_images": ("train-images-idx3-ubyte.gz", "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "md5:25c81989df183df01b3e8a0aad5dffbe"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "md5:bef4ecab320f06d8554ea6380940ec79"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "md5:bb300cfdad3c16e7a12a480ee83cd310"),
    },
    "classes": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "description": "Fashion-MNIST (Xiao et al., 2017): 70,000 28x28 grey-level images of 10 "
    "kinds of clothing, 60,000 train / 10,000 test; a drop-in, harder MNIST.",
}


def cache_dir():
    """Where datasets are cached: ``$NPGRAD_DATA`` or ``~/.cache/npgrad``."""
    return pathlib.Path(os.environ.get("NPGRAD_DATA") or pathlib.Path.home() / ".cache" / "npgrad")


def file_checksum(path, algorithm):
    """Hex digest of a file, read in chunks."""
    import hashlib  # imported here, not by `import npgrad`, to keep that fast

    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, checksum):
    """True when ``path`` matches ``checksum`` (``"sha256:<hex>"`` or ``"md5:<hex>"``). The hex
    may be a prefix of at least 6 digits, as in checkpoint names (``resnet18-f37072fd.pth``)."""
    algorithm, _, expected = checksum.partition(":")
    return len(expected) >= 6 and file_checksum(path, algorithm).startswith(expected.lower())


def download(urls, path, checksum, timeout=30):
    """Fetch the first URL that works into ``path`` (atomically), verifying ``checksum``
    (None: nothing to verify against).

    Raises:
        DownloadError: every URL failed (offline?) or the data did not match the checksum.
    """
    # imported here, not by `import npgrad`: urllib pulls in http, email and ssl (~25 ms)
    import shutil
    import tempfile
    import urllib.error
    import urllib.request

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(url, timeout=timeout) as response,
            ):
                shutil.copyfileobj(response, out)
            if checksum is not None and not verify(temporary, checksum):
                failures.append(f"{url}: checksum mismatch (expected {checksum})")
                continue
            os.replace(temporary, path)
            return path
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {getattr(error, 'reason', error)}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise DownloadError(
        f"could not download {path.name}: " + "; ".join(failures) + f". If this machine is "
        f"offline, copy the file to {path} by hand (or set NPGRAD_DATA to a folder holding it)."
    )


_IDX_DTYPES = {
    0x08: numpy.uint8,
    0x09: numpy.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path):
    """Parse an IDX file (optionally gzipped): the format of the MNIST family.

    Raises:
        SerializationError: the file is truncated or not IDX.
    """
    import gzip

    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise SerializationError(f"{path}: cannot read IDX data ({error})") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise SerializationError(f"{path}: not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SerializationError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = numpy.dtype(_IDX_DTYPES[raw[2]])
    expected = int(numpy.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise SerializationError(
            f"{path}: IDX header says shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header} bytes: truncated or corrupt"
        )
    return numpy.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _load_idx_dataset(name, spec, root=None, download_missing=True, mirrors=None):
    folder = pathlib.Path(root) if root is not None else cache_dir() / name
    arrays = {}
    for key, (filename, checksum) in spec["files"].items():
        path = folder / filename
        if not path.exists():
            if not download_missing:
                raise DownloadError(f"{name}: {path} is missing and download=False")
            urls = [base + filename for base in (mirrors or spec["mirrors"])]
            download(urls, path, checksum)
        elif not verify(path, checksum):
            raise DownloadError(
                f"{name}: {path} does not match its checksum ({checksum}); delete it to "
                "download it again"
            )
        arrays[key] = read_idx(path)
    for split_name in ("train", "test"):
        images, labels = arrays[f"{split_name}_images"], arrays[f"{split_name}_labels"]
        if len(images) != len(labels):
            raise SerializationError(
                f"{name}: {len(images)} {split_name} images but {len(labels)} labels"
            )

    def scale(images):
        return images.astype(numpy.float32) / 255.0

    return ArrayData(
        name,
        scale(arrays["train_images"]),
        arrays["train_labels"].astype(numpy.int64),
        scale(arrays["test_images"]),
        arrays["test_labels"].astype(numpy.int64),
        spec["description"],
        10,
        list(spec["classes"]),
    )


def mnist(root=None, download=True, mirrors=None):
    """MNIST: (N, 28, 28) float32 images in [0, 1], int64 labels; downloaded once and cached.

    Args:
        root: folder holding (or to receive) the four ``.gz`` files; default
            ``cache_dir() / "mnist"``.
        download: fetch missing files (else raise).
        mirrors: base URLs to try instead of the canonical ones.

    Raises:
        DownloadError: offline (or a bad checksum), naming where to put the files by hand.
    """
    return _load_idx_dataset("mnist", MNIST, root, download, mirrors)


def fashion_mnist(root=None, download=True, mirrors=None):
    """Fashion-MNIST, with the same layout and options as :func:`mnist`."""
    return _load_idx_dataset("fashion_mnist", FASHION_MNIST, root, download, mirrors)
