"""One tiled shared-memory matrix product for the whole CUDA backend.

``c = op(a) @ op(b) [+ c]``, then optionally ``c = act(c + bias)`` in the
epilogue, with ``op`` the identity or the transpose (``trans_a``/``trans_b``),
so dense (x W^T), conv (im2col) and recurrent products (per step and the
weight gradients after the time loop) all use this one kernel.

Each block computes TILE x TILE outputs, staging TILE x TILE tiles of both
operands in shared memory; blocks grid-stride over the output tiles.  Every
output is one thread's serial dot product in k order: deterministic.
TILE is 16 on a GPU and 4 under the simulator (same code, fewer Python threads).
"""

import numpy as np
from numba import cuda, float32, float64

from .activations import activate
from .arrays import SIMULATED

GPU_TILE, GPU_MAX_GRID = 16, 1024  # the launch constants on a GPU
TILE = 4 if SIMULATED else GPU_TILE
MAX_GRID = 2 if SIMULATED else GPU_MAX_GRID


def _make_kernel(nb_dtype, np_dtype):
    zero = np_dtype(0)

    @cuda.jit
    def kernel(a, b, c, trans_a, trans_b, accumulate, bias, has_bias, kind):
        sa = cuda.shared.array((TILE, TILE), nb_dtype)
        sb = cuda.shared.array((TILE, TILE), nb_dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        M = c.shape[0]
        N = c.shape[1]
        K = a.shape[0] if trans_a else a.shape[1]
        tiles_m = (M + TILE - 1) // TILE
        tiles_n = (N + TILE - 1) // TILE
        for bm in range(cuda.blockIdx.y, tiles_m, cuda.gridDim.y):
            for bn in range(cuda.blockIdx.x, tiles_n, cuda.gridDim.x):
                row = bm * TILE + ty
                col = bn * TILE + tx
                acc = zero
                for k0 in range(0, K, TILE):
                    ka = k0 + tx
                    if row < M and ka < K:
                        sa[ty, tx] = a[ka, row] if trans_a else a[row, ka]
                    else:
                        sa[ty, tx] = zero
                    kb = k0 + ty
                    if kb < K and col < N:
                        sb[ty, tx] = b[col, kb] if trans_b else b[kb, col]
                    else:
                        sb[ty, tx] = zero
                    cuda.syncthreads()
                    for kk in range(TILE):
                        acc += sa[ty, kk] * sb[kk, tx]
                    cuda.syncthreads()
                if row < M and col < N:
                    if accumulate:
                        acc += c[row, col]
                    if has_bias:
                        c[row, col] = activate(acc + bias[col], kind)
                    else:
                        c[row, col] = acc

    return kernel


_KERNELS = {
    np.dtype(np.float32): _make_kernel(float32, np.float32),
    np.dtype(np.float64): _make_kernel(float64, np.float64),
}
_DUMMY = {}


def _dummy(dtype):
    if dtype not in _DUMMY:
        _DUMMY[dtype] = cuda.device_array(1, dtype=dtype)
    return _DUMMY[dtype]


def matmul(a, b, c, trans_a=False, trans_b=False, accumulate=False, bias=None, kind=0):
    """``c[...] = op(a) @ op(b)`` (``+ c`` if ``accumulate``; then
    ``act(. + bias)`` when ``bias`` is given).  All 2-D device arrays; returns ``c``."""
    M, N = c.shape
    if M == 0 or N == 0:
        return c
    has_bias = bias is not None
    bias_arr = bias if has_bias else _dummy(c.dtype)
    blocks = (min(MAX_GRID, -(-N // TILE)), min(MAX_GRID, -(-M // TILE)))
    _KERNELS[np.dtype(c.dtype)][blocks, (TILE, TILE)](
        a, b, c, bool(trans_a), bool(trans_b), bool(accumulate), bias_arr, has_bias, int(kind))
    return c


def matmul_new(a, b, shape, trans_a=False, trans_b=False):
    """``op(a) @ op(b)`` into a new device array of ``shape``."""
    c = cuda.device_array(shape, dtype=a.dtype)
    return matmul(a, b, c, trans_a, trans_b)
