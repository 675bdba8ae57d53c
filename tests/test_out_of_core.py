"""Out-of-core training: partial_fit over chunks of an on-disk np.memmap.

The estimator must never copy the whole array: the peak of Python-tracked
(numpy) allocations during the chunk loop stays far below the array's size.
"""

import tracemalloc

import numpy as np
import pytest

from seqnet import LSTMClassifier, MLPRegressor

N, T, F, CHUNK = 20_000, 30, 4, 1_000


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory):
    path = tmp_path_factory.mktemp("ooc") / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N, T, F))
    rng = np.random.default_rng(0)
    for s in range(0, N, 5_000):  # written in pieces: never the whole array in RAM
        X[s:s + 5_000] = rng.normal(size=(5_000, T, F))
    y = (np.asarray(X[:, :, 0]).mean(axis=1) > 0).astype(np.int64)
    X.flush()
    del X
    return path, y


def test_memmap_partial_fit_stays_within_memory_budget(on_disk):
    path, y = on_disk
    X = np.load(path, mmap_mode="r")  # read-only memory map
    assert isinstance(X, np.memmap) and not X.flags.writeable
    est = LSTMClassifier(hidden_layer_sizes=(8,), batch_size=100, random_state=0)
    # Compile (or load) every kernel the loop will use BEFORE tracing: with a cold
    # numba cache, compiling inside the traced loop allocates ~10 MB of Python
    # objects in the compiler, which is not data being copied.
    est.partial_fit(X[:CHUNK], y[:CHUNK], classes=[0, 1])
    est.partial_fit(X[CHUNK:2 * CHUNK], y[CHUNK:2 * CHUNK])
    est.predict(X[:10])

    tracemalloc.start()
    try:
        for start in range(2 * CHUNK, N, CHUNK):
            est.partial_fit(X[start:start + CHUNK], y[start:start + CHUNK])
        _, fit_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        # predict holds every step's gate pre-activations of its input
        # (rows x T x 4H floats), so it gets smaller chunks for the same budget
        correct, step = 0, CHUNK // 4
        for start in range(0, N, step):
            correct += int((est.predict(X[start:start + step]) == y[start:start + step]).sum())
        _, predict_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert fit_peak < 0.25 * X.nbytes, (fit_peak, X.nbytes)
    assert predict_peak < 0.25 * X.nbytes, (predict_peak, X.nbytes)
    assert est.t_ == N  # every row seen exactly once
    assert correct / N > 0.7  # one pass learns the (easy) rule


def test_memmap_regression_chunks_match_in_memory_chunks(on_disk):
    path, y = on_disk
    X = np.load(path, mmap_mode="r")
    target = np.asarray(X[:4_000, :, 1]).mean(axis=1)
    a = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    b = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, 4_000, CHUNK):
        sl = slice(start, start + CHUNK)
        a.partial_fit(X[sl], target[sl])
        b.partial_fit(np.array(X[sl]), target[sl])
    np.testing.assert_array_equal(a.predict(X[:CHUNK]), b.predict(np.array(X[:CHUNK])))
