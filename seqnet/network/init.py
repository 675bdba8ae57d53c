"""Weight initialisers: fill a parameter view in place from a numpy Generator.

- glorot: U(-a, a), a = sqrt(6 / (fan_in + fan_out))      (Glorot & Bengio 2010)
- he: N(0, 2 / fan_in)                                     (He et al. 2015)
- orthogonal: QR of a Gaussian matrix, per gate block     (Saxe et al. 2014)
- sparse: each unit gets ``SPARSE_NONZERO`` non-zero incoming weights
  N(0, 1) (Martens 2010), the rest zero; all of them if fan_in is smaller.
"""

import numpy as np

SPARSE_NONZERO = 15


def _glorot(rng, shape, fan_in, fan_out):
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def _he(rng, shape, fan_in):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


def _orthogonal_matrix(rng, rows, cols):
    a = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the decomposition unique
    return q if rows >= cols else q.T


def _orthogonal(rng, shape, gates):
    rows = shape[0] // gates
    cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    blocks = [_orthogonal_matrix(rng, rows, cols) for _ in range(gates)]
    return np.concatenate(blocks, axis=0).reshape(shape)


def _sparse(rng, shape):
    out = np.zeros(shape)
    flat = out.reshape(shape[0], -1)
    fan_in = flat.shape[1]
    k = min(SPARSE_NONZERO, fan_in)
    for unit in range(shape[0]):
        cols = rng.choice(fan_in, size=k, replace=False)
        flat[unit, cols] = rng.normal(size=k)
    # keep the incoming variance comparable with glorot for wide layers
    return out * np.sqrt(1.0 / k)


def initialize(view, spec, rng, default_init):
    """Fill ``view`` (a view into the flat buffer) according to ``spec.init``."""
    kind = spec.init
    if callable(kind):
        view[...] = kind(rng, view.shape, view.dtype)
        return
    if kind == "default":
        kind = default_init
    if kind == "zeros":
        view[...] = 0.0
    elif kind == "ones":
        view[...] = 1.0
    elif kind == "glorot":
        view[...] = _glorot(rng, view.shape, spec.fan_in, spec.fan_out)
    elif kind == "he":
        view[...] = _he(rng, view.shape, spec.fan_in)
    elif kind == "orthogonal":
        view[...] = _orthogonal(rng, view.shape, spec.gates)
    elif kind == "sparse":
        view[...] = _sparse(rng, view.shape)
    else:
        raise ValueError(f"unknown initialiser {kind!r} for parameter {spec.name!r}")
