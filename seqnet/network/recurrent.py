"""Recurrent layers (RNN / LSTM / GRU, optionally bidirectional) and sequence pooling.

Parameters use PyTorch's layout and gate order (LSTM i, f, g, o; GRU r, z, n),
so ``rnn.{index}.weight_ih`` equals PyTorch's ``weight_ih_l{index}`` and the
``_reverse`` suffix the backward direction.  All math runs in kernels of
``ctx.backend`` (``seqnet.kernels.cpu`` when ``ctx.backend`` is None).
"""

import numpy as np

from seqnet.kernels.contract import ACTIVATION_CODES, CELL_GATES
from seqnet.network.layers import Layer, ParamSpec, backend_of, kernel

RNN_NONLINEARITIES = ("tanh", "relu")
POOLING_MODES = ("last", "mean", "max")


def sequence_lengths(ctx, batch, steps):
    """``ctx.lengths`` as a validated int64 array, or all ``steps`` when None."""
    lengths = None if ctx is None else ctx.lengths
    if lengths is None:
        return np.full(batch, steps, dtype=np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    if lengths.shape != (batch,):
        raise ValueError(f"lengths has shape {lengths.shape}, expected ({batch},)")
    if batch and (lengths.min() < 0 or lengths.max() > steps):
        raise ValueError(f"lengths must lie in [0, {steps}]")
    return lengths


def _lstm_bias_ih_init(rng, shape, dtype):
    """bias_ih of an LSTM: forget-gate slice 1, the rest 0 (total forget bias 1)."""
    b = np.zeros(shape, dtype=dtype)
    h = shape[0] // 4
    b[h:2 * h] = 1
    return b


class RecurrentLayer(Layer):
    """One recurrent layer (both directions when ``bidirectional``).

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    hidden_size : int
        H, per direction.  Output features are ``D * H`` (D = 2 if bidirectional).
    index : int
        Layer index; public parameter names are ``f"rnn.{index}.weight_ih"`` etc.
    bidirectional : bool
        Adds a reverse direction; output is ``[forward H, reverse H]``.
    nonlinearity : {"tanh", "relu"}
        For ``cell="rnn"`` only.
    bptt_steps : int or None
        Truncated BPTT chunk length k (None = full BPTT).
    dtype : numpy dtype
        Compute dtype (float32 or float64); inputs are cast to it.
    """

    is_sequence_layer = True

    def __init__(self, cell, hidden_size, index, bidirectional=False,
                 nonlinearity="tanh", bptt_steps=None, dtype=np.float32):
        if cell not in CELL_GATES:
            raise ValueError(f"cell must be one of {sorted(CELL_GATES)}, got {cell!r}")
        if nonlinearity not in RNN_NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {RNN_NONLINEARITIES}, got {nonlinearity!r}")
        if int(hidden_size) < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size!r}")
        if bptt_steps is not None and int(bptt_steps) < 1:
            raise ValueError(f"bptt_steps must be None or >= 1, got {bptt_steps!r}")
        self.cell = cell
        self.hidden_size = int(hidden_size)
        self.index = int(index)
        self.bidirectional = bool(bidirectional)
        self.nonlinearity = nonlinearity
        self.bptt_steps = None if bptt_steps is None else int(bptt_steps)
        self.dtype = np.dtype(dtype)
        self.prefix = f"rnn.{self.index}"
        self.gates = CELL_GATES[cell]
        self.directions = 2 if self.bidirectional else 1
        self.kind = ACTIVATION_CODES[nonlinearity]

    @property
    def suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def build(self, in_shape):
        in_shape = tuple(in_shape)
        if len(in_shape) != 2:
            raise ValueError(f"RecurrentLayer expects (T, F) input, got {in_shape}")
        self.in_shape = in_shape
        self.input_size = int(in_shape[1])
        self.out_shape = (in_shape[0], self.directions * self.hidden_size)
        return self.out_shape

    def param_specs(self):
        G, H, F = self.gates, self.hidden_size, self.input_size
        bias_ih_init = _lstm_bias_ih_init if self.cell == "lstm" else "zeros"
        specs = []
        for sfx in self.suffixes:
            specs += [
                ParamSpec("weight_ih" + sfx, (G * H, F), init="default",
                          fan_in=F, fan_out=H, gates=G),
                ParamSpec("weight_hh" + sfx, (G * H, H), init="orthogonal",
                          fan_in=H, fan_out=H, gates=G),
                ParamSpec("bias_ih" + sfx, (G * H,), init=bias_ih_init,
                          fan_in=F, fan_out=H, regularize=False, gates=G),
                ParamSpec("bias_hh" + sfx, (G * H,), init="zeros",
                          fan_in=H, fan_out=H, regularize=False, gates=G),
            ]
        return specs

    # -- forward / backward -------------------------------------------------

    def _run_forward(self, ctx, p, sfx, x, lengths, reverse):
        B, H = x.shape[0], self.hidden_size
        h0 = backend_of(ctx).zeros((B, H), x.dtype)
        w = [backend_of(ctx).ascontiguous(p[n + sfx], x.dtype)
             for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        keep = bool(ctx.keep_cache)
        # h0 doubles as the LSTM's zero initial cell state
        h, cache = kernel(ctx, "recurrent_forward")(self.cell, x, lengths, *w, h0, h0, reverse,
                                                    self.kind, keep)
        return h, cache  # the cache is the backend's own, opaque here

    def forward(self, p, x, ctx):
        x = backend_of(ctx).ascontiguous(x, self.dtype)
        if x.ndim != 3:
            raise ValueError(f"RecurrentLayer expects (B, T, F) input, got shape {x.shape}")
        B, T, _ = x.shape
        lengths = sequence_lengths(ctx, B, T)
        outs, states = [], []
        for d, sfx in enumerate(self.suffixes):
            h, state = self._run_forward(ctx, p, sfx, x, lengths, d == 1)
            outs.append(h)
            states.append(state)
        y = outs[0] if len(outs) == 1 else backend_of(ctx).concat_last(outs[0], outs[1])
        return y, (x, lengths, states)

    def backward(self, p, g, cache, dy, ctx):
        x, lengths, states = cache
        H = self.hidden_size
        need_dx = bool(ctx.need_input_grad)
        bptt = 0 if self.bptt_steps is None else self.bptt_steps
        Bk = backend_of(ctx)
        dy = Bk.ascontiguous(dy, x.dtype)
        dx = None
        for d, sfx in enumerate(self.suffixes):
            dh = dy if self.directions == 1 else Bk.slice_last(dy, d * H, (d + 1) * H)
            ddx = self._run_backward(ctx, p, g, sfx, dh, x, lengths, states[d], d == 1,
                                     bptt, need_dx)
            if need_dx:
                dx = ddx if dx is None else Bk.add(dx, ddx)
        return dx

    def _run_backward(self, ctx, p, g, sfx, dh, x, lengths, state, reverse, bptt, need_dx):
        """One direction's backward kernel: its gradients into ``g``; returns its ``dx``."""
        Bk = backend_of(ctx)
        w_ih = Bk.ascontiguous(p["weight_ih" + sfx], x.dtype)
        w_hh = Bk.ascontiguous(p["weight_hh" + sfx], x.dtype)
        grads = kernel(ctx, "recurrent_backward")(self.cell, dh, x, lengths, w_ih, w_hh, state,
                                                  reverse, bptt, need_dx, self.kind)
        ddx, dw_ih, dw_hh, db_ih, db_hh = grads
        Bk.copy_into(g["weight_ih" + sfx], dw_ih)
        Bk.copy_into(g["weight_hh" + sfx], dw_hh)
        Bk.copy_into(g["bias_ih" + sfx], db_ih)
        Bk.copy_into(g["bias_hh" + sfx], db_hh)
        return ddx


class SequencePooling(Layer):
    """Pool (B, T, D*H) sequences to (B, D*H) over the valid steps of each sample.

    Parameters
    ----------
    mode : {"last", "mean", "max"}
        ``"last"``: each direction's final state (forward half at
        ``t = lengths[b] - 1``, reverse half at ``t = 0``, as PyTorch's ``h_n``);
        ``"mean"``: average of valid steps; ``"max"``: max over valid steps
        (gradient to the argmax).
    directions : int
        1, or 2 for the output of a bidirectional layer (used by ``"last"``).
    """

    is_sequence_layer = True
    prefix = "seqpool"

    def __init__(self, mode="last", directions=1):
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling mode must be one of {POOLING_MODES}, got {mode!r}")
        if directions not in (1, 2):
            raise ValueError(f"directions must be 1 or 2, got {directions!r}")
        self.mode = mode
        self.directions = int(directions)

    def build(self, in_shape):
        in_shape = tuple(in_shape)
        if len(in_shape) != 2:
            raise ValueError(f"SequencePooling expects (T, C) input, got {in_shape}")
        if in_shape[1] % self.directions:
            raise ValueError(f"{in_shape[1]} features do not split into {self.directions} directions")
        self.in_shape = in_shape
        self.out_shape = (in_shape[1],)
        return self.out_shape

    def forward(self, p, x, ctx):
        x = backend_of(ctx).ascontiguous(x)
        B, T, _ = x.shape
        lengths = sequence_lengths(ctx, B, T)
        if self.mode == "last":
            out = kernel(ctx, "seqpool_last_forward")(x, lengths, self.directions)
            return out, (lengths, T, None)
        if self.mode == "mean":
            out = kernel(ctx, "seqpool_mean_forward")(x, lengths)
            return out, (lengths, T, None)
        out, arg = kernel(ctx, "seqpool_max_forward")(x, lengths)
        return out, (lengths, T, arg)

    def backward(self, p, g, cache, dy, ctx):
        lengths, T, arg = cache
        dy = backend_of(ctx).ascontiguous(dy)
        if self.mode == "last":
            return kernel(ctx, "seqpool_last_backward")(dy, lengths, self.directions, T)
        if self.mode == "mean":
            return kernel(ctx, "seqpool_mean_backward")(dy, lengths, T)
        return kernel(ctx, "seqpool_max_backward")(dy, arg, T)
