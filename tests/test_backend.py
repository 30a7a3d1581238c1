"""backend: opt-in malloc tuning (in subprocesses: it changes the whole process), BLAS threads."""

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


# --------------------------------------------------------------- BLAS threads

BLAS_THREADS_AS_SEEN_BY_THREADPOOLCTL = """
import threadpoolctl, npgrad
npgrad.set_num_threads({count})
info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
print(npgrad.get_num_threads(), *sorted({{i["num_threads"] for i in info}}))
"""


def test_set_num_threads_sets_the_blas_thread_count_numpy_uses():
    pytest.importorskip("threadpoolctl")  # an independent reader of the BLAS's setting
    for count in (1, 3):
        # a subprocess: the setting is the whole process's
        seen = _run(BLAS_THREADS_AS_SEEN_BY_THREADPOOLCTL.format(count=count)).split()
        assert seen == [str(count), str(count)], seen


def test_set_num_threads_round_trips_and_products_stay_right():
    import numpy as np

    import npgrad

    before = npgrad.get_num_threads()
    a = np.random.default_rng(0).standard_normal((300, 200))
    try:
        npgrad.set_num_threads(1)
        assert npgrad.get_num_threads() == 1
        single = a @ a.T
        npgrad.set_num_threads(np.int64(2))
        assert npgrad.get_num_threads() == 2
        np.testing.assert_allclose(a @ a.T, single, rtol=1e-12)
    finally:
        npgrad.set_num_threads(before)
    assert npgrad.get_num_threads() == before


@pytest.mark.parametrize("count", [0, -2, 1.5, True, "2", None])
def test_set_num_threads_rejects_what_is_not_a_positive_integer(count):
    import npgrad

    with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
        npgrad.set_num_threads(count)


def test_without_a_controllable_blas_the_number_is_remembered(monkeypatch):
    import npgrad
    from npgrad import backend

    monkeypatch.setattr(backend, "_BLAS_THREAD_CONTROLS", [])  # as with Apple's Accelerate
    monkeypatch.setattr(backend, "_blas_threads", None)
    monkeypatch.setattr(backend, "_requested_threads", None)  # not left set for later tests
    npgrad.set_num_threads(5)
    assert npgrad.get_num_threads() == 5
