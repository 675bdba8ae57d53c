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
* Caches are kept per batch-row chunk in processing order (see
  ``recurrent_chunks``); the weight gradients are one product per chunk
  after the time loop, independent of the direction.
* Denormals: backward gate loops flush |v| < 1e-30 to zero (:func:`ftz`), so
  decaying gradients never reach the slow denormal range.
* Threads: one kernel call per row chunk on seqnet's chunk threads
  (:mod:`seqnet.kernels.cpu.chunk_threads`), BLAS single-threaded inside
  (the recurrent estimators give the cores to the chunks, DESIGN.md §4).
* Kernels use ``error_model="numpy"`` (IEEE division: no ZeroDivisionError
  branch), so the simple gate loops vectorize.  Of fastmath the gate loops
  allow only fused multiply-add (:data:`CONTRACT`): no reassociation, NaN and
  inf keep their IEEE meaning.
* Gate nonlinearities go through :func:`gate_tanh` / :func:`gate_sigmoid`:
  libm in float64 (full accuracy); in float32 a branch-free rational
  approximation (Eigen's, |error| < 3e-7) that LLVM can vectorize, unlike
  ``tanhf``.  NaN propagates, +-inf saturates to +-1 (0/1).
"""

import math

import numpy as np
from numba import types
from numba.extending import overload

from seqnet.kernels.contract import FTZ_THRESHOLD
from seqnet.kernels.cpu.jit import helper

#: numba fastmath flags of the gate loops: fused multiply-add only.
CONTRACT = {"contract"}


#: Float constants typed float32 so they never widen float32 arithmetic (both
#: are exact in float32, and widen exactly in float64 kernels).
ONE = np.float32(1.0)
ZERO = np.float32(0.0)
#: :data:`~seqnet.kernels.contract.FTZ_THRESHOLD` typed float32 (exact in both dtypes' compares).
FTZ32 = np.float32(FTZ_THRESHOLD)


@helper(error_model="numpy", fastmath=CONTRACT)
def ftz(v):
    """Flush-to-zero: ``0`` if ``|v| < FTZ_THRESHOLD`` else ``v`` (NaN passes through)."""
    return ZERO if abs(v) < FTZ32 else v


# Eigen's float32 tanh: x * P(x^2) / Q(x^2) on [-c, c], +-1 (to float32 precision) outside.
_TANH_CLAMP = 7.90531110763549805
_A13, _A11, _A9 = -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11
_A7, _A5, _A3 = 5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04
_A1 = 4.89352455891786e-03
_B6, _B4, _B2 = 1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03
_B0 = 4.89352518554385e-03


@helper(error_model="numpy", fastmath=CONTRACT)
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
