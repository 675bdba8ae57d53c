"""CUDA twin of ``seqnet.kernels.cpu.poisson``: half Poisson deviance on a log link,
one thread per row (the reductions are ``losses._loss``'s)."""

import math

from numba import cuda

from .losses import _loss


@cuda.jit
def _poisson_rows(z, y, sw, total, d_out, row_loss):
    n, k = z.shape
    dt = d_out.dtype.type
    zero = dt(0.0)
    tw = dt(total[0])
    if tw <= zero:
        tw = dt(1.0)
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        scale = sw[i] / tw
        loss = zero
        for j in range(k):
            mu = math.exp(z[i, j])
            t = y[i, j]
            ylogy = t * math.log(t) if t > zero else zero
            loss += scale * (ylogy - t * z[i, j] - t + mu)
            d_out[i, j] = scale * (mu - t)
        row_loss[i] = loss


def poisson_deviance(z, y, sw, d_out):
    """Weighted mean half Poisson deviance of ``exp(z)``; writes d(loss)/dz."""
    return _loss(_poisson_rows, z, y, sw, d_out)
