"""Max-pooling kernels (1-D and 2-D), channels-last, no padding, floor output size.

Equations (2-D; 1-D is the same with ``H = pool_h = 1``)::

    y[b, oh, ow, c] = max_{i < pool_h, j < pool_w} x[b, oh*sh + i, ow*sw + j, c]
    dx[b, ih, iw, c] = sum of dy[b, oh, ow, c] over the windows whose argmax is
                       (ih, iw)

The argmax is the FIRST maximum in row-major window order (as PyTorch); a NaN in
a window is selected (NaN propagates, as in PyTorch).  The forward pass stores the
argmax of every output as a flat offset ``(ih * W + iw) * C + c`` into the sample
``x[b]`` so the backward pass is a scatter-add.

The loops are serial (innermost over contiguous channels): pooling is memory-bound
and cheap next to the convolutions, which own the cores through BLAS (see ``conv.py``).
"""

from numba import njit


@njit(cache=True)
def maxpool2d_forward(x, pool_h, pool_w, stride_h, stride_w, y, argmax):
    """Max pooling.

    Parameters
    ----------
    x : (B, H, W, C) float array
    pool_h, pool_w, stride_h, stride_w : int
    y : (B, H_out, W_out, C) float array, written in place.
    argmax : (B, H_out, W_out, C) int64 array, written in place with flat offsets
        into ``x[b]``.
    """
    B, H, W, C = x.shape
    Ho = y.shape[1]
    Wo = y.shape[2]
    for b in range(B):
        for oh in range(Ho):
            ih0 = oh * stride_h
            for ow in range(Wo):
                iw0 = ow * stride_w
                yr = y[b, oh, ow]
                ar = argmax[b, oh, ow]
                xr = x[b, ih0, iw0]
                base = (ih0 * W + iw0) * C
                for c in range(C):
                    yr[c] = xr[c]
                    ar[c] = base + c
                for i in range(pool_h):
                    for j in range(pool_w):
                        if i == 0 and j == 0:
                            continue
                        xr = x[b, ih0 + i, iw0 + j]
                        base = ((ih0 + i) * W + iw0 + j) * C
                        for c in range(C):
                            v = xr[c]
                            m = yr[c]
                            # Strict '>' keeps the first maximum; NaN wins once seen.
                            if (v > m or v != v) and m == m:
                                yr[c] = v
                                ar[c] = base + c


@njit(cache=True)
def maxpool2d_backward(dy, argmax, dx):
    """Backward of :func:`maxpool2d_forward`: ``dx`` (B, H, W, C) is OVERWRITTEN."""
    B = dy.shape[0]
    Ho = dy.shape[1]
    Wo = dy.shape[2]
    C = dy.shape[3]
    n_in = dx.shape[1] * dx.shape[2] * dx.shape[3]
    for b in range(B):
        dxb = dx[b].reshape(n_in)
        dxb[:] = 0.0
        for oh in range(Ho):
            for ow in range(Wo):
                dyr = dy[b, oh, ow]
                ar = argmax[b, oh, ow]
                for c in range(C):
                    dxb[ar[c]] += dyr[c]


# The 1-D kernels are plain Python views onto the 2-D ones: compiled
# wrappers would compile (and re-optimise) the 2-D loops a second time.
def maxpool1d_forward(x, pool, stride, y, argmax):
    """1-D max pooling: ``x`` (B, T, C), ``y`` and ``argmax`` (B, T_out, C).

    ``argmax`` holds flat offsets ``t * C + c`` into ``x[b]``.
    """
    B, T, C = x.shape
    To = y.shape[1]
    maxpool2d_forward(x.reshape((B, 1, T, C)), 1, pool, 1, stride,
                      y.reshape((B, 1, To, C)), argmax.reshape((B, 1, To, C)))


def maxpool1d_backward(dy, argmax, dx):
    """Backward of :func:`maxpool1d_forward`: ``dx`` (B, T, C) is OVERWRITTEN."""
    B, To, C = dy.shape
    T = dx.shape[1]
    maxpool2d_backward(dy.reshape((B, 1, To, C)), argmax.reshape((B, 1, To, C)),
                       dx.reshape((B, 1, T, C)))
