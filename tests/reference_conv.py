"""Plain-NumPy float64 references for the convolution and pooling kernels.

Written for clarity, not speed: explicit zero padding, then loops over the
output positions.  Channels-last data, PyTorch weight layout (see
``seqnet/kernels/cpu/conv.py``).
"""

import numpy as np

IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU, LECUN_TANH = 0, 1, 2, 3, 4, 5


def activate(z, kind):
    z = np.asarray(z, dtype=np.float64)
    if kind == IDENTITY:
        return z.copy()
    if kind == LOGISTIC:
        return 1.0 / (1.0 + np.exp(-z))
    if kind == TANH:
        return np.tanh(z)
    if kind == RELU:
        return np.maximum(z, 0.0)
    if kind == LEAKY_RELU:
        return np.where(z > 0, z, 0.01 * z)
    if kind == LECUN_TANH:
        return 1.7159 * np.tanh(2.0 * z / 3.0)
    raise ValueError(kind)


def activation_grad(z, kind):
    """f'(z) (from the pre-activation, independent of the kernels' formulation)."""
    z = np.asarray(z, dtype=np.float64)
    if kind == IDENTITY:
        return np.ones_like(z)
    if kind == LOGISTIC:
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if kind == TANH:
        return 1.0 - np.tanh(z) ** 2
    if kind == RELU:
        return (z > 0).astype(np.float64)
    if kind == LEAKY_RELU:
        return np.where(z > 0, 1.0, 0.01)
    if kind == LECUN_TANH:
        return 1.7159 * (2.0 / 3.0) * (1.0 - np.tanh(2.0 * z / 3.0) ** 2)
    raise ValueError(kind)


def _pad2d(x, pad_h, pad_w, out_h, out_w, kh, kw, sh, sw):
    """Zero-pad (B, H, W, C) with ``pad_*`` before and whatever the output needs after."""
    B, H, W, C = x.shape
    need_h = (out_h - 1) * sh + kh
    need_w = (out_w - 1) * sw + kw
    end_h = max(need_h - H - pad_h, 0)
    end_w = max(need_w - W - pad_w, 0)
    return np.pad(x, ((0, 0), (pad_h, end_h), (pad_w, end_w), (0, 0)))


def conv2d_preact(x, weight, bias, stride_h, stride_w, pad_h, pad_w, out_h, out_w):
    """z[b, oh, ow, f] = bias[f] + sum_{i,j,c} xpad[b, oh*sh+i, ow*sw+j, c] w[f,c,i,j]."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    F, C, KH, KW = weight.shape
    B = x.shape[0]
    xp = _pad2d(x, pad_h, pad_w, out_h, out_w, KH, KW, stride_h, stride_w)
    z = np.empty((B, out_h, out_w, F))
    for oh in range(out_h):
        for ow in range(out_w):
            patch = xp[:, oh * stride_h:oh * stride_h + KH, ow * stride_w:ow * stride_w + KW, :]
            # patch (B, KH, KW, C), weight (F, C, KH, KW)
            z[:, oh, ow, :] = np.einsum("bijc,fcij->bf", patch, weight) + bias
    return z


def conv2d_forward(x, weight, bias, stride_h, stride_w, pad_h, pad_w, kind, out_h, out_w):
    z = conv2d_preact(x, weight, bias, stride_h, stride_w, pad_h, pad_w, out_h, out_w)
    return activate(z, kind)


def conv2d_backward(x, weight, bias, dy, stride_h, stride_w, pad_h, pad_w, kind):
    """Return (dx, dweight, dbias) for y = act(conv2d(x)) and upstream ``dy``."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    B, H, W, C = x.shape
    F, _, KH, KW = weight.shape
    _, out_h, out_w, _ = dy.shape
    z = conv2d_preact(x, weight, bias, stride_h, stride_w, pad_h, pad_w, out_h, out_w)
    dz = dy * activation_grad(z, kind)
    xp = _pad2d(x, pad_h, pad_w, out_h, out_w, KH, KW, stride_h, stride_w)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(weight)
    for oh in range(out_h):
        for ow in range(out_w):
            hs = slice(oh * stride_h, oh * stride_h + KH)
            ws = slice(ow * stride_w, ow * stride_w + KW)
            d = dz[:, oh, ow, :]  # (B, F)
            dw += np.einsum("bf,bijc->fcij", d, xp[:, hs, ws, :])
            dxp[:, hs, ws, :] += np.einsum("bf,fcij->bijc", d, weight)
    dx = dxp[:, pad_h:pad_h + H, pad_w:pad_w + W, :]
    return dx, dw, dz.sum(axis=(0, 1, 2))


def conv1d_forward(x, weight, bias, stride, pad, kind, out_t):
    y = conv2d_forward(x[:, None], weight[:, :, None], bias, 1, stride, 0, pad, kind, 1, out_t)
    return y[:, 0]


def conv1d_backward(x, weight, bias, dy, stride, pad, kind):
    dx, dw, db = conv2d_backward(x[:, None], weight[:, :, None], bias, dy[:, None],
                                 1, stride, 0, pad, kind)
    return dx[:, 0], dw[:, :, 0], db


def maxpool2d_forward(x, pool_h, pool_w, stride_h, stride_w):
    """Return (y, mask_index) with the first-max argmax as (ih, iw) per output."""
    x = np.asarray(x, dtype=np.float64)
    B, H, W, C = x.shape
    out_h = (H - pool_h) // stride_h + 1
    out_w = (W - pool_w) // stride_w + 1
    y = np.empty((B, out_h, out_w, C))
    for oh in range(out_h):
        for ow in range(out_w):
            win = x[:, oh * stride_h:oh * stride_h + pool_h,
                    ow * stride_w:ow * stride_w + pool_w, :]
            y[:, oh, ow, :] = win.max(axis=(1, 2))
    return y


def maxpool2d_backward(x, dy, pool_h, pool_w, stride_h, stride_w):
    x = np.asarray(x, dtype=np.float64)
    B, H, W, C = x.shape
    _, out_h, out_w, _ = dy.shape
    dx = np.zeros_like(x)
    for b in range(B):
        for oh in range(out_h):
            for ow in range(out_w):
                for c in range(C):
                    win = x[b, oh * stride_h:oh * stride_h + pool_h,
                            ow * stride_w:ow * stride_w + pool_w, c]
                    i, j = np.unravel_index(np.argmax(win), win.shape)  # first max
                    dx[b, oh * stride_h + i, ow * stride_w + j, c] += dy[b, oh, ow, c]
    return dx


def maxpool1d_forward(x, pool, stride):
    return maxpool2d_forward(x[:, None], 1, pool, 1, stride)[:, 0]


def maxpool1d_backward(x, dy, pool, stride):
    return maxpool2d_backward(x[:, None], dy[:, None], 1, pool, 1, stride)[:, 0]


def same_padding(n, k, s):
    """(out, pad_before) for TF/PyTorch 'same' padding with the extra pad at the end."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2
