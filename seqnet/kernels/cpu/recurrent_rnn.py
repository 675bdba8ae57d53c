"""Elman RNN kernels (PyTorch layout, one gate), tanh or relu.

Gate loops run over contiguous rows so LLVM vectorizes them.
``kind`` is an activation code of :mod:`seqnet.kernels.cpu.activations`
(``TANH`` = 2 or ``RELU`` = 3).  See :mod:`seqnet.kernels.cpu.recurrent_common`
for the shared conventions.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.activations import RELU
from seqnet.kernels.cpu.recurrent_common import (
    ONE,
    ZERO,
    finish_grads,
    ftz,
    input_projection,
    max_length,
    prev_time_index,
    tanh_copy,
    time_index,
)


@njit(cache=True, error_model="numpy")
def rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind):
    """One direction of an Elman RNN over a padded batch::

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

    Returns ``h`` (B, T, H), 0 at padding (also the only cache needed).
    """
    B, T, F = x.shape
    H = w_ih.shape[0]
    zx = input_projection(x, w_ih)
    h = np.zeros((B, T, H), dtype=x.dtype)
    hs = h0.copy()
    hh = np.empty((B, H), dtype=x.dtype)
    bias = b_ih + b_hh
    smax = max_length(lengths)
    for s in range(smax):
        np.dot(hs, w_hh.T, hh)
        for b in range(B):
            L = lengths[b]
            if s >= L:
                continue
            t = time_index(s, L, reverse)
            zr = hh[b]
            a = zx[b, t]
            hr = h[b, t]
            hsb = hs[b]
            for j in range(H):
                zr[j] += a[j] + bias[j]
            if kind == RELU:
                for j in range(H):
                    hr[j] = zr[j] if zr[j] > ZERO else ZERO
            else:
                tanh_copy(zr, hr)
            for j in range(H):
                hsb[j] = hr[j]
    return h


@njit(cache=True, error_model="numpy")
def rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, reverse, bptt, need_dx, kind):
    """BPTT for one RNN direction; ``dh`` (B, T, H) is dL/dh_t from above::

        dZ_t = act'(Z_t) * (dh_t + dh_n)        (act' from the output h_t)
        dh_n <- dZ_t W_hh                        (reset at truncation borders)
        dW_ih = dZ^T x   dW_hh = dZ^T Hprev   db_ih = db_hh = sum dZ   dx = dZ W_ih

    Returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` is (0, 0, 0) when
    ``need_dx`` is False.
    """
    B, T, F = x.shape
    H = w_ih.shape[0]
    dz = np.zeros((B, T, H), dtype=x.dtype)
    hprev = np.zeros((B, T, H), dtype=x.dtype)
    dzs = np.zeros((B, H), dtype=x.dtype)
    dh_n = np.zeros((B, H), dtype=x.dtype)
    smax = max_length(lengths)
    for s in range(smax - 1, -1, -1):
        for b in range(B):
            L = lengths[b]
            dzb = dzs[b]
            if s >= L:
                dzb[:] = 0.0
                continue
            t = time_index(s, L, reverse)
            hp = h0[b] if s == 0 else h[b, prev_time_index(t, reverse)]
            hprev[b, t] = hp
            hr = h[b, t]
            dhr = dh[b, t]
            dHb = dh_n[b]
            if kind == RELU:
                for j in range(H):
                    dzb[j] = ftz(dhr[j] + dHb[j]) if hr[j] > ZERO else ZERO
            else:
                for j in range(H):
                    dzb[j] = ftz((dhr[j] + dHb[j]) * (ONE - hr[j] * hr[j]))
            dz[b, t] = dzb
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            dh_n[:, :] = 0.0
        else:
            np.dot(dzs, w_hh, dh_n)
    return finish_grads(dz, dz, hprev, x, w_ih, need_dx)
