"""Batch normalisation, activation and global pooling layers; residual blocks.

Shapes are per sample: ``(T, C)`` sequences (``T`` may be None: any length) or
``(H, W, C)`` images.  A padded batch of sequences carries ``ctx.lengths``:
batch statistics and pooling use the valid steps only and padded steps come out
as 0, so padding never changes a result.

Public names: ``bn.{i}.weight``, ``bn.{i}.bias`` (trained) and
``bn.{i}.running_mean``, ``bn.{i}.running_var`` (buffers: updated by the
training forward pass with PyTorch's momentum, read by ``predict``; their
gradient is always 0 and they are never regularised, so no optimizer moves them).
"""

import numpy as np

from seqnet.kernels.contract import ACTIVATION_CODES, IDENTITY, RELU

from .conv import Conv1DLayer, Conv2DLayer, masked_grad
from .layers import Layer, ParamSpec, backend_of, kernel

#: PyTorch's BatchNorm defaults.
BN_MOMENTUM = 0.1
BN_EPS = 1e-5


def _lengths(ctx, B, N):
    lengths = None if ctx is None else ctx.lengths
    if lengths is None:
        return np.full(B, N, dtype=np.int64)
    return np.minimum(np.asarray(lengths, dtype=np.int64), N)


def _flat3(x):
    """(B, N, C) view of a (B, T, C) or (B, H, W, C) map."""
    n = 1
    for s in x.shape[1:-1]:
        n *= s
    return x.reshape((x.shape[0], n, x.shape[x.ndim - 1]))


class BatchNormLayer(Layer):
    """Batch normalisation over the channels (last axis), optional fused ReLU.

    Parameters
    ----------
    prefix : str
        Public name prefix, e.g. ``"bn.0"``.
    relu : bool, default=False
    momentum, eps : float, default=0.1, 1e-5 (PyTorch's)
    """

    def __init__(self, prefix, relu=False, momentum=BN_MOMENTUM, eps=BN_EPS):
        self.prefix = prefix
        self.relu = bool(relu)
        self.momentum = float(momentum)
        self.eps = float(eps)

    def param_specs(self):
        C = self.in_shape[-1]
        return [ParamSpec("weight", (C,), init="ones", regularize=False),
                ParamSpec("bias", (C,), init="zeros", regularize=False),
                ParamSpec("running_mean", (C,), init="zeros", regularize=False),
                ParamSpec("running_var", (C,), init="ones", regularize=False)]

    def forward(self, p, x, ctx):
        B = backend_of(ctx)
        x = B.ascontiguous(x)
        x3 = _flat3(x)
        lengths = _lengths(ctx, x3.shape[0], x3.shape[1])
        y = B.empty(x.shape, x.dtype)
        if not ctx.training:
            kernel(ctx, "batchnorm_forward_eval")(x3, lengths, p["weight"], p["bias"],
                                                  self.eps, self.relu, p["running_mean"],
                                                  p["running_var"], _flat3(y))
            return y, None
        sw = ctx.extra.get("sample_weight")
        w = np.ones(x3.shape[0], x.dtype) if sw is None else np.asarray(sw, x.dtype)
        xhat = B.empty(x.shape, x.dtype)
        inv_std = B.empty((x3.shape[2],), x.dtype)
        kernel(ctx, "batchnorm_forward_train")(x3, lengths, w, p["weight"], p["bias"],
                                               self.momentum, self.eps, self.relu,
                                               p["running_mean"], p["running_var"],
                                               _flat3(y), _flat3(xhat), inv_std)
        return y, (y, xhat, inv_std, lengths, w)

    def backward(self, p, g, cache, dy, ctx):
        y, xhat, inv_std, lengths, w = cache
        B = backend_of(ctx)
        dy = B.ascontiguous(dy)
        need_dx = bool(ctx.need_input_grad)
        dx = B.empty(y.shape, y.dtype) if need_dx else B.empty((0, 0, 0), y.dtype)
        kernel(ctx, "batchnorm_backward")(_flat3(dy), _flat3(y), _flat3(xhat), lengths, w,
                                          p["weight"], inv_std, self.relu, need_dx,
                                          _flat3(dx) if need_dx else dx, g["weight"],
                                          g["bias"])
        return dx if need_dx else None


class ActivationLayer(Layer):
    """Elementwise activation over any shape (a name of ``ACTIVATION_CODES``)."""

    prefix = "activation"

    def __init__(self, activation):
        self.kind = ACTIVATION_CODES[activation]

    def forward(self, p, x, ctx):
        B = backend_of(ctx)
        x = B.ascontiguous(x)
        n = x.shape[x.ndim - 1]
        y = B.empty(x.shape, x.dtype)
        kernel(ctx, "activation_forward")(x.reshape((x.size // n, n)), self.kind,
                                          y.reshape((x.size // n, n)))
        return y, y

    def backward(self, p, g, cache, dy, ctx):
        y = cache
        B = backend_of(ctx)
        n = y.shape[y.ndim - 1]
        dz = B.empty(y.shape, y.dtype)
        kernel(ctx, "activation_backward")(y.reshape((y.size // n, n)),
                                           B.ascontiguous(dy).reshape((y.size // n, n)),
                                           self.kind, dz.reshape((y.size // n, n)))
        return dz


class GlobalPoolLayer(Layer):
    """Masked global average or max pooling: (T, C) or (H, W, C) -> (C,)."""

    is_sequence_layer = True

    def __init__(self, mode="avg"):
        if mode not in ("avg", "max"):
            raise ValueError(f"global pooling must be 'avg' or 'max', got {mode!r}")
        self.mode = mode
        self.prefix = f"global_{mode}pool"

    def build(self, in_shape):
        self.in_shape = tuple(in_shape)
        self.out_shape = (self.in_shape[-1],)
        return self.out_shape

    def forward(self, p, x, ctx):
        x = backend_of(ctx).ascontiguous(x)
        x3 = _flat3(x)
        lengths = _lengths(ctx, x3.shape[0], x3.shape[1])
        if self.mode == "avg":
            return kernel(ctx, "global_avgpool_forward")(x, lengths), (x.shape, lengths)
        y, arg = kernel(ctx, "global_maxpool_forward")(x, lengths)
        return y, (x.shape, arg)

    def backward(self, p, g, cache, dy, ctx):
        if not ctx.need_input_grad:
            return None
        shape, aux = cache
        dy = backend_of(ctx).ascontiguous(dy)
        if self.mode == "avg":
            return kernel(ctx, "global_avgpool_backward")(dy, aux, shape)
        return kernel(ctx, "global_maxpool_backward")(dy, aux, shape)


def conv_bn(filters, kernel_size, index, two_d, dtype, relu=True, prefix=""):
    """A convolution without activation (no bias needed before BN, kept for
    PyTorch parity of the state dict) followed by batch norm (+ ReLU)."""
    conv = (Conv2DLayer if two_d else Conv1DLayer)(filters, kernel_size, index, 1, "same",
                                                   "identity", dtype)
    conv.prefix = f"{prefix}conv.{index}"
    return [conv, BatchNormLayer(f"{prefix}bn.{index}", relu=relu)]


class ResidualBlock(Layer):
    """Residual block (Wang et al. 2017): ``relu(main(x) + shortcut(x))``.

    ``main`` is conv+BN+ReLU for each width of ``kernel_sizes`` (the last
    without ReLU), ``shortcut`` a 1x1 conv + BN where the channel count changes,
    else the identity.  All convolutions have ``filters`` channels, stride 1,
    'same' padding.  Public names ``res.{index}.conv.{j}.*``,
    ``res.{index}.bn.{j}.*`` and ``res.{index}.shortcut.conv.0.*`` /
    ``res.{index}.shortcut.bn.0.*``.
    """

    is_sequence_layer = True

    def __init__(self, filters, kernel_sizes, index, two_d=False, dtype=np.float32):
        self.prefix = f"res.{index}"
        self.filters = int(filters)
        self.main = []
        n = len(kernel_sizes)
        for j, k in enumerate(kernel_sizes):
            self.main += conv_bn(filters, k, j, two_d, dtype, relu=j < n - 1)
        self._two_d = two_d
        self._dtype = dtype
        self.shortcut = []

    def build(self, in_shape):
        self.in_shape = tuple(in_shape)
        if self.in_shape[-1] != self.filters:
            self.shortcut = conv_bn(self.filters, 1, 0, self._two_d, self._dtype, relu=False,
                                    prefix="shortcut.")
        shape = self.in_shape
        for layer in self.main:
            shape = layer.build(shape)
        short = self.in_shape
        for layer in self.shortcut:
            short = layer.build(short)
        self.out_shape = shape
        return shape

    def _children(self):
        return self.main + self.shortcut

    def param_specs(self):
        specs = []
        for layer in self._children():
            for spec in layer.param_specs():
                specs.append(ParamSpec(f"{layer.prefix}.{spec.name}", spec.shape, spec.init,
                                       spec.fan_in, spec.fan_out, spec.regularize, spec.gates))
        return specs

    @staticmethod
    def _sub(d, layer):
        head = layer.prefix + "."
        return {k[len(head):]: v for k, v in d.items() if k.startswith(head)}

    def _run(self, layers, p, x, ctx):
        caches = []
        for layer in layers:
            x, cache = layer.forward(self._sub(p, layer), x, ctx)
            caches.append(cache)
        return x, caches

    def _back(self, layers, p, g, caches, d, ctx, need):
        for i in range(len(layers) - 1, -1, -1):
            ctx.need_input_grad = need or i > 0
            d = layers[i].backward(self._sub(p, layers[i]), self._sub(g, layers[i]), caches[i],
                                   d, ctx)
        return d

    def forward(self, p, x, ctx):
        B = backend_of(ctx)
        lengths = ctx.lengths
        main, main_caches = self._run(self.main, p, x, ctx)
        ctx.lengths = lengths  # stride 1, 'same': every branch keeps the lengths
        short, short_caches = self._run(self.shortcut, p, x, ctx) if self.shortcut else (x, [])
        z = B.add(main, short)
        n = z.shape[z.ndim - 1]
        z2 = z.reshape((z.size // n, n))
        kernel(ctx, "activation_forward")(z2, RELU, z2)
        return z, (z, main_caches, short_caches, lengths)

    def backward(self, p, g, cache, dy, ctx):
        z, main_caches, short_caches, lengths = cache
        B = backend_of(ctx)
        need = bool(ctx.need_input_grad)
        n = z.shape[z.ndim - 1]
        dz = B.empty(z.shape, z.dtype)
        kernel(ctx, "activation_backward")(z.reshape((z.size // n, n)),
                                           B.ascontiguous(dy).reshape((z.size // n, n)), RELU,
                                           dz.reshape((z.size // n, n)))
        dx_main = self._back(self.main, p, g, main_caches, dz, ctx, need)
        if self.shortcut:
            dx_short = self._back(self.shortcut, p, g, short_caches, dz, ctx, need)
        else:
            dx_short = masked_grad(ctx, dz, lengths) if need else None
        ctx.need_input_grad = need
        if not need:
            return None
        return B.add(dx_main, dx_short)


__all__ = ["BatchNormLayer", "ActivationLayer", "GlobalPoolLayer", "ResidualBlock", "conv_bn",
           "IDENTITY"]
