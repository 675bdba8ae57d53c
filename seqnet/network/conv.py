"""Convolution, max-pooling and flatten layers (channels-last).

Shapes are per sample (no batch dimension): 1-D layers see ``(T, C)``, 2-D layers
``(H, W, C)``.  Conv weights use PyTorch's layout (``(F, C, K)`` / ``(F, C, KH, KW)``)
under the public names ``conv.{index}.weight`` and ``conv.{index}.bias``.

Padding
-------
``'valid'`` (no padding), an int ``P`` (``P`` zeros on both sides; a pair
``(P_h, P_w)`` for 2-D) or ``'same'``: output size ``ceil(n / stride)`` with the
total padding ``max((out - 1) * stride + k - n, 0)`` split as TensorFlow/PyTorch
do, the odd one on the end side.  For 'valid' and int padding the output size
``(n - k + 2P) / stride + 1`` must be a positive integer, otherwise ``build``
raises ``ValueError``.
"""

import numpy as np

from seqnet.kernels.contract import ACTIVATION_CODES
from seqnet.network.layers import Layer, ParamSpec, backend_of, kernel


def _pair(value, what, layer):
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: {what} must be an int or a pair of ints, got {value!r}")
    return int(a), int(b)


def _check_positive(value, what, layer):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {what} must be a positive int, got {value!r}")
    return int(value)


def _positive_pair(value, what, layer):
    """An int or a pair of ints, all positive, as a pair (2-D layers' sizes)."""
    pair = _pair(value, what, layer)
    for v in pair:
        _check_positive(v, what, layer)
    return pair


def _checked_rank(in_shape, axes, layer, name):
    """``in_shape`` (a tuple), after checking it has the axes ``axes`` that the
    layer type ``name`` reads, e.g. ``"(T, C)"``; raises ValueError otherwise."""
    if len(in_shape) != axes.count(",") + 1:
        raise ValueError(f"{layer}: {name} expects per-sample input {axes}, "
                         f"got shape {in_shape}")
    return in_shape


def conv_output_size(n, kernel, stride, padding, layer="conv"):
    """Output size and leading pad of one spatial axis.

    Parameters
    ----------
    n, kernel, stride : int
        Input size, kernel size and stride along the axis.
    padding : {'same', 'valid'} or int
    layer : str
        Layer name used in error messages.

    Returns
    -------
    (out, pad_before) : tuple of int

    Raises
    ------
    ValueError
        If ``(n - kernel + 2 P) / stride + 1`` is not a positive integer.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "same":
            out = -(-n // stride)
            total = max((out - 1) * stride + kernel - n, 0)
            return out, total // 2
        if mode != "valid":
            raise ValueError(
                f"{layer}: padding must be 'same', 'valid' or an int >= 0, got {padding!r}")
        pad = 0
    elif isinstance(padding, (int, np.integer)) and padding >= 0:
        pad = int(padding)
    else:
        raise ValueError(
            f"{layer}: padding must be 'same', 'valid' or an int >= 0, got {padding!r}")
    span = n - kernel + 2 * pad
    if span < 0 or span % stride != 0:
        raise ValueError(
            f"{layer}: invalid output size for input size {n}, kernel {kernel}, "
            f"stride {stride}, padding {padding!r}: (input - kernel + 2*padding) / stride "
            f"+ 1 = ({n} - {kernel} + 2*{pad}) / {stride} + 1 must be a positive "
            f"integer; change the padding, stride or kernel size")
    return span // stride + 1, pad


def _check_padding(padding, layer):
    """'same' / 'valid' (any case) or an int >= 0; raises ValueError otherwise."""
    ok = (isinstance(padding, str) and padding.lower() in ("same", "valid")) or (
        isinstance(padding, (int, np.integer)) and not isinstance(padding, bool)
        and padding >= 0)
    if not ok:
        raise ValueError(
            f"{layer}: padding must be 'same', 'valid' or an int >= 0, got {padding!r}")
    return padding


def _activation_code(activation, layer):
    try:
        return ACTIVATION_CODES[activation]
    except (KeyError, TypeError):
        raise ValueError(f"{layer}: unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATION_CODES)}")


class _ConvLayer(Layer):
    """Forward/backward shared by the 1-D and 2-D convolutions: subclasses name
    their kernels (``kernel_name``) and give the stride/padding arguments."""

    kernel_name = None

    def __init__(self, filters, kernel_size, index, strides=1, padding="valid",
                 activation="relu", dtype=np.float32):
        self.index = index
        self.prefix = f"conv.{index}"
        self.filters = _check_positive(filters, "filters", self.prefix)
        self.kernel_size, self.strides, self.padding = self._checked_geometry(
            kernel_size, strides, padding)
        self.activation = activation
        self.kind = _activation_code(activation, self.prefix)
        self.dtype = np.dtype(dtype)

    def _checked_geometry(self, kernel_size, strides, padding):
        """``(kernel_size, strides, padding)`` checked, in the subclass's form
        (ints in 1-D, pairs in 2-D); raises ValueError naming the layer."""
        raise NotImplementedError

    def forward(self, p, x, ctx):
        B = backend_of(ctx)
        x = B.ascontiguous(x, self.dtype)
        out_shape, geometry = self._shapes(x.shape[1:])
        y = B.empty((x.shape[0],) + out_shape, self.dtype)
        kernel(ctx, self.kernel_name + "_forward")(x, p["weight"], p["bias"],
                                                   *geometry, self.kind, y)
        lengths = propagate_lengths(ctx, y, self._out_lengths)
        return y, (x, y, geometry, lengths)

    def backward(self, p, g, cache, dy, ctx):
        x, y, geometry, lengths = cache
        B = backend_of(ctx)
        dy = masked_grad(ctx, B.ascontiguous(dy, self.dtype), lengths)
        need_dx = bool(ctx.need_input_grad)
        dx = B.empty(x.shape, x.dtype) if need_dx else B.empty((0,) * x.ndim, self.dtype)
        kernel(ctx, self.kernel_name + "_backward")(x, p["weight"], y, dy, *geometry,
                                                    self.kind, need_dx, dx, g["weight"],
                                                    g["bias"])
        return dx if need_dx else None

    def _shapes(self, in_shape):
        """Output shape and kernel geometry for per-sample ``in_shape`` (the built
        one, or any length for a layer built with ``T = None``)."""
        return self.out_shape, self._geometry()

    def _out_lengths(self, lengths):
        return lengths


class Conv2DLayer(_ConvLayer):
    """2-D convolution with a fused activation, input ``(H, W, C)``.

    Parameters
    ----------
    filters : int
        Number of output channels ``F``.
    kernel_size : int or (int, int)
    index : int
        Position among the conv layers; public names are ``conv.{index}.weight``
        ``(F, C, KH, KW)`` and ``conv.{index}.bias`` ``(F,)``.
    strides : int or (int, int), default=1
    padding : {'same', 'valid'}, int or (int, int), default='valid'
    activation : str, default='relu'
        A name from ``seqnet.kernels.contract.ACTIVATION_CODES``.
    dtype : numpy dtype, default=np.float32
    """

    def _checked_geometry(self, kernel_size, strides, padding):
        kernel_size = _positive_pair(kernel_size, "kernel_size", self.prefix)
        strides = _positive_pair(strides, "strides", self.prefix)
        if isinstance(padding, str):
            padding = (padding, padding)
        else:
            padding = _pair(padding, "padding", self.prefix)
        for v in padding:
            _check_padding(v, self.prefix)
        return kernel_size, strides, padding

    def build(self, in_shape):
        in_shape = _checked_rank(tuple(int(s) for s in in_shape), "(H, W, C)", self.prefix,
                                 "Conv2D")
        H, W, C = in_shape
        (KH, KW), (SH, SW) = self.kernel_size, self.strides
        Ho, self.pad_h = conv_output_size(H, KH, SH, self.padding[0], self.prefix + " (height)")
        Wo, self.pad_w = conv_output_size(W, KW, SW, self.padding[1], self.prefix + " (width)")
        self.in_channels = C
        self.in_shape = in_shape
        self.out_shape = (Ho, Wo, self.filters)
        return self.out_shape

    def param_specs(self):
        KH, KW = self.kernel_size
        F, C = self.filters, self.in_channels
        return [
            ParamSpec("weight", (F, C, KH, KW), init="default",
                      fan_in=C * KH * KW, fan_out=F * KH * KW),
            ParamSpec("bias", (F,), init="zeros", regularize=False),
        ]

    kernel_name = "conv2d"

    def _geometry(self):
        return (self.strides[0], self.strides[1], self.pad_h, self.pad_w)


class Conv1DLayer(_ConvLayer):
    """1-D convolution with a fused activation, input ``(T, C)``.

    Parameters
    ----------
    filters : int
        Number of output channels ``F``.
    kernel_size : int
    index : int
        Position among the conv layers; public names are ``conv.{index}.weight``
        ``(F, C, K)`` and ``conv.{index}.bias`` ``(F,)``.
    strides : int, default=1
    padding : {'same', 'valid'} or int, default='valid'
    activation : str, default='relu'
    dtype : numpy dtype, default=np.float32
    """

    def _checked_geometry(self, kernel_size, strides, padding):
        return (_check_positive(kernel_size, "kernel_size", self.prefix),
                _check_positive(strides, "strides", self.prefix),
                _check_padding(padding, self.prefix))

    def build(self, in_shape):
        in_shape = _checked_rank(_sequence_shape(in_shape), "(T, C)", self.prefix, "Conv1D")
        T, C = in_shape
        To, self.pad = (None, None) if T is None else conv_output_size(
            T, self.kernel_size, self.strides, self.padding, self.prefix)
        self.in_channels = C
        self.in_shape = in_shape
        self.out_shape = (To, self.filters)
        return self.out_shape

    def param_specs(self):
        K, F, C = self.kernel_size, self.filters, self.in_channels
        return [
            ParamSpec("weight", (F, C, K), init="default", fan_in=C * K, fan_out=F * K),
            ParamSpec("bias", (F,), init="zeros", regularize=False),
        ]

    kernel_name = "conv1d"

    def _geometry(self):
        return (self.strides, self.pad)

    def _shapes(self, in_shape):
        if self.in_shape[0] is not None:
            return self.out_shape, self._geometry()
        To, pad = conv_output_size(in_shape[0], self.kernel_size, self.strides, self.padding,
                                   self.prefix)
        return (To, self.filters), (self.strides, pad)

    def _out_lengths(self, lengths):
        """Valid output steps of sequences of ``lengths`` valid steps (exact for
        'valid', int and stride-1 'same' padding)."""
        k, s = self.kernel_size, self.strides
        if isinstance(self.padding, str) and self.padding.lower() == "same":
            return -(-lengths // s)
        pad = 0 if isinstance(self.padding, str) else int(self.padding)
        return (lengths + 2 * pad - k) // s + 1


def _sequence_shape(in_shape):
    """Per-sample shape as ints; a leading None (any sequence length) is kept."""
    return tuple(None if s is None else int(s) for s in in_shape)


def propagate_lengths(ctx, y, out_lengths):
    """Valid steps of the (B, T_out, C) output ``y`` of a layer over a padded
    batch: ``out_lengths(ctx.lengths)``, stored back in ``ctx.lengths`` for the
    next layer; the padded steps of ``y`` are zeroed (as the zero padding an
    unpadded sequence has), so padding never changes a result.  None (and
    nothing done) when the batch carries no lengths."""
    lengths = None if ctx is None else ctx.lengths
    if lengths is None or y.ndim != 3:
        return None
    new = np.minimum(out_lengths(np.asarray(lengths, dtype=np.int64)), y.shape[1])
    if new.size and new.min() < 1:
        raise ValueError(f"sequence {int(np.argmin(new))} of the batch is too short for the "
                         "convolution / pooling windows (fewer than one output step)")
    ctx.lengths = new
    if new.size and new.min() < y.shape[1]:
        kernel(ctx, "mask_steps")(y, new)
    return new


def masked_grad(ctx, dy, lengths):
    """``dy`` with padded steps zeroed (a copy) when ``lengths`` mask any."""
    if lengths is None or not lengths.size or lengths.min() >= dy.shape[1]:
        return dy
    B = backend_of(ctx)
    dy = B.copy(dy)
    kernel(ctx, "mask_steps")(dy, lengths)
    return dy


def _pool_output_size(n, pool, stride, layer, axis):
    if pool > n:
        raise ValueError(f"{layer}: pooling window {pool} is larger than the input "
                         f"size {n}{axis}")
    return (n - pool) // stride + 1


class _MaxPoolLayer(Layer):
    """Forward/backward shared by the 1-D and 2-D max pooling: the kernels are
    named after ``prefix`` and take the window sizes and strides from ``_window``."""

    def __init__(self, pool_size, strides=None):
        self.pool_size = self._checked_size(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else self._checked_size(
            strides, "strides")

    def _checked_size(self, value, what):
        """``value`` checked positive, in the subclass's form (an int in 1-D, a
        pair in 2-D); raises ValueError naming the layer."""
        raise NotImplementedError

    def forward(self, p, x, ctx):
        B = backend_of(ctx)
        x = B.ascontiguous(x)
        shape = (x.shape[0],) + self._out_shape_for(x.shape[1:])
        y = B.empty(shape, x.dtype)
        argmax = B.empty(shape, np.int64)
        kernel(ctx, self.prefix + "_forward")(x, *self._window(), y, argmax)
        lengths = propagate_lengths(ctx, y, self._out_lengths)
        return y, (x.shape, argmax, lengths)

    def _out_shape_for(self, in_shape):
        return self.out_shape

    def _out_lengths(self, lengths):
        return lengths

    def backward(self, p, g, cache, dy, ctx):
        if not ctx.need_input_grad:
            return None
        x_shape, argmax, lengths = cache
        B = backend_of(ctx)
        dy = masked_grad(ctx, B.ascontiguous(dy), lengths)
        dx = B.empty(x_shape, dy.dtype)
        kernel(ctx, self.prefix + "_backward")(dy, argmax, dx)
        return dx


class MaxPool2DLayer(_MaxPoolLayer):
    """2-D max pooling over ``(H, W, C)``, no padding, floor output size.

    Parameters
    ----------
    pool_size : int or (int, int)
    strides : int or (int, int) or None, default=None
        None means ``pool_size``.
    """

    prefix = "maxpool2d"

    def _checked_size(self, value, what):
        return _positive_pair(value, what, self.prefix)

    def build(self, in_shape):
        in_shape = _checked_rank(tuple(int(s) for s in in_shape), "(H, W, C)", self.prefix,
                                 "MaxPool2D")
        H, W, C = in_shape
        Ho = _pool_output_size(H, self.pool_size[0], self.strides[0], self.prefix, " (height)")
        Wo = _pool_output_size(W, self.pool_size[1], self.strides[1], self.prefix, " (width)")
        self.in_shape = in_shape
        self.out_shape = (Ho, Wo, C)
        return self.out_shape

    def _window(self):
        return (self.pool_size[0], self.pool_size[1], self.strides[0], self.strides[1])


class MaxPool1DLayer(_MaxPoolLayer):
    """1-D max pooling over ``(T, C)``, no padding, floor output size.

    Parameters
    ----------
    pool_size : int
    strides : int or None, default=None
        None means ``pool_size``.
    """

    prefix = "maxpool1d"

    def _checked_size(self, value, what):
        return _check_positive(value, what, self.prefix)

    def build(self, in_shape):
        in_shape = _checked_rank(_sequence_shape(in_shape), "(T, C)", self.prefix, "MaxPool1D")
        T, C = in_shape
        To = None if T is None else _pool_output_size(T, self.pool_size, self.strides,
                                                      self.prefix, "")
        self.in_shape = in_shape
        self.out_shape = (To, C)
        return self.out_shape

    def _window(self):
        return (self.pool_size, self.strides)

    def _out_shape_for(self, in_shape):
        if self.in_shape[0] is not None:
            return self.out_shape
        T = int(in_shape[0])
        return (_pool_output_size(T, self.pool_size, self.strides, self.prefix, ""),
                self.out_shape[1])

    def _out_lengths(self, lengths):
        return (lengths - self.pool_size) // self.strides + 1


class FlattenLayer(Layer):
    """Reshape ``(B, ...)`` to ``(B, prod(...))``; backward reshapes back."""

    prefix = "flatten"

    def build(self, in_shape):
        self.in_shape = tuple(int(s) for s in in_shape)
        self.out_shape = (int(np.prod(self.in_shape, dtype=np.int64)),)
        return self.out_shape

    def forward(self, p, x, ctx):
        return x.reshape((x.shape[0],) + self.out_shape), None

    def backward(self, p, g, cache, dy, ctx):
        if not ctx.need_input_grad:
            return None
        return dy.reshape((dy.shape[0],) + self.in_shape)
