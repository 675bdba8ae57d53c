"""Batch chunks and processing-order buffers shared by the recurrent kernels.

Why chunks
----------
The recurrence is sequential in time but independent across samples, so a
layer's batch is cut into row chunks that run their whole time loop on their
own: one ``prange`` over the chunks, no barrier per step, and each chunk's
per-step products run in single-threaded BLAS (the estimators give the cores
to numba and limit BLAS to one thread while they fit or predict, DESIGN.md
section 4).  Chunks have about ``TARGET_CHUNK_ROWS`` rows (at least
``MIN_CHUNK_ROWS``; at least two chunks once the batch allows): per-step BLAS
calls cost nearly the same at 16 rows as at 32, while a chunk's per-step
working set must stay in the core's caches (64- to 256-row chunks were
slower; measured at H = 64 and 128).  The boundaries depend on the batch size
only, never on the thread count, so results are bitwise the same with 1 or 16
threads, and a ``GridSearchCV(n_jobs=k)`` worker (1 thread) reproduces a
serial search.

Why processing order, feature-major
-----------------------------------
Inside a chunk of ``nb`` rows every per-step quantity is a ``(features, nb)``
block of processing step ``s`` (time ``t = s`` forward, ``t = lengths[b] - 1 -
s`` in reverse).  Then

* each step's recurrent product is ``W_hh (G*H, H) @ h (H, nb)``, whose output
  already holds each gate as a contiguous ``(H, nb)`` block: OpenBLAS packs
  the small ``(H, nb)`` operand instead of the weights and runs ~2x faster
  per step at 16-32 rows than ``(nb, H) @ (H, G*H)`` (measured);
* every elementwise gate loop runs over ``H * nb`` contiguous values (long
  enough for LLVM's vector loop; loops over one gate of one row, 32 or 64
  values, ran scalar).

Quantities of all steps at once (inputs, input projections, gate gradients
for the weight-gradient products) are "columns" arrays ``(rows, steps * nb)``
with step s at columns ``s * nb:(s + 1) * nb``, so the input projection of
every step, the weight gradients and dx are each one product per chunk
(DESIGN.md section 4).

A chunk's caches live in one flat segment of a buffer for the whole batch
(rows ``lo:hi`` own entries ``lo * per_row : hi * per_row``), so the forward
pass can hand them to the backward pass as plain arrays.

Padding: steps ``s >= lengths[b]`` read a zero input and their state columns
are reset to zero after the step, so every cached value stays finite and
those columns receive exactly zero gradient (their upstream gradient is zero).
"""

import numpy as np
from numba import njit

#: Smallest chunk worth a thread of its own (below it, per-step overheads win).
MIN_CHUNK_ROWS = 16
#: Chunk size aimed at.
TARGET_CHUNK_ROWS = 32


def chunk_bounds(batch):
    """Row boundaries ``[0, ..., batch]`` (int64) of the chunks of a batch.

    A function of the batch size alone (see the module docstring): one chunk
    below ``2 * MIN_CHUNK_ROWS`` rows, else ``max(2, round(batch / TARGET_CHUNK_ROWS))``.
    """
    n = 1 if batch < 2 * MIN_CHUNK_ROWS else max(2, round(batch / TARGET_CHUNK_ROWS))
    return (np.arange(n + 1, dtype=np.int64) * batch) // n


@njit(cache=True, inline="always")
def time_index(s, length, reverse):
    """Time index of processing step ``s`` of a sequence of ``length`` steps."""
    return length - 1 - s if reverse else s


@njit(cache=True)
def chunk_max_length(lengths, lo, hi):
    """Largest length among rows ``lo:hi`` (0 for an empty chunk)."""
    m = 0
    for b in range(lo, hi):
        if lengths[b] > m:
            m = lengths[b]
    return m


# The copies between (B, T, C) arrays and a chunk's per-step blocks loop over
# steps first, so each step's small block stays in L1 while it is transposed
# (looping over samples first streamed through every block once per sample:
# 5x slower).
@njit(cache=True)
def gather_steps(a, lengths, lo, hi, reverse, out):
    """``out[s, c, b] = a[lo + b, t(s), c]`` for ``s < lengths``; other entries untouched.

    ``a`` is (B, T, C), ``out`` (steps, C', nb) with C' >= C (rows ``:C`` written).
    """
    C = a.shape[2]
    for s in range(out.shape[0]):
        block = out[s]
        for b in range(hi - lo):
            L = lengths[lo + b]
            if s < L:
                src = a[lo + b, time_index(s, L, reverse)]
                for c in range(C):
                    block[c, b] = src[c]


@njit(cache=True)
def scatter_steps(src, lengths, lo, hi, reverse, out):
    """Inverse of :func:`gather_steps`: ``out[lo + b, t(s), c] = src[s, c, b]``.

    ``src`` is (steps, C, nb), ``out`` (B, T, C); padding steps are skipped.
    """
    for s in range(src.shape[0]):
        scatter_step(src[s], lengths, lo, reverse, s, out)


@njit(cache=True)
def scatter_step(src, lengths, lo, reverse, s, out):
    """``out[lo + b, t(s)] = src[:, b]`` for the rows still running at step s."""
    C = src.shape[0]
    for b in range(src.shape[1]):
        L = lengths[lo + b]
        if s < L:
            dst = out[lo + b, time_index(s, L, reverse)]
            for c in range(C):
                dst[c] = src[c, b]


@njit(cache=True)
def zero_finished_columns(state, lengths, lo, s):
    """Reset column b of ``state`` (H, nb) to 0 where the sequence ended before step s+1."""
    for b in range(state.shape[1]):
        if s >= lengths[lo + b]:
            state[:, b] = 0.0


@njit(cache=True)
def gather_columns(a, lengths, lo, hi, steps, reverse):
    """``out[c, s * nb + b] = a[lo + b, t(s), c]`` for ``s < lengths``, else 0.

    ``a`` is (B, T, C); returns (C, steps * nb): every step's (C, nb) block
    side by side, the operand of one product for all steps.
    """
    nb = hi - lo
    C = a.shape[2]
    out = np.zeros((C, steps * nb), dtype=a.dtype)
    for s in range(steps):
        for b in range(nb):
            L = lengths[lo + b]
            if s < L:
                src = a[lo + b, time_index(s, L, reverse)]
                for c in range(C):
                    out[c, s * nb + b] = src[c]
    return out


@njit(cache=True)
def scatter_columns(src, lengths, lo, hi, reverse, out):
    """Inverse of :func:`gather_columns`: ``out[lo + b, t(s), c] = src[c, s * nb + b]``."""
    nb = hi - lo
    C = src.shape[0]
    for s in range(src.shape[1] // max(nb, 1)):
        for b in range(nb):
            L = lengths[lo + b]
            if s < L:
                dst = out[lo + b, time_index(s, L, reverse)]
                for c in range(C):
                    dst[c] = src[c, s * nb + b]


@njit(cache=True)
def steps_to_columns(a, steps, row_lo, row_hi, out, out_row):
    """Copy rows ``row_lo:row_hi`` of the (R, nb) blocks ``a[:steps]`` into
    ``out[out_row:, :steps * nb]``, step s at columns ``s * nb:(s + 1) * nb``."""
    nb = a.shape[2]
    for r in range(row_lo, row_hi):  # explicit loops: 5x faster than short slice copies
        dst = out[out_row + r - row_lo]
        for s in range(steps):
            src = a[s, r]
            base = s * nb
            for b in range(nb):
                dst[base + b] = src[b]
