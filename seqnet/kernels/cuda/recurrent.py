"""Recurrent kernels (RNN, LSTM, GRU, one direction per call): CUDA twins of
``seqnet.kernels.cpu.recurrent`` with the same
signatures and return values (device arrays).  ``lengths`` is the host int64
array the layer computes (the step loop runs on the host: its trip count is
``max(lengths)``); it is copied to the device once per call.

Per call: the input projection of all steps is ONE tiled product; each step is
one (B, H) x (H, G*H) tiled product followed by ONE fused gate kernel (bias,
nonlinearities, cell/state update, cache writes).  Backward runs one fused
gate-gradient kernel plus one product per step, then the weight gradients are
single large products after the time loop (see ``recurrent_common`` on the CPU
for the conventions: padding, reverse direction, truncated BPTT, flush-to-zero).
``recurrent_forward`` returns ``(h, cache)`` and ``recurrent_backward`` takes
the cache back, as on the CPU; here the cache is ``(h0, c0, h, per_cell)``
with ``per_cell`` ``()`` (RNN), ``(c, gates)`` (LSTM) or ``(gates, hn)`` (GRU)
in (B, T, .) time layout.  ``keep_cache`` is accepted for the CPU signature
and ignored (the device keeps its caches either way).
Constants are cast to the arrays' dtype (``type(v)(...)``, ``x.dtype.type``):
a float32 step computes in float32.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import cuda

from seqnet.kernels.contract import FTZ_THRESHOLD, RELU

from .arrays import empty, fill, grid, row_col, to_device, zeros
from .arrays import copy as _copy
from .matmul import matmul
from .reduce import column_sums


@cuda.jit(device=True, inline=True)
def _ftz(v):
    dt = type(v)
    return v * dt(0.0) if abs(v) < dt(FTZ_THRESHOLD) else v


@cuda.jit(device=True, inline=True)
def _sig(z):
    one = type(z)(1.0)
    return one / (one + math.exp(-z))


@cuda.jit(device=True, inline=True)
def _t_of(s, L, reverse):
    return L - 1 - s if reverse else s


@cuda.jit(device=True, inline=True)
def _tprev(t, reverse):
    return t + 1 if reverse else t - 1


@cuda.jit(device=True, inline=True)
def _unit_at(idx, H, lengths, s, reverse):
    """``(b, j, t)`` of item ``idx`` of a step kernel over the (B, H) units:
    sample ``b``, unit ``j`` and the time index ``t`` of processing step ``s``,
    -1 once sample ``b``'s ``lengths[b]`` steps are done."""
    b, j = row_col(idx, H)
    L = lengths[b]
    return b, j, (_t_of(s, L, reverse) if s < L else -1)


@cuda.jit(device=True, inline=True)
def _before(first, seq, b, t, j, s, reverse):
    """Unit ``j`` of sample ``b``'s state before processing step ``s`` (at time
    ``t``): the initial ``first[b, j]`` at step 0, else ``seq`` at the previous
    processed time."""
    return first[b, j] if s == 0 else seq[b, _tprev(t, reverse), j]


@cuda.jit(device=True, inline=True)
def _preact(hh, zx, b_ih, b_hh, b, t, k):
    """Pre-activation ``k`` of sample ``b`` at time ``t``:
    ``hh[b, k] + (zx[b, t, k] + (b_ih[k] + b_hh[k]))`` (the CPU cells' order)."""
    return hh[b, k] + (zx[b, t, k] + (b_ih[k] + b_hh[k]))


@cuda.jit(device=True, inline=True)
def _activate(z, kind):
    """The RNN cell's activation: ReLU (``0 * z`` below zero keeps NaN) or tanh."""
    zero = type(z)(0.0)
    return (z if z > zero else z * zero) if kind == RELU else math.tanh(z)


@cuda.jit(device=True, inline=True)
def _put_state(h, hs, b, t, j, v):
    """The new state ``v`` into the output sequence ``h`` and the carried ``hs``."""
    h[b, t, j] = v
    hs[b, j] = v


# ----------------------------------------------------------------- forward steps
@cuda.jit
def _rnn_step(zx, hh, b_ih, b_hh, lengths, s, reverse, kind, h, hs):
    for idx in range(cuda.grid(1), hs.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, hs.shape[1], lengths, s, reverse)
        if t >= 0:
            _put_state(h, hs, b, t, j, _activate(_preact(hh, zx, b_ih, b_hh, b, t, j), kind))


@cuda.jit
def _lstm_step(gates, hh, b_ih, b_hh, c0, lengths, s, reverse, h, c, hs):
    H = hs.shape[1]
    for idx in range(cuda.grid(1), hs.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, H, lengths, s, reverse)
        if t < 0:
            continue
        ig = _sig(_preact(hh, gates, b_ih, b_hh, b, t, j))
        fg = _sig(_preact(hh, gates, b_ih, b_hh, b, t, H + j))
        gg = math.tanh(_preact(hh, gates, b_ih, b_hh, b, t, 2 * H + j))
        og = _sig(_preact(hh, gates, b_ih, b_hh, b, t, 3 * H + j))
        gates[b, t, j] = ig
        gates[b, t, H + j] = fg
        gates[b, t, 2 * H + j] = gg
        gates[b, t, 3 * H + j] = og
        cv = fg * _before(c0, c, b, t, j, s, reverse) + ig * gg
        c[b, t, j] = cv
        _put_state(h, hs, b, t, j, math.tanh(cv) * og)


@cuda.jit(device=True, inline=True)
def _gru_unit(gates, hh, b_ih, b_hh, h0, b, j, t, s, reverse, h, hn, hs):
    """Unit ``j`` of sample ``b`` at time ``t`` of a GRU step: gates ``r``,
    ``z``, ``n`` and the hidden-side ``W_hn h + b_hn`` kept for the backward."""
    H = hs.shape[1]
    # r and z sum left to right, as the CPU GRU cell
    r = _sig(hh[b, j] + gates[b, t, j] + b_ih[j] + b_hh[j])
    k = H + j
    z = _sig(hh[b, k] + gates[b, t, k] + b_ih[k] + b_hh[k])
    k = 2 * H + j
    hnv = hh[b, k] + b_hh[k]
    n = math.tanh(gates[b, t, k] + b_ih[k] + r * hnv)
    hn[b, t, j] = hnv
    gates[b, t, j] = r
    gates[b, t, H + j] = z
    gates[b, t, k] = n
    hp = _before(h0, h, b, t, j, s, reverse)
    _put_state(h, hs, b, t, j, (type(z)(1.0) - z) * n + z * hp)


@cuda.jit
def _gru_step(gates, hh, b_ih, b_hh, h0, lengths, s, reverse, h, hn, hs):
    for idx in range(cuda.grid(1), hs.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, hs.shape[1], lengths, s, reverse)
        if t >= 0:
            _gru_unit(gates, hh, b_ih, b_hh, h0, b, j, t, s, reverse, h, hn, hs)


# ---------------------------------------------------------------- backward steps
@cuda.jit(device=True, inline=True)
def _zero_gates(dzs, b, j, H, n_gates):
    """A finished sample's gate gradients: 0 in each gate's column ``j``."""
    for k in range(n_gates):
        dzs[b, k * H + j] = 0.0


@cuda.jit
def _rnn_bstep(dh, h, h0, lengths, s, reverse, kind, dh_n, dzs, dz, hprev):
    for idx in range(cuda.grid(1), dzs.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, dzs.shape[1], lengths, s, reverse)
        if t < 0:
            dzs[b, j] = 0.0
            continue
        # the state before the step, kept for dW_hh after the loop
        hprev[b, t, j] = _before(h0, h, b, t, j, s, reverse)
        hr = h[b, t, j]
        g = dh[b, t, j] + dh_n[b, j]
        zero = type(g)(0.0)
        if kind == RELU:
            v = _ftz(g) if hr > zero else g * zero
        else:
            v = _ftz(g * (type(g)(1.0) - hr * hr))
        dzs[b, j] = v
        dz[b, t, j] = v


@cuda.jit
def _lstm_bstep(dh, h, c, gates, h0, c0, lengths, s, reverse, dh_n, dc_n, dzs, dz, hprev):
    H = dh_n.shape[1]
    for idx in range(cuda.grid(1), dh_n.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, H, lengths, s, reverse)
        if t < 0:
            _zero_gates(dzs, b, j, H, 4)
            dc_n[b, j] = 0.0
            continue
        hprev[b, t, j] = _before(h0, h, b, t, j, s, reverse)
        cp = _before(c0, c, b, t, j, s, reverse)
        dH = _ftz(dh[b, t, j] + dh_n[b, j])
        tc = math.tanh(c[b, t, j])
        ig = gates[b, t, j]
        fg = gates[b, t, H + j]
        gg = gates[b, t, 2 * H + j]
        og = gates[b, t, 3 * H + j]
        one = type(og)(1.0)
        dC = _ftz(dc_n[b, j] + dH * og * (one - tc * tc))
        v_o = _ftz(dH * tc * og * (one - og))
        v_i = _ftz(dC * gg * ig * (one - ig))
        v_f = _ftz(dC * cp * fg * (one - fg))
        v_g = _ftz(dC * ig * (one - gg * gg))
        dc_n[b, j] = _ftz(dC * fg)
        dz[b, t, j] = v_i
        dz[b, t, H + j] = v_f
        dz[b, t, 2 * H + j] = v_g
        dz[b, t, 3 * H + j] = v_o
        dzs[b, j] = v_i
        dzs[b, H + j] = v_f
        dzs[b, 2 * H + j] = v_g
        dzs[b, 3 * H + j] = v_o


@cuda.jit(device=True, inline=True)
def _gru_bunit(dh, h, gates, hn, h0, b, j, t, s, reverse, dh_n, dzs, dzx, dzh, hprev):
    """Unit ``j`` of sample ``b`` at time ``t`` of a GRU backward step: its
    gate gradients, input-side (``dzx``) and hidden-side (``dzh``, ``dzs``)."""
    H = dh_n.shape[1]
    hp = _before(h0, h, b, t, j, s, reverse)
    hprev[b, t, j] = hp
    r = gates[b, t, j]
    z = gates[b, t, H + j]
    n = gates[b, t, 2 * H + j]
    dH = _ftz(dh[b, t, j] + dh_n[b, j])
    one = type(z)(1.0)
    dxn = _ftz(dH * (one - z) * (one - n * n))
    dxz = _ftz(dH * (hp - n) * z * (one - z))
    dxr = _ftz(dxn * hn[b, t, j] * r * (one - r))
    dhn = _ftz(dxn * r)
    dzx[b, t, j] = dxr
    dzx[b, t, H + j] = dxz
    dzx[b, t, 2 * H + j] = dxn
    dzh[b, t, j] = dxr
    dzh[b, t, H + j] = dxz
    dzh[b, t, 2 * H + j] = dhn
    dzs[b, j] = dxr
    dzs[b, H + j] = dxz
    dzs[b, 2 * H + j] = dhn
    dh_n[b, j] = _ftz(dH * z)


@cuda.jit
def _gru_bstep(dh, h, gates, hn, h0, lengths, s, reverse, dh_n, dzs, dzx, dzh, hprev):
    """Also writes the direct term ``dH * z`` into ``dh_n`` (the product
    ``dzs @ W_hh`` is then accumulated onto it)."""
    H = dh_n.shape[1]
    for idx in range(cuda.grid(1), dh_n.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, H, lengths, s, reverse)
        if t >= 0:
            _gru_bunit(dh, h, gates, hn, h0, b, j, t, s, reverse, dh_n, dzs, dzx, dzh, hprev)
        else:
            _zero_gates(dzs, b, j, H, 3)
            dh_n[b, j] = 0.0


# ---------------------------------------------------------------------- helpers
def _lengths(lengths):
    host = np.ascontiguousarray(
        lengths.copy_to_host() if hasattr(lengths, "copy_to_host") else lengths,
        dtype=np.int64)
    smax = int(host.max()) if host.shape[0] else 0
    return to_device(host), smax


def _projection(x, w_ih):
    B, T, F = x.shape
    GH = w_ih.shape[0]
    out = empty((B * T, GH), x.dtype)
    matmul(x.reshape(B * T, F), w_ih, out, trans_b=True)
    return out.reshape(B, T, GH)


def _finish_grads(dzx, dzh, hprev, x, w_ih, need_dx):
    B, T, F = x.shape
    GH = dzx.shape[2]
    H = hprev.shape[2]
    dzx2 = dzx.reshape(B * T, GH)
    dzh2 = dzh.reshape(B * T, GH)
    dw_ih = matmul(dzx2, x.reshape(B * T, F), empty((GH, F), x.dtype), trans_a=True)
    dw_hh = matmul(dzh2, hprev.reshape(B * T, H), empty((GH, H), x.dtype), trans_a=True)
    db_ih = column_sums(dzx2, empty(GH, x.dtype))
    db_hh = column_sums(dzh2, empty(GH, x.dtype))
    if need_dx:
        dx = matmul(dzx2, w_ih, empty((B * T, F), x.dtype)).reshape(B, T, F)
    else:
        dx = empty((0, 0, 0), x.dtype)
    return dx, dw_ih, dw_hh, db_ih, db_hh


class _Forward(NamedTuple):
    """Every cell's forward buffers (device arrays, but ``smax`` and ``cfg``)."""
    lens: object  # (B,) int64 lengths
    smax: int  # processing steps: max(lengths)
    zx: object  # (B, T, G*H) input projection; the cells overwrite it with their gates
    h: object  # (B, T, H) output, zeroed (padding stays 0)
    hs: object  # (B, H) carried state, from h0
    hh: object  # (B, G*H) the step's recurrent product hs W_hh^T
    cfg: tuple  # launch of the step kernels (one item per unit)


def _forward_buffers(x, lengths, w_ih, h0):
    B, T, _ = x.shape
    H = h0.shape[1]
    lens, smax = _lengths(lengths)
    return _Forward(lens, smax, _projection(x, w_ih), zeros((B, T, H), x.dtype), _copy(h0),
                    empty((B, w_ih.shape[0]), x.dtype), grid(B * H))


def _recurrence(f, w_hh, launch):
    """Forward over processing steps: ``hh = hs W_hh^T`` (one tiled product),
    then ``launch(s)`` runs the fused gate kernel of step ``s``."""
    for s in range(f.smax):
        matmul(f.hs, w_hh, f.hh, trans_b=True)
        launch(s)


class _Backward(NamedTuple):
    """Every cell's backward buffers (device arrays, zeroed; but ``smax`` and ``cfg``)."""
    lens: object  # (B,) int64 lengths
    smax: int
    dz: object  # (B, T, G*H) gate gradients at every time (padding stays 0)
    hprev: object  # (B, T, H) the state before each step, for dW_hh
    dzs: object  # (B, G*H) the step's gate gradients
    dh_n: object  # (B, H) the state gradient carried to the previous step
    cfg: tuple


def _backward_buffers(x, lengths, w_ih, h):
    B, T, _ = x.shape
    GH, H = w_ih.shape[0], h.shape[2]
    lens, smax = _lengths(lengths)
    return _Backward(lens, smax, zeros((B, T, GH), x.dtype), zeros((B, T, H), x.dtype),
                     zeros((B, GH), x.dtype), zeros((B, H), x.dtype), grid(B * H))


def _bptt(g, bptt, w_hh, launch, carried, accumulate=False):
    """Backward over processing steps.  ``launch(s)`` writes step ``s``'s gate
    gradients to ``g.dzs``; the state gradient ``carried[0]`` for step s-1 is
    ``dzs W_hh`` (added to what the kernel left there when ``accumulate``), and
    every carried gradient is zeroed at a truncation border (``s % bptt == 0``)."""
    for s in range(g.smax - 1, -1, -1):
        launch(s)
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            for arr in carried:
                fill(arr, 0)
        else:
            matmul(g.dzs, w_hh, carried[0], accumulate=accumulate)


# ---------------------------------------------------------------------- RNN
def _rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind):
    f = _forward_buffers(x, lengths, w_ih, h0)
    _recurrence(f, w_hh, lambda s: _rnn_step[f.cfg](
        f.zx, f.hh, b_ih, b_hh, f.lens, s, bool(reverse), int(kind), f.h, f.hs))
    return f.h, ()


def _rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, reverse, bptt, need_dx, kind):
    g = _backward_buffers(x, lengths, w_ih, h)
    _bptt(g, bptt, w_hh, lambda s: _rnn_bstep[g.cfg](
        dh, h, h0, g.lens, s, bool(reverse), int(kind), g.dh_n, g.dzs, g.dz, g.hprev),
        (g.dh_n,))
    return _finish_grads(g.dz, g.dz, g.hprev, x, w_ih, need_dx)


# ---------------------------------------------------------------------- LSTM
def _lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    f = _forward_buffers(x, lengths, w_ih, h0)
    c = zeros(f.h.shape, x.dtype)
    _recurrence(f, w_hh, lambda s: _lstm_step[f.cfg](
        f.zx, f.hh, b_ih, b_hh, c0, f.lens, s, bool(reverse), f.h, c, f.hs))
    return f.h, (c, f.zx)


def _lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, cache, reverse, bptt, need_dx):
    c, gates = cache
    g = _backward_buffers(x, lengths, w_ih, h)
    dc_n = zeros(g.dh_n.shape, x.dtype)
    _bptt(g, bptt, w_hh, lambda s: _lstm_bstep[g.cfg](
        dh, h, c, gates, h0, c0, g.lens, s, bool(reverse), g.dh_n, dc_n, g.dzs, g.dz, g.hprev),
        (g.dh_n, dc_n))
    return _finish_grads(g.dz, g.dz, g.hprev, x, w_ih, need_dx)


# ---------------------------------------------------------------------- GRU
def _gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    f = _forward_buffers(x, lengths, w_ih, h0)
    hn = zeros(f.h.shape, x.dtype)
    _recurrence(f, w_hh, lambda s: _gru_step[f.cfg](
        f.zx, f.hh, b_ih, b_hh, h0, f.lens, s, bool(reverse), f.h, hn, f.hs))
    return f.h, (f.zx, hn)


def _gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, reverse, bptt, need_dx):
    gates, hn = cache
    g = _backward_buffers(x, lengths, w_ih, h)
    dzh = zeros(g.dz.shape, x.dtype)  # the hidden side's gate gradients differ in n
    # the kernel leaves dH z in dh_n; the product adds dzs W_hh to it
    _bptt(g, bptt, w_hh, lambda s: _gru_bstep[g.cfg](
        dh, h, gates, hn, h0, g.lens, s, bool(reverse), g.dh_n, g.dzs, g.dz, dzh, g.hprev),
        (g.dh_n,), accumulate=True)
    return _finish_grads(g.dz, dzh, g.hprev, x, w_ih, need_dx)


# ------------------------------------------------------------- one signature
def recurrent_forward(cell, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, kind,
                      keep_cache=True):
    """One direction of ``cell`` ('rnn', 'lstm' or 'gru'; the math of each
    is in ``seqnet.kernels.cpu.recurrent_driver.recurrent_forward``).
    ``c0`` is read by the LSTM only, ``kind`` (the activation code) by the
    RNN only.  Returns ``(h, cache)``."""
    if cell == "lstm":
        h, per_cell = _lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse)
    elif cell == "gru":
        h, per_cell = _gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse)
    elif cell == "rnn":
        h, per_cell = _rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind)
    else:
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
    return h, (h0, c0, h, per_cell)


def recurrent_backward(cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx, kind):
    """BPTT of :func:`recurrent_forward` over its ``cache``; returns
    ``(dx, dw_ih, dw_hh, db_ih, db_hh)``."""
    h0, c0, h, per_cell = cache
    if cell == "lstm":
        return _lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, per_cell, reverse, bptt,
                              need_dx)
    if cell == "gru":
        return _gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, per_cell, reverse, bptt, need_dx)
    if cell == "rnn":
        return _rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, per_cell, reverse, bptt, need_dx,
                             kind)
    raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
