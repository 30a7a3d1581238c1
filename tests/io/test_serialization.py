"""save/load: round trips, nested state, atomic writes, and clear errors on bad files."""

import json
import os
import zipfile

import numpy as np
import pytest

import npgrad
from npgrad import nn
from npgrad.errors import SerializationError


def test_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "model.npz"
    npgrad.save(model.state_dict(), path)
    loaded = npgrad.load(path)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].equal(value) and loaded[key].dtype == value.dtype
    clone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    clone.load_state_dict(loaded)


def test_nested_checkpoint_with_optimizer_state(tmp_path):
    model = nn.Linear(2, 2)
    opt = npgrad.optim.Adam(model.parameters(), lr=0.1)
    model(npgrad.ones(1, 2)).sum().backward()
    opt.step()
    checkpoint = {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "note": "ok",
        "shape": (2, 2),
        "values": [1.5, None, True],
    }
    npgrad.save(checkpoint, tmp_path / "ckpt.npz")
    back = npgrad.load(tmp_path / "ckpt.npz")
    assert back["epoch"] == 3 and back["shape"] == (2, 2) and back["values"] == [1.5, None, True]
    assert 0 in back["optimizer"]["state"]  # integer keys survive
    fresh = npgrad.optim.Adam(nn.Linear(2, 2).parameters(), lr=0.5)
    fresh.load_state_dict(back["optimizer"])
    assert fresh.param_groups[0]["lr"] == 0.1


def test_write_is_atomic_and_replaces(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    npgrad.save({"a": npgrad.ones(2)}, path)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        npgrad.save({"a": npgrad.zeros(2)}, path)
    monkeypatch.undo()
    assert npgrad.load(path)["a"].tolist() == [1.0, 1.0]  # the old file is intact
    assert os.listdir(tmp_path) == ["w.npz"]  # no temporary left behind


def test_refuses_unsafe_objects(tmp_path):
    with pytest.raises(TypeError, match="no pickles"):
        npgrad.save({"f": lambda: 0}, tmp_path / "x.npz")


def test_clear_errors_for_bad_files(tmp_path):
    good = tmp_path / "good.npz"
    npgrad.save({"w": npgrad.randn(100)}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(SerializationError, match="truncated or corrupt"):
        npgrad.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(3))
    with pytest.raises(SerializationError, match="not an npgrad file"):
        npgrad.load(foreign)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(SerializationError, match="not an .npz archive"):
        npgrad.load(text)
    with pytest.raises(FileNotFoundError):
        npgrad.load(tmp_path / "missing.npz")


def _rewrite(path, out, change):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, change(item, data))


def test_newer_version_and_corrupted_array_are_detected(tmp_path):
    good = tmp_path / "good.npz"
    npgrad.save({"w": npgrad.ones(4)}, good)

    def newer(item, data):
        if item != "__npgrad__.npy":
            return data
        array = np.load(__import__("io").BytesIO(data))
        header = json.loads(array.tobytes())
        header["format_version"] = 99
        encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buffer = __import__("io").BytesIO()
        np.save(buffer, encoded)
        return buffer.getvalue()

    _rewrite(good, tmp_path / "newer.npz", newer)
    with pytest.raises(SerializationError, match="format version 99"):
        npgrad.load(tmp_path / "newer.npz")

    def flip(item, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if item == "array_0.npy" else data

    _rewrite(good, tmp_path / "flipped.npz", flip)
    with pytest.raises(SerializationError, match="checksum"):
        npgrad.load(tmp_path / "flipped.npz")


def test_save_and_load_through_file_objects():
    """io.BytesIO (and open files), as torch.save/torch.load take them: same checks on load."""
    import io

    buffer = io.BytesIO()
    npgrad.save({"w": npgrad.ones(2, 3), "epoch": 4}, buffer)
    buffer.seek(0)
    loaded = npgrad.load(buffer)
    assert loaded["epoch"] == 4 and loaded["w"].tolist() == [[1.0] * 3] * 2
    corrupt = io.BytesIO(b"PK" + buffer.getvalue()[2:50])
    with pytest.raises(SerializationError, match="the file object"):
        npgrad.load(corrupt)
