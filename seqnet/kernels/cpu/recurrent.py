"""Recurrent kernels: RNN, LSTM, GRU (one direction per call) and sequence pooling.

The cell kernels live in ``recurrent_driver`` (time loops over batch-row
chunks; per-step math in ``recurrent_cells``, chunk buffers in
``recurrent_chunks``, shared conventions in ``recurrent_common``) and are
re-exported here, so ``seqnet.kernels.cpu.recurrent`` is the one module the
network layer needs::

    recurrent_forward(cell, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, kind,
                      keep_cache=True) -> (h, cache)
    recurrent_backward(cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx,
                       kind) -> (dx, dw_ih, dw_hh, db_ih, db_hh)

with ``cell`` in {'rnn', 'lstm', 'gru'} (``c0`` read by the LSTM only, the
activation code ``kind`` by the RNN only).

``cache`` is opaque: only the backward kernel of the same backend
reads it (the CUDA twins have the same signatures and keep their own layout).
``keep_cache=False`` (prediction) returns an empty cache.

Sequence pooling ((B, T, D*H) -> (B, D*H) over the valid steps of each sample)::

    seqpool_last_forward(y, lengths, directions) -> out
    seqpool_last_backward(dout, lengths, directions, T) -> dy
    seqpool_mean_forward(y, lengths) -> out
    seqpool_mean_backward(dout, lengths, T) -> dy
    seqpool_max_forward(y, lengths) -> (out, argmax)
    seqpool_max_backward(dout, argmax, T) -> dy

A sample of length 0 pools to zeros and receives no gradient.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.recurrent_driver import (  # noqa: F401
    recurrent_backward,
    recurrent_forward,
)

__all__ = [
    "recurrent_forward", "recurrent_backward",
    "seqpool_last_forward", "seqpool_last_backward",
    "seqpool_mean_forward", "seqpool_mean_backward",
    "seqpool_max_forward", "seqpool_max_backward",
]


def seqpool_last_forward(y, lengths, directions):
    """Final state of each direction (PyTorch's ``h_n``).

    With ``H = y.shape[2] // directions``: ``out[b, :H] = y[b, lengths[b] - 1, :H]``
    (forward direction) and, for ``directions == 2``, ``out[b, H:] = y[b, 0, H:]``
    (the reverse direction ends at t = 0).
    """
    y = np.ascontiguousarray(y)
    out = np.zeros((y.shape[0], y.shape[2]), dtype=y.dtype)
    _copy_last_steps(y, out, lengths, directions, True)
    return out


def seqpool_last_backward(dout, lengths, directions, T):
    """Scatter ``dout`` (B, C) back to the steps read by ``seqpool_last_forward``."""
    dout = np.ascontiguousarray(dout)
    dy = np.zeros((dout.shape[0], T, dout.shape[1]), dtype=dout.dtype)
    _copy_last_steps(dy, dout, lengths, directions, False)
    return dy


# Forward and backward of 'last' pooling are one kernel (one compile): the
# same entries of the (B, T, C) and (B, C) arrays, copied one way or the other.
@njit(cache=True)
def _copy_last_steps(seq, last, lengths, directions, to_last):
    """``last[b, k] = seq[b, t_k, k]`` (``to_last``) or the reverse, where
    ``t_k = lengths[b] - 1`` for the forward direction's ``k < H`` and 0 for
    the reverse direction's; samples of length 0 are skipped."""
    B, T, C = seq.shape
    H = C // directions
    for b in range(B):
        L = lengths[b]
        if L <= 0:
            continue
        for k in range(C):
            t = L - 1 if k < H else 0
            if to_last:
                last[b, k] = seq[b, t, k]
            else:
                seq[b, t, k] = last[b, k]


@njit(cache=True)
def seqpool_mean_forward(y, lengths):
    """``out[b] = sum_{t < lengths[b]} y[b, t] / lengths[b]``."""
    B, T, C = y.shape
    out = np.zeros((B, C), dtype=y.dtype)
    for b in range(B):
        L = lengths[b]
        if L <= 0:
            continue
        for t in range(L):
            for k in range(C):
                out[b, k] += y[b, t, k]
        inv = 1.0 / L
        for k in range(C):
            out[b, k] *= inv
    return out


@njit(cache=True)
def seqpool_mean_backward(dout, lengths, T):
    """``dy[b, t] = dout[b] / lengths[b]`` for valid t, 0 at padding."""
    B, C = dout.shape
    dy = np.zeros((B, T, C), dtype=dout.dtype)
    for b in range(B):
        L = lengths[b]
        if L <= 0:
            continue
        inv = 1.0 / L
        for t in range(L):
            for k in range(C):
                dy[b, t, k] = dout[b, k] * inv
    return dy


@njit(cache=True)
def seqpool_max_forward(y, lengths):
    """Max over valid steps; returns ``(out (B, C), argmax (B, C) int64)``.

    Ties go to the first step; ``argmax`` is -1 for a sample of length 0.
    """
    B, T, C = y.shape
    out = np.zeros((B, C), dtype=y.dtype)
    arg = np.full((B, C), -1, dtype=np.int64)
    for b in range(B):
        L = lengths[b]
        if L <= 0:
            continue
        for k in range(C):
            out[b, k] = y[b, 0, k]
            arg[b, k] = 0
        for t in range(1, L):
            for k in range(C):
                v = y[b, t, k]
                if v > out[b, k]:
                    out[b, k] = v
                    arg[b, k] = t
    return out, arg


@njit(cache=True)
def seqpool_max_backward(dout, argmax, T):
    """Route ``dout[b, k]`` to ``dy[b, argmax[b, k], k]``."""
    B, C = dout.shape
    dy = np.zeros((B, T, C), dtype=dout.dtype)
    for b in range(B):
        for k in range(C):
            t = argmax[b, k]
            if t >= 0:
                dy[b, t, k] = dout[b, k]
    return dy
