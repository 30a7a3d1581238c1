"""make_grid's layout as torchvision's, and save_image writing PNG without Pillow."""

import numpy as np
import pytest

import npgrad
from npgrad.io.png import read_png
from npgrad.vision.utils import make_grid, save_image


def test_make_grid_layout_padding_and_normalize():
    images = npgrad.tensor(np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) + 1).expand(
        5, 1, 2, 3
    )
    grid = make_grid(images, nrow=2, padding=1, pad_value=-1).numpy()
    # 2 columns, 3 rows of 2x3 cells, each with 1 pixel of padding; grey becomes 3 channels
    assert grid.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    assert grid[0, 1, 1] == 1 and grid[0, 1, 5] == 2 and grid[0, 4, 1] == 3 and grid[0, 7, 1] == 5
    assert grid[0, 0, 0] == -1 and grid[0, 7, 5] == -1  # the empty sixth cell is padding
    normalized = make_grid(images, normalize=True).numpy()
    assert normalized.min() == 0 and normalized.max() == 1
    each = make_grid(images, normalize=True, scale_each=True, padding=0).numpy()
    assert np.unique(each).tolist() == [0.0]  # every image is constant: each scales to 0
    clipped = make_grid(images, normalize=True, value_range=(2, 4), padding=0).numpy()
    assert clipped[0, 0, 0] == 0 and clipped[0, 0, -1] == 1
    single = make_grid(npgrad.rand(3, 4, 4))
    assert single.shape == (3, 4, 4)  # one image comes back as it is
    with pytest.raises(ValueError, match=r"expected images \(B, C, H, W\)"):
        make_grid(npgrad.rand(1, 2, 3, 4, 5))


def test_save_image_writes_a_png(tmp_path):
    images = npgrad.rand(4, 3, 5, 6)
    save_image(images, tmp_path / "grid.png", nrow=2)
    pixels = read_png(tmp_path / "grid.png")
    expected = np.clip(make_grid(images, nrow=2).numpy() * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(pixels, expected.transpose(1, 2, 0))
    try:
        import PIL  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="Pillow"):
            save_image(images, tmp_path / "grid.jpg")
