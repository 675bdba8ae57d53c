"""Deterministic reductions: fixed-shape shared-memory tree per block, then a
second single-block pass over the per-block partials (float64 accumulators).

No atomics: for a given launch configuration the result is bitwise reproducible.
These are the float32 backend's documented float64 accumulators (F64_KERNELS).
"""

import math

import numpy as np
from numba import cuda, float64

from .arrays import MAX_BLOCKS, THREADS, grid

SUM, SUMSQ, NONFINITE = 0, 1, 2

#: kernels whose float64 arithmetic in float32 runs is intentional (tests/cuda/test_ptx.py)
F64_KERNELS = {
    "_block_reduce": "sums, sums of squares and loss totals accumulate in float64 "
                     "(one value per launch: the loss, the gradient norm, the sample weight)",
    "_column_sums": "bias gradients sum a whole batch column in float64, as the CPU backend",
}


@cuda.jit(device=True, inline=True)
def _term(v, mode):
    if mode == SUM:
        return float64(v)
    if mode == SUMSQ:
        return float64(v) * float64(v)
    return 0.0 if math.isfinite(v) else 1.0


@cuda.jit(device=True, inline=True)
def _tree_sum(buf, acc):
    """Sum of every thread's ``acc`` over the block (the same value returned to
    all threads), halving a shared ``buf`` (THREADS,) in a fixed order:
    ``buf[t] += buf[t + step]`` for step = THREADS/2, ..., 1."""
    tid = cuda.threadIdx.x
    buf[tid] = acc
    cuda.syncthreads()
    step = THREADS // 2
    while step > 0:
        if tid < step:
            buf[tid] += buf[tid + step]
        cuda.syncthreads()
        step //= 2
    return buf[0]


@cuda.jit
def _block_reduce(x, mode, partials):
    """``partials[block] = sum of _term(x[i])`` over the block's grid-stride items."""
    buf = cuda.shared.array(THREADS, float64)
    acc = 0.0
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        acc += _term(x[i], mode)
    total = _tree_sum(buf, acc)
    if cuda.threadIdx.x == 0:
        partials[cuda.blockIdx.x] = total


@cuda.jit
def _column_sums(m, out):
    """``out[j] = sum_i m[i, j]``: one block per column (grid-stride over columns)."""
    buf = cuda.shared.array(THREADS, float64)
    tid = cuda.threadIdx.x
    n_rows = m.shape[0]
    for j in range(cuda.blockIdx.x, m.shape[1], cuda.gridDim.x):
        acc = 0.0
        for i in range(tid, n_rows, THREADS):
            acc += m[i, j]
        total = _tree_sum(buf, acc)
        if tid == 0:
            out[j] = total
        cuda.syncthreads()  # every thread has read buf[0] before the next column


def device_sum(x, mode=SUM, dtype=np.float64):
    """1-element device array holding the reduction of 1-D ``x`` (accumulated in
    float64, rounded once to ``dtype``)."""
    out = cuda.device_array(1, dtype=dtype)
    blocks = grid(x.shape[0])[0]
    partials = cuda.device_array(blocks, dtype=np.float64)
    _block_reduce[blocks, THREADS](x, mode, partials)
    _block_reduce[1, THREADS](partials, SUM, out)  # second pass, one block
    return out


def host_sum(x, mode=SUM):
    """The reduction of 1-D ``x`` as a Python float (one scalar copied back)."""
    if x.shape[0] == 0:
        return 0.0
    return float(device_sum(x, mode).copy_to_host()[0])


def column_sums(m, out):
    """``out[...] = m.sum(axis=0)`` for a 2-D device array (deterministic)."""
    if out.shape[0] == 0:
        return out
    _column_sums[min(MAX_BLOCKS * 16, out.shape[0]), THREADS](m, out)
    return out
