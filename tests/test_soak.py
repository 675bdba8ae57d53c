"""Soak: 1,000 ``partial_fit`` calls on a small LSTMClassifier do not leak.

Memory is measured with tracemalloc, which sees Python objects and NumPy array
buffers (NumPy reports its allocations to tracemalloc). Numba's own runtime
allocations inside kernels are not traced by it; they are checked separately
through numba's NRT allocation counters, in a child process.
"""

import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import seqnet

N_CALLS = 1000
WARMUP = 100
#: Allowed growth of traced memory between call 100 and call 1000.
#: What a call legitimately keeps is its history: one float appended to the
#: training state's loss_curve_ and to the estimator's copy of it (about 72 bytes
#: a call measured, so ~65 KiB over the 900 calls). A call's working set (a batch
#: of 8 x 5 x 3 float32 inputs, activations and gradients of a 4-unit LSTM, ~140
#: parameters) is freed when it returns. A leak of one batch-sized array (~0.5 KiB)
#: per call would add > 450 KiB, a leaked parameter/optimizer-sized buffer more.
#: 256 KiB sits between the two with margin on both sides.
MAX_GROWTH_BYTES = 256 * 1024


def _batches(rng, n_batches):
    for _ in range(n_batches):
        X = rng.normal(size=(8, 5, 3)).astype(np.float32)
        y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
        yield X, y


def test_partial_fit_1000_calls_no_memory_growth():
    rng = np.random.default_rng(0)
    est = seqnet.LSTMClassifier(hidden_layer_sizes=(4,), random_state=0,
                                learning_rate_init=0.01)
    X0, y0 = next(_batches(rng, 1))
    est.partial_fit(X0, y0, classes=[0, 1])  # compile / load kernels before tracing
    data = list(_batches(rng, N_CALLS))  # generated up front: not part of the budget

    gc.collect()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        for i, (X, y) in enumerate(data, start=1):
            est.partial_fit(X, y)
            if i == WARMUP:
                gc.collect()
                after_warmup, _ = tracemalloc.get_traced_memory()
        gc.collect()
        at_end, peak = tracemalloc.get_traced_memory()
        elapsed = time.perf_counter() - start
    finally:
        tracemalloc.stop()

    growth = at_end - after_warmup
    # not a timed test (the machine is shared): the time is only reported (-s);
    # about 5-10 s on 2 loaded cores with tracemalloc on
    print(f"soak: {N_CALLS} calls in {elapsed:.2f} s, traced growth {growth} B, "
          f"peak {peak} B")
    assert growth < MAX_GROWTH_BYTES, (
        f"traced memory grew by {growth / 1024:.1f} KiB between call {WARMUP} and "
        f"call {N_CALLS} (bound {MAX_GROWTH_BYTES / 1024:.0f} KiB); peak "
        f"{peak / 1024:.1f} KiB")

    # the model kept training sensibly the whole time
    assert est.n_iter_ == 1  # the last partial_fit (scikit-learn's n_iter_)
    assert est.t_ == 8 * (N_CALLS + 1)
    assert len(est.loss_curve_) == N_CALLS + 1
    assert np.isfinite(est.loss_curve_).all()
    assert est.stop_reason_ in ("incremental", "converged")
    for w in est.weights_.values():
        assert np.isfinite(w).all()
        assert np.shares_memory(w, est._network.params)
    Xt, yt = next(_batches(np.random.default_rng(1), 1))
    assert est.predict(Xt).shape == (8,)


_NRT_CHILD = """
import gc, json
import numpy as np
import seqnet
from numba.core.runtime import rtsys

rng = np.random.default_rng(0)
def batch():
    X = rng.normal(size=(8, 5, 3)).astype(np.float32)
    return X, (X[:, :, 0].sum(axis=1) > 0).astype(int)

est = seqnet.LSTMClassifier(hidden_layer_sizes=(4,), random_state=0)
X, y = batch()
est.partial_fit(X, y, classes=[0, 1])
data = [batch() for _ in range(300)]
live = []
for i, (X, y) in enumerate(data, start=1):
    est.partial_fit(X, y)
    if i in (100, 300):
        gc.collect()
        s = rtsys.get_allocation_stats()
        live.append(s.alloc - s.free)
print(json.dumps(live))
"""


def test_partial_fit_no_numba_runtime_leak():
    """Numba's runtime (NRT) allocations made inside kernels, which tracemalloc
    does not see, are all freed: the number of live NRT allocations after call
    300 is no larger than after call 100. NRT statistics must be switched on
    before numba starts, hence a child process with NUMBA_NRT_STATS=1."""
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    proc = subprocess.run([sys.executable, "-c", _NRT_CHILD], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after_100, after_300 = json.loads(proc.stdout.strip().splitlines()[-1])
    assert after_300 <= after_100, (after_100, after_300)
