"""PNG files without Pillow: ``write_png`` / ``encode_png`` (8-bit grey, RGB or RGBA, as
TensorBoard and ``vision.utils.save_image`` write) and ``read_png`` / ``decode_png`` (any
non-interlaced PNG: grey, RGB, palette, with alpha, 1-16 bits, all five row filters).

Decoding checks every chunk's CRC and the image data's size, so a truncated or corrupt file
gets a ``SerializationError`` naming the problem instead of garbage pixels.
"""

import struct
import zlib

import numpy

from npgrad.errors import SerializationError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def encode_png(image):
    """A PNG file of an (H, W, C) uint8 image, C = 1 (grey), 3 (RGB) or 4 (RGBA)."""
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2, 4: 6}.get(channels)
    if color_type is None:
        raise ValueError(f"encode_png: images need 1, 3 or 4 channels, got {channels}")
    rows = numpy.concatenate(
        [numpy.zeros((height, 1), numpy.uint8), image.reshape(height, width * channels)], axis=1
    )  # each row starts with its filter type, 0 (none)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, image):
    """Write an (H, W[, C]) uint8 image to ``path`` as PNG, atomically."""
    from npgrad.io.serialization import write_atomically

    image = numpy.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.dtype != numpy.uint8:
        raise ValueError(f"write_png: expected uint8 pixels, got {image.dtype}")
    data = encode_png(numpy.ascontiguousarray(image))
    write_atomically(path, lambda f: f.write(data))


def read_png(path):
    """The pixels of a PNG file: (H, W) grey or (H, W, C) with C = 2 (grey + alpha), 3 (RGB) or
    4 (RGBA); uint8, or uint16 for 16-bit files; a palette image comes back as RGB(A)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return decode_png(data)
    except SerializationError as error:
        raise SerializationError(f"{path}: {error}") from None


def _chunks(data):
    if data[:8] != SIGNATURE:
        raise SerializationError("not a PNG file (bad signature)")
    position = 8
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if len(body) != length or position + 12 + length > len(data):
            raise SerializationError(f"truncated PNG ({kind.decode('latin-1')} chunk cut short)")
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        if crc != zlib.crc32(kind + body):
            raise SerializationError(f"corrupt PNG: bad CRC in its {kind.decode('latin-1')} chunk")
        yield kind, body
        if kind == b"IEND":
            return
        position += 12 + length
    raise SerializationError("truncated PNG (no IEND chunk)")


def decode_png(data):
    """The pixels of PNG bytes (see :func:`read_png`)."""
    header, compressed, palette, transparency = None, [], None, None
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"PLTE":
            palette = numpy.frombuffer(body, numpy.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            transparency = body
    if header is None or not compressed:
        raise SerializationError("PNG without a header or image data")
    width, height, depth, color_type, _, _, interlace = header
    if color_type not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise SerializationError(f"unsupported PNG (colour type {color_type}, depth {depth})")
    if interlace:
        raise SerializationError("interlaced PNGs are not supported (install Pillow to read them)")
    channels = _CHANNELS[color_type]
    try:
        raw = zlib.decompress(b"".join(compressed))
    except zlib.error as error:
        raise SerializationError(f"corrupt PNG image data ({error})") from None
    row_bytes = (width * channels * depth + 7) // 8
    if len(raw) != height * (row_bytes + 1):
        raise SerializationError(
            f"PNG image data holds {len(raw)} bytes, not the {height * (row_bytes + 1)} its "
            f"{width}x{height} header needs: truncated or corrupt"
        )
    rows = _unfilter(raw, height, row_bytes, max(1, channels * depth // 8))
    pixels = _samples(rows, width, channels, depth)
    if color_type == 3:
        if palette is None:
            raise SerializationError("palette PNG without a PLTE chunk")
        indices = pixels[..., 0]
        if transparency is not None:
            alpha = numpy.full(len(palette), 255, numpy.uint8)
            alpha[: len(transparency)] = numpy.frombuffer(transparency, numpy.uint8)[: len(palette)]
            palette = numpy.concatenate([palette, alpha[:, None]], axis=1)
        return palette[indices]
    if color_type in (0, 4) and depth < 8:  # grey of 1-4 bits, stretched to 0-255 as PIL's "L"
        pixels = pixels * numpy.uint8(255 // (2**depth - 1))
    return pixels[..., 0] if channels == 1 else pixels


def _unfilter(raw, height, row_bytes, bpp):
    """Undo each row's filter (none, sub, up, average, Paeth), returning (H, row_bytes)."""
    data = numpy.frombuffer(raw, numpy.uint8).reshape(height, row_bytes + 1)
    filters, rows = data[:, 0], data[:, 1:].astype(numpy.int64)
    out = numpy.zeros((height, row_bytes), numpy.uint8)
    previous = numpy.zeros(row_bytes, numpy.int64)
    for y in range(height):
        row, kind = rows[y], filters[y]
        if kind == 0:
            current = row
        elif kind == 1 and row_bytes % bpp == 0:  # sub: a running sum along each byte lane
            current = numpy.cumsum(row.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif kind == 2:
            current = (row + previous) & 255
        elif kind in (1, 3, 4):
            current = _unfilter_row(row.tolist(), previous.tolist(), bpp, kind)
        else:
            raise SerializationError(f"corrupt PNG: unknown row filter {kind} in row {y}")
        out[y] = current
        previous = out[y].astype(numpy.int64)
    return out


def _unfilter_row(row, previous, bpp, kind):
    """Sub, average or Paeth, which depend on the byte just decoded: a loop over the row."""
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            predicted = left
        elif kind == 3:
            predicted = (left + up) >> 1
        else:
            corner = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            predicted = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
        row[i] = (row[i] + predicted) & 255
    return numpy.array(row, numpy.uint8)


def _samples(rows, width, channels, depth):
    """(H, W, channels) samples from the unfiltered rows: 8 or 16 bits, or packed 1-4 bits."""
    height = len(rows)
    if depth == 8:
        return rows.reshape(height, width, channels)
    if depth == 16:
        return rows.view(">u2").astype(numpy.uint16).reshape(height, width, channels)
    bits = numpy.unpackbits(rows, axis=1).reshape(height, -1, depth)
    values = (bits * (1 << numpy.arange(depth - 1, -1, -1))).sum(axis=2).astype(numpy.uint8)
    return values[:, : width * channels].reshape(height, width, channels)
