"""The leaky RNN layer: Elman units with leak rates and skip connections in time.

Per direction (``a``: leak rates, ``d = skip_steps``)::

    h_t = (1 - a) * h_{t-1} + a * act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh + S h_{t-d})

The layer is used only when the cell differs from the plain one (a leak
below 1, a learned leak, or skip connections): the plain Elman cell keeps
:class:`~seqnet.network.recurrent.RecurrentLayer` and its ``recurrent_forward`` /
``recurrent_backward`` kernels unchanged.  Its kernels are ``leaky_rnn_forward`` /
``leaky_rnn_backward`` (``seqnet.kernels.cpu.recurrent_leaky`` for the cell,
the skip term's zero start and what truncated BPTT cuts).

Parameters beyond the Elman cell's (``_reverse`` suffix for the backward
direction):

* ``rnn.{l}.weight_hh_skip`` (H, H): ``S``, when ``skip_steps`` is set;
  orthogonal initialisation like ``weight_hh``.
* ``rnn.{l}.leak`` (H,): with ``leak='learn'``, one logit per unit,
  ``a = sigmoid(leak)``, initialised to 0 (``a = 0.5``: every unit starts
  halfway between keeping its state and replacing it); not regularised.

The kernels take the rates ``a`` and return the gradient with respect to
them; the sigmoid and its chain rule (``d leak = da * a * (1 - a)``) are
applied here on the host: ``H`` values per direction and batch, the only
transfers this layer adds on a CUDA backend.
"""

import numpy as np

from seqnet.network.layers import ParamSpec, backend_of, kernel
from seqnet.network.recurrent import RecurrentLayer


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class LeakyRecurrentLayer(RecurrentLayer):
    """A (bidirectional) leaky RNN layer with optional skip connections in time.

    Parameters
    ----------
    hidden_size, index, bidirectional, nonlinearity, bptt_steps, dtype
        As :class:`~seqnet.network.recurrent.RecurrentLayer` (the cell is ``"rnn"``).
    leak : float in (0, 1] or "learn", default=1.0
        Leak rate of every unit, or ``"learn"``: one learned rate per unit
        (``sigmoid`` of the ``leak`` parameter, starting at 0.5).
    skip_steps : int >= 2 or None, default=None
        Adds ``S h_{t-d}`` with ``d = skip_steps`` (``h_{t-d} = 0`` for ``t < d``).
    """

    def __init__(self, hidden_size, index, bidirectional=False, nonlinearity="tanh",
                 bptt_steps=None, dtype=np.float32, leak=1.0, skip_steps=None):
        super().__init__("rnn", hidden_size, index, bidirectional, nonlinearity, bptt_steps,
                         dtype)
        if isinstance(leak, str):
            if leak != "learn":
                raise ValueError(f"leak must be a float in (0, 1] or 'learn', got {leak!r}")
        elif not 0.0 < float(leak) <= 1.0:
            raise ValueError(f"leak must lie in (0, 1], got {leak!r}")
        if skip_steps is not None and int(skip_steps) < 2:
            raise ValueError(f"skip_steps must be None or >= 2, got {skip_steps!r}")
        self.leak = leak if isinstance(leak, str) else float(leak)
        self.skip_steps = None if skip_steps is None else int(skip_steps)
        self.skip = self.skip_steps or 0  # the kernels' code: 0 = no skip term

    @property
    def learns_leak(self):
        return self.leak == "learn"

    def param_specs(self):
        H = self.hidden_size
        specs = super().param_specs()
        for sfx in self.suffixes:
            if self.skip:
                specs.append(ParamSpec("weight_hh_skip" + sfx, (H, H), init="orthogonal",
                                       fan_in=H, fan_out=H))
            if self.learns_leak:
                specs.append(ParamSpec("leak" + sfx, (H,), init="zeros", fan_in=H, fan_out=H,
                                       regularize=False))
        return specs

    def _rates(self, ctx, p, sfx, dtype):
        """The leak rates ``a`` (host copy, and as the backend's array)."""
        if self.learns_leak:
            a = _sigmoid(np.asarray(backend_of(ctx).to_host(p["leak" + sfx]), np.float64))
        else:
            a = np.full(self.hidden_size, self.leak)
        a = a.astype(dtype)
        return a, backend_of(ctx).to_device(a)

    def _weights(self, ctx, p, sfx, dtype, names):
        Bk = backend_of(ctx)
        out = [Bk.ascontiguous(p[n + sfx], dtype) for n in names]
        skip = (Bk.ascontiguous(p["weight_hh_skip" + sfx], dtype) if self.skip
                else Bk.zeros((0, self.hidden_size), dtype))
        return out, skip

    def _run_forward(self, ctx, p, sfx, x, lengths, reverse):
        B, H = x.shape[0], self.hidden_size
        h0 = backend_of(ctx).zeros((B, H), x.dtype)
        (w_ih, w_hh, b_ih, b_hh), w_skip = self._weights(
            ctx, p, sfx, x.dtype, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        a_host, a = self._rates(ctx, p, sfx, x.dtype)
        h, cache = kernel(ctx, "leaky_rnn_forward")(
            x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, self.skip, self.kind)
        return h, (a_host, a, h, cache)

    def _run_backward(self, ctx, p, g, sfx, dh, x, lengths, state, reverse, bptt, need_dx):
        Bk = backend_of(ctx)
        a_host, a, h, cache = state
        (w_ih, w_hh), w_skip = self._weights(ctx, p, sfx, x.dtype, ("weight_ih", "weight_hh"))
        ddx, dw_ih, dw_hh, dw_skip, db_ih, db_hh, da = kernel(ctx, "leaky_rnn_backward")(
            dh, x, lengths, w_ih, w_hh, w_skip, a, h, cache, bptt, need_dx)
        for name, grad in (("weight_ih", dw_ih), ("weight_hh", dw_hh), ("bias_ih", db_ih),
                           ("bias_hh", db_hh)):
            Bk.copy_into(g[name + sfx], grad)
        if self.skip:
            Bk.copy_into(g["weight_hh_skip" + sfx], dw_skip)
        if self.learns_leak:  # chain rule of a = sigmoid(leak)
            d_leak = np.asarray(Bk.to_host(da), np.float64) * a_host * (1.0 - a_host)
            Bk.copy_into(g["leak" + sfx], d_leak.astype(a_host.dtype))
        return ddx
