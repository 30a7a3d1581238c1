"""The shipped examples run and reach what their docs promise."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_learns():
    outputs = load("xor").train(verbose=False)
    assert outputs[0] < 0.1 and outputs[3] < 0.1, outputs
    assert outputs[1] > 0.9 and outputs[2] > 0.9, outputs


def test_xor_with_nn_modules_learns():
    outputs = load("xor_nn").train(verbose=False)
    assert outputs[0] < 0.1 and outputs[3] < 0.1, outputs
    assert outputs[1] > 0.9 and outputs[2] > 0.9, outputs


def test_spirals_reach_98_percent_training_accuracy():
    assert load("spirals").train(verbose=0) >= 0.98


def test_a_transformer_learns_to_sort():
    # the example trains 600 steps (100 % of test sequences); 200 steps already sort most
    assert load("sort_transformer").train(steps=200, verbose=False) > 0.9


def test_transferred_features_beat_training_from_scratch():
    results = load("transfer_learning").run(verbose=False)
    assert results["transferred"] > results["scratch"] + 0.08, results
    assert results["transferred"] > 0.5, results
