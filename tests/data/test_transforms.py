"""Image transforms with torchvision's meaning, on batches; Normalize per feature and per
channel."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad.data import transforms


def _images(n=4, c=3, h=6, w=8, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, c, h, w)).astype(np.float32)


def test_normalize_per_channel_for_images_and_per_feature_for_features():
    images = _images()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = transforms.Normalize(mean, std)(npgrad.tensor(images))
    expected = (images - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    assert isinstance(out, npgrad.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(transforms.Normalize((0.5,), (0.25,))(images), (images - 0.5) / 0.25)
    with pytest.raises(ValueError, match=r"2 means/stds for images of shape \(4, 3, 6, 8\)"):
        transforms.Normalize((0.5, 0.5), (1.0, 1.0))(images)
    features = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    fitted = transforms.Normalize.fit(features)
    normalized = fitted(features)
    np.testing.assert_allclose(normalized.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(normalized.std(0), 1, rtol=1e-5)
    sequences = np.random.default_rng(2).standard_normal((5, 7, 3)).astype(np.float32)
    per_feature = transforms.Normalize.fit(sequences, axis=(0, 1))(sequences)  # not channels
    np.testing.assert_allclose(per_feature.reshape(-1, 3).mean(0), 0, atol=1e-6)


def test_to_tensor_moves_channels_first_and_scales_bytes():
    pixels = np.random.default_rng(0).integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)
    out = transforms.ToTensor()(pixels)
    assert out.shape == (2, 3, 5, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), pixels.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    grey = transforms.ToTensor()(np.ones((2, 5, 4), np.float32) * 3)
    assert grey.shape == (2, 1, 5, 4) and float(grey.max()) == 3.0  # floats are not scaled
    with pytest.raises(ValueError, match="expected \\(N, H, W\\[, C\\]\\) images"):
        transforms.ToTensor()(np.ones((2, 3)))


def test_center_crop_as_torchvision():
    images = _images(h=7, w=8)
    out = transforms.CenterCrop(4)(images)
    # torchvision: top = round((7 - 4) / 2) = 2 (round half to even), left = round(2.0) = 2
    np.testing.assert_array_equal(out, images[..., 2:6, 2:6])
    padded = transforms.CenterCrop((9, 8))(images)  # larger: zero padding, 1 row each side
    assert padded.shape == (4, 3, 9, 8)
    np.testing.assert_array_equal(padded[..., 1:8, :], images)
    assert not padded[..., 0, :].any() and not padded[..., 8, :].any()


def test_random_crop_and_flip_draw_per_sample_and_repeat_with_the_seed():
    images = np.arange(4 * 1 * 5 * 5, dtype=np.float32).reshape(4, 1, 5, 5)
    crop = transforms.RandomCrop(3, padding=1)
    npgrad.manual_seed(3)
    first = crop(npgrad.tensor(images))
    npgrad.manual_seed(3)
    assert first.equal(crop(npgrad.tensor(images)))
    assert first.shape == (4, 1, 3, 3)
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for sample, crop_of in zip(images, first.numpy(), strict=True):  # each a window of its own
        base = padded[int(sample[0, 0, 0] // 25)]
        windows = [base[:, t : t + 3, s : s + 3] for t in range(5) for s in range(5)]
        assert any(np.array_equal(crop_of, w) for w in windows)
    npgrad.manual_seed(0)
    flipped = transforms.RandomHorizontalFlip(p=0.5)(np.stack([images[0]] * 64))
    mirrored = [np.array_equal(f, images[0][..., ::-1]) for f in flipped]
    kept = [np.array_equal(f, images[0]) for f in flipped]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True)) and 10 < sum(mirrored) < 54
    assert transforms.RandomHorizontalFlip(p=1.0)(images)[0, 0, 0, 0] == images[0, 0, 0, 4]


@needs_torch
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(6, 10), (12, 16), (20, 30), (5, 40)])
def test_resize_as_torchvision(antialias, size):
    images = _images(h=12, w=16)
    out = transforms.Resize(size, antialias=antialias)(images)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(images),
        size=size,
        mode="bilinear",
        align_corners=False,
        antialias=antialias,
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-5)


def test_resize_keeps_the_aspect_ratio_given_one_side():
    images = _images(h=12, w=16)
    assert transforms.Resize(6)(images).shape == (4, 3, 6, 8)  # the shorter side to 6
    assert transforms.Resize(6)(images.transpose(0, 1, 3, 2)).shape == (4, 3, 8, 6)
    flat = np.full((1, 1, 9, 9), 0.25, np.float32)  # averaging keeps a constant image
    np.testing.assert_allclose(transforms.Resize(4)(flat), 0.25, rtol=1e-6)


def test_a_pipeline_for_a_pretrained_network():
    from npgrad.vision.models import IMAGENET_MEAN, IMAGENET_STD

    pipeline = transforms.Compose(
        [
            transforms.ToTensor(),
            transforms.Resize(20),
            transforms.CenterCrop(16),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    pixels = np.random.default_rng(0).integers(0, 256, (2, 24, 30, 3), dtype=np.uint8)
    out = pipeline(pixels)
    assert out.shape == (2, 3, 16, 16) and out.dtype == np.float32
