"""A network: an ordered list of layers, one flat parameter buffer, one loss.

All parameters live in ``params`` (1-D, compute dtype) and all gradients in
``grads`` with the same layout, so optimizers and clipping are single fused
passes.  Each layer sees a dict of named views (its local names); the public
view ``named_weights()`` maps ``"{prefix}.{name}"`` to the same memory, which
is what estimators expose as ``weights_``: writing into it changes predictions.
"""

import contextlib

import numpy as np
from scipy.sparse import issparse

from seqnet.kernels import cpu as _host  # the kernels of host (NumPy) buffers

from .init import initialize
from .layers import Context
from .tree_encoding import Forest

#: Output nonlinearity + loss pairs, by the estimator's task.
LOSS_KERNELS = {
    "softmax": "softmax_cross_entropy",
    "logistic": "sigmoid_cross_entropy",
    "squared": "squared_error",
    "poisson": "poisson_deviance",  # log link: the prediction is exp(raw)
}


class Network:
    """Layers plus a loss, with parameters in one flat buffer.

    Parameters
    ----------
    layers : list of Layer
    loss : {'softmax', 'logistic', 'squared', 'poisson'}
    dtype : numpy dtype
    """

    #: Kernel module whose memory holds ``params``: the host kernels until
    #: :meth:`to_backend` moves them to a device.
    residence = _host

    def __init__(self, layers, loss, dtype):
        self.layers = list(layers)
        self.loss = loss
        self.dtype = np.dtype(dtype)

    # ------------------------------------------------------------------ layout
    def build(self, in_shape):
        """Propagate per-sample shapes and lay out the flat buffers."""
        shape = tuple(in_shape)
        self.in_shape = shape
        self.specs = []  # (layer index, spec, offset)
        offset = 0
        for i, layer in enumerate(self.layers):
            shape = layer.build(shape)
            for spec in layer.param_specs():
                self.specs.append((i, spec, offset))
                offset += int(np.prod(spec.shape))
        self.out_shape = shape
        self.n_params = offset
        self.bind(np.zeros(offset, dtype=self.dtype))
        return shape

    def bind(self, params, backend=_host):
        """Use ``params`` (1-D) as the parameter buffer and rebuild every view.

        With a device ``backend`` (CUDA) ``params`` is a device array and the
        gradient buffer, ``reg_mask`` and every per-layer view live there too.
        """
        B = backend
        self.params = params
        self.grads = B.zeros(params.shape, params.dtype)
        reg_mask = np.zeros(self.n_params, dtype=np.uint8)
        self._layer_params = [dict() for _ in self.layers]
        self._layer_grads = [dict() for _ in self.layers]
        for i, spec, offset in self.specs:
            size = int(np.prod(spec.shape))
            sl = slice(offset, offset + size)
            self._layer_params[i][spec.name] = params[sl].reshape(spec.shape)
            self._layer_grads[i][spec.name] = self.grads[sl].reshape(spec.shape)
            if spec.regularize:
                reg_mask[sl] = 1
        self.reg_mask = B.to_device(reg_mask)

    # ------------------------------------------------------ device residency
    def to_backend(self, backend):
        """Move the parameters (and the gradient buffer, ``reg_mask``, views) to
        ``backend``'s device; a no-op for the CPU or when already moved.
        Returns True when it moved them."""
        if not backend.ON_DEVICE or self.residence.ON_DEVICE:
            return False
        host = self.params
        self.bind(backend.to_device(host), backend)
        self._host_params = host
        self.residence = backend
        return True

    def to_host(self, copy_back=True):
        """Back to the host buffer the parameters came from (so ``weights_`` views
        stay valid), copying the device values into it when ``copy_back``."""
        backend = self.residence
        if not backend.ON_DEVICE:
            return
        host = self._host_params
        if copy_back:
            backend.to_host(self.params, out=host)
        self.residence = _host
        self._host_params = None
        self.bind(host)

    @contextlib.contextmanager
    def on_backend(self, backend, copy_back=True):
        """Parameters on ``backend``'s device inside the block (nesting is a no-op)."""
        moved = self.to_backend(backend)
        try:
            yield self
        finally:
            if moved:
                self.to_host(copy_back)

    def initialize(self, rng, default_init):
        for i, spec, _ in self.specs:
            initialize(self._layer_params[i][spec.name], spec, rng, default_init)

    def named_weights(self):
        """``{"{prefix}.{name}": view}`` over the parameter buffer."""
        return {
            f"{self.layers[i].prefix}.{spec.name}": self._layer_params[i][spec.name]
            for i, spec, _ in self.specs
        }

    def named_grads(self):
        return {
            f"{self.layers[i].prefix}.{spec.name}": self._layer_grads[i][spec.name]
            for i, spec, _ in self.specs
        }

    def __getstate__(self):
        state = self.__dict__.copy()
        if self.residence.ON_DEVICE:  # pickled mid-fit: the host copy
            state["params"] = self.residence.to_host(self.params)
        for key in ("grads", "reg_mask", "_layer_params", "_layer_grads",
                    "residence", "_host_params"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "params" in state:
            self.bind(self.params)

    # ------------------------------------------------------------- computation
    def forward(self, x, ctx):
        """Run every layer; return the raw output (logits) and the caches."""
        caches = []
        for i, layer in enumerate(self.layers):
            x, cache = layer.forward(self._layer_params[i], x, ctx)
            caches.append(cache)
        return x, caches

    def backward(self, caches, d_out, ctx):
        """Back-propagate ``d_out``; fills ``self.grads`` (overwriting)."""
        d = d_out
        for i in range(len(self.layers) - 1, -1, -1):
            ctx.need_input_grad = i > 0
            d = self.layers[i].backward(
                self._layer_params[i], self._layer_grads[i], caches[i], d, ctx
            )
        ctx.need_input_grad = True

    def loss_and_grad(self, x, y, sample_weight, ctx):
        """Weighted mean data loss of one batch; fills ``self.grads``.

        ``y`` has the network's output shape; for per-step outputs
        (batch, T, K) the padded steps get weight 0 through ``ctx.lengths``.
        """
        backend = ctx.backend
        ctx.extra["sample_weight"] = sample_weight  # batch norm weighs its statistics
        out, caches = self.forward(x, ctx)
        k = out.shape[out.ndim - 1]
        rows = out.size // k if k else 0
        out2 = out.reshape(rows, k)
        y2 = backend.to_device(y).reshape(rows, k)
        sw = backend.to_device(step_weights(sample_weight, out.shape, ctx.lengths, out.dtype))
        d_out = backend.empty(out2.shape, out2.dtype)
        loss = getattr(backend, LOSS_KERNELS[self.loss])(out2, y2, sw, d_out)
        self.backward(caches, d_out.reshape(out.shape), ctx)
        return float(loss)

    def predict_raw(self, x, lengths, backend):
        """Raw outputs for host ``x`` with ``backend``'s kernels: on a device
        backend ``x`` is copied there once and the outputs back once (call
        inside :meth:`on_backend`)."""
        ctx = Context(training=False, lengths=lengths, backend=backend, keep_cache=False)
        out, _ = self.forward(input_to_device(backend, x), ctx)
        return backend.to_host(out)


def input_to_device(backend, x):
    """``backend.to_device(x)`` for a batch of input.  A scipy.sparse batch stays
    sparse on the CPU (the first dense layer multiplies it as it is); a device
    backend gets the batch's rows densified, never the whole ``X``.  A batch of
    trees (a ``Forest``) stays on the host: the tree layer copies its arrays."""
    if isinstance(x, Forest):
        return x
    if issparse(x) and backend.ON_DEVICE:
        x = x.toarray()
    return backend.to_device(x)


def step_weights(sample_weight, out_shape, lengths, dtype):
    """Per-row loss weights: sample weights, repeated and masked per time step."""
    if len(out_shape) == 2:
        return np.ascontiguousarray(sample_weight, dtype=dtype)
    t = out_shape[1]
    sw = np.repeat(np.asarray(sample_weight, dtype=dtype)[:, None], t, axis=1)
    if lengths is not None:
        sw[np.arange(t)[None, :] >= np.asarray(lengths)[:, None]] = 0.0
    return sw.reshape(-1)
