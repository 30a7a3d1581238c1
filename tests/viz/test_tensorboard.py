"""TensorBoard event logs: the record format (CRC-32C, framing, protobuf), each kind of summary
read back, corrupt and unfinished files, the Trainer callback, and TensorBoard's own reader."""

import io
import os
import struct
import wave
import zlib

import numpy as np
import pytest

import npgrad
from npgrad.errors import SerializationError
from npgrad.train import TensorBoard, Trainer
from npgrad.utils.tensorboard import SummaryWriter
from npgrad.viz import read_events, read_scalars
from npgrad.viz.tensorboard import crc32c, encode_png


def _decode_png(data):
    """Pixels of a PNG written by ``encode_png`` (8-bit, filter 0 on every row)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, channels)


def test_crc32c_and_png():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_png(encode_png(image)), image)


def test_summaries_read_back(tmp_path):
    rng = np.random.default_rng(1)
    weights = rng.standard_normal(1000)
    image = rng.random((3, 6, 4))  # CHW floats in [0, 1]
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("loss/train", npgrad.tensor(1.0 / (step + 1)), step)
        writer.add_histogram("weights", weights, 7)
        writer.add_histogram("weights_10", weights, 7, bins=10)
        writer.add_image("image", image, 2)
        writer.add_images("batch", rng.random((10, 1, 4, 4)), 2)
        writer.add_text("notes", "lr **0.1**", 0)
    events = list(read_events(tmp_path))
    assert events[0]["file_version"] == "brain.Event:2"
    values = {e["values"][0]["tag"]: (e["step"], e["values"][0]) for e in events if "values" in e}
    assert read_scalars(tmp_path) == {
        "loss/train": [(0, 1.0), (1, 0.5), (2, np.float32(1 / 3).item())]
    }
    step, histogram = values["weights"]
    assert step == 7 and histogram["kind"] == "histogram"
    hist = histogram["value"]
    assert hist["num"] == 1000 and hist["bucket"].sum() == 1000
    assert hist["min"] == weights.min() and hist["max"] == weights.max()
    np.testing.assert_allclose(hist["sum_squares"], (weights**2).sum())
    limits = hist["bucket_limit"]
    counted = [
        ((weights <= hi) & (weights > lo)).sum()
        for lo, hi in zip(limits[:-1], limits[1:], strict=True)
    ]
    np.testing.assert_array_equal(hist["bucket"][1:], counted)  # right-closed buckets
    np.testing.assert_array_equal(
        values["weights_10"][1]["value"]["bucket"], np.histogram(weights, 10)[0]
    )
    picture = values["image"][1]["value"]
    assert (picture["height"], picture["width"], picture["channels"]) == (6, 4, 3)
    expected = np.clip(image.transpose(1, 2, 0) * 255, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_decode_png(picture["png"]), expected)
    grid = values["batch"][1]["value"]
    assert (grid["height"], grid["width"], grid["channels"]) == (8, 32, 1)  # 8 a row, 2 rows
    assert values["notes/text_summary"][1] == {
        "tag": "notes/text_summary",
        "kind": "text",
        "value": "lr **0.1**",
    }


def test_add_scalars_writes_one_sub_run_per_curve(tmp_path):
    writer = SummaryWriter(tmp_path)
    for step in range(2):
        writer.add_scalars("accuracy", {"train": 0.5 + step, "val": 0.25}, step)
    writer.close()
    assert sorted(os.listdir(tmp_path))[:2] == ["accuracy_train", "accuracy_val"]
    assert read_scalars(tmp_path) == {
        "accuracy_train/accuracy": [(0, 0.5), (1, 1.5)],
        "accuracy_val/accuracy": [(0, 0.25), (1, 0.25)],
    }


def test_an_unfinished_last_record_is_skipped_and_a_corrupt_one_named(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("a", 1.0, 0)
        writer.add_scalar("a", 2.0, 1)
        path = writer._file.path
    with open(path, "rb") as file:
        content = file.read()
    with open(path, "wb") as file:
        file.write(content[:-5])  # the writer died in the middle of the last record
    assert read_scalars(tmp_path) == {"a": [(0, 1.0)]}
    damaged = bytearray(content)
    damaged[-8] ^= 0xFF  # a flipped bit in the last record's data
    with open(path, "wb") as file:
        file.write(bytes(damaged))
    with pytest.raises(SerializationError, match="corrupt event record"):
        read_scalars(tmp_path)


def test_writer_errors_say_what_is_wrong(tmp_path):
    writer = SummaryWriter(tmp_path)
    with pytest.raises(ValueError, match="one number"):
        writer.add_scalar("loss", np.ones(3), 0)
    with pytest.raises(ValueError, match="dataformats"):
        writer.add_image("image", np.zeros((2, 3, 4, 5)), 0)
    with pytest.raises(ValueError, match="finite"):
        writer.add_histogram("empty", np.array([np.nan]), 0)
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.add_scalar("loss", 1.0, 0)


def test_default_log_dir_and_purge_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1", purge_step=5)
    writer.close()
    assert writer.get_logdir().startswith("runs") and writer.get_logdir().endswith("_lr0.1")
    events = list(read_events(writer.get_logdir()))
    assert [e["step"] for e in events] == [0, 5]


def test_trainer_callback_logs_train_and_validation_runs(tmp_path):
    npgrad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = npgrad.nn.Sequential(npgrad.nn.Linear(2, 4), npgrad.nn.ReLU(), npgrad.nn.Linear(4, 2))
    trainer = Trainer(
        model,
        npgrad.nn.CrossEntropyLoss(),
        npgrad.optim.SGD(model.parameters(), lr=0.1),
        metrics=["accuracy"],
    )
    callback = TensorBoard(tmp_path, histogram_freq=2)
    history = trainer.fit(
        x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[callback], verbose=0
    )
    curves = read_scalars(tmp_path)
    assert [v for _, v in curves["train/epoch_loss"]] == pytest.approx(history.history["loss"])
    assert [s for s, _ in curves["validation/epoch_accuracy"]] == [0, 1, 2]
    histograms = [
        (e["step"], v["tag"]) for e in read_events(tmp_path / "train") for v in e.get("values", ())
        if v["kind"] == "histogram"
    ]  # fmt: skip
    assert histograms == [(1, name) for name, _ in model.named_parameters()]


def test_tensorboard_reads_the_logs(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("loss", 0.25, 3)
        writer.add_histogram("weights", np.arange(10.0), 3)
        writer.add_image("image", np.zeros((4, 5), np.uint8), 3, dataformats="HW")
        writer.add_text("notes", "hello", 3)
    events = accumulator.EventAccumulator(
        str(tmp_path), size_guidance={"images": 0, "histograms": 0, "tensors": 0}
    )
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [(3, 0.25)]
    assert events.Histograms("weights")[0].histogram_value.num == 10
    image = events.Images("image")[0]
    assert (image.width, image.height) == (5, 4)
    assert events.Tensors("notes/text_summary")[0].tensor_proto.string_val == [b"hello"]


def test_add_hparams_writes_a_sub_run_with_the_plugin_records_and_metrics(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams(
            {"lr": 0.1, "batch": 32, "optimizer": "adam", "batch_norm": True},
            {"hparam/accuracy": 0.75, "hparam/loss": npgrad.tensor(0.5)},
            hparam_domain_discrete={"optimizer": ["adam", "sgd"]},
            run_name="trial-1",
        )
        with pytest.raises(TypeError, match="dicts"):
            writer.add_hparams([("lr", 0.1)], {})
    assert read_scalars(tmp_path) == {
        "trial-1/hparam/accuracy": [(0, 0.75)],
        "trial-1/hparam/loss": [(0, 0.5)],
    }
    records = {
        v["tag"]: v["value"]
        for e in read_events(tmp_path / "trial-1")
        for v in e.get("values", ())
        if v["kind"] == "plugin"
    }
    assert sorted(records) == [
        "_hparams_/experiment",
        "_hparams_/session_end_info",
        "_hparams_/session_start_info",
    ]
    assert all(r["plugin"] == "hparams" for r in records.values())
    assert b"optimizer" in records["_hparams_/experiment"]["content"]
    plugin_data = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")
    start = plugin_data.HParamsPluginData.FromString(
        records["_hparams_/session_start_info"]["content"]
    ).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["batch_norm"].bool_value is True
    experiment = plugin_data.HParamsPluginData.FromString(
        records["_hparams_/experiment"]["content"]
    ).experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/accuracy", "hparam/loss"]
    discrete = [i for i in experiment.hparam_infos if i.name == "optimizer"][0].domain_discrete
    assert [v.string_value for v in discrete.values] == ["adam", "sgd"]


def test_pr_curve_counts_and_audio_clip(tmp_path):
    rng = np.random.default_rng(3)
    labels, predictions = rng.integers(0, 2, 200), rng.random(200)
    clip = 0.5 * np.sin(np.linspace(0, 60, 4000))
    with SummaryWriter(tmp_path) as writer:
        writer.add_pr_curve("pr", labels, predictions, 1, num_thresholds=11)
        writer.add_audio("clip", clip, 1, sample_rate=8000)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            writer.add_pr_curve("bad", labels, predictions * 2, 1)
    values = {v["tag"]: v for e in read_events(tmp_path) for v in e.get("values", ())}
    curve = values["pr"]["value"]
    assert values["pr"]["kind"] == "tensor" and curve.shape == (6, 11)
    tp, fp, tn, fn, precision, recall = curve
    for index, threshold in enumerate(np.arange(11) / 10):
        predicted = np.floor(predictions * 10) >= index  # bucket floor(10 p) at or above i
        assert (
            tp[index] == (predicted & (labels == 1)).sum()
            and fn[index] == (~predicted & (labels == 1)).sum()
        ), threshold
        assert fp[index] == (predicted & (labels == 0)).sum()
        assert tn[index] == (~predicted & (labels == 0)).sum()
    np.testing.assert_allclose(recall[0], 1.0)
    np.testing.assert_allclose(precision[0], labels.mean(), rtol=1e-6)
    audio = values["clip"]["value"]
    assert (audio["sample_rate"], audio["channels"], audio["frames"]) == (8000, 1, 4000)
    with wave.open(io.BytesIO(audio["wav"])) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    np.testing.assert_array_equal(frames, (clip * 32767).astype(np.int16))
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(tmp_path), size_guidance={"audio": 0, "tensors": 0})
    events.Reload()
    assert events.Tags()["audio"] == ["clip"] and "pr" in events.PluginTagToContent("pr_curves")


def test_add_embedding_writes_the_projector_files(tmp_path):
    rng = np.random.default_rng(4)
    points = rng.standard_normal((5, 3))
    thumbnails = rng.random((5, 1, 4, 4))
    with SummaryWriter(tmp_path) as writer:
        writer.add_embedding(points, metadata=[0, 1, 1, 0, 2], label_img=thumbnails, tag="digits")
        writer.add_embedding(
            npgrad.tensor(points[:2]), metadata=[("a", 1), ("b", 2)], metadata_header=["name", "n"],
            global_step=3,
        )  # fmt: skip
        with pytest.raises(ValueError, match="metadata rows"):
            writer.add_embedding(points, metadata=[1, 2])
    folder = tmp_path / "00000" / "digits"
    saved = np.loadtxt(folder / "tensors.tsv", delimiter="\t")
    np.testing.assert_array_equal(saved, points)
    assert (folder / "metadata.tsv").read_text() == "0\n1\n1\n0\n2\n"
    sprite = _decode_png((folder / "sprite.png").read_bytes())
    assert sprite.shape == (12, 12, 1)  # 3 x 3 tiles of 4 x 4
    expected = np.clip(thumbnails[1, 0] * 255, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(sprite[:4, 4:8, 0], expected)
    assert (tmp_path / "00003" / "default" / "metadata.tsv").read_text() == "name\tn\na\t1\nb\t2\n"
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert config.count("embeddings {") == 2 and 'tensor_name: "digits:00000"' in config
    projector = pytest.importorskip("tensorboard.plugins.projector.projector_config_pb2")
    text_format = pytest.importorskip("google.protobuf.text_format")
    parsed = text_format.Parse(config, projector.ProjectorConfig())
    assert [e.tensor_path for e in parsed.embeddings] == [
        "00000/digits/tensors.tsv",
        "00003/default/tensors.tsv",
    ]
    assert list(parsed.embeddings[0].sprite.single_image_dim) == [4, 4]


class _GraphNet(npgrad.nn.Module):
    def __init__(self):
        super().__init__()
        nn = npgrad.nn
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.fc1, self.fc2 = nn.Linear(36, 10), nn.Linear(10, 2)

    def forward(self, x):
        hidden = npgrad.nn.functional.relu(self.fc1(self.features(x).flatten(1)))
        return self.fc2(hidden) + self.fc2(hidden)  # fc2 called twice


def test_add_graph_links_module_calls_through_tensor_ops(tmp_path):
    from npgrad.viz.tensorboard import _module_graph

    nodes = {name: (op, inputs, shapes) for name, op, inputs, shapes in _module_graph(
        _GraphNet(), npgrad.randn(2, 1, 8, 8)
    )}  # fmt: skip
    conv = "_GraphNet/Sequential[features]/Conv2d[0]"
    assert nodes[conv] == ("Conv2d", ["input/input.0"], [(2, 4, 6, 6)])
    assert nodes["_GraphNet/Linear[fc1]"][1] == ["_GraphNet/Sequential[features]/MaxPool2d[2]"]
    assert nodes["_GraphNet/Linear[fc2].2"][1] == ["_GraphNet/Linear[fc1]"]  # through F.relu
    assert nodes["output/output.0"][1] == ["_GraphNet/Linear[fc2]", "_GraphNet/Linear[fc2].2"]
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(_GraphNet(), npgrad.randn(2, 1, 8, 8))
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    graph = {node.name: node for node in events.Graph().node}
    assert list(graph[conv].input) == ["input/input.0"] and graph[conv].op == "Conv2d"
    shape = graph[conv].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [2, 4, 6, 6]
