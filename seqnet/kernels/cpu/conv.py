"""Convolution kernels (1-D and 2-D), channels-last, with a fused activation.

Data layout
-----------
* 2-D input ``x`` is ``(B, H, W, C)``; output ``y`` is ``(B, H_out, W_out, F)``.
* 1-D input ``x`` is ``(B, T, C)``; output ``y`` is ``(B, T_out, F)``.
* Weights use PyTorch's layout so a state_dict maps one to one:
  ``(F, C, KH, KW)`` for 2-D, ``(F, C, K)`` for 1-D; bias ``(F,)``.

Equations (2-D; the 1-D kernels are the same with ``H = KH = 1``)::

    z[b, oh, ow, f] = bias[f] + sum_{i, j, c} x[b, oh*sh - ph + i, ow*sw - pw + j, c]
                                            * weight[f, c, i, j]
    y = act(z)                              (x is zero outside the input)

    dz      = dy * act'(z)                  (act' computed from y, see activations.py)
    dbias   = sum_{b, oh, ow} dz[b, oh, ow, :]
    dweight[f, c, i, j] = sum_{b, oh, ow} dz[b, oh, ow, f] * x[b, ih, iw, c]
    dx[b, ih, iw, c]    = sum_{oh, ow, i, j, f} dz[b, oh, ow, f] * weight[f, c, i, j]

Padding is given as the number of zeros before the data (``pad_h``/``pad_w``); the
output size is taken from ``y``, so the end-side padding (the extra one of 'same'
padding) is implicit: positions past the input read as zero.

Implementation: im2col + one matrix product per pass.  With ``R = B*H_out*W_out``
rows and ``K = KH*KW*C`` columns, ``cols[r, (i*KW + j)*C + c]`` is the input under
tap ``(i, j)`` of output row ``r`` and ``wm[(i*KW + j)*C + c, f] = weight[f, c, i, j]``:

    forward   z       = cols @ wm          (R, F): already channels-last
    backward  dwm     = cols.T @ dz        (K, F)
              dcols   = dz @ wm.T          (R, K), then col2im scatter-adds into dx

The products go to BLAS through :func:`seqnet.kernels.cpu.blas.gemm_core`; the
gather/scatter loops are serial
with the innermost loop over contiguous channels.  There is no ``prange``, so these
kernels never run numba's thread pool next to BLAS's: the cores belong to BLAS
(the "blas" owner of ``seqnet._runtime.backend.thread_limits``).  At the sizes of small
image/sequence models one BLAS product is several times faster than direct
loops parallelised over the batch (see ``benchmarks/bench_conv_kernels.py``).
Results are bitwise reproducible for a given BLAS library and thread count
(OpenBLAS partitions a product over its output rows/columns, not over the summed
dimension), and the bias gradient is summed serially in row order.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.blas import gemm_core
from seqnet.kernels.cpu.jit import any_layout, helper, inlined
from seqnet.kernels.cpu.activations import (
    ACTIVATION_CODES,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_SLOPE,
    RELU,
    activate_scalar,
    derivative_from_output,
)


@njit(cache=True, inline="always")
def _valid_taps(o, stride, pad, k_size, n_in):
    """First input index and the taps ``[lo, hi)`` of output ``o`` inside the input."""
    start = o * stride - pad
    lo = 0
    if start < 0:
        lo = -start
    hi = k_size
    if start + k_size > n_in:
        hi = n_in - start
    if hi < lo:
        hi = lo
    return start, lo, hi


@helper()
def _im2col(x, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo, cols):
    """``cols[(b*Ho + oh)*Wo + ow, (i*KW + j)*C + c] = x[b, ih, iw, c]`` (0 outside)."""
    B, H, W, C = x.shape
    for b in range(B):
        for oh in range(Ho):
            ih0, i_lo, i_hi = _valid_taps(oh, stride_h, pad_h, KH, H)
            for ow in range(Wo):
                iw0, j_lo, j_hi = _valid_taps(ow, stride_w, pad_w, KW, W)
                cr = cols[(b * Ho + oh) * Wo + ow]
                for i in range(KH):
                    inside_i = i_lo <= i < i_hi
                    for j in range(KW):
                        k0 = (i * KW + j) * C
                        inside = inside_i and j_lo <= j < j_hi
                        if C == 1:
                            cr[k0] = x[b, ih0 + i, iw0 + j, 0] if inside else 0.0
                        elif inside:
                            xr = x[b, ih0 + i, iw0 + j]
                            for c in range(C):
                                cr[k0 + c] = xr[c]
                        else:
                            for c in range(C):
                                cr[k0 + c] = 0.0


@inlined()
def _col2im(dcols, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo, dx):
    """Adjoint of :func:`_im2col`: ``dx`` is OVERWRITTEN with the scatter-sum of ``dcols``."""
    H, W, C = dx.shape[1:]
    dx[...] = 0.0
    # one row of dcols per output position, in (b, oh, ow) order: the sums
    # into dx run in the order the forward's columns were laid out
    for r in range(dcols.shape[0]):
        b, position = divmod(r, Ho * Wo)
        oh, ow = divmod(position, Wo)
        ih0, i_lo, i_hi = _valid_taps(oh, stride_h, pad_h, KH, H)
        iw0, j_lo, j_hi = _valid_taps(ow, stride_w, pad_w, KW, W)
        dr = dcols[r]
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                k0 = (i * KW + j) * C
                if C == 1:
                    dx[b, ih0 + i, iw0 + j, 0] += dr[k0]
                else:
                    dxr = dx[b, ih0 + i, iw0 + j]
                    for c in range(C):
                        dxr[c] += dr[k0 + c]


@inlined()
def _bias_activation(z, bias, kind):
    """``z[r, f] = act(z[r, f] + bias[f])`` in place (z is (R, F)).

    ReLU, leaky ReLU and identity get branch-free loops that LLVM vectorizes (a
    data-dependent branch per element costs more than the matrix product here);
    same values as ``activate_scalar``.
    """
    R, F = z.shape
    for r in range(R):
        zr = z[r]
        for f in range(F):
            zr[f] += bias[f]
    n = R * F
    zf = z.reshape(n)
    if kind == IDENTITY:
        return
    if kind == RELU:
        for t in range(n):
            v = zf[t]
            zf[t] = v if v > 0 else 0.0 * v
    elif kind == LEAKY_RELU:
        for t in range(n):
            v = zf[t]
            zf[t] = v if v > 0 else LEAKY_SLOPE * v
    else:
        for t in range(n):
            zf[t] = activate_scalar(zf[t], kind)


@inlined()
def _activation_grad(y, dy, kind, dz):
    """``dz = dy * act'`` from the output ``y`` (all (R, F)); branch-free for ReLU."""
    n = y.size
    yf = y.reshape(n)
    dyf = dy.reshape(n)
    dzf = dz.reshape(n)
    if kind == IDENTITY:
        for t in range(n):
            dzf[t] = dyf[t]
    elif kind == RELU:
        for t in range(n):
            g = dyf[t]
            dzf[t] = g if yf[t] > 0 else g * 0.0
    elif kind == LEAKY_RELU:
        for t in range(n):
            g = dyf[t]
            dzf[t] = g if yf[t] > 0 else g * LEAKY_SLOPE
    else:
        for t in range(n):
            dzf[t] = dyf[t] * derivative_from_output(yf[t], kind)


@helper()
def _weight_matrix(weight):
    """``wm[(i*KW + j)*C + c, f] = weight[f, c, i, j]``, shape (KH*KW*C, F)."""
    F, C, KH, KW = weight.shape
    wm = np.empty((KH * KW * C, F), dtype=weight.dtype)
    for i in range(KH):
        for j in range(KW):
            for c in range(C):
                row = wm[(i * KW + j) * C + c]
                for f in range(F):
                    row[f] = weight[f, c, i, j]
    return wm


@njit(cache=True, inline="always")
def _geometry(x, weight, y):
    """``(C, F, KH, KW, H_out, W_out, rows)`` of a 2-D convolution; rows = B * H_out * W_out."""
    F, C, KH, KW = weight.shape
    Ho, Wo = y.shape[1], y.shape[2]
    return C, F, KH, KW, Ho, Wo, x.shape[0] * Ho * Wo


def _conv2d_kernels(kind):
    """``(forward, backward)`` 2-D convolution kernels with activation ``kind``
    a constant of the closures: a model compiles the activation it uses only
    (the closures share one cache file, keyed by ``kind``)."""

    @njit(cache=True)
    def forward(x, weight, bias, stride_h, stride_w, pad_h, pad_w, y):
        C, F, KH, KW, Ho, Wo, R = _geometry(x, weight, y)
        no = np.bool_(False)  # gemm_core's flags typed bool, not literal
        cols = np.empty((R, KH * KW * C), dtype=x.dtype)
        _im2col(x, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo, cols)
        z = y.reshape((R, F))
        gemm_core(any_layout(cols), any_layout(_weight_matrix(weight)), any_layout(z),
                  no, no, no)
        _bias_activation(z, bias, kind)

    @njit(cache=True)
    def backward(x, weight, y, dy, stride_h, stride_w, pad_h, pad_w, need_dx, dx, dweight,
                 dbias):
        C, F, KH, KW, Ho, Wo, R = _geometry(x, weight, y)
        no, yes = np.bool_(False), np.bool_(True)  # gemm_core's flags, not literal
        y2 = y.reshape((R, F))
        dy2 = dy.reshape((R, F))
        dz = np.empty((R, F), dtype=y.dtype)
        _activation_grad(y2, dy2, kind, dz)
        for f in range(F):
            dbias[f] = 0.0
        for r in range(R):
            dzr = dz[r]
            for f in range(F):
                dbias[f] += dzr[f]
        cols = np.empty((R, KH * KW * C), dtype=x.dtype)
        _im2col(x, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo, cols)
        dwm = np.empty((KH * KW * C, F), dtype=y.dtype)
        gemm_core(any_layout(cols), any_layout(dz), any_layout(dwm), yes, no, no)
        for i in range(KH):
            for j in range(KW):
                for c in range(C):
                    row = dwm[(i * KW + j) * C + c]
                    for f in range(F):
                        dweight[f, c, i, j] = row[f]
        if need_dx:
            dcols = np.empty((R, KH * KW * C), dtype=y.dtype)
            gemm_core(any_layout(dz), any_layout(_weight_matrix(weight)), any_layout(dcols),
                      no, yes, no)
            _col2im(dcols, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo, dx)

    return forward, backward


_KERNELS = {kind: _conv2d_kernels(kind) for kind in ACTIVATION_CODES.values()}


def conv2d_forward(x, weight, bias, stride_h, stride_w, pad_h, pad_w, kind, y):
    """2-D convolution with fused activation: ``y = act(conv(x, weight) + bias)``.

    Parameters
    ----------
    x : (B, H, W, C) float array, C-contiguous
    weight : (F, C, KH, KW) float array (PyTorch layout)
    bias : (F,) float array
    stride_h, stride_w : int
    pad_h, pad_w : int
        Zeros before the data along H and W (end padding follows from ``y``'s shape).
    kind : int
        Activation code from ``activations.py``.
    y : (B, H_out, W_out, F) float array, C-contiguous, written in place.
    """
    _KERNELS[kind][0](x, weight, bias, int(stride_h), int(stride_w), int(pad_h), int(pad_w), y)


def conv2d_backward(x, weight, y, dy, stride_h, stride_w, pad_h, pad_w, kind,
                    need_dx, dx, dweight, dbias):
    """Backward of :func:`conv2d_forward`.

    Parameters
    ----------
    x, weight : as given to the forward pass.
    y : (B, H_out, W_out, F) forward output (the activation's derivative is
        computed from it).
    dy : (B, H_out, W_out, F) gradient of the loss w.r.t. ``y``.
    stride_h, stride_w, pad_h, pad_w, kind : as in the forward pass.
    need_dx : bool
        When False ``dx`` is not touched (pass any 4-D array, e.g. shape
        ``(0, 0, 0, 0)``).
    dx : (B, H, W, C) OVERWRITTEN with the input gradient when ``need_dx``.
    dweight : (F, C, KH, KW) OVERWRITTEN with the weight gradient.
    dbias : (F,) OVERWRITTEN with the bias gradient.

    All arrays C-contiguous.
    """
    _KERNELS[kind][1](x, weight, y, dy, int(stride_h), int(stride_w), int(pad_h), int(pad_w),
                      bool(need_dx), dx, dweight, dbias)


# The 1-D kernels are plain Python views onto the 2-D ones (height 1): compiled
# wrappers would compile (and re-optimise) the 2-D kernels a second time.
def conv1d_forward(x, weight, bias, stride, pad, kind, y):
    """1-D convolution with fused activation (see :func:`conv2d_forward`).

    ``x`` (B, T, C), ``weight`` (F, C, K), ``bias`` (F,), ``pad`` zeros before
    the data, ``y`` (B, T_out, F) written in place.  All arrays C-contiguous
    (they are viewed as 2-D ones of height 1).
    """
    B, T, C = x.shape
    F, _, K = weight.shape
    conv2d_forward(x.reshape((B, 1, T, C)), weight.reshape((F, C, 1, K)), bias,
                   1, stride, 0, pad, kind, y.reshape((B, 1, y.shape[1], F)))


def conv1d_backward(x, weight, y, dy, stride, pad, kind, need_dx, dx, dweight, dbias):
    """Backward of :func:`conv1d_forward` (see :func:`conv2d_backward`).

    ``dx`` (B, T, C) is OVERWRITTEN when ``need_dx`` (else pass any 3-D array),
    ``dweight`` (F, C, K) and ``dbias`` (F,) are OVERWRITTEN.  All arrays
    C-contiguous.
    """
    B, T, C = x.shape
    F, _, K = weight.shape
    To = y.shape[1]
    dx4 = dx.reshape((B, 1, T, C)) if need_dx else np.empty((0, 0, 0, 0), dtype=x.dtype)
    conv2d_backward(x.reshape((B, 1, T, C)), weight.reshape((F, C, 1, K)),
                    y.reshape((B, 1, To, F)), dy.reshape((B, 1, To, F)),
                    1, stride, 0, pad, kind, need_dx, dx4,
                    dweight.reshape((F, C, 1, K)), dbias)
