"""ResNets: torchvision's layout (parameter names, counts), PyTorch's function, pretrained
weights fetched through the hub cache, and the transfer-learning recipe."""

import hashlib

import numpy as np
import pytest
from helpers import classification_losses, needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.errors import DownloadError
from npgrad.vision import models


@pytest.mark.parametrize(
    "build, parameters, entries",
    [
        (models.resnet18, 11_689_512, 122),
        (models.resnet34, 21_797_672, 218),
        (models.resnet50, 25_557_032, 320),
    ],
)
def test_torchvision_parameter_counts_and_names(build, parameters, entries):
    model = build()
    assert sum(p.numel() for p in model.parameters()) == parameters  # torchvision's figures
    state = model.state_dict()
    assert len(state) == entries
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert "layer2.0.downsample.0.weight" in state and "layer4.1.bn2.running_var" in state
    assert state["fc.weight"].shape == (1000, 512 * (4 if build is models.resnet50 else 1))


def _torch_resnet(bottleneck, layers, num_classes):
    """torchvision's ResNet, written out (torchvision itself is not a test dependency)."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride, downsample):
            super().__init__()
            width, out = planes, planes * (4 if bottleneck else 1)
            if bottleneck:
                self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
                self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, bias=False)
                self.conv3 = tnn.Conv2d(width, out, 1, bias=False)
                self.bn3 = tnn.BatchNorm2d(out)
            else:
                self.conv1 = tnn.Conv2d(inplanes, width, 3, stride, 1, bias=False)
                self.conv2 = tnn.Conv2d(width, width, 3, 1, 1, bias=False)
            self.bn1, self.bn2 = (
                tnn.BatchNorm2d(width),
                tnn.BatchNorm2d(width if bottleneck else out),
            )
            self.downsample = downsample

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if bottleneck:
                out = self.bn3(self.conv3(torch.relu(out)))
            return torch.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            expansion, inplanes = (4 if bottleneck else 1), 64
            self.conv1, self.bn1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False), tnn.BatchNorm2d(64)
            for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
                stride = 1 if index == 0 else 2
                downsample = None
                if stride != 1 or inplanes != planes * expansion:
                    downsample = tnn.Sequential(
                        tnn.Conv2d(inplanes, planes * expansion, 1, stride, bias=False),
                        tnn.BatchNorm2d(planes * expansion),
                    )
                blocks = [Block(inplanes, planes, stride, downsample)]
                inplanes = planes * expansion
                blocks += [Block(inplanes, planes, 1, None) for _ in range(count - 1)]
                setattr(self, f"layer{index + 1}", tnn.Sequential(*blocks))
            self.fc = tnn.Linear(512 * expansion, num_classes)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(x.mean((2, 3)))

    return Net()


@needs_torch
@pytest.mark.parametrize("bottleneck", [False, True])
def test_the_same_function_as_pytorchs_resnet(bottleneck):
    torch.manual_seed(0)
    reference = _torch_resnet(bottleneck, [1, 1, 1, 1], 7).float()
    with torch.no_grad():  # running statistics that are not the identity
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    block = models.Bottleneck if bottleneck else models.BasicBlock
    model = models.ResNet(block, [1, 1, 1, 1], num_classes=7)
    model.load_state_dict({k: npgrad.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    for train in (False, True):
        reference.train(train)
        model.train(train)
        expected = reference(torch.from_numpy(x))
        out = model(npgrad.tensor(x, requires_grad=True))
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    expected.sum().backward()
    out.sum().backward()
    np.testing.assert_allclose(
        model.conv1.weight.grad.numpy(), reference.conv1.weight.grad.numpy(), rtol=1e-3, atol=1e-3
    )


def _publish(tmp_path, state):
    """``state`` saved as PyTorch's file, named with its hash as torchvision's are."""
    raw = tmp_path / "raw.pth"
    npgrad.save(state, raw, format="torch")
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    published = tmp_path / "server" / f"resnet18-{digest[:8]}.pth"
    published.parent.mkdir()
    raw.rename(published)
    return published


def test_pretrained_weights_are_downloaded_checked_cached_and_loaded(tmp_path, monkeypatch):
    source = models.resnet18()
    published = _publish(tmp_path, source.state_dict())
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    monkeypatch.setattr(weights, "url", published.as_uri())
    monkeypatch.setattr(npgrad.hub, "_hub_dir", str(tmp_path / "hub"))
    for name in ("IMAGENET1K_V1", "DEFAULT", weights):
        model = models.resnet18(weights=name)
        for key, value in source.state_dict().items():
            assert model.state_dict()[key].equal(value), key
    assert (tmp_path / "hub" / "checkpoints" / published.name).exists()
    published.unlink()  # from the cache now, no download
    assert models.resnet18(weights="DEFAULT").fc.weight.equal(source.fc.weight)
    assert npgrad.vision.transforms is npgrad.data.transforms  # torchvision's two modules
    preprocess = weights.transforms()
    images = np.random.default_rng(0).uniform(0, 1, (1, 3, 300, 260)).astype(np.float32)
    assert preprocess(npgrad.tensor(images)).shape == (1, 3, 224, 224)
    assert preprocess(npgrad.tensor(images[0])).shape == (3, 224, 224)  # one image
    with pytest.raises(ValueError, match=r"unknown weights 'IMAGENET22K'.*IMAGENET1K_V1"):
        models.resnet18(weights="IMAGENET22K")
    with pytest.raises(ValueError, match="1000 classes, not num_classes=5.*replace model.fc"):
        models.resnet18(weights="DEFAULT", num_classes=5)


def test_a_download_that_does_not_match_its_hash_is_not_kept(tmp_path):
    published = _publish(tmp_path, {"w": npgrad.ones(3)})
    tampered = published.with_name("resnet18-00000000.pth")
    published.rename(tampered)
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        npgrad.hub.load_state_dict_from_url(tampered.as_uri(), model_dir=cache, check_hash=True)
    assert not list(cache.iterdir())
    loaded = npgrad.hub.load_state_dict_from_url(tampered.as_uri(), model_dir=cache)
    assert loaded["w"].equal(npgrad.ones(3))  # without check_hash, as torch.hub


def test_transfer_learning_trains_only_the_new_head():
    npgrad.manual_seed(0)
    model = models.resnet18()
    model.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, 3)
    model.eval()  # frozen backbone: its batch statistics stay as they are
    backbone = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("fc")}
    optimizer = npgrad.optim.Adam(model.fc.parameters(), lr=0.03)
    x, y = npgrad.randn(6, 3, 32, 32), npgrad.tensor([0, 1, 2, 0, 1, 2])
    losses = classification_losses(model, optimizer, x, y, steps=20)
    assert losses[-1] < 0.5 * losses[0]
    assert model.conv1.weight.grad is None
    for key, value in backbone.items():
        assert model.state_dict()[key].equal(value), key
