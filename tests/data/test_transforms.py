"""Image transforms with torchvision's meaning, on one image or a batch: Tensors (C, H, W),
arrays in PIL's layout (H, W[, C]); Normalize per feature and per channel."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad.data import transforms


def _images(n=4, c=3, h=6, w=8, seed=0):
    """A Tensor batch (N, C, H, W) of float images in [0, 1]."""
    return npgrad.tensor(np.random.default_rng(seed).uniform(0, 1, (n, c, h, w)).astype(np.float32))


def test_normalize_per_channel_for_images_and_per_feature_for_features():
    images = _images().numpy()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = transforms.Normalize(mean, std)(npgrad.tensor(images))
    expected = (images - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    assert isinstance(out, npgrad.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(transforms.Normalize((0.5,), (0.25,))(images), (images - 0.5) / 0.25)
    with pytest.raises(ValueError, match=r"2 means/stds for images of shape \(4, 3, 6, 8\)"):
        transforms.Normalize((0.5, 0.5), (1.0, 1.0))(npgrad.tensor(images))
    pil_layout = images.transpose(0, 2, 3, 1)  # arrays are channels last: per last dim
    np.testing.assert_allclose(
        transforms.Normalize(mean, std)(pil_layout), expected.transpose(0, 2, 3, 1), rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"2 means/stds for an array of shape \(4, 3, 6, 8\)"):
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
    out = transforms.ToTensor()(pixels)  # a 4-D array: a batch (N, H, W, C)
    assert out.shape == (2, 3, 5, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), pixels.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    one = transforms.ToTensor()(pixels[0])  # one (H, W, C) image, as torchvision's
    assert one.shape == (3, 5, 4) and np.allclose(one.numpy(), out.numpy()[0])
    grey = transforms.ToTensor()(np.ones((5, 4), np.float32) * 3)  # (H, W): one channel
    assert grey.shape == (1, 5, 4) and float(grey.max()) == 3.0  # floats are not scaled
    grey_batch = transforms.ToTensor().batch(np.ones((2, 5, 4), np.uint8))  # (N, H, W)
    assert grey_batch.shape == (2, 1, 5, 4)
    unscaled = transforms.PILToTensor()(pixels[0])
    assert unscaled.dtype == np.uint8 and np.array_equal(
        unscaled.numpy(), pixels[0].transpose(2, 0, 1)
    )
    with pytest.raises(ValueError, match=r"expected an image \(H, W\[, C\]\)"):
        transforms.ToTensor()(np.ones(3))
    with pytest.raises(TypeError, match="got a Tensor"):
        transforms.ToTensor()(npgrad.ones(3, 4, 4))


def test_center_crop_as_torchvision():
    images = _images(h=7, w=8)
    out = transforms.CenterCrop(4)(images)
    # torchvision: top = round((7 - 4) / 2) = 2 (round half to even), left = round(2.0) = 2
    np.testing.assert_array_equal(out.numpy(), images.numpy()[..., 2:6, 2:6])
    padded = transforms.CenterCrop((9, 8))(images).numpy()  # larger: zero padding, 1 row each
    assert padded.shape == (4, 3, 9, 8)
    np.testing.assert_array_equal(padded[..., 1:8, :], images.numpy())
    assert not padded[..., 0, :].any() and not padded[..., 8, :].any()
    pil_layout = images.numpy()[0].transpose(1, 2, 0)  # one (H, W, C) array: its own layout
    np.testing.assert_array_equal(transforms.CenterCrop(4)(pil_layout), pil_layout[2:6, 2:6])


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
    flipped = transforms.RandomHorizontalFlip(p=0.5)(npgrad.tensor(np.stack([images[0]] * 64)))
    mirrored = [np.array_equal(f, images[0][..., ::-1]) for f in flipped.numpy()]
    kept = [np.array_equal(f, images[0]) for f in flipped.numpy()]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True)) and 10 < sum(mirrored) < 54
    flip = transforms.RandomHorizontalFlip(p=1.0)(npgrad.tensor(images))
    assert flip[0, 0, 0, 0].item() == images[0, 0, 0, 4]
    vertical = transforms.RandomVerticalFlip(p=1.0)(npgrad.tensor(images))
    assert np.array_equal(vertical.numpy(), images[:, :, ::-1])
    # one (C, H, W) image is one draw, not one per channel
    npgrad.manual_seed(1)
    crops = transforms.RandomCrop(3)(npgrad.tensor(np.repeat(images[:1, :1], 3, axis=1)[0]))
    assert crops.shape == (3, 3, 3) and crops[0].equal(crops[1]) and crops[1].equal(crops[2])


@needs_torch
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(6, 10), (12, 16), (20, 30), (5, 40)])
def test_resize_as_torchvision(antialias, size):
    images = _images(h=12, w=16)
    out = transforms.Resize(size, antialias=antialias)(images).numpy()
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(images.numpy()),
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
    assert transforms.Resize(6)(images.transpose(2, 3)).shape == (4, 3, 8, 6)
    assert transforms.Resize(6, max_size=7)(images).shape == (4, 3, 5, 7)
    flat = npgrad.full((1, 1, 9, 9), 0.25)  # averaging keeps a constant image
    np.testing.assert_allclose(transforms.Resize(4)(flat).numpy(), 0.25, rtol=1e-6)
    pixels = np.full((9, 12, 3), 200, np.uint8)  # 8-bit arrays stay 8-bit, (H, W, C)
    small = transforms.Resize(3)(pixels)
    assert small.shape == (3, 4, 3) and small.dtype == np.uint8 and (small == 200).all()


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


def test_pad_modes_as_numpy_and_torchvision():
    image = npgrad.tensor(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
    assert transforms.Pad(1, fill=-1)(image).numpy()[0, 0].tolist() == [-1] * 6
    expected = {
        "edge": np.pad(image.numpy(), ((0, 0), (2, 2), (1, 1)), mode="edge"),
        "reflect": np.pad(image.numpy(), ((0, 0), (2, 2), (1, 1)), mode="reflect"),
        "symmetric": np.pad(image.numpy(), ((0, 0), (2, 2), (1, 1)), mode="symmetric"),
    }
    for mode, want in expected.items():  # (left/right, top/bottom), as torchvision
        np.testing.assert_array_equal(
            transforms.Pad((1, 2), padding_mode=mode)(image).numpy(), want
        )
    with pytest.raises(ValueError, match="padding_mode"):
        transforms.Pad(1, padding_mode="wrap")(image)
    small = transforms.RandomCrop(6, pad_if_needed=True)(image)
    assert small.shape == (1, 6, 6)


def test_random_resized_crop_draws_a_crop_per_image_within_its_limits():
    images = _images(n=16, h=20, w=30)
    npgrad.manual_seed(0)
    out = transforms.RandomResizedCrop(8, scale=(0.5, 1.0))(images)
    assert out.shape == (16, 3, 8, 8)
    crop = transforms.RandomResizedCrop(8, scale=(0.5, 1.0), ratio=(1.0, 1.0))
    rng = np.random.default_rng(0)
    for _ in range(50):
        top, left, h, w = crop.get_params(20, 30, rng)
        assert h == w and 0.5 * 600 * 0.9 <= h * w <= 600 and top + h <= 20 and left + w <= 30
    flat = npgrad.full((2, 1, 10, 10), 0.5)  # any crop of a constant image is the constant
    np.testing.assert_allclose(transforms.RandomResizedCrop(4)(flat).numpy(), 0.5, rtol=1e-6)


def test_rotation_and_affine_follow_torchvision_geometry():
    image = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    rotated = transforms.RandomRotation((90, 90))(npgrad.tensor(image)).numpy()
    np.testing.assert_array_equal(rotated, np.rot90(image, axes=(1, 2)))  # counter-clockwise
    bilinear = transforms.RandomRotation((90, 90), interpolation="bilinear")(npgrad.tensor(image))
    np.testing.assert_allclose(bilinear.numpy(), rotated, atol=1e-4)
    clockwise = transforms.RandomAffine((90, 90))(npgrad.tensor(image)).numpy()
    np.testing.assert_array_equal(clockwise, np.rot90(image, -1, axes=(1, 2)))
    shifted = transforms.RandomAffine(0, translate=(0.2, 0.4), fill=-1)
    rng = np.random.default_rng(0)
    angle, (tx, ty), scale, shear = shifted.get_params(5, 5, rng)
    assert angle == 0 and abs(tx) <= 1 and abs(ty) <= 2 and scale == 1.0
    expanded = transforms.RandomRotation((45, 45), expand=True)(npgrad.ones(2, 1, 10, 20))
    assert expanded.shape == (2, 1, 22, 22)  # the rotated 10x20 image's bounding box
    pixels = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    assert transforms.RandomRotation(30)(pixels).dtype == np.uint8  # (H, W, C), 8-bit


@needs_torch
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_resampling_matches_grid_sample(interpolation):
    """The warp is torchvision's: its matrix, applied through grid_sample (align_corners=False)
    with the fill blended in by a mask of ones."""
    from npgrad.data.transforms import _inverse_affine_matrix, _warp

    image = np.random.default_rng(0).uniform(0, 1, (3, 9, 12)).astype(np.float32)
    height, width = image.shape[1:]
    matrix = _inverse_affine_matrix(23.0, (2, -1), 0.8, (10.0, -5.0), (0.0, 0.0))
    out = _warp(image, matrix, (height, width), interpolation, fill=0.25)
    theta = np.array(
        [
            [matrix[0, 0], matrix[0, 1] * height / width, matrix[0, 2] / (0.5 * width)],
            [matrix[1, 0] * width / height, matrix[1, 1], matrix[1, 2] / (0.5 * height)],
        ],
        np.float32,
    )
    grid = torch.nn.functional.affine_grid(
        torch.from_numpy(theta)[None], (1, 4, height, width), align_corners=False
    )
    with_mask = torch.cat(
        [torch.from_numpy(image), torch.ones(1, height, width, dtype=torch.float32)]
    )[None]
    sampled = torch.nn.functional.grid_sample(
        with_mask, grid, mode=interpolation, padding_mode="zeros", align_corners=False
    )[0].numpy()
    values, mask = sampled[:3], sampled[3:]
    if interpolation == "nearest":
        expected = np.where(mask < 0.5, 0.25, values)
    else:
        expected = values + (1 - mask) * 0.25
    agree = np.isclose(out, expected, atol=1e-4)
    assert agree.mean() > (0.98 if interpolation == "nearest" else 0.9999), agree.mean()


def test_colour_transforms():
    rgb = _images(n=3, h=5, w=6)
    grey = transforms.Grayscale()(rgb).numpy()
    weights = np.array([0.2989, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(
        grey[:, 0], np.einsum("nchw,c->nhw", rgb.numpy(), weights), rtol=1e-5
    )
    assert transforms.Grayscale(3)(rgb).shape == (3, 3, 5, 6)
    assert np.array_equal(transforms.RandomGrayscale(p=0.0)(rgb).numpy(), rgb.numpy())
    brighter = transforms.ColorJitter(brightness=(1.5, 1.5))(rgb).numpy()
    np.testing.assert_allclose(brighter, np.clip(rgb.numpy() * 1.5, 0, 1), rtol=1e-6)
    flat = transforms.ColorJitter(saturation=(0.0, 0.0))(rgb).numpy()  # saturation 0: grey
    np.testing.assert_allclose(flat, np.repeat(grey, 3, axis=1), atol=1e-6)
    same = transforms.ColorJitter(hue=(0.0, 0.0), contrast=(1.0, 1.0))(rgb).numpy()
    np.testing.assert_allclose(same, rgb.numpy(), atol=1e-6)
    turned = transforms.ColorJitter(hue=(0.5, 0.5))(npgrad.tensor([[[1.0]], [[0.0]], [[0.0]]]))
    np.testing.assert_allclose(turned.numpy().ravel(), [0, 1, 1], atol=1e-6)  # red -> cyan
    pixels = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    jittered = transforms.ColorJitter(0.4, 0.4, 0.4, 0.1).batch(pixels)
    assert jittered.dtype == np.uint8 and jittered.shape == pixels.shape


def test_blur_erasing_and_dtype_conversion():
    constant = npgrad.full((2, 3, 7, 7), 0.3)
    np.testing.assert_allclose(transforms.GaussianBlur(5)(constant).numpy(), 0.3, rtol=1e-6)
    impulse = np.zeros((1, 7, 7), np.float32)
    impulse[0, 3, 3] = 1
    blurred = transforms.GaussianBlur(3, sigma=1.0)(npgrad.tensor(impulse)).numpy()[0]
    kernel = np.exp(-0.5 * np.arange(-1, 2) ** 2)
    kernel /= kernel.sum()
    np.testing.assert_allclose(blurred[2:5, 2:5], np.outer(kernel, kernel), rtol=1e-5)
    with pytest.raises(ValueError, match="odd"):
        transforms.GaussianBlur(4)
    npgrad.manual_seed(0)
    erased = transforms.RandomErasing(p=1.0, value=-1)(npgrad.ones(4, 3, 16, 16)).numpy()
    for image in erased:
        rows, columns = np.nonzero(image[0] == -1)
        assert len(rows) and (image[:, rows, columns] == -1).all()
        box = (rows.max() - rows.min() + 1) * (columns.max() - columns.min() + 1)
        assert box == len(rows) and 0.02 * 256 * 0.5 <= box <= 0.33 * 256 * 1.5  # a rectangle
    pixels = npgrad.tensor(np.array([[[0, 128, 255]]], np.uint8))
    floats = transforms.ConvertImageDtype(npgrad.float32)(pixels)
    np.testing.assert_allclose(floats.numpy(), [[[0, 128 / 255, 1]]], rtol=1e-6)
    back = transforms.ConvertImageDtype(npgrad.uint8)(floats)
    assert back.numpy().tolist() == [[[0, 128, 255]]]


def test_random_apply_choice_and_order():
    images = _images(n=64)
    npgrad.manual_seed(0)
    some = transforms.RandomApply([transforms.RandomHorizontalFlip(1.0)], p=0.5)(images).numpy()
    flipped = [np.array_equal(a, b[..., ::-1]) for a, b in zip(some, images.numpy(), strict=True)]
    assert 10 < sum(flipped) < 54  # a draw per image
    assert transforms.RandomApply([transforms.Grayscale(3)], p=0.0)(images) is images
    choice = transforms.RandomChoice([transforms.CenterCrop(2), transforms.CenterCrop(3)])
    assert {choice(images).shape[-1] for _ in range(20)} == {2, 3}
    both = transforms.RandomOrder([transforms.CenterCrop(4), transforms.Pad(1)])
    assert {both(images).shape[-1] for _ in range(20)} == {4, 6}


def test_dataset_transforms_sample_by_sample_and_batch_by_batch_agree():
    """TransformDataset: ds[i] transforms one sample; DataLoader's batches go through
    transform.batch at once, with the same result, while a Lambda keeps it sample by sample."""
    from npgrad.data import DataLoader

    class GreyImages:  # (H, W) 8-bit arrays and int labels, as a file reader's
        batched = True
        pixels = np.random.default_rng(0).integers(0, 256, (10, 6, 6), dtype=np.uint8)

        def __len__(self):
            return len(self.pixels)

        def __getitem__(self, index):
            return self.pixels[index], int(index)

        def get_batch(self, indices):
            return self.pixels[indices], npgrad.tensor(indices)

    raw = GreyImages()
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.CenterCrop(4), transforms.Normalize((0.5,), (0.5,))]
    )
    wrapped = transforms.TransformDataset(raw, pipeline)
    loader = DataLoader(wrapped, batch_size=5)
    assert loader.fast_path
    x, y = next(iter(loader))
    assert x.shape == (5, 1, 4, 4) and y.tolist() == [0, 1, 2, 3, 4]
    one, label = wrapped[2]
    assert one.shape == (1, 4, 4) and label == 2
    np.testing.assert_allclose(x.numpy()[2], one.numpy(), rtol=1e-6)
    slow = transforms.TransformDataset(raw, transforms.Lambda(lambda image: image[:2]))
    assert not DataLoader(slow, batch_size=5).fast_path
