"""Weight layouts of the recurrent chunk kernels, in per-thread buffers.

The products of the recurrent chunk kernels
(:mod:`seqnet.kernels.cpu.recurrent_chunk_kernels`) read the weights in
layouts of their own, on cache lines where OpenBLAS's small-matrix kernels
read them fastest: ``W_ih^T``, ``W_hh^T`` in column blocks and the
gate-column bias for the forward pass (:func:`forward_weights`), ``W_hh``
for the backward pass (:func:`backward_weights`).  A pass needs them only
while its chunks run, so each Python thread keeps one set of buffers per
layout and rewrites them call after call: a thread runs one pass at a
time, and no helper thread reads a pass's operands once the pass is over.
"""

import threading

import numpy as np

from seqnet.kernels.cpu.blas import aligned_empty, fill_column_blocks

#: Values of a 64-byte cache line of float32 (two of float64): the unit the
#: parts of a weight buffer are rounded up to (and the padding of the row
#: buffers, :mod:`seqnet.kernels.cpu.recurrent_driver`).
LINE = 16


def line_multiple(n):
    """``n`` rounded up to a multiple of :data:`LINE` values: a part of that
    many values keeps the next one on a cache line."""
    return -(-n // LINE) * LINE


class _Buffers(threading.local):
    """This Python thread's weight-layout buffers, by layout."""

    def __init__(self):
        self.by_layout = {}


_buffers = _Buffers()


def _aligned_parts(dtype, shapes):
    """C-contiguous arrays of ``shapes`` in one new buffer, each on a cache
    line."""
    sizes = [line_multiple(int(np.prod(shape))) for shape in shapes]
    buf = aligned_empty(1, sum(sizes), np.empty(0, dtype=dtype))[0]
    at = 0
    parts = []
    for shape, size in zip(shapes, sizes):
        parts.append(buf[at:at + int(np.prod(shape))].reshape(shape))
        at += size
    return parts


def _thread_buffers(key, dtype, shapes):
    parts = _buffers.by_layout.get(key)
    if parts is None:
        parts = _buffers.by_layout[key] = _aligned_parts(dtype, shapes)
    return parts


def forward_weights(gru, w_ih, w_hh, b_ih, b_hh, n_blocks, width):
    """``W_ih^T``, ``W_hh^T`` in ``n_blocks`` column blocks of ``width``
    (:func:`~seqnet.kernels.cpu.blas.column_blocks`) and the gate-column
    bias as one row (GRU: ``b_r, b_z, b_hn, b_in``), in this thread's
    buffers: valid until its next call with the same layout."""
    (GH, F), H = w_ih.shape, w_hh.shape[1]
    GW = GH + H if gru else GH
    key = ("forward", w_ih.dtype.char, GH, F, H, n_blocks, width, gru)
    w_ih_t, w_hh_b, bias = _thread_buffers(key, w_ih.dtype,
                                           [(F, GH), (n_blocks, H, width), (1, GW)])
    w_ih_t[...] = w_ih.T
    fill_column_blocks(w_hh.T, w_hh_b)
    if gru:  # r and z: both biases; then b_hn (inside the reset gate's product), b_in
        np.add(b_ih[:2 * H], b_hh[:2 * H], out=bias[0, :2 * H])
        bias[0, 2 * H:3 * H] = b_hh[2 * H:]
        bias[0, 3 * H:] = b_ih[2 * H:]
    else:
        np.add(b_ih, b_hh, out=bias[0])
    return w_ih_t, w_hh_b, bias


def backward_weights(w_hh):
    """``w_hh`` copied into this thread's buffer on a cache line (the
    per-step products read it in place): valid until its next call with
    the same shape."""
    key = ("backward", w_hh.dtype.char) + w_hh.shape
    (w_hh_a,) = _thread_buffers(key, w_hh.dtype, [w_hh.shape])
    w_hh_a[...] = w_hh
    return w_hh_a
