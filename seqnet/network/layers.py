"""The layer protocol: layers are data plus two orchestration methods.

A layer declares its parameters as :class:`ParamSpec` objects; the
:class:`~seqnet.network.network.Network` owns ONE flat parameter buffer (and one
flat gradient buffer of the same layout) and hands every layer a dict of named
views into it.  Layers never allocate or own parameters, so the optimizer can
update the whole model with one fused kernel over the flat buffer, and
``weights_`` is just the dict of named views.

Every layer implements::

    build(in_shape)                  -> out_shape   (per-sample shapes, no batch dim)
    param_specs()                    -> list[ParamSpec]
    forward(p, x, ctx)               -> (y, cache)
    backward(p, g, cache, dy, ctx)   -> dx          (or None when ctx.need_input_grad
                                                     is False for the first layer)

``p`` maps local parameter names (``"weight_ih"``) to views of the parameter
buffer, ``g`` maps the same names to views of the gradient buffer.  ``backward``
OVERWRITES ``g[name][...]`` (it never accumulates across calls), and all math is
delegated to kernels in ``ctx.backend`` (``seqnet.kernels.cpu`` or ``.cuda``).
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ParamSpec:
    """One named parameter of a layer.

    Parameters
    ----------
    name : str
        Local name, e.g. ``"weight"``, ``"weight_ih_reverse"``.  The public name
        in ``weights_`` is ``f"{layer.prefix}.{name}"``.
    shape : tuple of int
    init : str or callable
        ``"default"`` uses the estimator's ``init`` choice ('glorot', 'he',
        'orthogonal', 'sparse'); ``"orthogonal"`` forces an orthogonal matrix
        (recurrent weights, stacked per gate); ``"zeros"``; ``"ones"``;
        or a callable ``f(rng, shape, dtype) -> ndarray``.
    fan_in, fan_out : int
        Used by the Glorot/He scalings.
    regularize : bool
        Whether ``alpha`` (L2 / elastic net) applies; True for weights,
        False for biases.
    gates : int
        For recurrent weights: number of stacked gate blocks along axis 0, so
        orthogonal init is applied per gate block, as PyTorch users expect.
    """

    name: str
    shape: tuple
    init: object = "default"
    fan_in: int = 1
    fan_out: int = 1
    regularize: bool = True
    gates: int = 1


@dataclass
class Context:
    """Per-batch information shared by all layers of one forward/backward pass.

    Attributes
    ----------
    training : bool
        True during fit (dropout active), False at predict.
    lengths : ndarray of int64, shape (batch,) or None
        Number of valid time steps of each sequence in a (post-)padded batch;
        None for non-sequence input or when all sequences are full length.
        Steps ``t >= lengths[b]`` are padding and must never change a result.
    rng : numpy.random.Generator or None
        Source of dropout masks (drawn on the host so results do not depend on
        the thread count).
    backend : module
        Kernel module: ``seqnet.kernels.cpu`` or ``seqnet.kernels.cuda``; the
        estimators and the training loop always pass their device's backend
        (the CPU kernels are the default for layers used on their own).
    need_input_grad : bool
        False for the first layer's backward: it may skip computing ``dx``.
    keep_cache : bool
        False when no backward pass follows (prediction): layers may then
        skip storing what only the backward pass reads.
    """

    training: bool = False
    lengths: object = None
    rng: object = None
    backend: object = field(default_factory=lambda: _host_kernels())
    need_input_grad: bool = True
    keep_cache: bool = True
    extra: dict = field(default_factory=dict)


class Layer:
    """Base class. Subclasses set ``prefix`` (public name prefix, e.g. ``"rnn.0"``)."""

    prefix = "layer"
    #: Whether this layer consumes (batch, T, F) sequences and ``ctx.lengths``.
    is_sequence_layer = False

    def build(self, in_shape):
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(in_shape)
        return self.out_shape

    def param_specs(self):
        return []

    def forward(self, p, x, ctx):
        raise NotImplementedError

    def backward(self, p, g, cache, dy, ctx):
        raise NotImplementedError


def _host_kernels():
    from seqnet.kernels import cpu  # imported on first use: compiles nothing

    return cpu


def kernel(ctx, name):
    """Kernel ``name`` of ``ctx.backend`` (both backends export every kernel
    of ``seqnet.kernels.contract`` under the same name)."""
    return getattr(ctx.backend, name)


def backend_of(ctx):
    """The array API of ``ctx``'s backend (``empty``, ``zeros``,
    ``ascontiguous``, ...: array helpers of the contract)."""
    return ctx.backend


def as_contiguous(x, dtype):
    """Return ``x`` as a C-contiguous array of ``dtype`` without copying if possible."""
    return np.ascontiguousarray(x, dtype=dtype)
