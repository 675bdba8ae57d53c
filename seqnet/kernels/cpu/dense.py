"""Fully connected layer: forward with fused bias and activation, and its backward.

Forward::

    a = f(x W^T + b)                 x (B, I), W (O, I), b (O,), a (B, O)

Backward, with f' computed from the output a (see activations.py)::

    dZ = dA * f'(a)
    dW = dZ^T x        db = sum_b dZ        dX = dZ W

The products go to BLAS through :func:`seqnet.kernels.cpu.blas.gemm_core` (one
compiled product per dtype, shared with the other kernels, where each
``np.dot`` layout compiles its own); the elementwise parts are fused
loops, so no temporary pre-activation array is kept between the passes.
"""

import numpy as np
from numba import njit

from .blas import gemm_core
from .jit import any_layout
from .activations import ACTIVATION_CODES, activate_scalar, derivative_from_output


@njit(cache=True, inline="always")
def _bias_activate(out, b, kind):
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = activate_scalar(out[i, j] + b[j], kind)


@njit(cache=True, inline="always")
def _activation_grad(a, d_a, kind, d_b):
    n, m = a.shape
    for j in range(m):
        d_b[j] = 0.0
    for i in range(n):
        for j in range(m):
            dz = d_a[i, j] * derivative_from_output(a[i, j], kind)
            d_a[i, j] = dz
            d_b[j] += dz


def _dense_kernels(kind):
    """``(forward, backward)`` of a dense layer with activation ``kind``.

    ``kind`` is a constant of the closures: LLVM drops the dispatch and emits
    branch-free (vectorised) selects (a runtime ``kind`` left a branch in
    the loop, mispredicted half the time for relu), and a model compiles the
    activations it uses only.  The closures share one cache file, keyed by
    ``kind``."""

    @njit(cache=True)
    def forward(x, w, b, out):
        no, yes = np.bool_(False), np.bool_(True)  # flags typed bool, not literal
        gemm_core(any_layout(x), any_layout(w), any_layout(out), no, yes, no)
        _bias_activate(out, b, kind)

    @njit(cache=True)
    def backward(x, w, a, d_a, d_w, d_b, d_x, compute_dx):
        no, yes = np.bool_(False), np.bool_(True)
        _activation_grad(a, d_a, kind, d_b)
        gemm_core(any_layout(d_a), any_layout(x), any_layout(d_w), yes, no, no)
        if compute_dx:
            gemm_core(any_layout(d_a), any_layout(w), any_layout(d_x), no, no, no)

    return forward, backward


_KERNELS = {kind: _dense_kernels(kind) for kind in ACTIVATION_CODES.values()}


def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; ``out`` is (B, O), preallocated."""
    # C-contiguous inputs (a copy only for other layouts): one compiled
    # kernel per activation, and the row-major operands gemm reads
    _KERNELS[kind][0](np.ascontiguousarray(x), np.ascontiguousarray(w), b, out)


def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; overwrites ``d_w``, ``d_b`` and (if asked) ``d_x``.

    ``d_a`` is overwritten with dZ = dA * f'(a) to avoid a temporary.
    """
    _KERNELS[kind][1](np.ascontiguousarray(x), np.ascontiguousarray(w), a, d_a, d_w, d_b, d_x,
                      bool(compute_dx))
