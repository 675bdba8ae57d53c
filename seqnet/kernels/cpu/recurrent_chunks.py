"""Batch chunks and processing-order buffers shared by the recurrent kernels.

Why chunks
----------
The recurrence is sequential in time but independent across samples, so a
layer's batch is cut into row chunks that run their whole time loop on their
own: one kernel call per chunk, on seqnet's threads
(:mod:`seqnet.kernels.cpu.chunk_threads`), no barrier per step, and each
chunk's per-step products run in single-threaded BLAS (the estimators limit
BLAS to one thread while they fit or predict, DESIGN.md section 4).  Chunks
have about ``TARGET_CHUNK_ROWS`` rows (at least ``MIN_CHUNK_ROWS``; at least
two chunks once the batch allows, so two cores share even a small batch,
unless a chunk would then hold less work than a thread hand-off costs:
``MIN_CHUNK_MACS``):
per row a step's product costs less with more rows, up to a point where
inference got slower again (timings: benchmarks/RESULTS.md, "Tuning
notes").  The boundaries depend on the layer's shape
only, never on the thread count, so results are bitwise the same with 1 or 16
threads, and a ``GridSearchCV(n_jobs=k)`` worker (1 thread) reproduces a
serial search.

Why processing order, one row per (step, sample)
------------------------------------------------
Inside a chunk of ``nb`` samples every quantity of every step is kept in a
"rows" array: row ``s * nb + b`` belongs to sample b at processing step s
(time ``t = s`` forward, ``t = lengths[b] - 1 - s`` in reverse).  Then

* one step is a contiguous ``(nb, features)`` block, so its gate loops run
  over contiguous rows of ``H`` to ``4H`` values;
* the steps together are one matrix, so the input projection of every step,
  the weight gradients (one product over ``[x_t | h_{t-1} | 1]`` rows gives
  ``dW_ih``, ``dW_hh`` and the bias gradient at once) and dx are each one
  product per chunk (DESIGN.md section 4);
* copies from and to (B, T, C) arrays move whole contiguous feature vectors.

A chunk's caches live in one flat segment of a buffer for the whole batch
(rows ``lo:hi`` own entries ``lo * per_row : hi * per_row``), so the forward
pass can hand them to the backward pass as plain arrays.

Padding: steps ``s >= lengths[b]`` read a zero input and their state rows are
reset to zero after the step, so every cached value stays finite and those
rows receive exactly zero gradient (their upstream gradient is zero).
"""

import functools

import numpy as np
from numba import njit

from seqnet.kernels.cpu.jit import helper

#: Smallest chunk worth a thread of its own (below it, per-step overheads win).
MIN_CHUNK_ROWS = 16
#: Chunk size aimed at.
TARGET_CHUNK_ROWS = 64
#: Bytes of gate values of a chunk's block of steps (:func:`block_steps`): the
#: forward pass projects the inputs and runs the steps block by block, so a
#: block's gates are still in the L2 cache when its steps read them, and an
#: inference workspace holds one block (the whole sequence's gates, 52 MB for
#: an LSTM at 64 rows, 200 steps, H = 256, were faulted in and streamed
#: through memory on every call).
BLOCK_BYTES = 512 * 1024


#: Multiply-adds of a chunk's forward pass below which the batch is cut
#: into fewer chunks: a smaller chunk's work is about what its hand-off to
#: another thread and its own set-up cost (:mod:`seqnet.kernels.cpu.chunk_threads`;
#: timings: benchmarks/RESULTS.md).
MIN_CHUNK_MACS = 250_000


@functools.lru_cache(maxsize=64)
def _bounds(batch, n):
    bounds = (np.arange(n + 1, dtype=np.int64) * batch) // n
    bounds.flags.writeable = False  # shared by every call with this batch size
    return bounds


def chunk_count(batch, row_macs=0):
    """Chunks of a batch of ``batch`` rows whose forward pass costs
    ``row_macs`` multiply-adds per row (0: no floor): one below
    ``2 * MIN_CHUNK_ROWS`` rows, else ``max(2, round(batch / TARGET_CHUNK_ROWS))``,
    but never so many that a chunk falls below :data:`MIN_CHUNK_MACS`."""
    n = 1 if batch < 2 * MIN_CHUNK_ROWS else max(2, round(batch / TARGET_CHUNK_ROWS))
    if row_macs > 0:
        n = max(1, min(n, (batch * row_macs) // MIN_CHUNK_MACS))
    return int(n)


def chunk_bounds(batch, row_macs=0):
    """Row boundaries ``[0, ..., batch]`` (int64, read-only) of the chunks of
    a batch (:func:`chunk_count` of them, sizes differing by at most one).

    A function of the layer's shape alone (see the module docstring), never
    of the thread count.
    """
    return _bounds(int(batch), chunk_count(int(batch), int(row_macs)))


def block_steps(rows, gate_width, itemsize, steps):
    """Steps per time block of a chunk: as many as keep ``rows * gate_width``
    gate values per step within :data:`BLOCK_BYTES` (at least 1, at most
    ``steps``)."""
    per_step = max(rows * gate_width * itemsize, 1)
    return int(max(1, min(steps, BLOCK_BYTES // per_step)))


@njit(cache=True, inline="always")
def time_index(s, length, reverse):
    """Time index of processing step ``s`` of a sequence of ``length`` steps."""
    return length - 1 - s if reverse else s


@helper()
def chunk_max_length(lengths, lo, hi):
    """Largest length among rows ``lo:hi`` (0 for an empty chunk)."""
    m = 0
    for b in range(lo, hi):
        if lengths[b] > m:
            m = lengths[b]
    return m


# Copies loop over features explicitly: a slice assignment per row costs
# more view set-up than copying a few features takes.
@helper()
def gather_rows(a, lengths, lo, hi, s0, s1, reverse, out):
    """``out[(s - s0) * nb + b, :C] = a[lo + b, t(s)]`` for ``s < lengths[lo + b]``,
    else 0, for steps ``s0 <= s < s1``; ``a`` is (B, T, C)."""
    nb = hi - lo
    C = a.shape[2]
    for s in range(s0, s1):
        for b in range(nb):
            r = (s - s0) * nb + b
            L = lengths[lo + b]
            if s < L:
                t = time_index(s, L, reverse)
                for c in range(C):
                    out[r, c] = a[lo + b, t, c]
            else:
                for c in range(C):
                    out[r, c] = 0.0


@helper()
def scatter_rows(src, col, lengths, lo, hi, s0, s1, reverse, out):
    """Inverse of :func:`gather_rows`: ``out[lo + b, t(s)] = src[(s - s0) * nb + b, col:col + C]``
    for the steps ``s0 <= s < s1`` each sample has (``out`` (B, T, C), other
    entries untouched)."""
    nb = hi - lo
    C = out.shape[2]
    for s in range(s0, s1):
        for b in range(nb):
            L = lengths[lo + b]
            if s < L:
                r = (s - s0) * nb + b
                t = time_index(s, L, reverse)
                for c in range(C):
                    out[lo + b, t, c] = src[r, col + c]


@helper()
def zero_finished_rows(block, col, width, lengths, lo, s):
    """Reset ``block[b, col:col + width]`` to 0 where sample b ended before step s + 1."""
    for b in range(block.shape[0]):
        if s >= lengths[lo + b]:
            for c in range(width):
                block[b, col + c] = 0.0


@helper()
def zero_padding(out, lengths, lo, hi):
    """``out[b, lengths[b]:] = 0`` for rows ``lo:hi`` of a (B, T, C) array: with
    :func:`scatter_rows` this fills an uninitialised output per chunk, in the
    chunk's thread, instead of a serial ``np.zeros`` of the whole output
    before the chunks start."""
    T, C = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for t in range(max(lengths[b], 0), T):
            for c in range(C):
                out[b, t, c] = 0.0


# Array-to-array slice assignment (``a[...] = b``) in numba compiles a
# shape-mismatch error path that formats the shapes into a string, which adds
# seconds to a first compile (benchmarks/compile_time.py); the kernels copy
# and add blocks through these loops instead.
@helper()
def copy_block_core(src, dst):
    """``dst[i, j] = src[i, j]`` for two 2-D blocks of the same shape, passed
    as :func:`~seqnet.kernels.cpu.jit.any_layout` views (one compiled loop
    per dtype, whatever the blocks' layouts)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@helper()
def add_block(src, dst):
    """``dst[i, j] += src[i, j]`` for the 2-D blocks (same shape)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] += src[i, j]
