"""LSTM kernels (PyTorch layout, gate order i, f, g, o).

See :mod:`seqnet.kernels.cpu.recurrent_common` for the shared conventions
(lengths / padding, reverse direction, truncated BPTT, cache layout).
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.recurrent_common import (
    finish_grads,
    ftz,
    gate_sigmoid,
    gate_tanh,
    input_projection,
    max_length,
    prev_time_index,
    time_index,
)


@njit(cache=True)
def lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    """One direction of an LSTM layer over a padded batch.

    For each valid step (processing order, state starts at ``h0, c0``)::

        Z   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (4H: i, f, g, o)
        i = sigma(Z_i)  f = sigma(Z_f)  g = tanh(Z_g)  o = sigma(Z_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    ``W_ih x`` is one (B*T, F) @ (F, 4H) product; each step adds one
    (B, H) @ (H, 4H) product.

    Returns
    -------
    h : (B, T, H) hidden outputs, 0 at padding.
    c : (B, T, H) cell states (cache), 0 at padding.
    gates : (B, T, 4H) activations i, f, g, o (cache; padding entries unused).
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 4
    gates = input_projection(x, w_ih)
    h = np.zeros((B, T, H), dtype=x.dtype)
    c = np.zeros((B, T, H), dtype=x.dtype)
    hs = h0.copy()
    cs = c0.copy()
    hh = np.empty((B, GH), dtype=x.dtype)
    bias = b_ih + b_hh
    smax = max_length(lengths)
    for s in range(smax):
        np.dot(hs, w_hh.T, hh)
        for b in range(B):
            L = lengths[b]
            if s >= L:
                continue
            t = time_index(s, L, reverse)
            for j in range(H):
                zi = gates[b, t, j] + hh[b, j] + bias[j]
                zf = gates[b, t, H + j] + hh[b, H + j] + bias[H + j]
                zg = gates[b, t, 2 * H + j] + hh[b, 2 * H + j] + bias[2 * H + j]
                zo = gates[b, t, 3 * H + j] + hh[b, 3 * H + j] + bias[3 * H + j]
                ig = gate_sigmoid(zi)
                fg = gate_sigmoid(zf)
                gg = gate_tanh(zg)
                og = gate_sigmoid(zo)
                cn = fg * cs[b, j] + ig * gg
                hn = og * gate_tanh(cn)
                gates[b, t, j] = ig
                gates[b, t, H + j] = fg
                gates[b, t, 2 * H + j] = gg
                gates[b, t, 3 * H + j] = og
                c[b, t, j] = cn
                h[b, t, j] = hn
                cs[b, j] = cn
                hs[b, j] = hn
    return h, c, gates


@njit(cache=True)
def lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, c, gates, reverse, bptt, need_dx):
    """BPTT for one LSTM direction; ``dh`` (B, T, H) is dL/dh_t from above.

    Backwards over processing steps, with ``dh_n``, ``dc_n`` the gradients
    carried from the next step (zero at the first processed step of the
    backward sweep, and reset to zero at truncation borders)::

        dH  = dh_t + dh_n
        dC  = dc_n + dH * o * (1 - tanh(c_t)^2)
        dZ_o = dH * tanh(c_t) * o (1 - o)     dZ_i = dC * g * i (1 - i)
        dZ_f = dC * c_{t-1} * f (1 - f)       dZ_g = dC * i * (1 - g^2)
        dc_n <- dC * f                        dh_n <- dZ W_hh   (one product)

    then after the loop (see ``finish_grads``)::

        dW_ih = dZ^T x    dW_hh = dZ^T Hprev    db_ih = db_hh = sum dZ    dx = dZ W_ih

    Values below 1e-30 in magnitude are flushed to zero.

    Returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` is (0, 0, 0) when
    ``need_dx`` is False.
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 4
    dz = np.zeros((B, T, GH), dtype=x.dtype)
    hprev = np.zeros((B, T, H), dtype=x.dtype)
    dzs = np.zeros((B, GH), dtype=x.dtype)
    dh_n = np.zeros((B, H), dtype=x.dtype)
    dc_n = np.zeros((B, H), dtype=x.dtype)
    smax = max_length(lengths)
    for s in range(smax - 1, -1, -1):
        for b in range(B):
            L = lengths[b]
            if s >= L:
                for k in range(GH):
                    dzs[b, k] = 0.0
                for j in range(H):
                    dc_n[b, j] = 0.0
                continue
            t = time_index(s, L, reverse)
            tp = prev_time_index(t, reverse)
            for j in range(H):
                if s == 0:
                    hp = h0[b, j]
                    cp = c0[b, j]
                else:
                    hp = h[b, tp, j]
                    cp = c[b, tp, j]
                hprev[b, t, j] = hp
                ig = gates[b, t, j]
                fg = gates[b, t, H + j]
                gg = gates[b, t, 2 * H + j]
                og = gates[b, t, 3 * H + j]
                tc = gate_tanh(c[b, t, j])
                dH = ftz(dh[b, t, j] + dh_n[b, j])
                dC = ftz(dc_n[b, j] + dH * og * (1.0 - tc * tc))
                dzi = ftz(dC * gg * ig * (1.0 - ig))
                dzf = ftz(dC * cp * fg * (1.0 - fg))
                dzg = ftz(dC * ig * (1.0 - gg * gg))
                dzo = ftz(dH * tc * og * (1.0 - og))
                dzs[b, j] = dzi
                dzs[b, H + j] = dzf
                dzs[b, 2 * H + j] = dzg
                dzs[b, 3 * H + j] = dzo
                dz[b, t, j] = dzi
                dz[b, t, H + j] = dzf
                dz[b, t, 2 * H + j] = dzg
                dz[b, t, 3 * H + j] = dzo
                dc_n[b, j] = ftz(dC * fg)
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            dh_n[:, :] = 0.0
            dc_n[:, :] = 0.0
        else:
            np.dot(dzs, w_hh, dh_n)
    return finish_grads(dz, dz, hprev, x, w_ih, need_dx)
