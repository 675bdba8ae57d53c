"""Sequence pooling over the valid steps of each sample (last, mean, max):
CUDA twins of the ``seqpool_*`` kernels of ``seqnet.kernels.cpu.recurrent``,
same signatures and return values (device arrays).  ``lengths`` is the host
int64 array the layer computes, copied to the device once per call.
"""

import numpy as np
from numba import cuda

from .arrays import empty, grid, row_col, step_at, unravel3, zeros
from .recurrent import _lengths


@cuda.jit(device=True, inline=True)
def _last_step(L, k, H):
    """The step 'last' pooling reads in column ``k`` of a sample of ``L > 0``
    steps: its last step in the forward direction's columns (``k < H``), its
    first in the reverse direction's (which ends there)."""
    return L - 1 if k < H else 0


@cuda.jit
def _last_fwd(y, lengths, H, out):
    zero = out.dtype.type(0.0)
    for idx in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, k = row_col(idx, out.shape[1])
        L = lengths[b]
        out[b, k] = y[b, _last_step(L, k, H), k] if L > 0 else zero


@cuda.jit
def _last_bwd(dout, lengths, H, dy):
    for idx in range(cuda.grid(1), dout.size, cuda.gridsize(1)):
        b, k = row_col(idx, dout.shape[1])
        L = lengths[b]
        if L > 0:
            dy[b, _last_step(L, k, H), k] = dout[b, k]


@cuda.jit
def _mean_fwd(y, lengths, out):
    dt = out.dtype.type
    for idx in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, k = row_col(idx, out.shape[1])
        L = lengths[b]
        acc = dt(0.0)
        for t in range(L):
            acc += y[b, t, k]
        out[b, k] = acc * (dt(1.0) / dt(L)) if L > 0 else acc * dt(0.0)


@cuda.jit
def _mean_bwd(dout, lengths, dy):
    dt = dy.dtype.type
    for idx in range(cuda.grid(1), dy.size, cuda.gridsize(1)):
        b, t, k, valid = step_at(idx, dy, lengths)
        dy[b, t, k] = dout[b, k] * (dt(1.0) / dt(lengths[b])) if valid else dt(0.0)


@cuda.jit
def _max_fwd(y, lengths, out, arg):
    for idx in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b, k = row_col(idx, out.shape[1])
        L = lengths[b]
        if L <= 0:
            out[b, k] = 0.0
            arg[b, k] = -1
            continue
        m = y[b, 0, k]
        a = 0
        for t in range(1, L):
            v = y[b, t, k]
            if v > m:
                m = v
                a = t
        out[b, k] = m
        arg[b, k] = a


@cuda.jit
def _max_bwd(dout, arg, dy):
    B, T, C = dy.shape
    for idx in range(cuda.grid(1), B * T * C, cuda.gridsize(1)):
        b, t, k = unravel3(idx, T, C)
        dy[b, t, k] = dout[b, k] if arg[b, k] == t else dy.dtype.type(0.0)


def seqpool_last_forward(y, lengths, directions):
    B, T, C = y.shape
    lens, _ = _lengths(lengths)
    out = empty((B, C), y.dtype)
    if out.size:
        _last_fwd[grid(out.size)](y, lens, C // directions, out)
    return out


def seqpool_last_backward(dout, lengths, directions, T):
    B, C = dout.shape
    lens, _ = _lengths(lengths)
    dy = zeros((B, T, C), dout.dtype)
    if dout.size:
        _last_bwd[grid(dout.size)](dout, lens, C // directions, dy)
    return dy


def seqpool_mean_forward(y, lengths):
    B, T, C = y.shape
    lens, _ = _lengths(lengths)
    out = empty((B, C), y.dtype)
    if out.size:
        _mean_fwd[grid(out.size)](y, lens, out)
    return out


def seqpool_mean_backward(dout, lengths, T):
    B, C = dout.shape
    lens, _ = _lengths(lengths)
    dy = empty((B, T, C), dout.dtype)
    if dy.size:
        _mean_bwd[grid(dy.size)](dout, lens, dy)
    return dy


def seqpool_max_forward(y, lengths):
    B, T, C = y.shape
    lens, _ = _lengths(lengths)
    out = empty((B, C), y.dtype)
    arg = empty((B, C), np.int64)
    if out.size:
        _max_fwd[grid(out.size)](y, lens, out, arg)
    return out, arg


def seqpool_max_backward(dout, argmax, T):
    B, C = dout.shape
    dy = empty((B, T, C), dout.dtype)
    if dy.size:
        _max_bwd[grid(dy.size)](dout, argmax, dy)
    return dy
