"""The README's Python snippets run as written (with fewer epochs, to stay fast)."""

import pathlib
import re

import npgrad
from npgrad.vision import models

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the fit example saves a file
    # offline: the pretrained ResNet's file is already in the hub cache (random weights)
    monkeypatch.setenv("NPGRAD_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    npgrad.save(models.resnet18().state_dict(), cached, format="torch")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3
    for i, block in enumerate(blocks):
        shortened = block.replace("epochs=200", "epochs=5").replace("range(20)", "range(1)")
        exec(compile(shortened, f"README block {i}", "exec"), {})
