"""The npgrad command: main job, save/eval/predict, and one-line errors for user mistakes."""

import subprocess
import sys

import numpy as np

from npgrad.cli import main


def test_train_spirals_prints_accuracy(capsys):
    assert main(["train", "--dataset", "spirals", "--quiet"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 98.0, out


def test_save_eval_predict(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert (
        main(["train", "--dataset", "blobs", "--epochs", "5", "--quiet", "--save", str(model)]) == 0
    )
    assert main(["eval", str(model)]) == 0
    assert "blobs test accuracy" in capsys.readouterr().out
    inputs = tmp_path / "x.csv"
    np.savetxt(inputs, [[0.0, 1.0], [5.0, -3.0]], delimiter=",")
    assert main(["predict", str(model), str(inputs), "--output", str(tmp_path / "y.txt")]) == 0
    assert len((tmp_path / "y.txt").read_text().split()) == 2


def test_user_mistakes_are_one_line_errors(tmp_path, capsys):
    cases = [
        (["train", "--dataset", "imagenet"], "unknown dataset"),
        (["train", "--lr", "-1"], "must be positive"),
        (["train", "--hidden", "a,b"], "--hidden"),
        (["eval", str(tmp_path / "nothing.npz")], "no such file"),
        (["train", "--bogus"], "unrecognized arguments"),
    ]
    for argv, expected in cases:
        assert main(argv) != 0
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_console_script_lists_datasets():
    result = subprocess.run(
        [sys.executable, "-m", "npgrad.cli", "datasets"], capture_output=True, text=True, check=True
    )
    assert "mnist1d" in result.stdout and "digits" in result.stdout


def test_cnn_model_saves_and_evaluates(tmp_path, capsys):
    model = tmp_path / "cnn.npz"
    argv = ["train", "--model", "cnn", "--epochs", "2", "--quiet", "--save", str(model)]
    assert main(argv) == 0
    assert main(["eval", str(model)]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("digits test accuracy: ")[1].split("%")[0])
    assert accuracy > 80.0, out  # two epochs of the small CNN on the bundled digits
    assert main(["train", "--dataset", "spirals", "--model", "cnn"]) == 2
    assert "needs image or sequence data" in capsys.readouterr().err
