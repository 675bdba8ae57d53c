"""Helpers shared by the recurrent kernels (RNN, LSTM, GRU).

Conventions of every recurrent kernel
-------------------------------------
* ``x``: (B, T, F) batch first, C-contiguous, float32 or float64.
* ``lengths``: int64 (B,), valid steps of each post-padded sequence.  Steps
  ``t >= lengths[b]`` are padding: outputs there are 0, the state is not
  updated, and they receive no gradient.
* Weights in PyTorch layout: ``w_ih`` (G*H, F), ``w_hh`` (G*H, H), biases (G*H,).
* One kernel call runs ONE direction.  ``reverse=True`` processes sample b from
  ``t = lengths[b] - 1`` down to 0 (PyTorch packed-sequence semantics).
  Processing step ``s`` of sample ``b`` is at time ``t = s`` (forward) or
  ``t = lengths[b] - 1 - s`` (reverse).
* ``h0`` (and ``c0`` for the LSTM): (B, H) initial state (zeros for a layer).
* Truncated BPTT: ``bptt`` = k > 0 cuts the gradient flowing into the carried
  state when moving from processing step s to s-1 with ``s % k == 0``;
  ``bptt <= 0`` is full BPTT.
* Caches (gate activations, cell states, hidden outputs) are stored in TIME
  layout (B, T, .), so the weight gradients are single large products after
  the time loop, independent of the direction::

      dW_ih = dZ(B*T, G*H)^T @ x(B*T, F)        dx = dZ @ W_ih
      dW_hh = dZh(B*T, G*H)^T @ Hprev(B*T, H)   db = sum over rows of dZ

  where ``Hprev[b, t]`` is the state the step at (b, t) read (h0 for s = 0).
* Denormals: backward gate loops flush |v| < 1e-30 to zero (:func:`ftz`), so
  decaying gradients never reach the slow denormal range.
* No prange here: BLAS owns the cores (DESIGN.md §4).
* Kernels use ``error_model="numpy"`` (IEEE division: no ZeroDivisionError
  branch), so the simple per-row gate loops vectorize; no fastmath.
* Gate nonlinearities go through :func:`gate_tanh` / :func:`gate_sigmoid`:
  libm in float64 (full accuracy); in float32 a branch-free rational
  approximation (Eigen's, |error| < 3e-7) that LLVM can vectorize and that is
  ~5x faster than ``tanhf``.  NaN propagates, +-inf saturates to +-1 (0/1).
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

#: Magnitude below which backward values are flushed to zero (both dtypes).
FTZ_THRESHOLD = 1e-30


#: Float constants typed float32 so they never widen float32 arithmetic (both
#: are exact in float32, and widen exactly in float64 kernels).
ONE = np.float32(1.0)
ZERO = np.float32(0.0)


@njit(cache=True, error_model="numpy")
def ftz(v):
    """Flush-to-zero: ``0`` if ``|v| < 1e-30`` else ``v`` (NaN passes through)."""
    return ZERO if abs(v) < np.float32(1e-30) else v


# Eigen's float32 tanh: x * P(x^2) / Q(x^2) on [-c, c], +-1 (to float32 precision) outside.
_TANH_CLAMP = 7.90531110763549805
_A13, _A11, _A9 = -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11
_A7, _A5, _A3 = 5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04
_A1 = 4.89352455891786e-03
_B6, _B4, _B2 = 1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03
_B0 = 4.89352518554385e-03


@njit(cache=True, error_model="numpy")
def tanh_f32(x):
    """Rational tanh for float32 arguments (branch free, NaN propagates)."""
    c = np.float32(_TANH_CLAMP)
    x = c if x > c else x
    x = -c if x < -c else x
    x2 = x * x
    p = x2 * np.float32(_A13) + np.float32(_A11)
    p = x2 * p + np.float32(_A9)
    p = x2 * p + np.float32(_A7)
    p = x2 * p + np.float32(_A5)
    p = x2 * p + np.float32(_A3)
    p = x2 * p + np.float32(_A1)
    q = x2 * np.float32(_B6) + np.float32(_B4)
    q = x2 * q + np.float32(_B2)
    q = x2 * q + np.float32(_B0)
    return x * p / q


def gate_tanh(x):
    """tanh for gate loops: exact (libm) in float64, rational in float32."""
    return math.tanh(x)


def gate_sigmoid(x):
    """Logistic sigmoid for gate loops (see :func:`gate_tanh`)."""
    return 1.0 / (1.0 + math.exp(-x))


@overload(gate_tanh)
def _gate_tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: tanh_f32(x)
    return lambda x: math.tanh(x)


@overload(gate_sigmoid)
def _gate_sigmoid_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        half = np.float32(0.5)
        return lambda x: half + half * tanh_f32(half * x)
    # exp(-x) overflows to inf for x < -709 and 1 / inf = 0: no branch needed.
    return lambda x: 1.0 / (1.0 + math.exp(-x))


# Row helpers: tiny loops of their own so they vectorize whatever the caller's
# inlining budget (the gate nonlinearities are never left as calls in a loop).
@njit(cache=True, error_model="numpy")
def sigmoid_range(v, start, stop):
    """``v[k] = sigmoid(v[k])`` for ``start <= k < stop`` (1-D, in place)."""
    for k in range(start, stop):
        v[k] = gate_sigmoid(v[k])


@njit(cache=True, error_model="numpy")
def tanh_range(v, start, stop):
    """``v[k] = tanh(v[k])`` for ``start <= k < stop`` (1-D, in place)."""
    for k in range(start, stop):
        v[k] = gate_tanh(v[k])


@njit(cache=True, error_model="numpy")
def tanh_copy(src, dst):
    """``dst[k] = tanh(src[k])`` (1-D)."""
    for k in range(src.shape[0]):
        dst[k] = gate_tanh(src[k])


# Flat gate loops over a chunk's (nb * H) block, one nonlinearity per function
# for the same reason: each call site of a gate nonlinearity inside one big
# kernel counts against LLVM's inlining budget, and a loop left with a call in
# it runs scalar (measured: 4x slower LSTM forward).
@njit(cache=True, error_model="numpy")
def sigmoid_add(z, a):
    """``z[k] = sigmoid(z[k] + a[k])`` (1-D, in place)."""
    for k in range(z.shape[0]):
        z[k] = gate_sigmoid(z[k] + a[k])


@njit(cache=True, error_model="numpy")
def tanh_add(z, a):
    """``z[k] = tanh(z[k] + a[k])`` (1-D, in place)."""
    for k in range(z.shape[0]):
        z[k] = gate_tanh(z[k] + a[k])


@njit(cache=True, error_model="numpy")
def max_length(lengths):
    """Largest entry of ``lengths`` (0 for an empty batch)."""
    m = 0
    for b in range(lengths.shape[0]):
        if lengths[b] > m:
            m = lengths[b]
    return m


@njit(cache=True, inline="always")
def time_index(s, length, reverse):
    """Time index of processing step ``s`` of a sequence of ``length`` steps."""
    if reverse:
        return length - 1 - s
    return s


@njit(cache=True, inline="always")
def prev_time_index(t, reverse):
    """Time index of the previous processing step (valid only for s > 0)."""
    if reverse:
        return t + 1
    return t - 1


@njit(cache=True, error_model="numpy")
def input_projection(x, w_ih):
    """``Z[b, t] = W_ih x[b, t]`` for all steps at once: (B, T, G*H), one product."""
    B, T, F = x.shape
    GH = w_ih.shape[0]
    return np.dot(x.reshape(B * T, F), w_ih.T).reshape(B, T, GH)


@njit(cache=True, error_model="numpy")
def row_sum(d2):
    """Column sums of a 2-D array, accumulated in float64, returned in its dtype."""
    n, m = d2.shape
    acc = np.zeros(m, np.float64)
    for i in range(n):
        for j in range(m):
            acc[j] += d2[i, j]
    out = np.empty(m, d2.dtype)
    for j in range(m):
        out[j] = acc[j]
    return out


@njit(cache=True, error_model="numpy")
def finish_grads(dzx, dzh, hprev, x, w_ih, need_dx):
    """Weight, bias and input gradients from the stored gate gradients.

    ``dzx`` (B, T, G*H): gradient w.r.t. the input-side pre-activations
    ``W_ih x + b_ih``; ``dzh``: w.r.t. the hidden-side ``W_hh h + b_hh`` (the
    same array for RNN and LSTM).  Padding rows are zero.  Returns
    ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` has shape (0, 0, 0) when
    ``need_dx`` is False.
    """
    B, T, F = x.shape
    GH = dzx.shape[2]
    H = hprev.shape[2]
    dzx2 = dzx.reshape(B * T, GH)
    dzh2 = dzh.reshape(B * T, GH)
    dw_ih = np.dot(dzx2.T, x.reshape(B * T, F))
    dw_hh = np.dot(dzh2.T, hprev.reshape(B * T, H))
    db_ih = row_sum(dzx2)
    db_hh = row_sum(dzh2)
    if need_dx:
        dx = np.dot(dzx2, w_ih).reshape(B, T, F)
    else:
        dx = np.zeros((0, 0, 0), dtype=x.dtype)
    return dx, dw_ih, dw_hh, db_ih, db_hh
