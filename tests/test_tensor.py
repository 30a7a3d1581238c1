"""Tensor creation, dtypes, conversion, printing, seeding."""

import numpy as np
import pytest

import npgrad


def test_tensor_dtype_inference():
    assert npgrad.tensor([1.0, 2.0]).dtype == npgrad.float32
    assert npgrad.tensor([1, 2]).dtype == npgrad.int64
    assert npgrad.tensor([True]).dtype == npgrad.bool
    assert npgrad.tensor(np.zeros(2)).dtype == npgrad.float64  # arrays keep their dtype
    assert npgrad.tensor([1, 2], dtype=npgrad.float64).dtype == npgrad.float64
    assert npgrad.tensor(3.5).shape == ()


def test_tensor_copies_but_from_numpy_shares():
    array = np.zeros(3, dtype=np.float32)
    copied, shared = npgrad.tensor(array), npgrad.from_numpy(array)
    array[0] = 1
    assert copied[0].item() == 0 and shared[0].item() == 1
    assert shared.numpy() is array


@pytest.mark.parametrize(
    "make, shape, dtype",
    [
        (lambda: npgrad.zeros(2, 3), (2, 3), npgrad.float32),
        (lambda: npgrad.ones((2, 3)), (2, 3), npgrad.float32),
        (lambda: npgrad.full((2,), 7), (2,), npgrad.int64),
        (lambda: npgrad.full((2,), 0.5), (2,), npgrad.float32),
        (lambda: npgrad.arange(5), (5,), npgrad.int64),
        (lambda: npgrad.arange(0, 1, 0.25), (4,), npgrad.float32),
        (lambda: npgrad.linspace(0, 1, 5), (5,), npgrad.float32),
        (lambda: npgrad.eye(3), (3, 3), npgrad.float32),
        (lambda: npgrad.rand(2, 2), (2, 2), npgrad.float32),
        (lambda: npgrad.randn(4, dtype=npgrad.float64), (4,), npgrad.float64),
        (lambda: npgrad.randint(0, 10, (3, 2)), (3, 2), npgrad.int64),
        (lambda: npgrad.randint(5, (4,)), (4,), npgrad.int64),
        (lambda: npgrad.zeros_like(npgrad.ones(2, dtype=npgrad.float64)), (2,), npgrad.float64),
        (lambda: npgrad.ones_like(npgrad.ones(1, 2)), (1, 2), npgrad.float32),
        (lambda: npgrad.randperm(6), (6,), npgrad.int64),
    ],
)
def test_constructors(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype == dtype and not t.requires_grad


def test_manual_seed_reproduces_everything():
    npgrad.manual_seed(42)
    a = (npgrad.randn(3), npgrad.rand(2), npgrad.randint(0, 9, (4,)))
    npgrad.manual_seed(42)
    b = (npgrad.randn(3), npgrad.rand(2), npgrad.randint(0, 9, (4,)))
    for x, y in zip(a, b, strict=True):
        assert x.equal(y)


def test_attributes_and_conversions():
    t = npgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.dim() == 2 and t.numel() == 4
    assert t.size() == (2, 2) and t.size(-1) == 2 and len(t) == 2
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t[1, 0].item() == 3.0 and float(t[0, 1]) == 2.0
    assert t.long().dtype == npgrad.int64 and t.double().dtype == npgrad.float64
    assert t.to("cpu") is t and t.to(npgrad.float64).dtype == npgrad.float64
    assert t.device == "cpu" and t.cpu() is t
    assert np.asarray(t).shape == (2, 2)
    assert [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="CPU only"):
        t.to("cuda")
    with pytest.raises(ValueError, match="4 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)


def test_repr():
    assert repr(npgrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(npgrad.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(npgrad.ones(1, requires_grad=True))
    assert "dtype=float64" in repr(npgrad.ones(1, dtype=npgrad.float64))


def test_numpy_operands_and_reflected_ops():
    t = npgrad.ones(2)
    assert isinstance(np.ones(2, dtype=np.float32) + t, npgrad.Tensor)
    assert (np.float32(2) * t).tolist() == [2.0, 2.0]
    assert (t + np.ones(2, dtype=np.float32)).dtype == npgrad.float32


def test_init_style_inplace_fills():
    w = npgrad.zeros(2, 3, requires_grad=True)
    with npgrad.no_grad():
        w.fill_(2.0)
        w.normal_(0, 1)
        w.zero_()
        w.copy_(npgrad.ones(3))
    assert w.tolist() == [[1.0] * 3] * 2 and w.requires_grad


def test_functions_namespace():
    x = npgrad.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert npgrad.sum(x, dim=1).tolist() == [-1.0, 3.5]
    assert npgrad.exp(npgrad.zeros(1)).item() == 1.0
    assert npgrad.max(x).item() == 3.0
    assert npgrad.relu(x).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert npgrad.where(x > 0, x, npgrad.zeros(1)).tolist() == [[1.0, 0.0], [3.0, 0.5]]


def test_pytorch_device_surface():
    assert npgrad.device("cpu") == "cpu" and str(npgrad.device("cuda", 0)) == "cuda:0"
    assert not npgrad.cuda.is_available() and npgrad.cuda.device_count() == 0
    assert not npgrad.backends.mps.is_available()
    npgrad.backends.cudnn.benchmark = True  # accepted, does nothing
    t = npgrad.ones(2)
    assert t.to(npgrad.device("cpu")) is t and t.device == npgrad.device("cpu") and not t.is_cuda
    with pytest.raises(ValueError, match="CPU only.*cuda"):
        t.to(npgrad.device("cuda"))
    layer = npgrad.nn.Linear(2, 2)
    assert layer.to(npgrad.device("cpu")) is layer and layer.to(device="cpu") is layer
    with pytest.raises(ValueError, match="CPU only"):
        layer.to("cuda:0")
    assert npgrad.is_tensor(t) and not npgrad.is_tensor(np.ones(2))


def test_inference_mode():
    x = npgrad.ones(2, requires_grad=True)
    with npgrad.inference_mode():
        assert not (x * 2).requires_grad

    @npgrad.inference_mode()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    with npgrad.inference_mode(False):
        assert (x * 2).requires_grad


def test_tril_triu_multinomial_and_generator():
    from helpers import check_op, torch

    if torch is not None:
        check_op([(2, 3, 3)], lambda x: x.tril())
        check_op([(3, 4)], lambda x: x.triu(diagonal=1))
    weights = npgrad.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    samples = weights.multinomial(4, replacement=True, generator=npgrad.Generator().manual_seed(0))
    assert samples.shape == (2, 4) and (samples[0] == 1).all() and not (samples[1] == 1).any()
    with pytest.raises(ValueError, match="without replacement"):
        weights.multinomial(4)
    g = npgrad.Generator().manual_seed(5)
    assert g.initial_seed() == 5
    first = npgrad.data.random_split(range(10), [5, 5], generator=npgrad.Generator().manual_seed(1))
    again = npgrad.data.random_split(range(10), [5, 5], generator=npgrad.Generator().manual_seed(1))
    assert first[0].indices.tolist() == again[0].indices.tolist()


def test_functional_pad_takes_torch_arguments():
    x = npgrad.ones(1, 2)
    F = npgrad.nn.functional
    assert F.pad(x, (1, 0), "constant", 2.0).tolist() == [[2.0, 1.0, 1.0]]
    assert F.pad(x, (0, 1), value=3.0).tolist() == [[1.0, 1.0, 3.0]]
    assert F.pad(x, (1, 1), mode="reflect").tolist() == [[1.0, 1.0, 1.0, 1.0]]
    assert F.pad(x, (-1, 0)).tolist() == [[1.0]]  # a negative width crops


def test_numpy_style_axis_and_size_keywords():
    x = npgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum(axis=0).tolist() == [4.0, 6.0] and npgrad.sum(x, axis=1).tolist() == [3.0, 7.0]
    assert x.argmax(axis=1).tolist() == [1, 1] and x.max(axis=0).values.tolist() == [3.0, 4.0]
    assert x.mean(axis=[0, 1]).item() == 2.5 and x.cumsum(axis=1).tolist() == [
        [1.0, 3.0],
        [3.0, 7.0],
    ]
    assert npgrad.cat([x, x], axis=1).shape == (2, 4) and npgrad.stack([x, x], axis=2).shape == (
        2,
        2,
        2,
    )
    assert npgrad.zeros(size=(2, 3)).shape == (2, 3) and npgrad.randn(size=()).shape == ()
    samples = npgrad.normal(2.0, 0.5, size=(4000,), generator=npgrad.Generator().manual_seed(0))
    assert abs(samples.mean().item() - 2.0) < 0.05 and samples.dtype == npgrad.float32
    assert npgrad.normal(npgrad.zeros(3), npgrad.ones(3)).shape == (3,)
    assert npgrad.dot(npgrad.ones(3), npgrad.ones(3)).item() == 3.0


def test_small_pytorch_helpers():
    x = npgrad.tensor([[1.0, -2.0]])
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_ones((1,)).tolist() == [1.0]
    assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == x.dtype
    assert x.masked_select(x > 0).tolist() == [1.0]
    assert x.clamp_min(0).tolist() == [[1.0, 0.0]] and x.clamp_max(0).tolist() == [[0.0, -2.0]]
    assert npgrad.bernoulli(npgrad.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert npgrad.pi == np.pi and npgrad.inf == np.inf


def test_saving_a_whole_module_explains_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"save obj.state_dict\(\)"):
        npgrad.save(npgrad.nn.Linear(1, 1), tmp_path / "m.npz")


def test_rarely_used_subpackages_load_on_first_use():
    """`import npgrad` leaves train, io, diagnostics, linalg and distributions for later: they
    load (once) when first named, and `npgrad.save` / `npgrad.load` with io."""
    import subprocess
    import sys

    code = (
        "import sys, npgrad\n"
        "lazy = ['npgrad.train', 'npgrad.io', 'npgrad.diagnostics', 'npgrad.linalg',"
        " 'npgrad.distributions']\n"
        "loaded = [name for name in lazy if name in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert npgrad.save.__module__ == 'npgrad.io.serialization'\n"
        "assert npgrad.train.Trainer and npgrad.linalg.inv and 'distributions' in dir(npgrad)\n"
        "from npgrad import diagnostics\n"
        "assert diagnostics is npgrad.diagnostics\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        npgrad.nothing  # noqa: B018


def test_legacy_constructors_where_and_print_options():
    assert npgrad.FloatTensor([1, 2]).dtype == npgrad.float32
    assert npgrad.LongTensor([1, 2]).dtype == npgrad.int64
    assert npgrad.DoubleTensor(2, 3).shape == (2, 3) and npgrad.ByteTensor([1]).dtype == np.uint8
    assert [t.tolist() for t in npgrad.where(npgrad.tensor([[0, 1], [1, 0]]) > 0)] == [
        [0, 1],
        [1, 0],
    ]
    assert npgrad.is_floating_point(npgrad.ones(1)) and not npgrad.is_floating_point(
        npgrad.tensor([1])
    )
    x = npgrad.tensor([1.23456789])
    try:
        npgrad.set_printoptions(precision=2)
        assert repr(x) == "tensor([1.23])"
        npgrad.set_printoptions(profile="full")
        assert "..." not in repr(npgrad.zeros(2000))
    finally:
        npgrad.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346])" and "..." in repr(npgrad.zeros(2000))


def test_memory_format_tags_are_accepted_and_is_contiguous_reads_the_layout():
    x = npgrad.randn(2, 3, 4, 5)
    assert x.to(memory_format=npgrad.channels_last) is x
    assert x.contiguous(memory_format=npgrad.channels_last) is x
    assert x.is_contiguous() and not x.is_contiguous(memory_format=npgrad.channels_last)
    nhwc = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    assert nhwc.is_contiguous(memory_format=npgrad.channels_last) and not nhwc.is_contiguous()
    assert nhwc.contiguous().is_contiguous()
    assert not x.is_contiguous(memory_format=npgrad.channels_last_3d)
    model = npgrad.nn.Conv2d(3, 4, 3).to(memory_format=npgrad.channels_last)
    assert (
        model(nhwc).shape == (2, 4, 2, 3) and repr(npgrad.channels_last) == "npgrad.channels_last"
    )
