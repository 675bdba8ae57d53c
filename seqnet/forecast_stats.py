"""Series statistics behind :class:`seqnet.forecasting.Forecaster`'s defaults:
the log transform's choice, a KPSS unit-root test and the differencing order
it implies, and the seasonal-naive baseline.  Plain NumPy; the public names
are re-exported by :mod:`seqnet.forecasting`.
"""

import numpy as np
from sklearn.utils.validation import check_array


def choose_transform(series, period=None):
    """``"log"`` or ``"none"``: the choice ``transform="auto"`` makes.

    Log when the series is strictly positive and either spans more than a
    factor of 10 (counts, populations) or its swing grows with its level
    (the local standard deviation, over blocks of ``period`` values, rises
    with the local mean and grows by half or more across the series).

    Parameters
    ----------
    series : array-like of shape (n_timesteps,)
        The series.
    period : int or None, default=None
        Block length for the local statistics; None means ``max(4, n // 10)``.

    Returns
    -------
    transform : {"log", "none"}
        The transform.

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet.forecasting import choose_transform
    >>> choose_transform([39.0, 500.0, 6991.0, 120.0])
    'log'
    >>> choose_transform(np.sin(np.arange(50.0)))
    'none'
    """
    y = _as_1d_series(series, "series")
    if y.min() <= 0:
        return "none"
    if y.max() / y.min() > 10.0:
        return "log"
    m = int(period) if period else max(4, len(y) // 10)
    n_blocks = len(y) // m
    if m < 2 or n_blocks < 4:
        return "none"
    blocks = y[len(y) - n_blocks * m:].reshape(n_blocks, m)
    level, swing = blocks.mean(axis=1), blocks.std(axis=1)
    if swing.min() <= 0 or swing.max() / swing.min() < 1.5:
        return "none"
    corr = float(np.corrcoef(level, swing)[0, 1])
    return "log" if corr > 0.6 else "none"


# KPSS level-stationarity critical values (Kwiatkowski et al. 1992, table 1).
_KPSS_CRITICAL = {0.10: 0.347, 0.05: 0.463, 0.025: 0.574, 0.01: 0.739}


def kpss_statistic(series, lags=None):
    """KPSS statistic for the null hypothesis that a series is level-stationary.

    ``eta = sum(S_t**2) / (n**2 * s2)`` where ``S_t`` are the partial sums of
    the demeaned series and ``s2`` is the Newey-West (Bartlett kernel)
    long-run variance with ``lags`` lags. Large values reject stationarity.
    It equals ``statsmodels.tsa.stattools.kpss(series, "c", nlags=lags)[0]``.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,)
        The series.
    lags : int or None, default=None
        Lags of the long-run variance; None means ``trunc(4 * (n / 100)**0.25)``
        (Schwert's short rule, as R's ``forecast::ndiffs``).

    Returns
    -------
    statistic : float
        The KPSS statistic (0.0 for a constant series).

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet.forecasting import kpss_statistic
    >>> rng = np.random.default_rng(0)
    >>> kpss_statistic(rng.normal(size=200)) < 0.463   # white noise: stationary
    True
    >>> kpss_statistic(np.cumsum(rng.normal(size=200))) > 0.463  # random walk
    True
    """
    y = _as_1d_series(series, "series")
    n = len(y)
    e = y - y.mean()
    if lags is None:
        lags = int(4.0 * (n / 100.0) ** 0.25)
    lags = min(int(lags), n - 1)
    s2 = float(e @ e)
    for k in range(1, lags + 1):
        s2 += 2.0 * (1.0 - k / (lags + 1.0)) * float(e[k:] @ e[:-k])
    s2 /= n
    if s2 <= 1e-12 * max(1.0, float(np.mean(y * y))):
        return 0.0
    partial = np.cumsum(e)
    return float(partial @ partial) / (n * n * s2)


def ndiffs(series, alpha=0.05, max_d=2):
    """Order of differencing a KPSS test asks for: what ``difference="auto"`` uses.

    Difference the series until the KPSS test no longer rejects level
    stationarity at level ``alpha`` (as auto-ARIMA's ``ndiffs``), at most
    ``max_d`` times.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,)
        The series (already log-transformed if it is to be modelled so).
    alpha : {0.1, 0.05, 0.025, 0.01}, default=0.05
        Significance level of the test.
    max_d : int, default=2
        Largest order returned.

    Returns
    -------
    d : int
        Number of differences, 0 to ``max_d``.

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet.forecasting import ndiffs
    >>> t = np.arange(120.0)
    >>> ndiffs(np.sin(2 * np.pi * t / 12)), ndiffs(0.1 * t + np.sin(2 * np.pi * t / 12))
    (0, 1)
    """
    y = _as_1d_series(series, "series")
    if alpha not in _KPSS_CRITICAL:
        raise ValueError(f"alpha must be one of {sorted(_KPSS_CRITICAL)}, got {alpha}.")
    critical = _KPSS_CRITICAL[alpha]
    d = 0
    while d < max_d and len(y) > 3 and kpss_statistic(y) > critical:
        y = np.diff(y)
        d += 1
    return d


def _as_1d_series(series, name="X"):
    """A 1-D or (T, 1) finite series as a 1-D float64 array."""
    arr = check_array(
        series, ensure_2d=False, dtype=np.float64, ensure_min_samples=1, input_name=name
    )
    if arr.ndim == 2:
        if arr.shape[1] != 1:
            raise ValueError(
                f"Forecaster is univariate: expected a series of shape (n_timesteps,) "
                f"or (n_timesteps, 1), got {name} with shape {arr.shape}."
            )
        arr = arr[:, 0]
    return arr


def seasonal_naive(series, steps, period=1):
    """Seasonal-naive forecast: repeat the last observed season.

    The forecast for ``h`` steps after the end is the last value observed at the
    same phase of the season, ``series[T + h - period * ceil(h / period)]``.
    With ``period=1`` it is the naive (last-value) forecast.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,)
        Observed history.
    steps : int
        Number of steps to forecast.
    period : int, default=1
        Season length; must not exceed the length of the series.

    Returns
    -------
    forecast : ndarray of shape (steps,)
        The forecast.

    Examples
    --------
    >>> from seqnet.forecasting import seasonal_naive
    >>> seasonal_naive([1, 2, 3, 4, 5, 6], steps=4, period=3)
    array([4., 5., 6., 4.])
    """
    y = _as_1d_series(series, "series")
    period = int(period)
    if not 1 <= period <= len(y):
        raise ValueError(f"period must be in [1, {len(y)}], got {period}.")
    last_season = y[-period:]
    return last_season[np.arange(int(steps)) % period].copy()
