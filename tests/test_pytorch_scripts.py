"""Real PyTorch scripts, with only the imports changed to npgrad, run unmodified.

tests/pytorch_scripts/ holds PyTorch's examples/mnist/main.py (its own CNN, torchvision's
datasets.MNIST and transforms, on MNIST-format files of the bundled digits scaled up to
28x28), of the "Learn the basics" quickstart (on MNIST-1D), and a nanoGPT-style character
transformer: device selection, DataLoader, nn.Module subclasses,
F.nll_loss, Adadelta + StepLR, torch.save/load, causal attention with a tril buffer and
masked_fill(-inf), AdamW, clip_grad_norm_, topk and multinomial sampling all go through npgrad
unchanged; so does a language model in the style of the nn.Transformer tutorial
(nn.TransformerEncoder, a positional-encoding buffer, SGD + StepLR), a text classifier on
packed variable-length sequences, a convolutional autoencoder, the DCGAN tutorial's loop, a
WGAN-GP loop (a gradient penalty through autograd.grad(create_graph=True)), a CTC sequence
recognizer (nn.CTCLoss, gradient checkpointing, TensorBoard logging) and the transfer-learning
tutorial's ResNet-18 fine-tuning (torchvision's models and transforms, StepLR, set_grad_enabled)
and pygcn's graph convolutional network (a sparse adjacency matrix, torch.spmm).
The same files run on PyTorch with the imports switched back.
"""

import math
import pathlib
import runpy

import pytest

SCRIPTS = pathlib.Path(__file__).resolve().parent / "pytorch_scripts"


def _digits_as_mnist_files(raw):
    """The bundled 8x8 digits scaled up to 28x28 (each pixel 3x3, a 2-pixel border), written as
    MNIST's four gzipped IDX files: what datasets.MNIST finds in ../data/MNIST/raw."""
    import gzip

    import numpy as np

    from npgrad.data import datasets

    data = datasets.digits()
    raw.mkdir(parents=True)
    for prefix, x, y in (("train", data.x_train, data.y_train), ("t10k", data.x_test, data.y_test)):
        images = np.rint(x.reshape(-1, 8, 8) * 255).astype(np.uint8).repeat(3, 1).repeat(3, 2)
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
        for kind, array in (("images-idx3", images), ("labels-idx1", y.astype(np.uint8))):
            header = bytes([0, 0, 8, array.ndim]) + b"".join(
                n.to_bytes(4, "big") for n in array.shape
            )
            (raw / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))


def test_mnist_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    _digits_as_mnist_files(tmp_path / "data" / "MNIST" / "raw")
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    module = runpy.run_path(str(SCRIPTS / "mnist_example.py"))
    accuracy = module["main"](["--epochs", "1"])
    assert accuracy > 0.5  # the example's CNN, one epoch (23 steps) on 28x28 digits
    out = capsys.readouterr().out
    assert "Train Epoch: 1 [0/1438 (0%)]" in out and "Test set: Average loss" in out
    assert (tmp_path / "run" / "mnist_cnn.pt").exists()


def test_quickstart(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUICKSTART_EPOCHS", "1")
    runpy.run_path(str(SCRIPTS / "quickstart.py"))
    out = capsys.readouterr().out
    assert "Using cpu device" in out and "Shape of X [N, L]: (64, 40)" in out
    assert "Accuracy:" in out and 'Predicted: "tensor(' in out


def test_tiny_gpt(tmp_path, monkeypatch, capsys):
    """A nanoGPT-style character model: causal attention with a tril mask, AdamW, sampling."""
    monkeypatch.chdir(tmp_path)
    module = runpy.run_path(str(SCRIPTS / "tiny_gpt.py"))
    first, last = module["main"](max_iters=120)
    assert first > 2.0 and last < 0.5, (first, last)
    out = capsys.readouterr().out
    assert "number of parameters: 26.88K" in out


def test_transformer_language_model(capsys):
    """The nn.Transformer tutorial's model: TransformerEncoder, positional-encoding buffer,
    square subsequent mask, SGD + StepLR, clip_grad_norm_, perplexity."""
    module = runpy.run_path(str(SCRIPTS / "transformer_lm.py"))
    history = module["main"](epochs=3)
    # 9 words; the grammar leaves about 0.7 nats per word to chance (perplexity ~2)
    assert history[0] < 1.6 and history[-1] < history[0] and history[-1] < 1.1, history
    assert "| end of epoch   3 |" in capsys.readouterr().out


def test_custom_autograd_functions(capsys):
    """The tutorial's MyReLU and LegendrePolynomial3: forward/backward written on Tensors."""
    module = runpy.run_path(str(SCRIPTS / "custom_function.py"))
    final_loss = module["main"](steps=2000)
    assert final_loss < 12.0
    assert "Result: y = " in capsys.readouterr().out


def test_textbook_notebook_idioms(capsys):
    module = runpy.run_path(str(SCRIPTS / "d2l_style.py"))
    assert float(module["train_l"].mean()) < 1e-3  # linear regression from scratch converged
    assert float(module["l"]) < 1e-3  # and the concise version
    labels = module["torch"].tensor([0, 2])
    assert module["accuracy"](module["y_hat"], labels) == 1.0  # the script's count of correct
    assert "error in estimating w" in capsys.readouterr().out


def test_text_classifier_on_packed_sequences(capsys):
    """Padding collate_fn, pack_padded_sequence into a bidirectional LSTM, a weighted sampler,
    GradScaler + autocast, gradient clipping, CosineAnnealingWarmRestarts stepped per batch."""
    module = runpy.run_path(str(SCRIPTS / "text_classifier.py"))
    accuracies = module["main"](epochs=3)
    assert max(accuracies) > 0.9, accuracies  # PyTorch on the same file: 0.93-0.98
    assert "epoch 3: loss" in capsys.readouterr().out


def test_conv_autoencoder(capsys):
    """Strided convolutions with GroupNorm, a depthwise-separable block, ConvTranspose2d,
    InstanceNorm2d, bilinear Upsample, ReflectionPad2d, RAdam with SequentialLR."""
    module = runpy.run_path(str(SCRIPTS / "conv_autoencoder.py"))
    losses = module["main"](epochs=6)
    assert losses[-1] < 0.6 * losses[0], losses  # PyTorch: 0.27 -> 0.12 over these 6 epochs
    assert "epoch 6: reconstruction MSE" in capsys.readouterr().out


def test_dcgan_training_loop(tmp_path, monkeypatch, capsys):
    """PyTorch's DCGAN tutorial loop: weights_init via apply, a label refilled in place between
    losses (the autograd version check must not object), fake.detach(), save/load."""
    monkeypatch.chdir(tmp_path)
    module = runpy.run_path(str(SCRIPTS / "dcgan.py"))
    history, samples = module["main"](iterations=60)
    d_x = [step[2] for step in history]
    assert all(map(math.isfinite, (value for step in history for value in step)))
    # the discriminator learns to tell the blobs (PyTorch on this file: D(x) 0.45 at the first
    # step, 0.7-0.86 later; npgrad 0.41, then 0.68-0.82)
    assert sum(d_x[-10:]) / 10 > d_x[0] + 0.15, d_x
    assert samples.shape == (16, 1, 16, 16) and (tmp_path / "dcgan.pt").exists()
    assert "[40/60] Loss_D:" in capsys.readouterr().out


def test_wgan_gp_training_loop(capsys):
    """WGAN-GP: the gradient penalty through autograd.grad(create_graph=True), backpropagated
    into the critic with the Wasserstein loss; the generator moves its samples onto the ring."""
    module = runpy.run_path(str(SCRIPTS / "wgan_gp.py"))
    history = module["main"](iterations=150)
    assert all(map(math.isfinite, (value for step in history for value in step)))
    radii = [step[2] for step in history]
    # PyTorch on this file: radius 0.20 at the first step, 0.90 at the last; npgrad 0.20, 0.91
    assert radii[0] < 0.4 and 0.7 < sum(radii[-20:]) / 20 < 1.3, radii
    assert "[100/150] Loss_D:" in capsys.readouterr().out


def test_ctc_recognizer(tmp_path, capsys):
    """A CRNN-style recognizer: nn.CTCLoss on log-probabilities (T, N, C) with concatenated
    targets, a bidirectional LSTM, a conv front end under torch.utils.checkpoint, greedy CTC
    decoding, and a torch.utils.tensorboard SummaryWriter."""
    from npgrad.viz import read_scalars

    module = runpy.run_path(str(SCRIPTS / "ctc_recognizer.py"))
    history = module["main"](iterations=200, log_dir=str(tmp_path))
    # PyTorch on this file: sequence accuracy 0.00, 0.00, 0.82, 1.00 at iterations 50-200
    assert history[0][1] < 0.2 and history[-1][1] > 0.9, history
    curves = read_scalars(tmp_path / "ctc")
    assert len(curves["loss/train"]) == 200 and len(curves["accuracy/sequence"]) == 4
    assert curves["loss/train"][-1][1] < 0.2 * curves["loss/train"][0][1]
    assert "iteration 200: CTC loss" in capsys.readouterr().out


def test_resnet_transfer_learning_tutorial(tmp_path, monkeypatch, capsys):
    """The transfer-learning tutorial's loop: a ResNet-18 fine-tuned whole and as a frozen
    feature extractor, from "pretrained" weights that here are random ones in the hub cache
    under torchvision's file name (no network)."""
    import npgrad
    from npgrad.vision import models

    monkeypatch.setenv("NPGRAD_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    npgrad.manual_seed(1)
    npgrad.save(models.resnet18().state_dict(), cached, format="torch")
    module = runpy.run_path(str(SCRIPTS / "finetune_resnet.py"))
    finetuned, fixed = module["main"](num_epochs=3)
    assert finetuned > 0.9 and fixed > 0.75, (finetuned, fixed)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "val Loss:" in out and "Best val Acc:" in out


def test_gcn(capsys):
    """pygcn's GCN: torch.sparse.FloatTensor adjacency, torch.spmm, row-normalised features,
    Adam with weight decay, dropout; a planted partition graph with 80 labelled nodes."""
    module = runpy.run_path(str(SCRIPTS / "gcn.py"))
    accuracy = module["main"]()
    assert accuracy > 0.8, accuracy  # PyTorch: 0.9075 on the same script and graph
    out = capsys.readouterr().out
    assert "GraphConvolution (300 -> 16)" in out and "Optimization Finished!" in out
