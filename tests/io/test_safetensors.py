"""safetensors: round trips, the header checked before any tensor is used, and the files of the
safetensors package itself."""

import json

import numpy as np
import pytest

import npgrad
from npgrad import nn
from npgrad.errors import SerializationError
from npgrad.io import safetensors

try:
    import safetensors.numpy as reference
except ImportError:
    reference = None

needs_reference = pytest.mark.skipif(reference is None, reason="safetensors not installed")


def _file(header, data=b""):
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def test_round_trip_with_metadata(tmp_path):
    tensors = {
        "weight": npgrad.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "steps": npgrad.tensor(np.array([1, 2], np.int64)),
        "mask": npgrad.tensor([True, False, True]),
        "scalar": npgrad.tensor(1.5),
        "empty": npgrad.zeros(0, 4),
        "transposed": npgrad.arange(6.0).reshape(2, 3).T,
        "half": np.array([0.5], np.float16),
    }
    path = tmp_path / "model.safetensors"
    safetensors.save_file(tensors, path, metadata={"format": "pt"})
    loaded = safetensors.load_file(path)
    assert list(loaded) == list(tensors)
    for name, value in tensors.items():
        expected = np.asarray(value.numpy() if isinstance(value, npgrad.Tensor) else value)
        assert loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape
        assert np.array_equal(loaded[name].numpy(), expected)
    assert safetensors.metadata(path.read_bytes()) == {"format": "pt"}
    assert path.read_bytes()[8 + int.from_bytes(path.read_bytes()[:8], "little") :][:24] == (
        np.arange(6, dtype="<f4").tobytes()
    )


def test_npgrad_save_and_load_speak_the_format(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.safetensors"
    npgrad.save(model.state_dict(), path, format="safetensors")
    clone = nn.Linear(3, 2)
    clone.load_state_dict(npgrad.load(path))  # told from the content
    assert clone.weight.equal(model.weight) and clone.bias.equal(model.bias)
    with pytest.raises(TypeError, match="flat dict of tensors.*'nested' is a dict"):
        npgrad.save({"nested": {"a": npgrad.ones(1)}}, path, format="safetensors")
    assert npgrad.load(path)["weight"].equal(model.weight)  # the earlier file is intact


def test_bfloat16_is_read_as_float32():
    values = np.array([1.5, -2.25, 2.0**100], np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")
    data = _file({"b": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}, bits.tobytes())
    loaded = safetensors.load(data)["b"]
    assert loaded.dtype == np.float32 and np.array_equal(loaded.numpy(), values)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x10\x00", "too short"),
        ((10**6).to_bytes(8, "little") + b"{}", "claims 1000000 bytes"),
        ((4).to_bytes(8, "little") + b"{ab}", "corrupt safetensors header"),
        (_file({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "malformed header entry"),
        (_file({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}), "malformed"),
        (
            _file({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, b"\0" * 8),
            "truncated",
        ),
        (
            _file(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
                },
                b"\0" * 12,
            ),
            "'b' starts at byte 4, expected 8",
        ),
        (
            _file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0\0"),
            "1 bytes after",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_problem(data, message):
    with pytest.raises(SerializationError, match=message):
        safetensors.load(data)


@needs_reference
def test_files_of_the_safetensors_package(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "a": rng.standard_normal((3, 4)).astype(np.float32),
        "b": np.arange(5, dtype=np.int32),
        "c": np.array(True),
    }
    path = tmp_path / "theirs.safetensors"
    reference.save_file(arrays, str(path), metadata={"k": "v"})
    loaded = npgrad.load(path)
    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype and np.array_equal(loaded[name].numpy(), value)
    ours = tmp_path / "ours.safetensors"
    safetensors.save_file(
        {k: npgrad.tensor(v) for k, v in arrays.items()}, ours, metadata={"k": "v"}
    )
    back = reference.load_file(str(ours))
    for name, value in arrays.items():
        assert back[name].dtype == value.dtype and np.array_equal(back[name], value)
