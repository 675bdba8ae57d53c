"""Small real time series shipped with seqnet, loadable offline.

Lynx and sunspots are public domain and stored as two-column CSV files
(``year,value``) next to this module; GunPoint is the UCR archive's own pair of
``.ts`` files (``GunPoint_TRAIN.ts``, ``GunPoint_TEST.ts``).

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

GunPoint
    A UCR time-series classification problem: 50 training and 150 test series
    of length 150, two classes (1 = Gun-Draw, 2 = Point), the x-coordinate of an
    actor's right hand (Ratanamahatana & Keogh, 2005, "Three myths about dynamic
    time warping data mining", SDM). Distributed by the UCR Time Series
    Classification Archive: H. A. Dau, E. Keogh, K. Kamgar, C.-C. M. Yeh, Y. Zhu,
    S. Gharghabi, C. A. Ratanamahatana, Y. Chen, B. Hu, N. Begum, A. Bagnall,
    A. Mueen, G. Batista and Hexagon-ML (2018), "The UCR Time Series
    Classification Archive", https://www.cs.ucr.edu/~eamonn/time_series_data_2018/.
    The archive asks users to cite it and the paper that introduced the dataset;
    it is free for research and education. The files shipped here are byte for
    byte the ``.ts`` files bundled in aeon 1.6.0 (``aeon/datasets/data/GunPoint``;
    aeon is BSD-3-Clause, (c) The aeon developers, (c) 2022 The sktime
    developers).
"""

import csv
from importlib import resources

import numpy as np

__all__ = ["load_gunpoint", "load_lynx", "load_sunspots"]


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


def _load_ts(name):
    """Values and labels of an equal-length univariate ``.ts`` file."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip().lower() == "@data":
            break
    X, y = [], []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        values, label = line.rsplit(":", 1)
        X.append([float(v) for v in values.split(",")])
        y.append(label.strip())
    return np.array(X, dtype=np.float64), np.array(y)


def load_gunpoint(split=None):
    """Load the UCR GunPoint time-series classification problem.

    Parameters
    ----------
    split : {"train", "test"} or None, default=None
        Which part of the archive's own split to return; None returns both.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarrays
        With ``split=None``: ``X_train`` of shape (50, 150), ``X_test`` of shape
        (150, 150) (float64, univariate series of 150 steps, the layout every
        seqnet sequence model reads), and string labels ``"1"`` (Gun-Draw) and
        ``"2"`` (Point) of shapes (50,) and (150,).
    X, y : ndarrays
        With ``split="train"`` or ``"test"``: that part only.

    Notes
    -----
    The UCR archive's files, as bundled by aeon (see the module docstring for
    the citation and licence note). Each series is z-normalised, as in the
    archive.

    Examples
    --------
    >>> from seqnet.datasets import load_gunpoint
    >>> X_train, X_test, y_train, y_test = load_gunpoint()
    >>> X_train.shape, X_test.shape, sorted(set(y_train))
    ((50, 150), (150, 150), ['1', '2'])
    """
    if split not in (None, "train", "test"):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}.")
    if split is not None:
        return _load_ts(f"GunPoint_{split.upper()}.ts")
    X_tr, y_tr = _load_ts("GunPoint_TRAIN.ts")
    X_te, y_te = _load_ts("GunPoint_TEST.ts")
    return X_tr, X_te, y_tr, y_te
