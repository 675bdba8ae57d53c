"""Pointwise math of one step of the RNN, LSTM and GRU cells (CPU).

Every function works on one step of one batch chunk (see
:mod:`seqnet.kernels.cpu.recurrent_chunks`): contiguous ``(nb, features)``
row blocks of a chunk's "rows" arrays.

* ``g`` (steps * nb, cols * H): per sample, the input projections of every
  step (one product per chunk); each step's recurrent product is added into
  its block in place, then the step functions turn the block into the
  activations the backward pass needs, from which the backward functions
  compute the pre-activation gradients ``dz`` (same layout).  Columns:

  - RNN  (1 x H):  ``z``
  - LSTM (4 x H): ``z_i, z_f, z_g, z_o`` (PyTorch order)
  - GRU  (4 x H): ``z_r, z_z``, ``W_hn h`` and ``W_in x`` (the candidate
    needs its hidden part apart: ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``);
    the recurrent product covers columns ``:3H`` (``W_hh`` in PyTorch layout).

* ``xh`` (rows, F + H + 1): ``[x_t | h_{t-1} | 1]`` of every step, the
  operand of the single weight-gradient product; the state sits at columns
  ``F:F + H`` (:func:`state_col`).  ``cs`` (rows, H): LSTM cell states.

Biases are added in the gate loops, one per column of ``g`` (GRU: ``b_r,
b_z, b_hn, b_in``; laid out by
:func:`seqnet.kernels.cpu.recurrent_weights.forward_weights`).

One gate nonlinearity per loop function: each call site of a gate
nonlinearity in one function counts against LLVM's inlining budget, and a
loop left with a call in it runs scalar, several times slower.  A loop that
writes one array and reads few vectorizes; with many arrays LLVM needs more
runtime alias checks than it allows and leaves the loop scalar.

Every function here is inlined into its cell's chunk kernels in numba's IR
(:func:`seqnet.kernels.cpu.jit.inlined`: none is compiled on its own), so
they run under the chunk kernels' flags: ``error_model="numpy"`` and fused
multiply-add (``fastmath={"contract"}``, nothing else of fastmath), which
the rational tanh gains most from.
"""

import numpy as np

from seqnet.kernels.contract import CELL_GATES as _CONTRACT_GATES
from seqnet.kernels.contract import RELU
from seqnet.kernels.cpu.blas import gemm_core, piece_width
from seqnet.kernels.cpu.jit import any_layout, helper, inlined
from seqnet.kernels.cpu.recurrent_chunks import copy_block_core
from seqnet.kernels.cpu.recurrent_common import (
    CONTRACT,
    ONE,
    ZERO,
    ftz,
    gate_sigmoid,
    gate_tanh,
)

CELL_RNN, CELL_LSTM, CELL_GRU = 0, 1, 2
#: Gates in PyTorch's weight layout (rows of W_ih / W_hh, in units of H),
#: by cell code (the contract's table is by name).
CELL_GATES = {code: _CONTRACT_GATES[name]
              for code, name in ((CELL_RNN, "rnn"), (CELL_LSTM, "lstm"), (CELL_GRU, "gru"))}
#: Columns (in units of H) of each cell's gate array ``g``.
GATE_COLUMNS = {CELL_RNN: 1, CELL_LSTM: 4, CELL_GRU: 4}


# ---------------------------------------------------------- columns of g
@inlined()
def input_columns(cell, width):
    """Columns of ``g`` (``width`` of them) that hold input projections, as
    ``(first, last, w)`` ranges: ``W_ih[w:w + last - first]`` feeds ``first:last``.

    Always two ranges, so numba types both branches as one tuple type; the
    RNN's and LSTM's second range is empty and callers skip it."""
    if cell == CELL_GRU:
        H = width // 4
        return ((0, 2 * H, 0), (3 * H, 4 * H, 2 * H))
    return ((0, width, 0), (width, width, width))


@inlined()
def state_col(xh, H):
    """First column of the state in the ``[x | h | 1]`` rows."""
    return xh.shape[1] - H - 1


@inlined()
def project_inputs(cell, w_ih_t, xh, rows, g):
    """``g[:rows]`` = input projections ``x_t W_ih^T`` of every step (one
    product per column range, summed in row pieces OpenBLAS runs unpacked:
    :func:`seqnet.kernels.cpu.blas.piece_width`); ``w_ih_t`` is ``W_ih^T``
    (F, G*H).  The GRU's ``W_hn h`` columns start at 0."""
    F = w_ih_t.shape[0]
    for first, last, w in input_columns(cell, g.shape[1]):
        if last > first:
            n = last - first
            piece = piece_width(F, n, rows)
            for r in range(0, rows, piece):
                e = min(r + piece, rows)
                no = np.bool_(False)
                gemm_core(any_layout(xh[r:e, :F]), any_layout(w_ih_t[:, w:w + n]),
                          any_layout(g[r:e, first:last]), no, no, no)
    if cell == CELL_GRU:
        H = g.shape[1] // 4
        g[:rows, 2 * H:3 * H] = 0.0


@inlined()
def gate_weight_grads(cell, xh, dz, rows, grads_t, grads):
    """A chunk's weight and bias gradients (``grads``: ``dw_ih, dw_hh, db_ih,
    db_hh``, overwritten) from the pre-activation gradients ``dz`` of its
    first ``rows`` rows: ``[dW_ih | dW_hh | db]`` of every gate column is one
    product over the ``[x | h_prev | 1]`` rows of ``xh`` into ``grads_t``
    (F + H + 1, gate columns; aligned), summed in row pieces that OpenBLAS
    runs unpacked (:func:`seqnet.kernels.cpu.blas.piece_width`)."""
    dw_ih, dw_hh, db_ih, db_hh = grads
    GH, H = dw_hh.shape
    F = dw_ih.shape[1]
    W, GW = grads_t.shape
    no, yes = np.bool_(False), np.bool_(True)
    piece = piece_width(W, GW, rows)
    for r in range(0, rows, piece):
        e = min(r + piece, rows)
        gemm_core(any_layout(xh[r:e]), any_layout(dz[r:e]), any_layout(grads_t),
                  yes, no, r > 0)
    gate_grads = grads_t.T  # row j: [dW_ih | dW_hh | db] of gate column j
    copy_block_core(any_layout(gate_grads[:GH, F:F + H]), any_layout(dw_hh))
    copy_block_core(any_layout(gate_grads[:GH, F + H:F + H + 1]),
                    any_layout(db_hh.reshape(GH, 1)))
    for first, last, w in input_columns(cell, GW):
        if last > first:
            n = last - first
            copy_block_core(any_layout(gate_grads[first:last, :F]),
                            any_layout(dw_ih[w:w + n]))
            copy_block_core(any_layout(gate_grads[first:last, F + H:F + H + 1]),
                            any_layout(db_ih[w:w + n].reshape(n, 1)))


@inlined()
def input_grads(cell, dz, w_ih, dx_rows):
    """``dx_rows += dZ W_ih`` over the input-projection columns of ``dz``
    (one product per column range, as :func:`project_inputs`)."""
    no, yes = np.bool_(False), np.bool_(True)
    for first, last, w in input_columns(cell, dz.shape[1]):
        if last > first:
            gemm_core(any_layout(dz[:, first:last]), any_layout(w_ih[w:w + last - first]),
                      any_layout(dx_rows), no, no, yes)


# ---------------------------------------------------------------- forward
# Blocks: ``gb`` (nb, G*H) of g, ``hp``/``hn`` (nb, F + H + 1) of xh (state
# before / after the step), ``cp``/``cn`` (nb, H) of cs.
@inlined()
def _gate_cols(gb, first, last, bias, sigmoid):
    """``gb[:, first:last] = f(gb[:, first:last] + bias[first:last])``, f the
    sigmoid or tanh; ``sigmoid`` is a constant at every call site, so the
    branch folds away once this is inlined."""
    bs = bias[first:last]
    for b in range(gb.shape[0]):
        row = gb[b, first:last]
        if sigmoid:
            for k in range(last - first):
                row[k] = gate_sigmoid(row[k] + bs[k])
        else:
            for k in range(last - first):
                row[k] = gate_tanh(row[k] + bs[k])


@inlined()
def rnn_step(gb, bias, hn, kind):
    """``h = act(z + b)`` (tanh or relu); ``g`` keeps ``z``."""
    H = gb.shape[1]
    c0 = state_col(hn, H)
    for b in range(gb.shape[0]):
        z, h = gb[b], hn[b, c0:c0 + H]
        if kind == RELU:
            for k in range(H):
                v = z[k] + bias[k]
                h[k] = v if v > ZERO else ZERO
        else:
            for k in range(H):
                h[k] = gate_tanh(z[k] + bias[k])


@inlined()
def _lstm_cell(gb, cp, cn):
    H = cp.shape[1]
    for b in range(gb.shape[0]):
        i, f, gg = gb[b, :H], gb[b, H:2 * H], gb[b, 2 * H:3 * H]
        c_prev, c = cp[b], cn[b]
        for k in range(H):
            c[k] = f[k] * c_prev[k] + i[k] * gg[k]


@inlined()
def _lstm_hidden(gb, cn, hn):
    H = cn.shape[1]
    c0 = state_col(hn, H)
    for b in range(gb.shape[0]):
        o, c, h = gb[b, 3 * H:], cn[b], hn[b, c0:c0 + H]
        for k in range(H):
            h[k] = o[k] * gate_tanh(c[k])


@inlined()
def lstm_step(gb, bias, cp, cn, hn):
    """Gates in place (i, f, o sigmoid; g tanh), then ``c`` and ``h``."""
    H = cp.shape[1]
    _gate_cols(gb, np.int64(0), 2 * H, bias, True)
    _gate_cols(gb, 2 * H, 3 * H, bias, False)
    _gate_cols(gb, 3 * H, 4 * H, bias, True)
    _lstm_cell(gb, cp, cn)
    _lstm_hidden(gb, cn, hn)


@inlined()
def _gru_candidate(gb, bias):
    """Column block hn becomes ``W_hn h + b_hn``, block xn becomes
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``."""
    H = gb.shape[1] // 4
    b_hn, b_in = bias[2 * H:3 * H], bias[3 * H:]
    for b in range(gb.shape[0]):
        r, hn, n = gb[b, :H], gb[b, 2 * H:3 * H], gb[b, 3 * H:]
        for k in range(H):
            v = hn[k] + b_hn[k]
            hn[k] = v
            n[k] = gate_tanh(n[k] + b_in[k] + r[k] * v)


@inlined()
def _gru_state(gb, hp, hn):
    H = gb.shape[1] // 4
    c0 = state_col(hn, H)
    for b in range(gb.shape[0]):
        z, n = gb[b, H:2 * H], gb[b, 3 * H:]
        h_prev, h = hp[b, c0:c0 + H], hn[b, c0:c0 + H]
        for k in range(H):
            h[k] = (ONE - z[k]) * n[k] + z[k] * h_prev[k]


@inlined()
def gru_step(gb, bias, hp, hn):
    """Columns become r, z, ``W_hn h + b_hn``, n; then ``h = (1 - z) n + z h_prev``."""
    _gate_cols(gb, np.int64(0), 2 * (gb.shape[1] // 4), bias, True)
    _gru_candidate(gb, bias)
    _gru_state(gb, hp, hn)


# ---------------------------------------------------------------- backward
# ``up`` (nb, H): the loss gradient of the step's outputs; ``dh_n`` (nb, H)
# the gradient arriving from step s + 1; ``db`` (nb, G*H) the step's block of
# ``dz``.  ``g`` stays as it is, so a cache can serve several backward passes.
@inlined()
def _add(up, dh_n, out):
    """``out = up + dh_n`` (the total gradient of the step's output)."""
    for b in range(up.shape[0]):
        u, d, o = up[b], dh_n[b], out[b]
        for k in range(u.shape[0]):
            o[k] = u[k] + d[k]


@inlined()
def rnn_grads(up, dh_n, hn, db, kind):
    """``d = act'(h) * (dh + dh_n)`` (act' read from the output h)."""
    H = up.shape[1]
    c0 = state_col(hn, H)
    _add(up, dh_n, db)
    for b in range(up.shape[0]):
        h, d = hn[b, c0:c0 + H], db[b]
        if kind == RELU:
            for k in range(H):
                d[k] = ftz(d[k]) if h[k] > ZERO else ZERO
        else:
            for k in range(H):
                d[k] = ftz(d[k] * (ONE - h[k] * h[k]))


# The LSTM's two gradient loops are compiled on their own (``helper``), not
# inlined into the backward chunk kernel: LLVM optimised them less well
# inside that large function, and the backward ran measurably slower for no
# gain in first-use time (benchmarks/RESULTS.md, "Sixth session").
@helper(error_model="numpy", fastmath=CONTRACT)
def _lstm_output_grads(gb, cn, db, dc_n):
    """With ``dH`` in ``db[:, 3H:]``: ``d_o = dH tanh(c) o (1 - o)``,
    ``dc_n += dH o (1 - tanh(c)^2)``."""
    H = cn.shape[1]
    for b in range(gb.shape[0]):
        o, c, d_o, dc = gb[b, 3 * H:], cn[b], db[b, 3 * H:], dc_n[b]
        for k in range(H):
            dH = d_o[k]
            tc = gate_tanh(c[k])
            d_o[k] = ftz(dH * tc * o[k] * (ONE - o[k]))
            dc[k] = dc[k] + dH * o[k] * (ONE - tc * tc)


@helper(error_model="numpy", fastmath=CONTRACT)
def _lstm_gate_grads(gb, cp, db, dc_n):
    """``d_i = dC g i (1 - i)``, ``d_f = dC c_prev f (1 - f)``,
    ``d_g = dC i (1 - g^2)``, ``dc_n = dC f``."""
    H = cp.shape[1]
    for b in range(gb.shape[0]):
        dc, c_prev = dc_n[b], cp[b]
        i, f, gg = gb[b, :H], gb[b, H:2 * H], gb[b, 2 * H:3 * H]
        d_i, d_f, d_g = db[b, :H], db[b, H:2 * H], db[b, 2 * H:3 * H]
        # two writes and three reads per loop stay within LLVM's alias checks
        for k in range(H):
            d_i[k] = ftz(dc[k] * gg[k] * i[k] * (ONE - i[k]))
            d_g[k] = ftz(dc[k] * i[k] * (ONE - gg[k] * gg[k]))
        for k in range(H):
            d_f[k] = ftz(dc[k] * c_prev[k] * f[k] * (ONE - f[k]))
            dc[k] = ftz(dc[k] * f[k])


@inlined()
def lstm_grads(up, dh_n, dc_n, gb, cp, cn, db):
    """Gate pre-activation gradients into ``db``; ``dc_n`` becomes dL/dc_{t-1}.

    ``dH = dh + dh_n``, ``dC = dc_n + dH o (1 - tanh(c)^2)``, then
    ``d_i = dC g i (1 - i)``, ``d_f = dC c_prev f (1 - f)``,
    ``d_g = dC i (1 - g^2)``, ``d_o = dH tanh(c) o (1 - o)``, ``dc_n = dC f``.
    """
    H = cp.shape[1]
    _add(up, dh_n, db[:, 3 * H:])
    _lstm_output_grads(gb, cn, db, dc_n)
    _lstm_gate_grads(gb, cp, db, dc_n)


@inlined()
def _gru_grads(gb, hp, db, direct):
    H = gb.shape[1] // 4
    c0 = state_col(hp, H)
    for b in range(gb.shape[0]):
        r, z, hn, n = gb[b, :H], gb[b, H:2 * H], gb[b, 2 * H:3 * H], gb[b, 3 * H:]
        d_r, d_z, d_hn, d_n = db[b, :H], db[b, H:2 * H], db[b, 2 * H:3 * H], db[b, 3 * H:]
        dH, h_prev = direct[b], hp[b, c0:c0 + H]
        # at most two writes and three reads per loop (LLVM's alias checks)
        for k in range(H):
            d_n[k] = ftz(dH[k] * (ONE - z[k]) * (ONE - n[k] * n[k]))
        for k in range(H):
            d_z[k] = ftz(dH[k] * (h_prev[k] - n[k]) * z[k] * (ONE - z[k]))
            dH[k] = ftz(dH[k] * z[k])
        for k in range(H):
            d_r[k] = ftz(d_n[k] * hn[k] * r[k] * (ONE - r[k]))
            d_hn[k] = ftz(d_n[k] * r[k])


@inlined()
def gru_grads(up, dh_n, gb, hp, db, direct):
    """Gradients of the columns ``z_r, z_z, W_hn h + b_hn, W_in x + b_in`` into
    ``db`` and ``direct = dH z`` (the path to h_prev that bypasses the weights)::

        dH = dh + dh_n      d_n = dH (1 - z) (1 - n^2)      d_z = dH (h_prev - n) z (1 - z)
        d_r = d_n hn r (1 - r)      d_hn = d_n r
    """
    _add(up, dh_n, direct)  # ``direct`` holds dH until the last loop
    _gru_grads(gb, hp, db, direct)
