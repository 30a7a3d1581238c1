"""Collection settings for the test suite."""

# The PyTorch-style scripts are whole programs (they train, print and save files when imported):
# tests/test_pytorch_scripts.py runs each one in a temporary directory. --doctest-modules must
# not import them while collecting.
collect_ignore = ["pytorch_scripts"]
