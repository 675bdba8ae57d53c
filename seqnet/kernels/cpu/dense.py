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
from .activations import ACTIVATION_CODES, IDENTITY, activate_scalar, derivative_from_output


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
    """``(forward, backward)`` of a dense layer with activation ``kind``,
    or none when their ``activate`` argument is False.

    ``kind`` is a constant of the closures: LLVM drops the dispatch and emits
    branch-free (vectorised) selects (a runtime ``kind`` left a branch in
    the loop, mispredicted half the time for relu), and a model compiles the
    activations it uses only.  The closures share one cache file, keyed by
    ``kind``.  ``activate=False`` lets a model's identity layer (an MLP's
    output) run on its hidden layers' kernels instead of compiling a pair of
    its own (:func:`_kernels_for`)."""

    @njit(cache=True)
    def forward(x, w, b, activate, out):
        no, yes = np.bool_(False), np.bool_(True)  # flags typed bool, not literal
        gemm_core(any_layout(x), any_layout(w), any_layout(out), no, yes, no)
        if kind == IDENTITY:  # pruned by numba in the other closures
            _bias_activate(out, b, IDENTITY)
        elif activate:
            _bias_activate(out, b, kind)
        else:
            _bias_activate(out, b, IDENTITY)

    @njit(cache=True)
    def backward(x, w, a, d_a, d_w, d_b, d_x, compute_dx, activate):
        no, yes = np.bool_(False), np.bool_(True)
        if kind == IDENTITY:  # as in forward
            _activation_grad(a, d_a, IDENTITY, d_b)
        elif activate:
            _activation_grad(a, d_a, kind, d_b)
        else:
            _activation_grad(a, d_a, IDENTITY, d_b)
        gemm_core(any_layout(d_a), any_layout(x), any_layout(d_w), yes, no, no)
        if compute_dx:
            gemm_core(any_layout(d_a), any_layout(w), any_layout(d_x), no, no, no)

    return forward, backward


_KERNELS = {kind: _dense_kernels(kind) for kind in ACTIVATION_CODES.values()}
#: Per dtype, the first activation other than identity a dense layer used in
#: this process: identity layers borrow its kernels.
_HOST_KIND = {}


def _kernels_for(kind, dtype):
    """``((forward, backward), activate)`` for a layer of activation ``kind``
    on arrays of ``dtype``.  Every kernel computes the identity exactly
    (``activate=False``), so the choice changes what compiles, never a result."""
    if kind != IDENTITY:
        _HOST_KIND.setdefault(dtype, kind)
        return _KERNELS[kind], True
    return _KERNELS[_HOST_KIND.get(dtype, IDENTITY)], False


def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; ``out`` is (B, O), preallocated."""
    kernels, activate = _kernels_for(kind, out.dtype)
    # C-contiguous inputs (a copy only for other layouts): one compiled
    # kernel per activation, and the row-major operands gemm reads
    kernels[0](np.ascontiguousarray(x), np.ascontiguousarray(w), b, activate, out)


def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; overwrites ``d_w``, ``d_b`` and (if asked) ``d_x``.

    ``d_a`` is overwritten with dZ = dA * f'(a) to avoid a temporary.
    """
    kernels, activate = _kernels_for(kind, a.dtype)
    kernels[1](np.ascontiguousarray(x), np.ascontiguousarray(w), a, d_a, d_w, d_b, d_x,
               bool(compute_dx), activate)
