"""The ``npgrad`` command: ``train``, ``eval``, ``predict`` and ``datasets``.

``npgrad train`` with no arguments trains an MLP on an offline dataset (digits when scikit-learn
is installed, else MNIST-1D) and prints its test accuracy. User mistakes (bad options, missing
files, unknown datasets) end with a one-line message and a non-zero exit, never a traceback.
"""

import argparse
import sys
import time

import numpy

import npgrad
from npgrad import nn
from npgrad.data import datasets
from npgrad.errors import NpgradError

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}
OPTIMIZERS = {
    "adam": npgrad.optim.Adam,
    "adamw": npgrad.optim.AdamW,
    "sgd": npgrad.optim.SGD,
    "rmsprop": npgrad.optim.RMSprop,
    "adagrad": npgrad.optim.Adagrad,
}
# Settings that train each dataset well with an MLP; any of them can be overridden by an option.
DATASET_DEFAULTS = {
    "digits": {"hidden": [256], "epochs": 30, "lr": 1e-3, "batch_size": 32},
    "mnist1d": {"hidden": [100, 100], "epochs": 150, "lr": 1e-2, "batch_size": 100},  # the paper's
    "spirals": {"hidden": [100, 100], "epochs": 150, "lr": 1e-2, "batch_size": 32},
    "moons": {"hidden": [32, 32], "epochs": 80, "lr": 1e-2, "batch_size": 32},
    "circles": {"hidden": [32, 32], "epochs": 80, "lr": 1e-2, "batch_size": 32},
    "blobs": {"hidden": [32], "epochs": 40, "lr": 1e-2, "batch_size": 32},
    "xor": {"hidden": [8], "epochs": 300, "lr": 5e-2, "batch_size": 4},
    "mnist": {"hidden": [256, 128], "epochs": 10, "lr": 1e-3, "batch_size": 128},
    "fashion_mnist": {"hidden": [256, 128], "epochs": 10, "lr": 1e-3, "batch_size": 128},
}


class UsageError(Exception):
    """A mistake in the command line, reported in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def default_dataset():
    """digits when scikit-learn is installed, else MNIST-1D (both offline)."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "mnist1d"
    return "digits"


# CNN settings; the shape each flattened sample is viewed as by the CNN (channels first).
CNN_DEFAULTS = {
    "mnist1d": {"epochs": 150, "lr": 1e-2, "batch_size": 100},  # the paper's CNN row: ~94 %
    "digits": {"epochs": 20, "lr": 1e-3, "batch_size": 32},
    "mnist": {"epochs": 3, "lr": 1e-3, "batch_size": 64},
    "fashion_mnist": {"epochs": 5, "lr": 1e-3, "batch_size": 64},
}
SAMPLE_SHAPES = {
    "mnist1d": (1, 40),
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
}

GENERATED = ("xor", "spirals", "moons", "circles", "blobs", "sine")
TEST_SEED_OFFSET = 10_000


def load_dataset(name, seed):
    """The dataset as ArrayData with a test split.

    Generated datasets are tested on an independent draw of the same size (seed + 10,000), which
    gives a far less noisy accuracy than a small held-out slice; XOR's test set is its truth table.
    """
    if name not in datasets.REGISTRY:
        raise UsageError(f"unknown dataset {name!r}; see `npgrad datasets`")
    if name not in GENERATED:
        return datasets.load(name)
    data = datasets.load(name) if name == "xor" else datasets.load(name, seed=seed)
    test = data if name == "xor" else datasets.load(name, seed=seed + TEST_SEED_OFFSET)
    data.x_test, data.y_test = test.x_train, test.y_train
    return data


def build_mlp(in_features, hidden, out_features, activation):
    """Linear -> activation blocks, then a Linear to ``out_features`` (a plain Sequential)."""
    layers = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        width = size
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def build_cnn(sample_shape, out_features):
    """A small CNN: three stride-2 Conv1d layers for sequences (MNIST-1D paper), or two
    conv + max-pool blocks for images; then linear layers to ``out_features``."""
    unflatten = nn.Unflatten(1, tuple(sample_shape))
    if len(sample_shape) == 2:  # (channels, length)
        length = sample_shape[1]
        for kernel, padding in ((5, 1), (3, 1), (3, 1)):
            length = (length + 2 * padding - kernel) // 2 + 1
        return nn.Sequential(
            unflatten,
            nn.Conv1d(sample_shape[0], 25, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(25 * length, out_features),
        )
    height, width = sample_shape[1] // 4, sample_shape[2] // 4
    return nn.Sequential(
        unflatten,
        nn.Conv2d(sample_shape[0], 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * height * width, 128),
        nn.ReLU(),
        nn.Linear(128, out_features),
    )


def build_model(config):
    """The network a CLI config describes (as saved in checkpoints)."""
    if config.get("model", "mlp") == "cnn":
        return build_cnn(config["sample_shape"], config["out_features"])
    return build_mlp(
        config["in_features"], config["hidden"], config["out_features"], config["activation"]
    )


def _parse_hidden(text):
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--hidden: expected sizes like 128,64, got {text!r}") from None
    if any(size <= 0 for size in sizes):
        raise UsageError(f"--hidden: layer sizes must be positive, got {text!r}")
    return sizes


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def command_train(args):
    name = args.dataset or default_dataset()
    if name == "sine":
        raise UsageError(
            "npgrad train classifies; sine is a regression dataset (use fit() in Python)"
        )
    if args.model not in ("mlp", "cnn"):
        raise UsageError(f"--model {args.model}: choose mlp or cnn")
    if args.model == "cnn" and name not in SAMPLE_SHAPES:
        raise UsageError(
            f"--model cnn needs image or sequence data ({', '.join(SAMPLE_SHAPES)}); {name} has "
            "plain feature vectors"
        )
    # this process only trains: keep freed memory for the next step instead of page-faulting
    # it back in (backend.tune_malloc; a no-op where the C library is not glibc)
    npgrad.backend.tune_malloc()
    settings = dict(DATASET_DEFAULTS.get(name, DATASET_DEFAULTS["digits"]))
    if args.model == "cnn":
        settings.update(CNN_DEFAULTS[name])
    for key in ("epochs", "lr", "batch_size"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.hidden is not None:
        settings["hidden"] = _parse_hidden(args.hidden)

    npgrad.manual_seed(args.seed)
    data = load_dataset(name, args.seed)
    normalize = npgrad.data.transforms.Normalize.fit(data.x_train.reshape(len(data.x_train), -1))
    x_train = normalize(data.x_train.reshape(len(data.x_train), -1))
    x_test = normalize(data.x_test.reshape(len(data.x_test), -1))
    config = {
        "model": args.model,
        "in_features": int(x_train.shape[1]),
        "hidden": settings["hidden"],
        "out_features": int(data.num_classes),
        "activation": args.activation,
        "sample_shape": list(SAMPLE_SHAPES.get(name, (x_train.shape[1],))),
    }
    model = build_model(config)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=settings["lr"])
    trainer = npgrad.train.Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"])
    if not args.quiet:
        parameters = sum(p.numel() for p in model.parameters())
        print(
            f"dataset {name}: {len(x_train)} train / {len(x_test)} test, {data.num_classes} classes"
        )
        print(
            f"model: MLP {x_train.shape[1]}-{'-'.join(map(str, settings['hidden']))}-"
            f"{data.num_classes} ({args.activation}), {parameters:,} parameters; "
            f"{args.optimizer} lr={settings['lr']}, {settings['epochs']} epochs, "
            f"batch {settings['batch_size']}"
        )
    start = time.perf_counter()
    trainer.fit(
        x_train,
        data.y_train,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        verbose=0 if args.quiet else 1,
    )
    elapsed = time.perf_counter() - start
    train_result = trainer.evaluate(x_train, data.y_train, batch_size=512)
    result = trainer.evaluate(x_test, data.y_test, batch_size=512)
    print(f"train accuracy: {train_result['accuracy']:.2%}")
    print(
        f"test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}, "
        f"trained in {elapsed:.1f}s)"
    )
    if args.save:
        checkpoint = {
            "kind": "npgrad-cli-mlp",
            "dataset": name,
            "seed": args.seed,
            "config": config,
            "normalize": {"mean": normalize.mean, "std": normalize.std},
            "class_names": list(data.class_names),
            "state_dict": model.state_dict(),
        }
        npgrad.save(checkpoint, args.save)
        print(f"saved the model to {args.save}")
    return 0


def _load_cli_model(path):
    try:
        checkpoint = npgrad.load(path)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != "npgrad-cli-mlp":
        raise UsageError(f"{path} is not a model saved by `npgrad train --save`")
    model = build_model(checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    normalize = npgrad.data.transforms.Normalize(
        checkpoint["normalize"]["mean"], checkpoint["normalize"]["std"]
    )
    return checkpoint, model, normalize


def command_eval(args):
    checkpoint, model, normalize = _load_cli_model(args.model_path)
    name = args.dataset or checkpoint["dataset"]
    data = load_dataset(name, checkpoint.get("seed", 0))
    x = normalize(data.x_test.reshape(len(data.x_test), -1))
    if x.shape[1] != checkpoint["config"]["in_features"]:
        raise UsageError(
            f"dataset {name} has {x.shape[1]} features, the model expects "
            f"{checkpoint['config']['in_features']}"
        )
    trainer = npgrad.train.Trainer(model, nn.CrossEntropyLoss(), None, metrics=["accuracy"])
    result = trainer.evaluate(x, data.y_test, batch_size=512)
    print(
        f"{name} test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}, "
        f"{len(x)} samples)"
    )
    return 0


def _read_inputs(path):
    if path.endswith(".npy"):
        return numpy.load(path, allow_pickle=False)
    if path.endswith(".csv") or path.endswith(".txt"):
        return numpy.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2)
    raise UsageError(f"{path}: inputs must be a .npy, .csv or .txt file")


def command_predict(args):
    checkpoint, model, normalize = _load_cli_model(args.model_path)
    try:
        inputs = _read_inputs(args.inputs).astype(numpy.float32)
    except FileNotFoundError:
        raise UsageError(f"no such file: {args.inputs}") from None
    inputs = inputs.reshape(len(inputs), -1)
    expected = checkpoint["config"]["in_features"]
    if inputs.shape[1] != expected:
        raise UsageError(
            f"{args.inputs}: rows have {inputs.shape[1]} values, the model expects {expected}"
        )
    with npgrad.no_grad():
        probabilities = model(npgrad.tensor(normalize(inputs))).softmax(dim=1).numpy()
    predicted = probabilities.argmax(axis=1)
    names = checkpoint.get("class_names") or []
    for row, label in enumerate(predicted):
        shown = f" ({names[label]})" if label < len(names) and names[label] != str(label) else ""
        print(f"{row}: class {label}{shown}, probability {probabilities[row, label]:.3f}")
    if args.output:
        numpy.savetxt(args.output, predicted, fmt="%d")
    return 0


def command_datasets(args):
    for name, summary in datasets.available().items():
        print(f"{name:<14} {summary}")
    return 0


def make_parser():
    parser = _Parser(prog="npgrad", description="Train, evaluate and run npgrad models.")
    parser.add_argument("--version", action="version", version=f"npgrad {npgrad.__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = commands.add_parser(
        "train",
        help="train an MLP on a dataset and print test accuracy",
        description="Train a network on a dataset and print its test accuracy. The process keeps "
        "freed memory for reuse (npgrad.backend.tune_malloc).",
    )
    train.add_argument(
        "--dataset", help="dataset name (default: digits, else mnist1d); see `npgrad datasets`"
    )
    train.add_argument(
        "--model", default="mlp", help="model family: mlp, or cnn for image/sequence data"
    )
    train.add_argument("--hidden", help="hidden layer sizes, e.g. 128,64")
    train.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS))
    train.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    train.add_argument("--lr", type=_positive(float), help="learning rate")
    train.add_argument("--epochs", type=_positive(int))
    train.add_argument("--batch-size", dest="batch_size", type=_positive(int))
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--save", metavar="PATH", help="save the trained model here (.npz)")
    train.add_argument("--quiet", action="store_true", help="print only the result")
    train.set_defaults(run=command_train)

    evaluate = commands.add_parser("eval", help="test accuracy of a saved model")
    evaluate.add_argument("model_path", metavar="MODEL")
    evaluate.add_argument("--dataset", help="dataset to evaluate on (default: the training one)")
    evaluate.set_defaults(run=command_eval)

    predict = commands.add_parser(
        "predict",
        help="classify the rows of a .npy/.csv file",
        description="Classify each row of INPUTS. Rows must be in the dataset's own scale, as "
        "npgrad.data.datasets returns it (e.g. digits pixels in [0, 1], not 0-16).",
    )
    predict.add_argument("model_path", metavar="MODEL")
    predict.add_argument("inputs", metavar="INPUTS")
    predict.add_argument("--output", help="write the predicted classes here, one per line")
    predict.set_defaults(run=command_predict)

    listing = commands.add_parser("datasets", help="list the available datasets")
    listing.set_defaults(run=command_datasets)
    return parser


def main(argv=None):
    """Entry point of the ``npgrad`` console script; returns the exit status."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (NpgradError, OSError, ImportError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"npgrad: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
