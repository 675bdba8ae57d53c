"""Pointwise math of one step of the RNN, LSTM and GRU cells (CPU).

Every function works on blocks of one batch chunk (see
:mod:`seqnet.kernels.cpu.recurrent_chunks`): a ``(rows, n)`` array with
``n = H * nb`` holds one gate per row, for every unit and every sample of the
chunk.  A step's pre-activations are assembled (:func:`assemble_step`) from
the input projection of all steps (one product per chunk), the step's
recurrent product ``W_hh h_{t-1}`` and the biases, in these rows:

* RNN  (1 row):  ``z``
* LSTM (4 rows): ``z_i, z_f, z_g, z_o`` (PyTorch order)
* GRU  (4 rows): ``z_r, z_z``, ``W_hn h + b_hn`` and ``W_in x + b_in`` (the
  candidate needs its hidden part apart:
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``)

The step functions turn them into the activations the backward pass needs,
in place (GRU: ``r, z, W_hn h + b_hn, n``); the backward functions write the
pre-activation gradients in the same rows.
"""

from numba import njit

from seqnet.kernels.cpu.activations import RELU
from seqnet.kernels.cpu.recurrent_common import (
    ONE,
    ZERO,
    ftz,
    gate_sigmoid,
    gate_tanh,
)

CELL_RNN, CELL_LSTM, CELL_GRU = 0, 1, 2
#: Gates in PyTorch's weight layout (rows of W_ih / W_hh, in units of H).
CELL_GATES = {CELL_RNN: 1, CELL_LSTM: 4, CELL_GRU: 3}
#: Rows (in units of H) of each cell's per-step block.
BLOCK_ROWS = {CELL_RNN: 1, CELL_LSTM: 4, CELL_GRU: 4}


# ------------------------------------------------------------ assembling
@njit(cache=True, error_model="numpy")
def _rows_sum(z, p, col, rec, bias):
    """``z[r, b] = p[r, col + b] + rec[r, b] + bias[r]``."""
    nb = z.shape[1]
    for r in range(z.shape[0]):
        zr, pr, hr, br = z[r], p[r, col:col + nb], rec[r], bias[r]
        for b in range(nb):
            zr[b] = pr[b] + hr[b] + br


@njit(cache=True, error_model="numpy")
def _rows_bias(z, src, bias):
    """``z[r, b] = src[r, b] + bias[r]``."""
    nb = z.shape[1]
    for r in range(z.shape[0]):
        zr, sr, br = z[r], src[r], bias[r]
        for b in range(nb):
            zr[b] = sr[b] + br


@njit(cache=True, error_model="numpy")
def assemble_step(cell, z, p, col, rec, b_ih, b_hh, b_sum):
    """Fill the (rows * H, nb) block ``z`` of one step.

    ``p`` (G*H, steps * nb): input projections, this step at columns
    ``col:col + nb``; ``rec`` (G*H, nb): ``W_hh h_{t-1}``; ``b_sum = b_ih + b_hh``.
    """
    GH = rec.shape[0]
    if cell == CELL_GRU:
        H = GH // 3
        _rows_sum(z[:2 * H], p[:2 * H], col, rec[:2 * H], b_sum[:2 * H])
        _rows_bias(z[2 * H:3 * H], rec[2 * H:], b_hh[2 * H:])
        _rows_bias(z[3 * H:], p[2 * H:, col:col + z.shape[1]], b_ih[2 * H:])
    else:
        _rows_sum(z, p, col, rec, b_sum)


# ---------------------------------------------------------------- forward
# One gate nonlinearity per loop function: each call site of a gate
# nonlinearity in one big function counts against LLVM's inlining budget,
# and a loop left with a call in it runs scalar (measured: 4x slower).
@njit(cache=True, error_model="numpy")
def _sigmoid(z):
    for k in range(z.shape[0]):
        z[k] = gate_sigmoid(z[k])


@njit(cache=True, error_model="numpy")
def _tanh(z):
    for k in range(z.shape[0]):
        z[k] = gate_tanh(z[k])


@njit(cache=True, error_model="numpy")
def rnn_step(z, h, kind):
    """``h = act(z)`` (tanh or relu)."""
    if kind == RELU:
        for k in range(h.shape[0]):
            h[k] = z[k] if z[k] > ZERO else ZERO
    else:
        for k in range(h.shape[0]):
            h[k] = gate_tanh(z[k])


@njit(cache=True, error_model="numpy")
def _lstm_state(i, f, g, o, c_prev, c, h):
    for k in range(c.shape[0]):
        c[k] = f[k] * c_prev[k] + i[k] * g[k]
    for k in range(c.shape[0]):
        h[k] = o[k] * gate_tanh(c[k])


@njit(cache=True, error_model="numpy")
def lstm_step(z, c_prev, c, h):
    """Gates in place (i, f, o sigmoid; g tanh), then ``c`` and ``h``."""
    _sigmoid(z[0])
    _sigmoid(z[1])
    _tanh(z[2])
    _sigmoid(z[3])
    _lstm_state(z[0], z[1], z[2], z[3], c_prev, c, h)


@njit(cache=True, error_model="numpy")
def _gru_candidate(r, hn, xn):
    for k in range(xn.shape[0]):
        xn[k] = gate_tanh(xn[k] + r[k] * hn[k])


@njit(cache=True, error_model="numpy")
def _gru_state(z, n, h_prev, h):
    for k in range(h.shape[0]):
        h[k] = (ONE - z[k]) * n[k] + z[k] * h_prev[k]


@njit(cache=True, error_model="numpy")
def gru_step(z, h_prev, h):
    """Rows become r, z, ``W_hn h + b_hn``, n; then ``h = (1 - z) n + z h_prev``."""
    _sigmoid(z[0])
    _sigmoid(z[1])
    _gru_candidate(z[0], z[2], z[3])
    _gru_state(z[1], z[3], h_prev, h)


# ---------------------------------------------------------------- backward
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
    """Gradients ``d`` (4, n) of the rows ``z_r, z_z, W_hn h + b_hn, W_in x + b_in``
    and ``direct = dH z`` (the path to h_prev that bypasses the weights)::

        dH = dh + dh_n      d_n = dH (1 - z) (1 - n^2)      d_z = dH (h_prev - n) z (1 - z)
        d_r = d_n hn r (1 - r)      d_hn = d_n r
    """
    r, z, hn, n = a[0], a[1], a[2], a[3]
    for k in range(h_prev.shape[0]):
        dH = dh[k] + dh_n[k]
        dn = ftz(dH * (ONE - z[k]) * (ONE - n[k] * n[k]))
        d[3, k] = dn
        d[1, k] = ftz(dH * (h_prev[k] - n[k]) * z[k] * (ONE - z[k]))
        d[0, k] = ftz(dn * hn[k] * r[k] * (ONE - r[k]))
        d[2, k] = ftz(dn * r[k])
        direct[k] = ftz(dH * z[k])
