"""Max-pooling kernels (CUDA twins of ``seqnet.kernels.cpu.pool``).

Forward: one thread per output, first maximum in row-major window order, NaN
wins (as the CPU kernel); ``argmax`` holds flat offsets ``(ih*W + iw)*C + c``
into ``x[b]``.  Backward: one thread per (sample, channel) scatter-adds in
the CPU kernel's order (no atomics, deterministic).
"""

from numba import cuda

from .arrays import grid, row_col, unravel4


@cuda.jit
def _pool2d_forward(x, ph, pw, sh, sw, y, argmax):
    B, H, W, C = x.shape
    Ho = y.shape[1]
    Wo = y.shape[2]
    n = B * Ho * Wo * C
    for idx in range(cuda.grid(1), n, cuda.gridsize(1)):
        b, oh, ow, c = unravel4(idx, Ho, Wo, C)
        ih0 = oh * sh
        iw0 = ow * sw
        m = x[b, ih0, iw0, c]
        a = (ih0 * W + iw0) * C + c
        for i in range(ph):
            for j in range(pw):
                if i == 0 and j == 0:
                    continue
                v = x[b, ih0 + i, iw0 + j, c]
                if (v > m or v != v) and m == m:
                    m = v
                    a = ((ih0 + i) * W + iw0 + j) * C + c
        y[b, oh, ow, c] = m
        argmax[b, oh, ow, c] = a


@cuda.jit
def _pool2d_backward(dy, argmax, dx):
    # one thread per (sample, channel): zero its slice of dx, then scatter-add
    # the outputs in (oh, ow) order -- the CPU kernel's order, no atomics
    B, H, W, C = dx.shape
    Ho = dy.shape[1]
    Wo = dy.shape[2]
    for idx in range(cuda.grid(1), B * C, cuda.gridsize(1)):
        b, c = row_col(idx, C)
        for ih in range(H):
            for iw in range(W):
                dx[b, ih, iw, c] = 0.0
        for oh in range(Ho):
            for ow in range(Wo):
                a = argmax[b, oh, ow, c]
                p = a // C
                ih = p // W
                iw = p - ih * W
                dx[b, ih, iw, c] += dy[b, oh, ow, c]


def maxpool2d_forward(x, pool_h, pool_w, stride_h, stride_w, y, argmax):
    if y.size:
        _pool2d_forward[grid(y.size)](x, pool_h, pool_w, stride_h, stride_w, y, argmax)


def maxpool2d_backward(dy, argmax, dx):
    """Backward of :func:`maxpool2d_forward`: ``dx`` (B, H, W, C) is OVERWRITTEN."""
    n = dx.shape[0] * dx.shape[3]
    if n:
        _pool2d_backward[grid(n)](dy, argmax, dx)


def maxpool1d_forward(x, pool, stride, y, argmax):
    B, T, C = x.shape
    To = y.shape[1]
    maxpool2d_forward(x.reshape(B, 1, T, C), 1, pool, 1, stride,
                      y.reshape(B, 1, To, C), argmax.reshape(B, 1, To, C))


def maxpool1d_backward(dy, argmax, dx):
    B, To, C = dy.shape
    T = dx.shape[1]
    maxpool2d_backward(dy.reshape(B, 1, To, C), argmax.reshape(B, 1, To, C),
                       dx.reshape(B, 1, T, C))
