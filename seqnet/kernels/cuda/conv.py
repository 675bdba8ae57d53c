"""Convolution kernels (1-D and 2-D, channels-last), CUDA twins of
``seqnet.kernels.cpu.conv`` with the same signatures and layouts.

im2col + the one tiled product (matmul.py).  Columns are ordered
``(c, i, j)`` so the PyTorch-layout weight ``(F, C, KH, KW)`` viewed as
``W2 (F, C*KH*KW)`` is the product's operand as is::

    forward   z   = cols @ W2^T            (R, F) = y, bias + activation fused
    backward  dW2 = dz^T @ cols            (F, K) = dweight viewed 2-D
              dcols = dz @ W2              (R, K), then a col2im GATHER into dx

col2im is a gather (each dx element sums the taps that read it, in fixed
order): no atomics, deterministic.
"""

from numba import cuda

from .activations import derivative
from .arrays import empty, flat, grid, row_col, unravel3, unravel4
from .matmul import matmul
from .reduce import column_sums


@cuda.jit
def _im2col(x, KH, KW, sh, sw, ph, pw, Ho, Wo, cols):
    B, H, W, C = x.shape
    K = C * KH * KW
    n = cols.shape[0] * K
    for idx in range(cuda.grid(1), n, cuda.gridsize(1)):
        r, k = row_col(idx, K)
        c, i, j = unravel3(k, KH, KW)
        b, oh, ow = unravel3(r, Ho, Wo)
        ih = oh * sh - ph + i
        iw = ow * sw - pw + j
        if 0 <= ih < H and 0 <= iw < W:
            cols[r, k] = x[b, ih, iw, c]
        else:
            cols[r, k] = 0.0


@cuda.jit(device=True, inline=True)
def _output_reading(pos, pad, tap, stride, n_out):
    """The output index ``o`` whose tap ``tap`` reads input ``pos``
    (``o * stride - pad + tap == pos``), or -1 when there is none in ``[0, n_out)``."""
    t = pos + pad - tap
    if t < 0 or t % stride != 0:
        return -1
    o = t // stride
    return o if o < n_out else -1


@cuda.jit
def _col2im(dcols, KH, KW, sh, sw, ph, pw, Ho, Wo, dx):
    B, H, W, C = dx.shape
    n = B * H * W * C
    for idx in range(cuda.grid(1), n, cuda.gridsize(1)):
        b, ih, iw, c = unravel4(idx, H, W, C)
        acc = dx.dtype.type(0.0)
        for i in range(KH):
            oh = _output_reading(ih, ph, i, sh, Ho)
            if oh < 0:
                continue
            for j in range(KW):
                ow = _output_reading(iw, pw, j, sw, Wo)
                if ow < 0:
                    continue
                acc += dcols[(b * Ho + oh) * Wo + ow, (c * KH + i) * KW + j]
        dx[b, ih, iw, c] = acc


@cuda.jit
def _act_grad(y, dy, kind, dz):
    for i in range(cuda.grid(1), y.shape[0], cuda.gridsize(1)):
        dz[i] = dy[i] * derivative(y[i], kind)


def _cols(x, KH, KW, sh, sw, ph, pw, Ho, Wo):
    B, _, _, C = x.shape
    cols = empty((B * Ho * Wo, C * KH * KW), x.dtype)
    if cols.size:
        _im2col[grid(cols.size)](x, KH, KW, sh, sw, ph, pw, Ho, Wo, cols)
    return cols


def conv2d_forward(x, weight, bias, stride_h, stride_w, pad_h, pad_w, kind, y):
    """2-D convolution with fused activation (see the CPU kernel for the contract)."""
    F, C, KH, KW = weight.shape
    B, Ho, Wo = y.shape[0], y.shape[1], y.shape[2]
    cols = _cols(x, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo)
    matmul(cols, weight.reshape(F, C * KH * KW), y.reshape(B * Ho * Wo, F),
           trans_b=True, bias=bias, kind=kind)


def conv2d_backward(x, weight, y, dy, stride_h, stride_w, pad_h, pad_w, kind,
                    need_dx, dx, dweight, dbias):
    """Backward of :func:`conv2d_forward`; overwrites ``dweight``, ``dbias`` and
    (when ``need_dx``) ``dx``."""
    F, C, KH, KW = weight.shape
    B, Ho, Wo = y.shape[0], y.shape[1], y.shape[2]
    R, K = B * Ho * Wo, C * KH * KW
    dz = empty((R, F), y.dtype)
    if dz.size:
        _act_grad[grid(dz.size)](flat(y), flat(dy), int(kind), flat(dz))
    column_sums(dz, dbias)
    cols = _cols(x, KH, KW, stride_h, stride_w, pad_h, pad_w, Ho, Wo)
    matmul(dz, cols, dweight.reshape(F, K), trans_a=True)
    if need_dx:
        dcols = empty((R, K), y.dtype)
        matmul(dz, weight.reshape(F, K), dcols)
        if dx.size:
            _col2im[grid(dx.size)](dcols, KH, KW, stride_h, stride_w, pad_h, pad_w,
                                   Ho, Wo, dx)


def conv1d_forward(x, weight, bias, stride, pad, kind, y):
    """1-D convolution (viewed as 2-D of height 1)."""
    B, T, C = x.shape
    F, _, K = weight.shape
    conv2d_forward(x.reshape(B, 1, T, C), weight.reshape(F, C, 1, K), bias,
                   1, stride, 0, pad, kind, y.reshape(B, 1, y.shape[1], F))


def conv1d_backward(x, weight, y, dy, stride, pad, kind, need_dx, dx, dweight, dbias):
    B, T, C = x.shape
    F, _, K = weight.shape
    To = y.shape[1]
    dx4 = dx.reshape(B, 1, T, C) if need_dx else dx
    conv2d_backward(x.reshape(B, 1, T, C), weight.reshape(F, C, 1, K),
                    y.reshape(B, 1, To, F), dy.reshape(B, 1, To, F),
                    1, stride, 0, pad, kind, need_dx, dx4,
                    dweight.reshape(F, C, 1, K), dbias)
