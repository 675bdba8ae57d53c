"""Small real time series shipped with seqnet, loadable offline.

Lynx and sunspots are public domain and stored as two-column CSV files
(``year,value``) next to this module; GunPoint, OSULeaf and
PickupGestureWiimoteZ are the UCR archive's own pairs of ``.ts`` files
(``<Name>_TRAIN.ts``, ``<Name>_TEST.ts``), stored gzip-compressed
(``<Name>_TRAIN.ts.gz``): a fifth of the size in the wheel, and decompressed
they are the archive's bytes unchanged.

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

OSULeaf
    A UCR problem: 200 training and 242 test series of length 427, six classes
    of leaf (Acer Circinatum, Acer Glabrum, Acer Macrophyllum, Acer Negundo,
    Quercus Garryana, Quercus Kelloggii), the one-dimensional outline of a
    segmented leaf image (A. Grandhi, MSc thesis "Content-Based Image
    Retrieval: Plant Species Identification", Oregon State University; first
    used in L. Ye and E. Keogh, 2009, "Time series shapelets: a new primitive
    for data mining", KDD). Same archive, citation and licence terms as
    GunPoint; byte for byte aeon 1.6.0's ``aeon/datasets/data/OSULeaf``.

PickupGestureWiimoteZ
    A UCR problem of unequal lengths: 50 training and 50 test series of 29 to
    361 steps, ten classes (the subject performing a "pick-up" gesture), the
    z-axis acceleration of a Nintendo Wiimote (J. Guna, I. Humar and
    M. Pogacnik, 2012, "Intuitive gesture based user identification system",
    TSP; edited for the archive by H. A. Dau). Added in the 2018 archive; same
    citation and licence terms as GunPoint; byte for byte aeon 1.6.0's
    ``aeon/datasets/data/PickupGestureWiimoteZ`` (its unpadded files, not the
    ``_eq`` ones). The values are raw accelerations, not z-normalised.
"""

import csv
import gzip
from importlib import resources

import numpy as np

from seqnet._runtime.docstrings import fill_doc

__all__ = ["load_gunpoint", "load_lynx", "load_osuleaf", "load_pickup_gesture_wiimote_z",
           "load_sunspots"]


def _load_csv(name):
    # importlib.resources works from wheels, sdists and zip imports alike.
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))[1:]
    years = np.array([int(r[0]) for r in rows], dtype=np.int64)
    values = np.array([float(r[1]) for r in rows], dtype=np.float64)
    return values, years


# Every loader's docstring ends alike: its notes, then an example that
# imports it.
_NOTES_AND_EXAMPLES = """
    Notes
    -----
    {notes}

    Examples
    --------
    >>> from seqnet.datasets import {loader}
    {example}
    """

_YEARLY_DOC = """Load the {title}, {first}-{last}.

    Parameters
    ----------
    return_years : bool, default=False
        If True, also return the calendar year of each value.

    Returns
    -------
    values : ndarray of shape ({n},), dtype float64
        {values}
    years : ndarray of shape ({n},), dtype int64
        The years {first}..{last}. Only returned when ``return_years=True``.
""" + _NOTES_AND_EXAMPLES


@fill_doc(
    _YEARLY_DOC, title="annual Canadian lynx trappings", first=1821, last=1934, n=114,
    values="Number of lynx trapped per year.", loader="load_lynx",
    notes="""A strongly cyclic series (period close to 10 years), the classic test bed for
    nonlinear autoregressive models. Source: Elton & Nicholson (1942), J. Anim.
    Ecol. 11:215-244; public domain, as R's ``datasets::lynx``.""",
    example=""">>> y, years = load_lynx(return_years=True)
    >>> y.shape, int(years[0]), int(years[-1])
    ((114,), 1821, 1934)""")
def load_lynx(return_years=False):
    values, years = _load_csv("lynx.csv")
    return (values, years) if return_years else values


@fill_doc(
    _YEARLY_DOC, title="yearly mean sunspot numbers", first=1700, last=2008, n=309,
    values="Yearly sunspot activity.", loader="load_sunspots",
    notes="""Source: National Geophysical Data Center (NOAA), as shipped by statsmodels
    (``statsmodels.datasets.sunspots``); public domain. Cycle of about 11 years.""",
    example=""">>> load_sunspots().shape
    (309,)""")
def load_sunspots(return_years=False):
    values, years = _load_csv("sunspots.csv")
    return (values, years) if return_years else values


def _read_ts(name):
    """Series (a list of 1-D float64 arrays) and labels of a univariate ``.ts`` file.

    ``name`` is the archive's file name; it ships gzip-compressed as
    ``name + ".gz"``.
    """
    packed = resources.files(__name__).joinpath(name + ".gz").read_bytes()
    lines = iter(gzip.decompress(packed).decode("utf-8").splitlines())
    for line in lines:
        if line.strip().lower() == "@data":
            break
    X, y = [], []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        values, label = line.rsplit(":", 1)
        X.append(np.array([float(v) for v in values.split(",")], dtype=np.float64))
        y.append(label.strip())
    return X, np.array(y)


def _load_ts(name):
    """Values (n, T) and labels of an equal-length univariate ``.ts`` file."""
    X, y = _read_ts(name)
    return np.vstack(X), y


def _load_ucr(problem, split, read):
    """The archive's train/test split of ``problem``, read by ``read``."""
    if split not in (None, "train", "test"):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}.")
    if split is not None:
        return read(f"{problem}_{split.upper()}.ts")
    X_tr, y_tr = read(f"{problem}_TRAIN.ts")
    X_te, y_te = read(f"{problem}_TEST.ts")
    return X_tr, X_te, y_tr, y_te


_UCR_DOC = """Load the UCR {title}.

    Parameters
    ----------
    split : {{"train", "test"}} or None, default=None
        Which part of the archive's own split to return; None returns both.

    Returns
    -------
    X_train, X_test, y_train, y_test : {both_types}
        With ``split=None``: {both}
    X, y : {part_types}
        With ``split="train"`` or ``"test"``: that part only.
""" + _NOTES_AND_EXAMPLES


@fill_doc(
    _UCR_DOC, title="GunPoint time-series classification problem", loader="load_gunpoint",
    both_types="ndarrays", part_types="ndarrays",
    both="""``X_train`` of shape (50, 150), ``X_test`` of shape
        (150, 150) (float64, univariate series of 150 steps, the layout every
        seqnet sequence model reads), and string labels ``"1"`` (Gun-Draw) and
        ``"2"`` (Point) of shapes (50,) and (150,).""",
    notes="""The UCR archive's files, as bundled by aeon (see the module docstring for
    the citation and licence note). Each series is z-normalised, as in the
    archive.""",
    example=""">>> X_train, X_test, y_train, y_test = load_gunpoint()
    >>> X_train.shape, X_test.shape, sorted(set(y_train.tolist()))
    ((50, 150), (150, 150), ['1', '2'])""")
def load_gunpoint(split=None):
    return _load_ucr("GunPoint", split, _load_ts)


@fill_doc(
    _UCR_DOC, title="OSULeaf time-series classification problem", loader="load_osuleaf",
    both_types="ndarrays", part_types="ndarrays",
    both="""``X_train`` of shape (200, 427), ``X_test`` of shape
        (242, 427) (float64 univariate series), and string labels ``"1"`` to
        ``"6"`` (one leaf species each) of shapes (200,) and (242,).""",
    notes="""The UCR archive's files, as bundled by aeon (see the module docstring for
    the sources, citation and licence note); each series is z-normalised, as
    in the archive.""",
    example=""">>> X_train, X_test, y_train, y_test = load_osuleaf()
    >>> X_train.shape, X_test.shape, sorted(set(y_train.tolist()))
    ((200, 427), (242, 427), ['1', '2', '3', '4', '5', '6'])""")
def load_osuleaf(split=None):
    return _load_ucr("OSULeaf", split, _load_ts)


@fill_doc(
    _UCR_DOC, title="PickupGestureWiimoteZ problem: series of unequal lengths",
    loader="load_pickup_gesture_wiimote_z",
    both_types="lists and ndarrays", part_types="list and ndarray",
    both="""``X_train`` and ``X_test``, lists of 50 series
        each, 1-D float64 arrays of their own lengths (29 to 361 steps; the
        ragged layout every seqnet sequence model reads, without padding),
        and string labels ``"1"`` to ``"10"`` (the subject), five series
        per class in each part, of shape (50,).""",
    notes="""The archive's unpadded files, as bundled by aeon (see the module
    docstring). The values are raw accelerations: unlike GunPoint and
    OSULeaf they are not z-normalised.""",
    example=""">>> X_train, X_test, y_train, y_test = load_pickup_gesture_wiimote_z()
    >>> len(X_train), min(map(len, X_train)), max(map(len, X_train))
    (50, 29, 361)""")
def load_pickup_gesture_wiimote_z(split=None):
    return _load_ucr("PickupGestureWiimoteZ", split, _read_ts)
