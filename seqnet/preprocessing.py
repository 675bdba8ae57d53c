"""Turning series into model inputs: sliding windows, padding, scaling.

- :func:`make_windows` cuts a series into (input window, future target) pairs.
- :func:`pad_sequences` packs a ragged list of sequences into one padded array
  and returns the true lengths alongside it.
- :class:`SequenceScaler` standardises each feature over all samples *and* time
  steps, for 3-D, 2-D univariate and ragged inputs alike.
"""

from numbers import Integral, Real

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["make_windows", "pad_sequences", "SequenceScaler"]


def _is_ragged_list(X):
    """A list/tuple of 1-D or 2-D sequences whose shapes differ.

    A list of equal-shape sequences is read as the array it stacks into, as
    scikit-learn reads nested lists (and as seqnet's estimators do).
    """
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(hasattr(s, "__len__") and np.ndim(s) in (1, 2) for s in X)
        and len({np.shape(s) for s in X}) > 1
    )


def _as_series(series, name="series"):
    """Validate a 1-D (T,) or 2-D (T, F) series; return it as 2-D float."""
    arr = check_array(series, ensure_2d=False, dtype=(np.float64, np.float32),
                      ensure_all_finite=True, ensure_min_samples=1, input_name=name)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


@validate_params(
    {
        "series": ["array-like"],
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left")],
        "target": [Integral, list, None],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(series, window, horizon=1, step=1, target=None):
    """Cut a series into input windows and the values that follow them.

    Sample ``i`` covers time steps ``[i*step, i*step + window)`` as input and
    the next ``horizon`` steps of the target column(s) as output.

    Parameters
    ----------
    series : array-like of shape (n_timesteps,) or (n_timesteps, n_features)
        The series. A 1-D series is one feature. Must be finite.
    window : int
        Number of time steps in each input window (>= 1).
    horizon : int, default=1
        Number of future time steps in each target (>= 1).
    step : int, default=1
        Distance between the starts of consecutive windows (>= 1).
    target : int, list of int or None, default=None
        Column(s) of ``series`` to predict. None means column 0. An int gives a
        univariate target ``y`` of shape (n_windows, horizon); a list of k
        columns (even a one-element list) gives ``y`` of shape
        (n_windows, horizon, k). Negative indices count from the end.

    Returns
    -------
    X : ndarray of shape (n_windows, window, n_features)
        Input windows, C-contiguous, same float dtype as the series
        (float32 is kept; anything else becomes float64).
    y : ndarray of shape (n_windows, horizon) or (n_windows, horizon, k)
        The values following each window.

    Raises
    ------
    ValueError
        If ``window + horizon`` is longer than the series, or a target column
        is out of range.

    Notes
    -----
    ``n_windows = (n_timesteps - window - horizon) // step + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet.preprocessing import make_windows
    >>> X, y = make_windows(np.arange(6.0), window=3, horizon=2)
    >>> X.shape, y.shape
    ((2, 3, 1), (2, 2))
    >>> y
    array([[3., 4.],
           [4., 5.]])
    """
    arr = _as_series(series)
    n_timesteps, n_features = arr.shape
    if window + horizon > n_timesteps:
        raise ValueError(f"window ({window}) + horizon ({horizon}) = {window + horizon} is "
                         f"longer than the series ({n_timesteps} time steps).")

    squeeze = target is None or isinstance(target, Integral)
    cols = [0 if target is None else target] if squeeze else list(target)
    if not cols:
        raise ValueError("target must name at least one column.")
    for c in cols:
        if not isinstance(c, Integral) or not -n_features <= c < n_features:
            raise ValueError(f"target column {c!r} is out of range for a series with "
                             f"{n_features} feature(s).")

    n_starts = n_timesteps - window - horizon + 1
    # sliding_window_view is a zero-copy view (n, F, window); the copy makes
    # the result contiguous so downstream kernels never see odd strides.
    X = sliding_window_view(arr, window, axis=0)[:n_starts:step]
    X = np.ascontiguousarray(X.transpose(0, 2, 1))
    y = sliding_window_view(arr[window:, cols], horizon, axis=0)[:n_starts:step]
    y = np.ascontiguousarray(y.transpose(0, 2, 1))  # (n, horizon, k)
    if squeeze:
        y = y[:, :, 0].copy()
    return X, y


@validate_params(
    {
        "sequences": ["array-like"],
        "maxlen": [Interval(Integral, 0, None, closed="left"), None],
        "dtype": "no_validation",
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "value": [Real],
    },
    prefer_skip_nested_validation=True,
)
def pad_sequences(
    sequences, maxlen=None, dtype="float32", padding="post", truncating="post", value=0.0
):
    """Pad (and truncate) a list of sequences to one common length.

    Follows ``keras.utils.pad_sequences`` but always returns a 3-D array and
    also returns the number of real (unpadded) steps of each sequence, which is
    what masking needs.

    Parameters
    ----------
    sequences : list of array-like of shape (T_i,) or (T_i, n_features)
        The sequences. 1-D sequences are univariate (one feature). All
        sequences must have the same number of features; lengths may differ
        and may be zero.
    maxlen : int or None, default=None
        Length of the output. None means the length of the longest sequence.
    dtype : str or numpy dtype, default="float32"
        Dtype of the padded array.
    padding : {"pre", "post"}, default="post"
        Pad at the start ("pre") or at the end ("post") of each sequence.
        Note: Keras defaults to "pre"; seqnet's recurrent models mask the
        padding wherever it sits, and "post" keeps time step t at index t.
    truncating : {"pre", "post"}, default="post"
        For sequences longer than ``maxlen``: drop steps from the start ("pre",
        keeping the most recent ones) or from the end ("post").
    value : float, default=0.0
        Fill value for the padding.

    Returns
    -------
    padded : ndarray of shape (n_sequences, maxlen, n_features)
        The padded batch.
    lengths : ndarray of shape (n_sequences,), dtype int64
        Number of real steps of each sequence in ``padded``
        (``min(T_i, maxlen)``).

    Examples
    --------
    >>> from seqnet.preprocessing import pad_sequences
    >>> padded, lengths = pad_sequences([[1, 2, 3], [4]])
    >>> padded[:, :, 0]
    array([[1., 2., 3.],
           [4., 0., 0.]], dtype=float32)
    >>> lengths
    array([3, 1])
    """
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        sequences = list(sequences)  # a regular array is a batch of equal lengths
    seqs = []
    for i, s in enumerate(sequences):
        a = np.asarray(s)
        if a.ndim == 0 or a.ndim > 2:
            raise ValueError(f"Each sequence must be 1-D (T,) or 2-D (T, n_features); "
                             f"sequence {i} has shape {a.shape}.")
        if a.ndim == 1:
            a = a[:, None]
        if a.shape[0] > 0:
            a = check_array(a, dtype="numeric", input_name=f"sequences[{i}]")
        seqs.append(a)
    if not seqs:
        raise ValueError("pad_sequences needs at least one sequence, got 0.")
    n_features = {a.shape[1] for a in seqs if a.shape[0] > 0} or {seqs[0].shape[1]}
    if len(n_features) > 1:
        raise ValueError(f"All sequences must have the same number of features; got "
                         f"{sorted(n_features)}.")
    n_features = n_features.pop()

    full = np.array([a.shape[0] for a in seqs], dtype=np.int64)
    if maxlen is None:
        maxlen = int(full.max())
    lengths = np.minimum(full, maxlen)
    padded = np.full((len(seqs), maxlen, n_features), value, dtype=dtype)
    for i, (a, n) in enumerate(zip(seqs, lengths)):
        if n == 0:
            continue
        kept = a[-n:] if truncating == "pre" else a[:n]
        if padding == "post":
            padded[i, :n] = kept
        else:
            padded[i, maxlen - n :] = kept
    return padded, lengths


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Standardise each feature over all samples and time steps.

    Like :class:`sklearn.preprocessing.StandardScaler`, but for sequences: the
    mean and standard deviation of feature ``f`` are taken over every time step
    of every sequence, so all time steps share one scaling and the scaler
    works on sequences of any length.

    Accepted inputs, and the same kind comes back out:

    - ndarray of shape (n_samples, n_timesteps, n_features);
    - ndarray of shape (n_samples, n_timesteps): univariate sequences (one
      feature), as seqnet's sequence models read 2-D input;
    - list of arrays of shape (T_i, n_features) or (T_i,) with different
      lengths: a ragged batch; ``transform`` returns a list of arrays of the
      same shapes. A list whose sequences all have the same shape is read as
      the array it stacks into (as scikit-learn reads nested lists), so an
      array comes back.

    Parameters
    ----------
    with_mean : bool, default=True
        If True, subtract the per-feature mean.
    with_std : bool, default=True
        If True, divide by the per-feature standard deviation. Features with
        (numerically) zero variance get scale 1, so they are only centred.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean over all samples and time steps (float64). Computed
        even when ``with_mean=False``, but then not subtracted.
    var_ : ndarray of shape (n_features,)
        Per-feature variance (float64).
    scale_ : ndarray of shape (n_features,) or None
        Per-feature divisor: the standard deviation, or 1 for constant
        features. None when ``with_std=False`` (as in StandardScaler).
    n_features_in_ : int
        Number of features per time step for 3-D and ragged input. For 2-D
        (n_samples, n_timesteps) input it is n_timesteps, scikit-learn's rule
        for 2-D ``X`` and the convention of seqnet's estimators; the statistics
        then have one entry (univariate) and ``transform`` expects the same
        number of columns.
    n_samples_seen_ : int
        Number of time steps (over all sequences) the statistics are based on.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for 2-D tabular data.

    Notes
    -----
    Statistics are computed in float64; float32 input stays float32.
    NaN and infinite values are rejected with a ValueError.

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet.preprocessing import SequenceScaler
    >>> X = np.arange(24.0).reshape(2, 4, 3)
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_
    array([10.5, 11.5, 12.5])
    >>> Xt = scaler.transform(X)
    >>> np.allclose(scaler.inverse_transform(Xt), X)
    True
    """

    _parameter_constraints = {"with_mean": ["boolean"], "with_std": ["boolean"]}

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    # -- input handling -------------------------------------------------------

    def _validate(self, X):
        """Return (kind, data): kind "3d", "2d" or "ragged".

        For "ragged", data is (list of 2-D arrays, list of original ndims) so that
        1-D sequences come back 1-D.
        """
        if _is_ragged_list(X):
            seqs, ndims = [], []
            for i, s in enumerate(X):
                a = np.asarray(s)
                ndims.append(a.ndim)
                seqs.append(check_array(a if a.ndim == 2 else a[:, None],
                                        dtype=(np.float64, np.float32), ensure_min_samples=0,
                                        estimator=self, input_name=f"X[{i}]"))
            widths = {a.shape[1] for a in seqs}
            if len(widths) > 1:
                raise ValueError(f"All sequences of a ragged batch must have the same number "
                                 f"of features; got {sorted(widths)}.")
            return "ragged", (seqs, ndims)
        X = check_array(X, dtype=(np.float64, np.float32), allow_nd=True, estimator=self,
                        input_name="X")
        if X.ndim > 3:
            raise ValueError(f"Expected a 2-D (n_samples, n_timesteps) or 3-D (n_samples, "
                             f"n_timesteps, n_features) array, got {X.ndim}-D with shape "
                             f"{X.shape}.")
        return ("3d" if X.ndim == 3 else "2d"), X

    @staticmethod
    def _steps(kind, data):
        """All time steps as one (n_steps, n_features) array (a view if possible)."""
        if kind == "ragged":
            return np.concatenate(data[0], axis=0)
        if kind == "2d":
            return data.reshape(-1, 1)
        return data.reshape(-1, data.shape[2])

    def _check_n_features(self, kind, data):
        # Same convention as seqnet's estimators: for 2-D (n, T) input
        # n_features_in_ is T (scikit-learn's rule for 2-D X), otherwise the
        # number of features per step. Univariate 2-D and 1-feature 3-D/ragged
        # data share one statistic, so they may be mixed.
        n_stats = len(self.mean_)
        if kind == "2d":
            if self._input_rank == 2 and data.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {data.shape[1]} features, but {type(self).__name__} "
                                 f"is expecting {self.n_features_in_} features as input.")
            if n_stats != 1:
                raise ValueError(f"{type(self).__name__} was fitted on sequences with "
                                 f"{n_stats} features per step; got a 2-D (univariate) "
                                 f"array of shape {data.shape}.")
            return
        n_features = data[0][0].shape[1] if kind == "ragged" else data.shape[2]
        if n_features != n_stats:
            raise ValueError(f"X has {n_features} features, but {type(self).__name__} is "
                             f"expecting {n_stats} features as input.")

    def _apply(self, X, forward):
        check_is_fitted(self)
        kind, data = self._validate(X)
        self._check_n_features(kind, data)
        mean = self.mean_ if self.with_mean else None
        scale = self.scale_ if self.with_std else None

        def f(a):
            # Compute in float64, hand back the input dtype (float32 stays float32).
            out = a.astype(np.float64, copy=True)
            if forward:
                if mean is not None:
                    out -= mean
                if scale is not None:
                    out /= scale
            else:
                if scale is not None:
                    out *= scale
                if mean is not None:
                    out += mean
            return out.astype(a.dtype, copy=False)

        if kind == "ragged":
            seqs, ndims = data
            return [f(a)[:, 0] if nd == 1 else f(a) for a, nd in zip(seqs, ndims)]
        if kind == "2d":
            return f(data[..., None])[..., 0]
        return f(data)

    # -- estimator API --------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the per-feature mean and standard deviation.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays of shape (T_i, n_features)
            Training sequences.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            Fitted scaler.
        """
        kind, data = self._validate(X)
        steps = self._steps(kind, data)
        if steps.shape[0] == 0:
            raise ValueError("Found array with 0 time steps; SequenceScaler needs at least 1.")
        self._input_rank = 2 if kind == "2d" else 3
        self.n_features_in_ = data.shape[1] if kind == "2d" else steps.shape[1]
        self.n_samples_seen_ = steps.shape[0]
        self.mean_ = steps.mean(axis=0, dtype=np.float64)
        # Two-pass variance in float64 (mean first), for accuracy on float32 input.
        self.var_ = np.mean((steps - self.mean_) ** 2, axis=0, dtype=np.float64)
        if self.with_std:
            # Same constant-feature test as StandardScaler: a variance within the
            # rounding error of the two-pass algorithm is treated as zero.
            n, eps = steps.shape[0], np.finfo(np.float64).eps
            constant = self.var_ <= n * eps * self.var_ + (n * self.mean_ * eps) ** 2
            scale = np.sqrt(self.var_)
            scale[constant] = 1.0
            self.scale_ = scale
        else:
            self.scale_ = None
        return self

    def transform(self, X):
        """Standardise sequences with the fitted statistics.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays of shape (T_i, n_features)
            Sequences to scale; any number of time steps.

        Returns
        -------
        X_tr : ndarray or list of ndarray
            Scaled sequences, of the same kind, shapes and float dtype as ``X``.
        """
        return self._apply(X, forward=True)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays of shape (T_i, n_features)
            Scaled sequences.

        Returns
        -------
        X_orig : ndarray or list of ndarray
            Sequences in the original units, of the same kind as ``X``.
        """
        return self._apply(X, forward=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
