"""Launch configuration and the array API of the CUDA backend.

The array API (``empty``, ``zeros``, ``to_device``, ``to_host``, ``ascontiguous``
and a few helpers the layers need) mirrors ``seqnet.kernels.cpu.arrays`` so the
same layer code runs on both backends.  Arrays here are numba device arrays.

Launch sizes: every elementwise kernel uses a grid-stride loop, so any grid is
correct.  Under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) each CUDA thread
is a Python thread, so blocks are made tiny there (same code, smaller sizes).
"""

import numpy as np
from numba import config, cuda

SIMULATED = bool(config.ENABLE_CUDASIM)
#: the launch constants on a GPU (tests/cuda/test_launch_shapes.py runs them simulated)
GPU_THREADS, GPU_MAX_BLOCKS = 256, 4096
#: threads per block of elementwise kernels and of block reductions (power of 2)
THREADS = 8 if SIMULATED else GPU_THREADS
MAX_BLOCKS = 2 if SIMULATED else GPU_MAX_BLOCKS


def grid(n):
    """(blocks, threads) for a grid-stride loop over ``n`` items."""
    blocks = max(1, min(MAX_BLOCKS, -(-int(n) // THREADS)))
    return blocks, THREADS


def is_device(a):
    return hasattr(a, "__cuda_array_interface__") and not isinstance(a, np.ndarray)


def flat(a):
    """1-D view of a C-contiguous device array."""
    return a.reshape(a.size)


@cuda.jit(device=True, inline=True)
def row_col(idx, n_cols):
    """``(idx // n_cols, idx % n_cols)``: row and column of the flat index
    ``idx >= 0`` into a C-ordered ``(rows, n_cols)`` array (one division)."""
    row = idx // n_cols
    return row, idx - row * n_cols


@cuda.jit(device=True, inline=True)
def unravel3(idx, n_mid, n_last):
    """``(i0, i1, i2)`` of the flat index ``idx >= 0`` into a C-ordered
    ``(., n_mid, n_last)`` array."""
    rest, i2 = row_col(idx, n_last)
    i0, i1 = row_col(rest, n_mid)
    return i0, i1, i2


@cuda.jit(device=True, inline=True)
def unravel4(idx, n_1, n_2, n_3):
    """``(i0, i1, i2, i3)`` of the flat index ``idx >= 0`` into a C-ordered
    ``(., n_1, n_2, n_3)`` array."""
    rest, i3 = row_col(idx, n_3)
    i0, i1, i2 = unravel3(rest, n_1, n_2)
    return i0, i1, i2, i3


@cuda.jit(device=True, inline=True)
def step_at(idx, a, lengths):
    """``(b, t, c, valid)`` of the flat index ``idx`` into the ``(B, T, C)`` map
    ``a``; ``valid`` when ``t`` is one of sample ``b``'s ``lengths[b]`` steps
    (not padding)."""
    b, t, c = unravel3(idx, a.shape[1], a.shape[2])
    return b, t, c, t < lengths[b]


@cuda.jit
def _fill(x, value):
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        x[i] = value


@cuda.jit
def _add(a, b, out):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = a[i] + b[i]


@cuda.jit
def _concat_last(a, b, out):
    # a (R, Ca), b (R, Cb) -> out (R, Ca + Cb)
    ca = a.shape[1]
    c = out.shape[1]
    for i in range(cuda.grid(1), out.shape[0] * c, cuda.gridsize(1)):
        r, k = row_col(i, c)
        out[r, k] = a[r, k] if k < ca else b[r, k - ca]


@cuda.jit
def _slice_last(a, start, out):
    c = out.shape[1]
    for i in range(cuda.grid(1), out.shape[0] * c, cuda.gridsize(1)):
        r, k = row_col(i, c)
        out[r, k] = a[r, start + k]


def empty(shape, dtype):
    return cuda.device_array(shape, dtype=np.dtype(dtype))


def zeros(shape, dtype):
    out = cuda.device_array(shape, dtype=np.dtype(dtype))
    fill(out, 0)
    return out


def fill(a, value):
    if a.size:
        f = flat(a)
        _fill[grid(f.shape[0])](f, value)


def to_device(a):
    """Device copy of a host array (a device array is returned as is)."""
    if is_device(a):
        return a
    return cuda.to_device(np.ascontiguousarray(a))


def to_host(a, out=None):
    """Host (NumPy) copy of a device array, into ``out`` when given."""
    if not is_device(a):
        a = np.asarray(a)
        if out is None:
            return a
        out[...] = a
        return out
    if out is None:
        return a.copy_to_host()
    a.copy_to_host(out)
    return out


def ascontiguous(a, dtype=None):
    """C-contiguous device array of ``dtype`` (copies only when needed)."""
    if not is_device(a):
        return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))
    same = dtype is None or np.dtype(dtype) == a.dtype
    if same and a.is_c_contiguous():
        return a
    if same:
        out = cuda.device_array(a.shape, dtype=a.dtype)
        out[...] = a  # numba's strided assignment kernel
        return out
    # a dtype change on the device never happens in training (one compute dtype)
    return cuda.to_device(np.ascontiguousarray(a.copy_to_host(), dtype=dtype))


def copy(a):
    out = cuda.device_array(a.shape, dtype=a.dtype)
    copy_into(out, a)
    return out


def copy_into(dst, src):
    """``dst[...] = src`` (same shape; device-to-device or host-to-device)."""
    if dst.size == 0:
        return
    if is_device(src) and not src.is_c_contiguous():
        dst[...] = src
    else:
        dst.copy_to_device(src if is_device(src) else np.ascontiguousarray(src))


def add(a, b):
    out = cuda.device_array(a.shape, dtype=a.dtype)
    if a.size:
        f = flat(out)
        _add[grid(f.shape[0])](flat(a), flat(b), f)
    return out


def concat_last(a, b):
    """Concatenate along the last axis (contiguous arrays of equal leading shape)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    shape = sa[:-1] + (sa[-1] + sb[-1],)
    out = cuda.device_array(shape, dtype=a.dtype)
    if out.size:
        r = out.size // shape[-1]
        _concat_last[grid(out.size)](a.reshape(r, sa[-1]), b.reshape(r, sb[-1]),
                                     out.reshape(r, shape[-1]))
    return out


def slice_last(a, start, stop):
    """Contiguous copy of ``a[..., start:stop]``."""
    sa = tuple(a.shape)
    shape = sa[:-1] + (stop - start,)
    out = cuda.device_array(shape, dtype=a.dtype)
    if out.size:
        r = out.size // shape[-1]
        _slice_last[grid(out.size)](a.reshape(r, sa[-1]), start,
                                    out.reshape(r, shape[-1]))
    return out
