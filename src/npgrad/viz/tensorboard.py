"""TensorBoard event logs without TensorFlow or protobuf: ``SummaryWriter`` (PyTorch's
``torch.utils.tensorboard.SummaryWriter``: scalars, histograms, images, figures, text) and
``read_events`` / ``read_scalars`` to read such logs back (to check them, or to plot without
TensorBoard).

An event file is a sequence of records, each: the data's length (8 bytes, little-endian), a
masked CRC-32C of those 8 bytes, the data, a masked CRC-32C of the data. The data is an ``Event``
protocol buffer: a wall time, a step and a ``Summary`` of tagged values. The few messages needed
are encoded by hand below, with the field numbers of TensorFlow's ``event.proto`` and
``summary.proto``. View the logs with ``tensorboard --logdir runs`` (``pip install tensorboard``;
npgrad itself needs nothing more than NumPy to write them).
"""

import io
import os
import socket
import struct
import threading
import time
import urllib.parse
import wave
from datetime import datetime

import numpy

from npgrad.errors import SerializationError
from npgrad.io.png import encode_png
from npgrad.nn.modules.module import _detached

# ----------------------------------------------------------------------- protocol buffers


def _varint(value):
    """Protobuf's base-128 varint (negative int64 as its 64-bit two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, wire_type):
    return _varint(number << 3 | wire_type)


def _int_field(number, value):  # wire type 0: varint
    return _field(number, 0) + _varint(int(value))


def _double_field(number, value):  # wire type 1: 64-bit
    return _field(number, 1) + struct.pack("<d", value)


def _float_field(number, value):  # wire type 5: 32-bit
    return _field(number, 5) + struct.pack("<f", value)


def _bytes_field(number, data):  # wire type 2: length-delimited (strings, messages, packed)
    data = data.encode() if isinstance(data, str) else data
    return _field(number, 2) + _varint(len(data)) + data


def _packed_doubles(number, values):
    return _bytes_field(number, numpy.asarray(values, dtype="<f8").tobytes())


def _decode(data):
    """A message's fields as (number, wire type, value): ints for varints, bytes otherwise."""
    fields, position = [], 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _read_varint(data, position)
        elif wire_type == 1:
            value, position = data[position : position + 8], position + 8
        elif wire_type == 5:
            value, position = data[position : position + 4], position + 4
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            value, position = data[position : position + length], position + length
        else:
            raise SerializationError(f"tensorboard: unsupported protobuf wire type {wire_type}")
        fields.append((number, wire_type, value))
    return fields


def _read_varint(data, position):
    value = shift = 0
    while True:
        if position >= len(data):
            raise SerializationError("tensorboard: a protobuf varint runs past its message")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


# ----------------------------------------------------------------------- records


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data``, as TFRecords use; crc32c(b"123456789") = 0xE3069283."""
    crc = 0xFFFFFFFF
    table = _CRC32C
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(data):
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", _masked_crc(length))
        + data
        + struct.pack("<I", _masked_crc(data))
    )


def _records(path):
    """The data of each record in the event file at ``path``, checked against its CRCs. A record
    cut short at the end (a writer still writing) ends the sequence; a bad checksum raises."""
    with open(path, "rb") as file:
        content = file.read()
    position = 0
    while position + 12 <= len(content):
        header = content[position : position + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", content[position + 8 : position + 12])
        if header_crc != _masked_crc(header):
            raise SerializationError(
                f"{path}: corrupt event record at byte {position} (length checksum mismatch)"
            )
        end = position + 12 + length + 4
        if end > len(content):
            return  # the last record is still being written
        data = content[position + 12 : end - 4]
        if struct.unpack("<I", content[end - 4 : end])[0] != _masked_crc(data):
            raise SerializationError(
                f"{path}: corrupt event record at byte {position} (data checksum mismatch)"
            )
        yield data
        position = end


# ----------------------------------------------------------------------- summaries


def _event(summary=None, step=None, wall_time=None, file_version=None, session_start=False):
    data = _double_field(1, time.time() if wall_time is None else wall_time)
    if step is not None:
        data += _int_field(2, step)
    if file_version is not None:
        data += _bytes_field(3, file_version)
    if summary is not None:
        data += _bytes_field(5, summary)
    if session_start:
        data += _bytes_field(7, _int_field(1, 1))  # SessionLog(status=START)
    return data


def _value(tag, payload_field=None, payload=None, metadata=None):
    """One ``Summary.Value``, wrapped in a ``Summary`` (plugin records carry metadata alone)."""
    value = _bytes_field(1, tag)
    if metadata is not None:
        value += _bytes_field(9, metadata)
    if payload_field is not None:
        value += payload_field(payload)
    return _bytes_field(1, value)


def _plugin_metadata(plugin, content=b""):
    """``SummaryMetadata`` naming the TensorBoard plugin that reads the value."""
    return _bytes_field(1, _bytes_field(1, plugin) + (_bytes_field(2, content) if content else b""))


def _proto_value(value, what):
    """A ``google.protobuf.Value``: a number, a string or a bool (one-element tensors too)."""
    if isinstance(value, bool | numpy.bool_):
        return _int_field(4, bool(value))
    if isinstance(value, str):
        return _bytes_field(3, value)
    return _double_field(2, _number(value, what))


def _hparams_summaries(hparams, metrics, domains):
    """The hparams plugin's three records: the experiment (which hyperparameters and metrics
    exist), the session start (this run's values) and the session end. Field numbers from
    TensorBoard's hparams ``api.proto`` and ``plugin_data.proto``."""
    data_types = {bool: 2, str: 1}  # DATA_TYPE_BOOL, DATA_TYPE_STRING; else FLOAT64 (3)
    infos, values = b"", b""
    for name, value in hparams.items():
        kind = bool if isinstance(value, bool | numpy.bool_) else type(value)
        info = _bytes_field(1, name) + _int_field(4, data_types.get(kind, 3))
        if name in domains:  # the values the UI offers as filters
            choices = b"".join(
                _bytes_field(1, _proto_value(choice, name)) for choice in domains[name]
            )
            info += _bytes_field(5, choices)
        infos += _bytes_field(4, info)
        values += _bytes_field(
            1, _bytes_field(1, name) + _bytes_field(2, _proto_value(value, name))
        )
    for tag in metrics:
        infos += _bytes_field(5, _bytes_field(1, _bytes_field(2, tag)))  # MetricInfo(name.tag)

    def record(tag, field, message):  # HParamsPluginData(version 0, <field>: message)
        return _value(tag, metadata=_plugin_metadata("hparams", _bytes_field(field, message)))

    now = time.time()
    return (
        record("_hparams_/experiment", 2, infos),
        record("_hparams_/session_start_info", 3, values + _double_field(5, now)),
        record("_hparams_/session_end_info", 4, _int_field(1, 1) + _double_field(2, now)),
    )


def _number(value, what):
    array = _array(value)
    if array.size != 1:
        raise ValueError(f"{what}: expected one number, got an array of shape {array.shape}")
    return float(array.reshape(()))


def _array(values):
    """A tensor (npgrad's or PyTorch's), an array or a number, as a NumPy array."""
    return numpy.asarray(_detached(values))


def _tensorflow_bucket_limits():
    """TensorFlow's default histogram buckets: +-1e-12 * 1.1^k up to 1e20, and 0."""
    positive = 1e-12 * 1.1 ** numpy.arange(int(numpy.log(1e32) / numpy.log(1.1)) + 1)
    return numpy.concatenate([-positive[::-1], [0.0], positive])


def _histogram(values, bins):
    values = _array(values).astype(numpy.float64).ravel()
    values = values[numpy.isfinite(values)]
    if values.size == 0:
        raise ValueError("add_histogram: no finite values to make a histogram of")
    if isinstance(bins, str) and bins == "tensorflow":
        limits = _tensorflow_bucket_limits()
        counts = numpy.bincount(numpy.searchsorted(limits, values), minlength=limits.size + 1)
        limits = numpy.append(limits, numpy.finfo(numpy.float64).max)
        used = numpy.flatnonzero(counts)
        first, last = max(used[0] - 1, 0), min(used[-1] + 1, counts.size - 1)
        counts, limits = counts[first : last + 1], limits[first : last + 1]
    else:  # NumPy's binning: a count or a rule ("auto", "fd", ...), right edges as limits
        counts, edges = numpy.histogram(values, bins=bins)
        limits = edges[1:]
    histogram = (
        _double_field(1, values.min())
        + _double_field(2, values.max())
        + _double_field(3, values.size)
        + _double_field(4, values.sum())
        + _double_field(5, (values * values).sum())
        + _packed_doubles(6, limits)
        + _packed_doubles(7, counts)
    )
    return histogram


def _pr_curve(labels, predictions, num_thresholds, weights):
    """Rows TP, FP, TN, FN, precision, recall at thresholds i / (num_thresholds - 1): each
    prediction falls in bucket floor(p (num_thresholds - 1)), and the counts at threshold i
    are those of the buckets from i up."""
    predictions = predictions.astype(numpy.float64).ravel()
    if predictions.size and (predictions.min() < 0 or predictions.max() > 1):
        raise ValueError("add_pr_curve: predictions must lie in [0, 1]")
    positive = labels.astype(numpy.float64).ravel()
    weight = 1.0 if weights is None else _array(weights).astype(numpy.float64).ravel()
    buckets = numpy.floor(predictions * (num_thresholds - 1)).astype(numpy.int64)
    true = numpy.bincount(buckets, positive * weight, minlength=num_thresholds)
    false = numpy.bincount(buckets, (1 - positive) * weight, minlength=num_thresholds)
    tp, fp = numpy.cumsum(true[::-1])[::-1], numpy.cumsum(false[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / numpy.maximum(tp + fp, 1e-7)
    recall = tp / numpy.maximum(tp + fn, 1e-7)
    return numpy.stack([tp, fp, tn, fn, precision, recall])


def _to_hwc(image, dataformats):
    """An image array in ``dataformats`` (some order of H, W and C, or HW) as (H, W, C)."""
    dataformats = dataformats.upper()
    if sorted(dataformats) not in (sorted("HWC"), sorted("HW")) or image.ndim != len(dataformats):
        raise ValueError(
            f"add_image: an image of shape {image.shape} does not match dataformats "
            f"{dataformats!r} (use 'CHW', 'HWC' or 'HW')"
        )
    if "C" not in dataformats:
        image, dataformats = image[..., None], dataformats + "C"
    return image.transpose([dataformats.index(axis) for axis in "HWC"])


def _as_uint8(image):
    """Float images in [0, 1] scaled to 0-255 (as PyTorch's writer); integers clipped."""
    if image.dtype == numpy.uint8:
        return image
    if image.dtype.kind == "f":
        image = image * 255.0
    return numpy.clip(numpy.nan_to_num(image), 0, 255).astype(numpy.uint8)


def _image_summary(image):
    """A ``Summary.Image`` of an (H, W, C) uint8 image."""
    height, width, channels = image.shape
    return (
        _int_field(1, height)
        + _int_field(2, width)
        + _int_field(3, channels)
        + _bytes_field(4, encode_png(image))
    )


def _grid(images):
    """(N, H, W, C) images tiled into one, at most 8 a row (as torchvision's make_grid)."""
    count, height, width, channels = images.shape
    columns = min(count, 8)
    rows = -(-count // columns)
    grid = numpy.zeros((rows * height, columns * width, channels), dtype=images.dtype)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height : (row + 1) * height, column * width : (column + 1) * width] = image
    return grid


# ----------------------------------------------------------------------- the writer


class _EventFile:
    """One event file, appended record by record. Each record goes out in one write and is
    flushed at once, so a crash never leaves more than the record being written unfinished (and
    readers, TensorBoard's and ``read_events``, skip an unfinished last record)."""

    _counter = 0
    _lock = threading.Lock()

    def __init__(self, log_dir, filename_suffix=""):
        with _EventFile._lock:
            _EventFile._counter += 1
            count = _EventFile._counter
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{count}{filename_suffix}"
        )
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "ab")  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()
        self.write(_event(file_version="brain.Event:2"))

    def write(self, event):
        with self._lock:
            if self._file.closed:
                raise ValueError(f"{self.path}: the SummaryWriter is closed")
            self._file.write(_record(event))
            self._file.flush()

    def close(self):
        with self._lock:
            self._file.close()


class SummaryWriter:
    """Write TensorBoard logs: ``torch.utils.tensorboard.SummaryWriter``'s API, no dependency.

    >>> writer = SummaryWriter("runs/experiment-1")        # doctest: +SKIP
    >>> for step in range(100):                             # doctest: +SKIP
    ...     writer.add_scalar("loss/train", loss.item(), step)
    >>> writer.close()                                      # doctest: +SKIP

    ``log_dir`` defaults to ``runs/<date>_<host><comment>``, as PyTorch's. Every ``add_*``
    writes and flushes its record at once (``max_queue`` and ``flush_secs`` are accepted for
    compatibility). ``purge_step`` makes TensorBoard drop the events of an earlier run from that
    step on (a resumed run). Supported: ``add_scalar``, ``add_scalars``, ``add_histogram``,
    ``add_image``, ``add_images``, ``add_figure`` (matplotlib), ``add_text``, ``add_hparams``,
    ``add_pr_curve``, ``add_audio``, ``add_embedding``, ``add_graph``.
    """

    def __init__(
        self,
        log_dir=None,
        comment="",
        purge_step=None,
        max_queue=10,
        flush_secs=120,
        filename_suffix="",
    ):
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self.filename_suffix = filename_suffix
        self._file = _EventFile(self.log_dir, filename_suffix)
        self._children = {}  # add_scalars: one writer per sub-run
        self._embeddings = []  # add_embedding: the projector config's entries
        if purge_step is not None:
            self._file.write(_event(step=purge_step, session_start=True))

    def get_logdir(self):
        return self.log_dir

    def _write(self, summary, global_step, walltime):
        self._file.write(_event(summary=summary, step=global_step, wall_time=walltime))

    def add_scalar(
        self,
        tag,
        scalar_value,
        global_step=None,
        walltime=None,
        new_style=False,
        double_precision=False,
    ):
        """One number (a float, a NumPy scalar, a one-element tensor) under ``tag`` at a step."""
        value = _number(scalar_value, f"add_scalar({tag!r})")
        self._write(_value(tag, lambda v: _float_field(2, v), value), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart: each ``tag`` is written to the sub-run
        ``<log_dir>/<main_tag>_<tag>`` under the tag ``main_tag``."""
        for tag, value in tag_scalar_dict.items():
            run = f"{main_tag}_{tag}".replace("/", "_")
            child = self._children.get(run)
            if child is None:
                child = self._children[run] = _EventFile(
                    _make_dir(os.path.join(self.log_dir, run)), self.filename_suffix
                )
            number = _number(value, f"add_scalars({main_tag!r}, {tag!r})")
            summary = _value(main_tag, lambda v: _float_field(2, v), number)
            child.write(_event(summary=summary, step=global_step, wall_time=walltime))

    def add_histogram(
        self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ):
        """The distribution of ``values`` (weights, activations, gradients). ``bins``:
        ``"tensorflow"`` (TensorFlow's exponential buckets), a count, or a NumPy rule."""
        histogram = _histogram(values, bins)
        self._write(_value(tag, lambda h: _bytes_field(5, h), histogram), global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image: floats in [0, 1] or uint8, 1, 3 or 4 channels, laid out as ``dataformats``."""
        image = _as_uint8(_to_hwc(_array(img_tensor), dataformats))
        self._write(
            _value(tag, lambda i: _bytes_field(4, i), _image_summary(image)), global_step, walltime
        )

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of images, tiled into one grid (8 a row)."""
        images = _array(img_tensor)
        dataformats = dataformats.upper()
        if "N" not in dataformats or images.ndim != len(dataformats):
            raise ValueError(
                f"add_images: a batch of shape {images.shape} does not match dataformats "
                f"{dataformats!r} (use 'NCHW', 'NHWC' or 'NHW')"
            )
        batch_axis = dataformats.index("N")
        per_image = dataformats.replace("N", "")
        tiles = numpy.stack(
            [_to_hwc(image, per_image) for image in numpy.moveaxis(images, batch_axis, 0)]
        )
        grid = _as_uint8(_grid(tiles))
        self._write(
            _value(tag, lambda i: _bytes_field(4, i), _image_summary(grid)), global_step, walltime
        )

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them, tiled), rendered to PNG."""
        figures = figure if isinstance(figure, list | tuple) else [figure]
        images = []
        for fig in figures:
            fig.canvas.draw()  # (matplotlib's Agg canvas: the default without a display)
            images.append(numpy.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
            if close:
                import matplotlib.pyplot as plt

                plt.close(fig)
        if len(images) == 1:
            image = images[0]
        else:
            height = max(i.shape[0] for i in images)
            width = max(i.shape[1] for i in images)
            padded = numpy.full((len(images), height, width, 3), 255, dtype=numpy.uint8)
            for index, i in enumerate(images):
                padded[index, : i.shape[0], : i.shape[1]] = i
            image = _grid(padded)
        self._write(
            _value(tag, lambda i: _bytes_field(4, i), _image_summary(image)), global_step, walltime
        )

    def add_pr_curve(
        self,
        tag,
        labels,
        predictions,
        global_step=None,
        num_thresholds=127,
        weights=None,
        walltime=None,
    ):
        """A precision-recall curve of ``predictions`` (probabilities in [0, 1]) against binary
        ``labels``, at ``num_thresholds`` (at most 127) evenly spaced thresholds, for TensorBoard's
        PR Curves tab. ``weights`` weighs each example."""
        num_thresholds = min(num_thresholds, 127)
        curve = _pr_curve(_array(labels), _array(predictions), num_thresholds, weights)
        tensor = (
            _int_field(1, 1)  # dtype: DT_FLOAT
            + _bytes_field(2, b"".join(_bytes_field(2, _int_field(1, n)) for n in curve.shape))
            + _bytes_field(5, curve.astype("<f4").tobytes())  # float_val, packed
        )
        content = _int_field(2, num_thresholds)  # PrCurvePluginData(version 0, num_thresholds)
        summary = _value(
            tag, lambda t: _bytes_field(8, t), tensor, _plugin_metadata("pr_curves", content)
        )
        self._write(summary, global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """A clip of audio: samples in [-1, 1], shape (L,) or (1, L) (mono), written as 16-bit
        WAV for TensorBoard's Audio tab."""
        samples = _array(snd_tensor).astype(numpy.float64).reshape(-1)
        pcm = (numpy.clip(samples, -1, 1) * 32767).astype("<i2")
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(int(sample_rate))
            wav.writeframes(pcm.tobytes())
        audio = (
            _float_field(1, sample_rate)
            + _int_field(2, 1)
            + _int_field(3, pcm.size)
            + _bytes_field(4, buffer.getvalue())
            + _bytes_field(5, "audio/wav")
        )
        self._write(_value(tag, lambda a: _bytes_field(6, a), audio), global_step, walltime)

    def add_embedding(
        self,
        mat,
        metadata=None,
        label_img=None,
        global_step=None,
        tag="default",
        metadata_header=None,
    ):
        """Points (N, D) for TensorBoard's Projector tab (PCA, t-SNE, UMAP views), with an
        optional label per point (``metadata``: N values, or N rows under ``metadata_header``)
        and a thumbnail each (``label_img``, (N, C, H, W), tiled into a sprite). Written as
        PyTorch's writer does: ``<step>/<tag>/tensors.tsv`` (and metadata.tsv, sprite.png)
        under the log folder, listed in ``projector_config.pbtxt`` there."""
        points = _array(mat).astype(numpy.float64)
        if points.ndim != 2:
            raise ValueError(f"add_embedding: mat must be (N, D), got shape {points.shape}")
        step = f"{0 if global_step is None else int(global_step):05d}"
        folder = f"{step}/{urllib.parse.quote(tag, safe='')}"
        path = _make_dir(os.path.join(self.log_dir, folder))
        _write_atomically(
            os.path.join(path, "tensors.tsv"),
            "".join("\t".join(repr(float(x)) for x in row) + "\n" for row in points),
        )
        entry = [f'  tensor_name: "{_pbtxt(tag)}:{step}"']
        if metadata is not None:
            rows = list(metadata)
            if len(rows) != len(points):
                raise ValueError(
                    f"add_embedding: {len(rows)} metadata rows for {len(points)} points"
                )
            lines = ["\t".join(map(str, metadata_header))] if metadata_header else []
            lines += [
                "\t".join(map(str, row)) if metadata_header else str(_label(row)) for row in rows
            ]
            _write_atomically(os.path.join(path, "metadata.tsv"), "\n".join(lines) + "\n")
            entry.append(f'  metadata_path: "{_pbtxt(folder)}/metadata.tsv"')
        if label_img is not None:
            images = _array(label_img)
            if images.ndim != 4 or len(images) != len(points):
                raise ValueError(
                    f"add_embedding: label_img must be (N, C, H, W) for {len(points)} points, "
                    f"got shape {images.shape}"
                )
            tiles = _as_uint8(images.transpose(0, 2, 3, 1))
            side = int(numpy.ceil(numpy.sqrt(len(tiles))))
            height, width = tiles.shape[1:3]
            sprite = numpy.zeros((side * height, side * width, tiles.shape[3]), numpy.uint8)
            for index, tile in enumerate(tiles):
                row, column = divmod(index, side)
                sprite[row * height : (row + 1) * height, column * width : (column + 1) * width] = (
                    tile
                )
            _write_atomically(os.path.join(path, "sprite.png"), encode_png(sprite))
            entry.append(
                f'  sprite {{\n    image_path: "{_pbtxt(folder)}/sprite.png"\n'
                f"    single_image_dim: {height}\n    single_image_dim: {width}\n  }}"
            )
        entry.append(f'  tensor_path: "{_pbtxt(folder)}/tensors.tsv"')
        self._embeddings.append("embeddings {\n" + "\n".join(entry) + "\n}\n")
        _write_atomically(
            os.path.join(self.log_dir, "projector_config.pbtxt"), "".join(self._embeddings)
        )

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's structure for TensorBoard's Graphs tab: one node per call of a leaf
        module (named by its place in the model, ``Net/Sequential[features]/Conv2d[0]``, with
        its output shape), edges where one's output feeds another (through any tensor ops
        between them), and the inputs and outputs. Found by running ``model`` once on
        ``input_to_model`` (a tensor or a tuple of them) with forward hooks."""
        nodes = _module_graph(model, input_to_model)
        graph = b"".join(_bytes_field(1, _node_def(*node)) for node in nodes)
        graph += _bytes_field(4, _int_field(1, 22))  # versions { producer: 22 }
        self._file.write(_event(step=0) + _bytes_field(4, graph))  # Event.graph_def

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Text (Markdown) under ``tag``: TensorBoard's Text tab shows ``tag/text_summary``."""
        metadata = _bytes_field(1, _bytes_field(1, "text"))  # plugin_data { plugin_name: "text" }
        tensor = (
            _int_field(1, 7)  # dtype: DT_STRING
            + _bytes_field(2, _bytes_field(2, _int_field(1, 1)))  # shape: [1]
            + _bytes_field(8, text_string)
        )
        summary = _value(f"{tag}/text_summary", lambda t: _bytes_field(8, t), tensor, metadata)
        self._write(summary, global_step, walltime)

    def add_hparams(
        self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None
    ):
        """One run's hyperparameters (numbers, strings, bools) and its resulting metrics, for
        TensorBoard's HParams tab, written (as PyTorch's) to the sub-run ``run_name`` (default:
        the current time) with each metric also as a scalar there."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        run = _make_dir(os.path.join(self.log_dir, run_name or str(time.time())))
        writer = _EventFile(run, self.filename_suffix)
        try:
            for summary in _hparams_summaries(
                hparam_dict, metric_dict, hparam_domain_discrete or {}
            ):
                writer.write(_event(summary=summary))
            for tag, value in metric_dict.items():
                number = _number(value, f"add_hparams metric {tag!r}")
                summary = _value(tag, lambda v: _float_field(2, v), number)
                writer.write(_event(summary=summary, step=global_step))
        finally:
            writer.close()

    def flush(self):
        """Records are flushed as they are written; kept for compatibility."""

    def close(self):
        self._file.close()
        for child in self._children.values():
            child.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _write_atomically(path, content):
    """Write ``content`` (text or bytes) to a temporary file beside ``path``, then rename it
    into place: a reader never sees half a file."""
    temporary = f"{path}.tmp{os.getpid()}"
    if isinstance(content, bytes):
        with open(temporary, "wb") as file:
            file.write(content)
    else:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(content)
    os.replace(temporary, path)


def _pbtxt(text):
    """A string for a protobuf text-format literal (backslashes and quotes escaped)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _label(value):
    """A metadata label: a tensor's or NumPy scalar's value, else the value itself."""
    if hasattr(value, "item") and getattr(value, "size", 1) in (1, None):
        return value.item()
    return value


def _node_def(name, op, inputs, shapes):
    """A ``NodeDef`` with its output shapes as the ``_output_shapes`` attribute."""
    node = _bytes_field(1, name) + _bytes_field(2, op)
    node += b"".join(_bytes_field(3, source) for source in inputs)
    dims = [b"".join(_bytes_field(2, _int_field(1, size)) for size in shape) for shape in shapes]
    attribute = _bytes_field(1, b"".join(_bytes_field(7, dim) for dim in dims))  # list.shape
    return node + _bytes_field(5, _bytes_field(1, "_output_shapes") + _bytes_field(2, attribute))


def _module_graph(model, inputs):
    """(name, op, input names, output shapes) per node: inputs, leaf-module calls, outputs."""
    from npgrad.autograd import enable_grad
    from npgrad.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, tuple | list) else (inputs,)
    root = type(model).__name__
    scopes = {}  # module -> its scope name, e.g. Net/Sequential[features]/Conv2d[0]
    for path, module in model.named_modules():
        if path:
            parent, _, part = path.rpartition(".")
            prefix = scopes[model.get_submodule(parent)] if parent else root
            scopes[module] = f"{prefix}/{type(module).__name__}[{part}]"
    producers, nodes, calls = {}, [], []
    for index, tensor in enumerate(inputs):
        nodes.append((f"input/input.{index}", "IO Node", [], [tensor.shape]))
        producers[id(tensor._data)] = f"input/input.{index}"

    def sources(tensor, seen):
        """The nodes whose outputs ``tensor`` was computed from (through recorded ops)."""
        if id(tensor._data) in producers:
            return [producers[id(tensor._data)]]
        ctx = tensor._ctx
        if ctx is None or id(ctx) in seen or ctx.parents is None:
            return []
        seen.add(id(ctx))
        found = []
        for parent in ctx.parents:
            if isinstance(parent, Tensor):
                found += [name for name in sources(parent, seen) if name not in found]
        return found

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda *call: calls.append(call)) for m in leaves]
    try:
        with enable_grad():
            # (detached views share their arrays: ``producers`` knows them already)
            fresh = [t.detach().requires_grad_(t.is_floating_point()) for t in inputs]
            output = model(*fresh)
    finally:
        for handle in handles:
            handle.remove()
    uses = {}
    for module, args, result in calls:
        scope = scopes.get(module, root)
        uses[scope] = uses.get(scope, 0) + 1
        name = scope if uses[scope] == 1 else f"{scope}.{uses[scope]}"  # a module called twice
        feeding = []
        for arg in args:
            if isinstance(arg, Tensor):
                feeding += [s for s in sources(arg, set()) if s not in feeding]
        results = result if isinstance(result, tuple | list) else (result,)
        tensors = [r for r in results if isinstance(r, Tensor)]
        nodes.append((name, type(module).__name__, feeding, [t.shape for t in tensors]))
        for tensor in tensors:
            producers[id(tensor._data)] = name
    outputs = output if isinstance(output, tuple | list) else (output,)
    for index, tensor in enumerate(t for t in outputs if isinstance(t, Tensor)):
        nodes.append((f"output/output.{index}", "IO Node", sources(tensor, set()), [tensor.shape]))
    return nodes


def _make_dir(path):
    os.makedirs(path, exist_ok=True)
    return path


# ----------------------------------------------------------------------- reading logs back


def _event_files(path):
    path = os.fspath(path)
    if os.path.isfile(path):
        return [path]
    found = []
    for folder, _, names in os.walk(path):
        found += [os.path.join(folder, n) for n in names if "tfevents" in n]
    return sorted(found)


def _read_summary_value(data):
    entry = {}
    for number, _, value in _decode(data):
        if number == 1:
            entry["tag"] = value.decode()
        elif number == 2:
            entry["kind"], entry["value"] = "scalar", struct.unpack("<f", value)[0]
        elif number == 4:
            image = {n: v for n, _, v in _decode(value)}
            entry["kind"] = "image"
            entry["value"] = {
                "height": image.get(1, 0),
                "width": image.get(2, 0),
                "channels": image.get(3, 0),
                "png": image.get(4, b""),
            }
        elif number == 5:
            fields = _decode(value)
            scalars = {n: struct.unpack("<d", v)[0] for n, wire, v in fields if wire == 1}
            arrays = {n: numpy.frombuffer(v, dtype="<f8") for n, wire, v in fields if wire == 2}
            entry["kind"] = "histogram"
            entry["value"] = {
                "min": scalars.get(1, 0.0),
                "max": scalars.get(2, 0.0),
                "num": scalars.get(3, 0.0),
                "sum": scalars.get(4, 0.0),
                "sum_squares": scalars.get(5, 0.0),
                "bucket_limit": arrays.get(6, numpy.zeros(0)),
                "bucket": arrays.get(7, numpy.zeros(0)),
            }
        elif number == 6:
            audio = {n: v for n, _, v in _decode(value)}
            entry["kind"] = "audio"
            entry["value"] = {
                "sample_rate": struct.unpack("<f", audio.get(1, b"\0\0\0\0"))[0],
                "channels": audio.get(2, 0),
                "frames": audio.get(3, 0),
                "wav": audio.get(4, b""),
            }
        elif number == 8:
            entry["kind"], entry["value"] = _read_tensor(value)
        elif number == 9 and "kind" not in entry:  # metadata: a plugin's record (hparams)
            plugin = {n: v for n, _, v in _decode(value)}.get(1, b"")
            fields = {n: v for n, _, v in _decode(plugin)}
            entry["kind"] = "plugin"
            entry["value"] = {"plugin": fields.get(1, b"").decode(), "content": fields.get(2, b"")}
    return entry


def _read_tensor(data):
    """A ``TensorProto``: ("text", str or list) for strings, ("tensor", array) for floats."""
    fields = _decode(data)
    dtype = next((v for n, _, v in fields if n == 1), 0)
    if dtype == 7:  # DT_STRING
        strings = [v.decode() for n, _, v in fields if n == 8]
        return "text", strings[0] if len(strings) == 1 else strings
    shape_message = next((v for n, _, v in fields if n == 2), b"")
    shape = [
        {m: v for m, _, v in _decode(dim)}.get(1, 0)
        for n, _, dim in _decode(shape_message)
        if n == 2
    ]
    values = b"".join(v for n, wire, v in fields if n == 5 and wire == 2)  # packed float_val
    return "tensor", numpy.frombuffer(values, dtype="<f4").reshape(shape)


def read_events(path):
    """Yield the events of a log: a file, or every event file under a folder. Each is a dict
    with ``wall_time``, ``step``, ``file``, and ``file_version`` or ``values`` (a list of
    {"tag", "kind", "value"}: scalars as floats, histograms and images as dicts, text as str).
    """
    for file in _event_files(path):
        for data in _records(file):
            event = {"wall_time": 0.0, "step": 0, "file": file}
            for number, _, value in _decode(data):
                if number == 1:
                    event["wall_time"] = struct.unpack("<d", value)[0]
                elif number == 2:
                    event["step"] = value - (1 << 64) if value >= 1 << 63 else value
                elif number == 3:
                    event["file_version"] = value.decode()
                elif number == 5:
                    event["values"] = [
                        _read_summary_value(v) for n, _, v in _decode(value) if n == 1
                    ]
            yield event


def read_scalars(path):
    """The scalars of a log as {tag: [(step, value), ...]} in the order written. Under a folder
    with sub-runs (``add_scalars``), the tags of a sub-run are prefixed with its folder."""
    root = os.fspath(path)
    curves = {}
    for event in read_events(root):
        run = os.path.relpath(os.path.dirname(event["file"]), root) if os.path.isdir(root) else "."
        for entry in event.get("values", ()):
            if entry.get("kind") == "scalar":
                tag = entry["tag"] if run == "." else f"{run}/{entry['tag']}"
                curves.setdefault(tag, []).append((event["step"], entry["value"]))
    return curves
