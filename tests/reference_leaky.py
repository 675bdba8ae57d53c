"""Plain-NumPy float64 reference of the leaky RNN cell with skip connections.

Each sample runs alone over its valid steps, in its own processing order
(reverse: from ``lengths[b] - 1`` down to 0)::

    f_s = act(W_ih x_t + b_ih + W_hh h_{s-1} + b_hh + S h_{s-d})   (no S term for s < d)
    h_s = (1 - a) h_{s-1} + a f_s

Truncated BPTT has no forward of its own; its gradient is the gradient of
this forward with every read that crosses a segment border (processing
steps ``s // k``) replaced by a constant: ``frozen`` (the states of an
unperturbed run, :func:`run_direction`'s second result) supplies those
reads, so central differences of the frozen forward ARE the truncated
gradient.
"""

import numpy as np


def _crosses(s, s_read, bptt):
    """Whether step ``s`` reading the state after step ``s_read`` crosses a border."""
    return bptt > 0 and s_read >= 0 and s // bptt != s_read // bptt


def run_direction(x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0=None, reverse=False,
                  skip=0, nonlinearity="tanh", bptt=0, frozen=None):
    """One direction over a padded batch -> ``(h (B, T, H) 0 at padding, states)``.

    ``states[b][s + 1]`` is sample b's state after processing step s
    (``states[b][0]`` the initial state).  With ``frozen`` (states of an
    earlier call) and ``bptt = k``, reads across a segment border come from
    ``frozen`` instead (see the module docstring).
    """
    x = np.asarray(x, dtype=np.float64)
    B, T, _ = x.shape
    H = w_hh.shape[0]
    out = np.zeros((B, T, H))
    states = []
    for b in range(B):
        hist = [np.zeros(H) if h0 is None else np.array(h0[b], dtype=np.float64)]
        L = int(lengths[b])
        for s in range(L):
            t = L - 1 - s if reverse else s
            hp = hist[s]
            if frozen is not None and _crosses(s, s - 1, bptt):
                hp = frozen[b][s]
            z = w_ih @ x[b, t] + b_ih + w_hh @ hp + b_hh
            if skip and s >= skip:
                hk = hist[s - skip + 1]
                if frozen is not None and _crosses(s, s - skip, bptt):
                    hk = frozen[b][s - skip + 1]
                z = z + w_skip @ hk
            f = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0.0)
            hist.append((1.0 - a) * hp + a * f)
            out[b, t] = hist[-1]
        states.append(hist)
    return out, states
