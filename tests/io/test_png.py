"""PNG without Pillow: what npgrad writes reads back, and files using every row filter, palettes,
transparency, 16-bit and 1-bit samples decode to the pixels they hold; corrupt files are errors."""

import struct
import zlib

import numpy as np
import pytest

from npgrad.errors import SerializationError
from npgrad.io.png import decode_png, encode_png, read_png, write_png


def _png(rows, width, height, depth, color_type, extra=b""):
    """A PNG of already-filtered rows (each with its filter byte)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _filter(pixels, kind, bpp):
    """The PNG spec's forward filters, written out byte by byte (the reader's inverse is
    vectorised where it can be)."""
    out = bytearray()
    previous = bytes(pixels.shape[1])
    for row in pixels:
        row = bytes(row)
        out.append(kind)
        for i, value in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 0:
                predicted = 0
            elif kind == 1:
                predicted = left
            elif kind == 2:
                predicted = up
            elif kind == 3:
                predicted = (left + up) // 2
            else:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predicted = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            out.append((value - predicted) % 256)
        previous = row
    return bytes(out)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_write_and_read_back(tmp_path, channels):
    image = np.random.default_rng(channels).integers(0, 256, (5, 7, channels), dtype=np.uint8)
    write_png(tmp_path / "a.png", image)
    back = read_png(tmp_path / "a.png")
    np.testing.assert_array_equal(back, image[..., 0] if channels == 1 else image)
    assert decode_png(encode_png(image)).shape == back.shape


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_every_row_filter(kind):
    pixels = np.random.default_rng(kind).integers(0, 256, (6, 5 * 3), dtype=np.uint8)
    data = _png(_filter(pixels, kind, 3), 5, 6, 8, 2)
    np.testing.assert_array_equal(decode_png(data), pixels.reshape(6, 5, 3))


def test_palette_transparency_16_bit_and_1_bit():
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    indices = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    extra = _chunk_bytes(b"PLTE", palette.tobytes()) + _chunk_bytes(b"tRNS", bytes([0, 128]))
    rgba = decode_png(_png(_filter(indices, 0, 1), 3, 2, 8, 3, extra))
    np.testing.assert_array_equal(rgba[..., :3], palette[indices])
    np.testing.assert_array_equal(rgba[..., 3], np.array([0, 128, 255])[indices])
    deep = np.array([[0, 1000, 65535]], ">u2")
    wide = decode_png(_png(_filter(deep.view(np.uint8).reshape(1, 6), 1, 2), 3, 1, 16, 0))
    assert wide.dtype == np.uint16 and wide.tolist() == [[0, 1000, 65535]]
    bits = np.packbits(np.array([[1, 0, 1, 1, 0, 0, 0, 0, 1, 1]], np.uint8), axis=1)
    grey = decode_png(_png(_filter(bits, 0, 1), 10, 1, 1, 0))
    assert grey.tolist() == [[255, 0, 255, 255, 0, 0, 0, 0, 255, 255]]


def _chunk_bytes(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_corrupt_files_are_named_errors(tmp_path):
    good = encode_png(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(SerializationError, match="not a PNG"):
        decode_png(b"GIF89a" + good[6:])
    flipped = bytearray(good)
    flipped[45] ^= 0xFF  # inside the image data: its CRC no longer matches
    with pytest.raises(SerializationError, match="bad CRC in its IDAT chunk"):
        decode_png(bytes(flipped))
    path = tmp_path / "cut.png"
    path.write_bytes(good[:-20])
    with pytest.raises(SerializationError, match=r"cut\.png: truncated PNG"):
        read_png(path)
    short_rows = _png(b"\x00" * 10, 4, 4, 8, 2)  # fewer bytes than 4 rows of 4 RGB pixels
    with pytest.raises(SerializationError, match="not the 52 its 4x4 header needs"):
        decode_png(short_rows)
    with pytest.raises(ValueError, match="uint8"):
        write_png(tmp_path / "f.png", np.zeros((2, 2), np.float32))
