"""Pointwise math of one step of the RNN, LSTM and GRU cells (CPU).

Every function works on flat blocks of ``n = H * nb`` values of one batch
chunk (see :mod:`seqnet.kernels.cpu.recurrent_chunks`): row ``g`` of a
``(rows, n)`` array is gate g for every unit and every sample of the chunk.
Each step's pre-activations come from ONE product of the cell's block
weight with ``[x_t; h_{t-1}]`` (:func:`block_weights`):

* RNN  (1 row):  ``W_ih x + W_hh h``
* LSTM (4 rows): ``W_ih x + W_hh h`` for i, f, g, o (PyTorch order)
* GRU  (4 rows): ``W_ir x + W_hr h``, ``W_iz x + W_hz h``, ``W_in x`` and
  ``W_hn h`` (the candidate needs its hidden part apart:
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``)

so the same rows hold the activations the backward pass needs (GRU row 3
keeps ``W_hn h + b_hn``) and the backward pass's pre-activation gradients.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.activations import RELU
from seqnet.kernels.cpu.recurrent_common import (
    ONE,
    ZERO,
    ftz,
    gate_tanh,
    sigmoid_add,
    tanh_add,
)

CELL_RNN, CELL_LSTM, CELL_GRU = 0, 1, 2
#: Rows (in units of H) of each cell's per-step block.
BLOCK_ROWS = {CELL_RNN: 1, CELL_LSTM: 4, CELL_GRU: 4}


def block_weights(cell, w_ih, w_hh, b_ih, b_hh):
    """``(W, b)``: the block weight (rows * H, F + H) and bias of one step's product."""
    H = w_hh.shape[1]
    F = w_ih.shape[1]
    if cell != CELL_GRU:
        return np.ascontiguousarray(np.concatenate((w_ih, w_hh), axis=1)), b_ih + b_hh
    w = np.zeros((4 * H, F + H), dtype=w_ih.dtype)
    w[:3 * H, :F] = w_ih
    w[:2 * H, F:] = w_hh[:2 * H]
    w[3 * H:, F:] = w_hh[2 * H:]
    b = np.concatenate((b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:], b_hh[2 * H:]))
    return w, b


def split_block_grads(cell, dw, db, F):
    """Inverse of :func:`block_weights` for gradients: ``(dw_ih, dw_hh, db_ih, db_hh)``."""
    if cell != CELL_GRU:
        return (np.ascontiguousarray(dw[:, :F]), np.ascontiguousarray(dw[:, F:]),
                db, db.copy())
    H = dw.shape[0] // 4
    dw_ih = np.ascontiguousarray(dw[:3 * H, :F])
    dw_hh = np.concatenate((dw[:2 * H, F:], dw[3 * H:, F:]))
    return dw_ih, dw_hh, db[:3 * H].copy(), np.concatenate((db[:2 * H], db[3 * H:]))


# ------------------------------------------------------------------ forward
@njit(cache=True, error_model="numpy")
def rnn_step(z, bias, h, kind):
    """``h = act(z + bias)`` (tanh or relu)."""
    if kind == RELU:
        for k in range(h.shape[0]):
            v = z[k] + bias[k]
            h[k] = v if v > ZERO else ZERO
    else:
        for k in range(h.shape[0]):
            h[k] = gate_tanh(z[k] + bias[k])


@njit(cache=True, error_model="numpy")
def _lstm_state(i, f, g, o, c_prev, c, h):
    for k in range(c.shape[0]):
        c[k] = f[k] * c_prev[k] + i[k] * g[k]
    for k in range(c.shape[0]):
        h[k] = o[k] * gate_tanh(c[k])


@njit(cache=True, error_model="numpy")
def lstm_step(z, bias, c_prev, c, h):
    """Gates in place (i, f, o sigmoid; g tanh), then ``c`` and ``h``."""
    sigmoid_add(z[0], bias[0])
    sigmoid_add(z[1], bias[1])
    tanh_add(z[2], bias[2])
    sigmoid_add(z[3], bias[3])
    _lstm_state(z[0], z[1], z[2], z[3], c_prev, c, h)


@njit(cache=True, error_model="numpy")
def _gru_candidate(xn, b_in, r, hn, b_hn):
    for k in range(xn.shape[0]):
        hn[k] += b_hn[k]
    for k in range(xn.shape[0]):
        xn[k] = gate_tanh(xn[k] + b_in[k] + r[k] * hn[k])


@njit(cache=True, error_model="numpy")
def _gru_state(z, n, h_prev, h):
    for k in range(h.shape[0]):
        h[k] = (ONE - z[k]) * n[k] + z[k] * h_prev[k]


@njit(cache=True, error_model="numpy")
def gru_step(z, bias, h_prev, h):
    """Rows become r, z, n and ``W_hn h + b_hn``; then ``h = (1 - z) n + z h_prev``."""
    sigmoid_add(z[0], bias[0])
    sigmoid_add(z[1], bias[1])
    _gru_candidate(z[2], bias[2], z[0], z[3], bias[3])
    _gru_state(z[1], z[2], h_prev, h)


# ----------------------------------------------------------------- backward
@njit(cache=True, error_model="numpy")
def rnn_grads(dh, dh_n, h, d, kind):
    """``d = act'(h) * (dh + dh_n)`` (act' read from the output h)."""
    if kind == RELU:
        for k in range(h.shape[0]):
            d[k] = ftz(dh[k] + dh_n[k]) if h[k] > ZERO else ZERO
    else:
        for k in range(h.shape[0]):
            d[k] = ftz((dh[k] + dh_n[k]) * (ONE - h[k] * h[k]))


@njit(cache=True, error_model="numpy")
def lstm_grads(dh, dh_n, dc_n, a, c_prev, c, d):
    """Gate pre-activation gradients ``d`` (4, n); ``dc_n`` becomes dL/dc_{t-1}.

    ``dH = dh + dh_n``, ``dC = dc_n + dH o (1 - tanh(c)^2)``, then
    ``d_i = dC g i (1 - i)``, ``d_f = dC c_prev f (1 - f)``,
    ``d_g = dC i (1 - g^2)``, ``d_o = dH tanh(c) o (1 - o)``, ``dc_n = dC f``.
    """
    i, f, g, o = a[0], a[1], a[2], a[3]
    for k in range(c.shape[0]):
        dH = dh[k] + dh_n[k]
        tc = gate_tanh(c[k])
        d[3, k] = ftz(dH * tc * o[k] * (ONE - o[k]))
        dc_n[k] = dc_n[k] + dH * o[k] * (ONE - tc * tc)
    for k in range(c.shape[0]):
        dC = dc_n[k]
        d[0, k] = ftz(dC * g[k] * i[k] * (ONE - i[k]))
        d[1, k] = ftz(dC * c_prev[k] * f[k] * (ONE - f[k]))
        d[2, k] = ftz(dC * i[k] * (ONE - g[k] * g[k]))
        dc_n[k] = ftz(dC * f[k])


@njit(cache=True, error_model="numpy")
def gru_grads(dh, dh_n, a, h_prev, d, direct):
    """Block-row gradients ``d`` (4, n) and ``direct = dH z`` (the path to h_prev
    that bypasses the weights)::

        dH = dh + dh_n      d_n = dH (1 - z) (1 - n^2)      d_z = dH (h_prev - n) z (1 - z)
        d_r = d_n hn r (1 - r)      d_hn = d_n r
    """
    r, z, n, hn = a[0], a[1], a[2], a[3]
    for k in range(h_prev.shape[0]):
        dH = dh[k] + dh_n[k]
        dn = ftz(dH * (ONE - z[k]) * (ONE - n[k] * n[k]))
        d[2, k] = dn
        d[1, k] = ftz(dH * (h_prev[k] - n[k]) * z[k] * (ONE - z[k]))
        d[0, k] = ftz(dn * hn[k] * r[k] * (ONE - r[k]))
        d[3, k] = ftz(dn * r[k])
        direct[k] = ftz(dH * z[k])

