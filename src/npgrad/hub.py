"""Checkpoints by URL, as ``torch.hub``: downloaded once into a cache, checked, then loaded.

>>> import npgrad
>>> npgrad.hub.get_dir().endswith("hub")
True
"""

import os
import pathlib
import re
import urllib.parse

from npgrad.data.datasets.download import cache_dir, download

# torch.hub's convention: a file named ``name-<first hex digits of its SHA-256>.ext``
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,64})\.")
_hub_dir = None


def get_dir():
    """The cache folder for checkpoints: ``set_dir``'s, ``$NPGRAD_HOME/hub``, or the datasets'
    cache folder's ``hub`` (``$NPGRAD_DATA`` or ``~/.cache/npgrad``)."""
    if _hub_dir is not None:
        return _hub_dir
    if os.environ.get("NPGRAD_HOME"):
        return os.path.join(os.environ["NPGRAD_HOME"], "hub")
    return str(cache_dir() / "hub")


def set_dir(path):
    """Use ``path`` as the checkpoint cache (``torch.hub.set_dir``)."""
    global _hub_dir
    _hub_dir = os.fspath(path)


def load_state_dict_from_url(
    url, model_dir=None, map_location=None, progress=True, check_hash=False, file_name=None, **_
):
    """The checkpoint at ``url`` (a PyTorch ``.pth``, an npgrad ``.npz`` or a safetensors file),
    from the cache when it was downloaded before, as ``torch.hub.load_state_dict_from_url``.

    With ``check_hash`` the file must match the SHA-256 prefix in its name
    (``resnet18-f37072fd.pth``), checked after the download and before it enters the cache.

    Raises:
        DownloadError: the file could not be fetched (offline: the message says where to copy
            it by hand) or did not match its hash.
    """
    from npgrad.io import load

    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    path = pathlib.Path(model_dir or os.path.join(get_dir(), "checkpoints")) / name
    if not path.exists():
        found = _HASH_IN_NAME.search(name) if check_hash else None
        if check_hash and found is None:
            raise ValueError(f"load_state_dict_from_url: {name} has no hash in its name to check")
        download([url], path, f"sha256:{found.group(1)}" if found else None)
    return load(path, map_location=map_location)
