"""PyTorch checkpoints: npgrad writes them, reads them back and reads PyTorch's own (zip and
legacy); nothing but tensors and plain containers is ever unpickled."""

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.errors import SerializationError


def _assert_same(loaded, expected):
    assert type(loaded) is type(expected) or isinstance(loaded, npgrad.Tensor)
    if isinstance(expected, npgrad.Tensor | np.ndarray):
        expected = np.asarray(expected.numpy() if isinstance(expected, npgrad.Tensor) else expected)
        assert loaded.shape == expected.shape and loaded.dtype == expected.dtype
        assert np.array_equal(loaded.numpy(), expected)
    elif isinstance(expected, dict):
        assert list(loaded) == list(expected)
        for key in expected:
            _assert_same(loaded[key], expected[key])
    elif isinstance(expected, list | tuple):
        assert len(loaded) == len(expected)
        for a, b in zip(loaded, expected, strict=True):
            _assert_same(a, b)
    else:
        assert loaded == expected


def test_round_trip_of_every_dtype_and_shape(tmp_path):
    rng = np.random.default_rng(0)
    values = {
        "f32": npgrad.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        "f64": npgrad.tensor(rng.standard_normal(5)),
        "f16": npgrad.tensor(np.array([1.5, -2.0], np.float16)),
        "i64": npgrad.arange(6).reshape(2, 3),
        "i32": npgrad.tensor(np.array([1, -2], np.int32)),
        "i16": npgrad.tensor(np.array([3], np.int16)),
        "i8": npgrad.tensor(np.array([-4], np.int8)),
        "u8": npgrad.tensor(np.array([255], np.uint8)),
        "bool": npgrad.tensor([True, False]),
        "scalar": npgrad.tensor(2.5),
        "empty": npgrad.zeros(0, 3),
        "transposed": npgrad.arange(12.0).reshape(3, 4).T,
        "array": np.arange(4.0),
    }
    path = tmp_path / "all.pt"
    npgrad.save(values, path, format="torch")
    _assert_same(npgrad.load(path), values)


def test_state_dicts_parameters_and_nested_containers_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = npgrad.optim.Adam(model.parameters(), lr=0.1)
    model(npgrad.ones(2, 3)).sum().backward()
    opt.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "shape": (2, 2),
        "values": [1.5, None, True, "text"],
        "weight": model[0].weight,
    }
    buffer = io.BytesIO()
    npgrad.save(checkpoint, buffer, format="torch")
    loaded = npgrad.load(io.BytesIO(buffer.getvalue()))
    assert isinstance(loaded["model"], collections.OrderedDict)
    assert isinstance(loaded["weight"], nn.Parameter) and loaded["weight"].requires_grad
    _assert_same(loaded["model"], model.state_dict())
    assert loaded["epoch"] == 3 and loaded["shape"] == (2, 2)
    assert loaded["values"] == [1.5, None, True, "text"]
    clone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    clone.load_state_dict(loaded["model"])
    opt2 = npgrad.optim.Adam(clone.parameters(), lr=0.1)
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_writing_is_atomic_and_refuses_what_pytorch_files_cannot_hold(tmp_path):
    path = tmp_path / "model.pt"
    npgrad.save({"w": npgrad.ones(2)}, path, format="torch")
    before = path.read_bytes()
    with pytest.raises(TypeError, match="object of type set"):
        npgrad.save({"w": npgrad.ones(2), "bad": {1, 2}}, path, format="torch")
    with pytest.raises(TypeError, match="no dtype complex128"):
        npgrad.save({"c": np.ones(2, complex)}, path, format="torch")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]
    with pytest.raises(ValueError, match="unknown format 'pickle'"):
        npgrad.save({}, path, format="pickle")


def _zip_with_pickle(path, payload):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("checkpoint/data.pkl", payload)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def test_a_pickle_naming_anything_else_is_refused_before_it_runs(tmp_path):
    path = tmp_path / "evil.pt"
    _zip_with_pickle(path, pickle.dumps({"w": _RunsCode()}, protocol=2))
    with pytest.raises(SerializationError, match=r"pickled posix\.system object.*state_dict"):
        npgrad.load(path)
    # the legacy format's stream too: its magic number, then the same pickle
    legacy = tmp_path / "evil_legacy.pt"
    legacy.write_bytes(
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
        + pickle.dumps(1001, protocol=2)
        + pickle.dumps({}, protocol=2)
        + pickle.dumps(_RunsCode(), protocol=2)
    )
    with pytest.raises(SerializationError, match="posix.system"):
        npgrad.load(legacy)


def test_corrupt_checkpoints_are_named(tmp_path):
    path = tmp_path / "model.pt"
    npgrad.save({"w": npgrad.ones(100)}, path, format="torch")
    raw = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SerializationError, match="cut.pt"):
        npgrad.load(tmp_path / "cut.pt")
    # a storage shorter than its tensor: the tensor would read past it
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["archive/data/0"] = entries["archive/data/0"][:40]
    with zipfile.ZipFile(tmp_path / "short.pt", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(SerializationError, match="reads past its storage of 10 elements"):
        npgrad.load(tmp_path / "short.pt")
    _zip_with_pickle(tmp_path / "junk.pt", b"\x80\x02not a pickle")
    with pytest.raises(SerializationError, match="junk.pt is not a readable PyTorch checkpoint"):
        npgrad.load(tmp_path / "junk.pt")


def _pytorch_checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 1, 5, 5)).sum().backward()
    opt.step()
    base = torch.arange(20, dtype=torch.float32)
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 7,
        "view": base[3:15:3],  # offset and stride into a shared storage
        "same_storage": base.view(4, 5).t(),
        "bf16": torch.tensor([1.5, -2.25, 3.0e38]).bfloat16(),
        "half": torch.tensor([0.5, 65504.0]).half(),
        "long": torch.tensor([[1, 2], [3, 4]]),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "parameter": torch.nn.Parameter(torch.ones(2)),
        "numpy": np.arange(3),
        "text": b"bytes",
    }


@needs_torch
@pytest.mark.parametrize("legacy", [False, True])
def test_reads_pytorch_checkpoints(tmp_path, legacy):
    checkpoint = _pytorch_checkpoint()
    path = tmp_path / "checkpoint.pth"
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    loaded = npgrad.load(path)
    for key, value in checkpoint["model"].items():
        assert np.array_equal(loaded["model"][key].numpy(), value.numpy()), key
    momentum = checkpoint["optimizer"]["state"][0]["momentum_buffer"]
    assert np.array_equal(loaded["optimizer"]["state"][0]["momentum_buffer"].numpy(), momentum)
    assert loaded["optimizer"]["param_groups"][0]["lr"] == 0.1 and loaded["epoch"] == 7
    for key in ("view", "same_storage", "half", "long", "bool", "scalar"):
        expected = checkpoint[key].numpy()
        assert loaded[key].dtype == expected.dtype and np.array_equal(loaded[key].numpy(), expected)
    assert loaded["bf16"].dtype == np.float32  # exactly: bfloat16 values are float32 values
    assert np.array_equal(loaded["bf16"].numpy(), checkpoint["bf16"].float().numpy())
    assert isinstance(loaded["parameter"], nn.Parameter)
    assert np.array_equal(loaded["numpy"], np.arange(3)) and loaded["text"] == b"bytes"
    # the weights fit the same architecture in npgrad
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model.load_state_dict(loaded["model"])
    x = np.random.default_rng(1).standard_normal((2, 1, 5, 5)).astype(np.float32)
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2)).float()
    reference.load_state_dict(checkpoint["model"])
    expected = reference.eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(
        model.eval()(npgrad.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6
    )


@needs_torch
def test_pytorch_reads_what_npgrad_writes(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = npgrad.optim.Adam(model.parameters())
    model(npgrad.ones(2, 3)).sum().backward()
    opt.step()
    path = tmp_path / "from_npgrad.pt"
    npgrad.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 1},
        path,
        format="torch",
    )
    loaded = torch.load(path)  # weights_only, PyTorch's default
    reference = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    ).float()
    reference.load_state_dict(loaded["model"])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        reference(torch.from_numpy(x)).detach().numpy(), model(npgrad.tensor(x)).numpy(), rtol=1e-6
    )
    torch_opt = torch.optim.Adam(reference.parameters())
    torch_opt.load_state_dict(loaded["optimizer"])
    assert torch_opt.state_dict()["state"][0]["step"] == 1 and loaded["step"] == 1
    scalar = npgrad.tensor(2.0)
    npgrad.save({"s": scalar, "p": model[0].weight}, path, format="torch")
    loaded = torch.load(path)
    assert loaded["s"].shape == () and isinstance(loaded["p"], torch.nn.Parameter)


@needs_torch
def test_a_whole_pickled_model_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(SerializationError, match=r"torch\.nn\.modules\.linear\.Linear.*state_dict"):
        npgrad.load(path)
    torch.save(
        {"q": torch.quantize_per_tensor(torch.ones(2, dtype=torch.float32), 0.1, 0, torch.quint8)},
        path,
    )
    with pytest.raises(SerializationError, match="cannot read"):
        npgrad.load(path)


@needs_torch
def test_newer_dtypes_and_dtype_objects(tmp_path):
    path = tmp_path / "misc.pt"
    checkpoint = {
        "u16": torch.tensor([1, 65535], dtype=torch.uint16),  # saved as an untyped storage
        "u32": torch.tensor([7], dtype=torch.uint32),
        "dtype": torch.float16,
        "size": torch.Size([2, 3]),
        "channels_last": torch.arange(24.0)
        .reshape(1, 2, 3, 4)
        .to(memory_format=torch.channels_last),
    }
    torch.save(checkpoint, path)
    loaded = npgrad.load(path)
    assert loaded["u16"].dtype == np.uint16 and loaded["u16"].tolist() == [1, 65535]
    assert loaded["u32"].dtype == np.uint32 and loaded["u32"].tolist() == [7]
    assert loaded["dtype"] == npgrad.float16 and loaded["size"] == (2, 3)
    assert np.array_equal(loaded["channels_last"].numpy(), checkpoint["channels_last"].numpy())
