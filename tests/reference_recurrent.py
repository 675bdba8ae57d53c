"""Plain-NumPy float64 references for the recurrent layers (slow, obvious loops).

Each sample is run on its own over its valid steps only, so padding semantics
(outputs 0 at t >= lengths[b], reverse direction starting at lengths[b] - 1)
hold by construction.  PyTorch layout and gate order: LSTM (i, f, g, o),
GRU (r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def cell_step(cell, x_t, h, c, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One step of one sample: returns the new (h, c) (c is None except for LSTM)."""
    gx = w_ih @ x_t + b_ih
    gh = w_hh @ h + b_hh
    H = h.shape[0]
    if cell == "rnn":
        z = gx + gh
        return (np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0.0)), None
    if cell == "lstm":
        z = gx + gh
        i = sigmoid(z[:H])
        f = sigmoid(z[H:2 * H])
        g = np.tanh(z[2 * H:3 * H])
        o = sigmoid(z[3 * H:])
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new
    if cell == "gru":
        r = sigmoid(gx[:H] + gh[:H])
        zg = sigmoid(gx[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gx[2 * H:] + r * gh[2 * H:])
        return (1.0 - zg) * n + zg * h, None
    raise ValueError(cell)


def run_direction(cell, x, lengths, w_ih, w_hh, b_ih, b_hh, reverse=False,
                  nonlinearity="tanh", h0=None, c0=None, return_cell=False):
    """One direction over a padded batch x (B, T, F) -> h (B, T, H), 0 at padding.

    With ``return_cell``, returns ``(h, c)`` with the LSTM cell states (B, T, H).
    """
    x = np.asarray(x, dtype=np.float64)
    B, T, _ = x.shape
    H = w_hh.shape[1]
    out = np.zeros((B, T, H))
    cells = np.zeros((B, T, H))
    for b in range(B):
        h = np.zeros(H) if h0 is None else np.array(h0[b], dtype=np.float64)
        c = np.zeros(H) if c0 is None else np.array(c0[b], dtype=np.float64)
        L = int(lengths[b])
        steps = range(L - 1, -1, -1) if reverse else range(L)
        for t in steps:
            h, c_new = cell_step(cell, x[b, t], h, c, w_ih, w_hh, b_ih, b_hh, nonlinearity)
            if c_new is not None:
                c = c_new
            out[b, t] = h
            cells[b, t] = c
    return (out, cells) if return_cell else out


def run_layer(cell, x, lengths, params, bidirectional=False, nonlinearity="tanh"):
    """A (bi)directional layer with params named weight_ih[_reverse] etc. -> (B, T, D*H)."""
    outs = []
    for sfx, reverse in ([("", False), ("_reverse", True)] if bidirectional else [("", False)]):
        outs.append(run_direction(
            cell, x, lengths, params["weight_ih" + sfx], params["weight_hh" + sfx],
            params["bias_ih" + sfx], params["bias_hh" + sfx], reverse, nonlinearity))
    return np.concatenate(outs, axis=2)


def pool(y, lengths, mode, directions=1):
    """Reference sequence pooling (B, T, C) -> (B, C) over valid steps."""
    B, T, C = y.shape
    H = C // directions
    out = np.zeros((B, C))
    for b in range(B):
        L = int(lengths[b])
        if L == 0:
            continue
        valid = y[b, :L]
        if mode == "mean":
            out[b] = valid.mean(axis=0)
        elif mode == "max":
            out[b] = valid.max(axis=0)
        else:
            out[b, :H] = valid[L - 1, :H]
            out[b, H:] = valid[0, H:]
    return out
