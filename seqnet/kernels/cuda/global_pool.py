"""Masked global pooling and step masking (CUDA twins of
``seqnet.kernels.cpu.global_pool``): the pooling functions are views onto the
sequence-pooling kernels of ``seqpool.py``; :func:`mask_steps` is one thread
per element (grid-stride)."""

import numpy as np
from numba import cuda

from .arrays import grid, step_at, to_device
from .seqpool import (
    seqpool_max_backward,
    seqpool_max_forward,
    seqpool_mean_backward,
    seqpool_mean_forward,
)


def _flat(x):
    B, C = x.shape[0], x.shape[x.ndim - 1]
    return x.reshape((B, x.size // (B * C) if B else 0, C))


def _positions(x_shape):
    n = 1
    for s in x_shape[1:-1]:
        n *= s
    return n


def global_avgpool_forward(x, lengths):
    return seqpool_mean_forward(_flat(x), lengths)


def global_avgpool_backward(dy, lengths, x_shape):
    return seqpool_mean_backward(dy, lengths, _positions(x_shape)).reshape(tuple(x_shape))


def global_maxpool_forward(x, lengths):
    return seqpool_max_forward(_flat(x), lengths)


def global_maxpool_backward(dy, argmax, x_shape):
    return seqpool_max_backward(dy, argmax, _positions(x_shape)).reshape(tuple(x_shape))


@cuda.jit
def _mask_steps(x, lengths):
    for idx in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        b, t, c, valid = step_at(idx, x, lengths)
        if not valid:
            x[b, t, c] = 0.0


def mask_steps(x, lengths):
    host = np.ascontiguousarray(
        lengths.copy_to_host() if hasattr(lengths, "copy_to_host") else lengths,
        dtype=np.int64)
    if x.size:
        _mask_steps[grid(x.size)](x, to_device(host))
