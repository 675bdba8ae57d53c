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

The activation code is an argument, not a constant of the kernel: one compiled
forward and one backward per dtype serve every layer of a model (a ReLU hidden
layer and an identity output layer compiled a kernel pair each before).  Identity
and ReLU, the common ones, have loops of their own, so their selects stay
branch-free inside the loop.
"""

import numpy as np
from numba import njit

from .blas import gemm_core
from .jit import any_layout
from .activations import IDENTITY, RELU, activate_scalar, derivative_from_output


@njit(cache=True, inline="always")
def _bias_activate(out, b, kind):
    n, m = out.shape
    # the common activations get a loop each, with the activation a
    # constant inside it: branch-free (vectorised) selects
    if kind == IDENTITY:
        for i in range(n):
            for j in range(m):
                out[i, j] += b[j]
    elif kind == RELU:
        for i in range(n):
            for j in range(m):
                v = out[i, j] + b[j]
                out[i, j] = v if v > 0 else 0.0 * v
    else:
        for i in range(n):
            for j in range(m):
                out[i, j] = activate_scalar(out[i, j] + b[j], kind)


@njit(cache=True, inline="always")
def _activation_grad(a, d_a, kind, d_b):
    n, m = a.shape
    for j in range(m):
        d_b[j] = 0.0
    if kind == IDENTITY:
        for i in range(n):
            for j in range(m):
                d_b[j] += d_a[i, j]
    elif kind == RELU:
        for i in range(n):
            for j in range(m):
                dz = d_a[i, j] if a[i, j] > 0 else 0.0 * d_a[i, j]
                d_a[i, j] = dz
                d_b[j] += dz
    else:
        for i in range(n):
            for j in range(m):
                dz = d_a[i, j] * derivative_from_output(a[i, j], kind)
                d_a[i, j] = dz
                d_b[j] += dz


@njit(cache=True)
def _forward(x, w, b, kind, out):
    no, yes = np.bool_(False), np.bool_(True)  # flags typed bool, not literal
    gemm_core(any_layout(x), any_layout(w), any_layout(out), no, yes, no)
    _bias_activate(out, b, kind)


@njit(cache=True)
def _backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    no, yes = np.bool_(False), np.bool_(True)
    _activation_grad(a, d_a, kind, d_b)
    gemm_core(any_layout(d_a), any_layout(x), any_layout(d_w), yes, no, no)
    if compute_dx:
        gemm_core(any_layout(d_a), any_layout(w), any_layout(d_x), no, no, no)


def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; ``out`` is (B, O), preallocated."""
    # C-contiguous inputs (a copy only for other layouts): the row-major
    # operands gemm reads, and one compiled kernel per dtype
    _forward(np.ascontiguousarray(x), np.ascontiguousarray(w), b, int(kind), out)


def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; overwrites ``d_w``, ``d_b`` and (if asked) ``d_x``.

    ``d_a`` is overwritten with dZ = dA * f'(a) to avoid a temporary.
    """
    _backward(np.ascontiguousarray(x), np.ascontiguousarray(w), a, d_a, int(kind), d_w, d_b,
              d_x, bool(compute_dx))
