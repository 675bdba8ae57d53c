"""Array API of the CPU backend (NumPy), mirrored by ``seqnet.kernels.cuda.arrays``.

Layers, the network and the training loop allocate and move arrays through
these functions (``ctx.backend.empty(...)``), so the same code runs on both
backends.  On the CPU "device" and "host" are the same memory: ``to_device``
and ``to_host`` return their argument unchanged.
"""

import numpy as np


def empty(shape, dtype):
    return np.empty(shape, dtype=dtype)


def zeros(shape, dtype):
    return np.zeros(shape, dtype=dtype)


def fill(a, value):
    a[...] = value


def is_device(a):
    return False


def to_device(a):
    return a


def to_host(a, out=None):
    a = np.asarray(a)
    if out is None:
        return a
    out[...] = a
    return out


def ascontiguous(a, dtype=None):
    return np.ascontiguousarray(a, dtype=dtype)


def copy(a):
    return np.array(a, order="C", copy=True)


def copy_into(dst, src):
    dst[...] = src


def add(a, b):
    return a + b


def concat_last(a, b):
    return np.concatenate((a, b), axis=-1)


def slice_last(a, start, stop):
    return np.ascontiguousarray(a[..., start:stop])


def all_finite(a):
    return bool(np.isfinite(a).all())
