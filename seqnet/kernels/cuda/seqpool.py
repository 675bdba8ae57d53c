"""Sequence pooling over the valid steps of each sample (last, mean, max):
CUDA twins of the ``seqpool_*`` kernels of ``seqnet.kernels.cpu.recurrent``,
same signatures and return values (device arrays).  ``lengths`` is the host
int64 array the layer computes, copied to the device once per call.
"""

import numpy as np
from numba import cuda

from .arrays import empty, grid, zeros
from .recurrent import _lengths


@cuda.jit
def _last_fwd(y, lengths, H, out):
    B, C = out.shape
    for idx in range(cuda.grid(1), B * C, cuda.gridsize(1)):
        b = idx // C
        k = idx - b * C
        L = lengths[b]
        if L <= 0:
            out[b, k] = 0.0
        elif k < H:
            out[b, k] = y[b, L - 1, k]
        else:
            out[b, k] = y[b, 0, k]


@cuda.jit
def _last_bwd(dout, lengths, H, dy):
    B, C = dout.shape
    for idx in range(cuda.grid(1), B * C, cuda.gridsize(1)):
        b = idx // C
        k = idx - b * C
        L = lengths[b]
        if L > 0:
            t = L - 1 if k < H else 0
            dy[b, t, k] = dout[b, k]


@cuda.jit
def _mean_fwd(y, lengths, out):
    B, C = out.shape
    for idx in range(cuda.grid(1), B * C, cuda.gridsize(1)):
        b = idx // C
        k = idx - b * C
        L = lengths[b]
        dt = out.dtype.type
        acc = dt(0.0)
        for t in range(L):
            acc += y[b, t, k]
        out[b, k] = acc * (dt(1.0) / dt(L)) if L > 0 else acc * dt(0.0)


@cuda.jit
def _mean_bwd(dout, lengths, dy):
    B, T, C = dy.shape
    for idx in range(cuda.grid(1), B * T * C, cuda.gridsize(1)):
        k = idx % C
        t = (idx // C) % T
        b = idx // (C * T)
        L = lengths[b]
        dt = dy.dtype.type
        dy[b, t, k] = dout[b, k] * (dt(1.0) / dt(L)) if t < L else dt(0.0)


@cuda.jit
def _max_fwd(y, lengths, out, arg):
    B, C = out.shape
    for idx in range(cuda.grid(1), B * C, cuda.gridsize(1)):
        b = idx // C
        k = idx - b * C
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
        k = idx % C
        t = (idx // C) % T
        b = idx // (C * T)
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
