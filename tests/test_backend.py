"""backend: opt-in malloc tuning (run in subprocesses: it changes the whole process)."""

import os
import platform
import subprocess
import sys

import pytest

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

FAULTS_OF_REALLOCATING = """
import resource, numpy as np, npgrad
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def step():  # a training step's pattern: several large arrays, all freed at its end
    arrays = [np.ones(4 << 20, np.uint8) for _ in range(6)]
for _ in range(3):
    step()
before = faults()
for _ in range(20):
    step()
print(faults() - before)
"""


def _run(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_tuned_malloc_reuses_a_freed_block_instead_of_faulting_it_back():
    tuned = int(_run(FAULTS_OF_REALLOCATING, NPGRAD_TUNE_MALLOC="1"))
    untuned = int(_run(FAULTS_OF_REALLOCATING, NPGRAD_TUNE_MALLOC="0"))
    assert tuned < 100  # faulting 20 x 24 MiB back in would be ~120,000 page faults
    assert untuned > tuned


def test_tune_malloc_says_whether_it_applied():
    applied = _run("import npgrad; print(npgrad.backend.tune_malloc())")
    assert applied == str(GLIBC)
