"""Half Poisson deviance on a log link (scikit-learn's MLPRegressor ``loss='poisson'``).

With raw outputs ``z`` the prediction is ``mu = exp(z)``; per row, summed over
outputs as scikit-learn's ``poisson_loss``:

    l_b = sum_k y log(y / mu) - y + mu,      dz = sw_b (mu - y) / W

``y log y`` is 0 at ``y = 0``.  The weighted mean is normalised by
``W = sum(sw)``, as every loss in ``losses.py``.
"""

import math

from numba import njit


@njit(cache=True)
def poisson_deviance(z, y, sw, d_out):
    n, k = z.shape
    total_w = 0.0
    for i in range(n):
        total_w += sw[i]
    if total_w <= 0.0:
        total_w = 1.0
    loss = 0.0
    for i in range(n):
        scale = sw[i] / total_w
        for j in range(k):
            mu = math.exp(z[i, j])
            t = y[i, j]
            ylogy = t * math.log(t) if t > 0.0 else 0.0
            loss += scale * (ylogy - t * z[i, j] - t + mu)
            d_out[i, j] = scale * (mu - t)
    return loss
