"""Small real time series shipped with seqnet, loadable offline.

Both series are public domain and stored as two-column CSV files (``year,value``)
next to this module.

Lynx
    Annual numbers of Canadian lynx trapped in the Mackenzie River district,
    1821-1934 (114 values), from the Hudson's Bay Company records compiled in
    C. Elton and M. Nicholson (1942), "The ten-year cycle in numbers of the lynx
    in Canada", *Journal of Animal Ecology* 11(2):215-244. The values are the
    ones distributed as R's ``datasets::lynx`` (Brockwell & Davis, 1991, *Time
    Series: Theory and Methods*; Campbell & Walker, 1977, *JRSS A* 140:411-431).
    They were cross-checked value by value against the independent copy shipped
    by aeon (``aeon/datasets/data/Lynx``).

Sunspots
    Yearly mean sunspot numbers, 1700-2008 (309 values), from the National
    Geophysical Data Center (NOAA), as shipped by statsmodels
    (``statsmodels.datasets.sunspots``; public domain).
"""

import csv
from importlib import resources

import numpy as np

__all__ = ["load_lynx", "load_sunspots"]


def _load_csv(name):
    # importlib.resources works from wheels, sdists and zip imports alike.
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))[1:]
    years = np.array([int(r[0]) for r in rows], dtype=np.int64)
    values = np.array([float(r[1]) for r in rows], dtype=np.float64)
    return values, years


def load_lynx(return_years=False):
    """Load the annual Canadian lynx trappings, 1821-1934.

    Parameters
    ----------
    return_years : bool, default=False
        If True, also return the calendar year of each value.

    Returns
    -------
    values : ndarray of shape (114,), dtype float64
        Number of lynx trapped per year.
    years : ndarray of shape (114,), dtype int64
        The years 1821..1934. Only returned when ``return_years=True``.

    Notes
    -----
    A strongly cyclic series (period close to 10 years), the classic test bed for
    nonlinear autoregressive models. Source: Elton & Nicholson (1942), J. Anim.
    Ecol. 11:215-244; public domain, as R's ``datasets::lynx``.

    Examples
    --------
    >>> from seqnet.datasets import load_lynx
    >>> y, years = load_lynx(return_years=True)
    >>> y.shape, int(years[0]), int(years[-1])
    ((114,), 1821, 1934)
    """
    values, years = _load_csv("lynx.csv")
    return (values, years) if return_years else values


def load_sunspots(return_years=False):
    """Load the yearly mean sunspot numbers, 1700-2008.

    Parameters
    ----------
    return_years : bool, default=False
        If True, also return the calendar year of each value.

    Returns
    -------
    values : ndarray of shape (309,), dtype float64
        Yearly sunspot activity.
    years : ndarray of shape (309,), dtype int64
        The years 1700..2008. Only returned when ``return_years=True``.

    Notes
    -----
    Source: National Geophysical Data Center (NOAA), as shipped by statsmodels
    (``statsmodels.datasets.sunspots``); public domain. Cycle of about 11 years.

    Examples
    --------
    >>> from seqnet.datasets import load_sunspots
    >>> load_sunspots().shape
    (309,)
    """
    values, years = _load_csv("sunspots.csv")
    return (values, years) if return_years else values
