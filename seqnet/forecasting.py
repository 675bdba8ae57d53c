"""Forecasting a univariate series with any seqnet (or scikit-learn) regressor.

:class:`Forecaster` turns a regressor into a forecaster: it cuts the series into
windows (:func:`seqnet.preprocessing.make_windows`), optionally takes its log
(``transform``), differences and standardises it, fits the regressor, and
continues the series after its end. :meth:`Forecaster.predict_interval` adds
conformal prediction intervals calibrated on a rolling-origin backtest.

It is a scikit-learn estimator whose ``X`` *is the series*, so that
``GridSearchCV(Forecaster(...), grid, cv=TimeSeriesSplit(k)).fit(series)``
works: TimeSeriesSplit hands ``fit`` the head of the series and ``score`` the
fold that directly follows it, and ``score`` forecasts exactly that many steps
from the end of the training part.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .forecast_stats import (  # noqa: F401  (public names of this module)
    _as_1d_series,
    choose_transform,
    kpss_statistic,
    ndiffs,
    seasonal_naive,
)
from .preprocessing import make_windows

__all__ = ["Forecaster", "seasonal_naive", "choose_transform", "kpss_statistic", "ndiffs"]


class Forecaster(RegressorMixin, BaseEstimator):
    """Forecast a univariate series with a windowed regressor.

    ``fit`` learns to map ``window`` past values to the next value(s);
    ``predict`` continues the series after the end of the training data.

    Parameters
    ----------
    estimator : estimator object or None, default=None
        Regressor taking ``X`` of shape (n_windows, window) (univariate
        sequences, as seqnet's sequence models and every scikit-learn
        regressor read it) and ``y`` of shape (n_windows,) or, for the direct
        strategy with ``horizon > 1``, (n_windows, horizon). It is cloned.
        None means a small seqnet LSTM suited to short series:
        ``LSTMRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
        batch_size=32, max_iter=100, n_iter_no_change=30)``; its fixed budget
        is the benchmarked default, so it raises no ConvergenceWarning.
    window : int, default=12
        Number of past (transformed) values the regressor sees.
    horizon : int, default=1
        Steps forecast by one call of ``predict()`` without arguments. With
        ``strategy="direct"`` it is also the number of outputs of the regressor.
    strategy : {"recursive", "direct"}, default="recursive"
        "recursive": the regressor is trained one step ahead and fed its own
        forecasts to go further. "direct": the regressor is trained on
        ``horizon`` outputs at once (one multi-output model) and predicts whole
        blocks; longer forecasts chain blocks.
    difference : int or "auto", default="auto"
        Order of differencing applied (after ``transform``) before windowing
        (0: none, 1: model the changes ``y[t] - y[t-1]``, which removes a
        trend, so forecasts can leave the range of the training data).
        Undone on predict. "auto" lets a KPSS unit-root test decide, as
        auto-ARIMA tools do (:func:`ndiffs`: 0, 1 or 2).
    scale : bool, default=True
        Standardise the (differenced) series to zero mean and unit variance
        before windowing; undone on predict. Neural networks train much better
        on unit-scale inputs.
    step : int, default=1
        Distance between the starts of consecutive training windows.
    transform : {"auto", "log", "none"}, default="auto"
        Applied to the series before differencing and undone on predict.
        "log" models ``log(y)`` (the series must be strictly positive), so
        forecasts and intervals stay positive and a multiplicative season
        becomes additive. "auto" picks "log" for a strictly positive series
        that spans more than a factor of 10 or whose swing grows with its
        level (:func:`choose_transform`), else "none".
    n_models : int, default=5
        Size of the seed ensemble: that many clones of ``estimator`` are fitted
        with different ``random_state`` values and their predictions averaged
        at every step. Averaging removes most of the seed-to-seed swing of a
        neural network's forecast. An estimator without a ``random_state``
        parameter (e.g. KNeighborsRegressor) is fitted once.
    random_state : int, RandomState instance or None, default=None
        Seeds the ensemble members. None uses the estimator's own
        ``random_state`` (an int gives reproducible members; None, fresh
        ones); with ``n_models=1`` and None the estimator is left as given.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator`` (the first ensemble member).
    estimators_ : list of estimator objects
        Every fitted ensemble member (``estimators_[0] is estimator_``).
    difference_ : int
        The order of differencing in use (what "auto" chose).
    transform_ : {"log", "none"}
        The transform in use (what "auto" chose).
    mean_ : float
        Mean of the (differenced) training series, 0.0 when ``scale=False``.
    scale_ : float
        Standard deviation of the (differenced) training series (1.0 if it is
        constant or ``scale=False``).
    last_window_ : ndarray of shape (window,)
        The last ``window`` transformed training values: the context that
        ``predict`` starts from.
    last_values_ : ndarray of shape (difference_,)
        Last value of the series at each differencing level 0..difference-1,
        used to integrate the forecast back.
    n_train_ : int
        Length of the training series.
    n_windows_ : int
        Number of training windows.
    n_features_in_ : int
        Always 1 (univariate series).
    series_ : ndarray of shape (n_train_,)
        The training series, kept for :meth:`predict_interval`'s calibration.

    See Also
    --------
    seqnet.preprocessing.make_windows : The windowing used here.
    seasonal_naive : A baseline to compare against.

    Notes
    -----
    **What X means.** ``X`` is the series itself, shape (n_timesteps,) or
    (n_timesteps, 1). In :meth:`predict` and :meth:`score`, only the *length*
    of ``X`` matters: ``predict(X)`` forecasts ``len(X)`` steps after the end
    of the training series (the values of ``X`` are never used as inputs, so a
    test fold cannot leak into its own forecast). ``predict`` also takes an int
    number of steps.

    **Model selection.** With ``cv=TimeSeriesSplit(...)`` every test fold
    directly follows its training fold, so forecasting ``len(test)`` steps
    ahead is exactly the right evaluation::

        search = GridSearchCV(Forecaster(est), {"window": [6, 12]},
                              cv=TimeSeriesSplit(3))
        search.fit(series)                      # ranks by score(): R^2
        search = GridSearchCV(..., scoring="neg_mean_absolute_error")
        search.fit(series, series)              # scorers need y: pass it twice

    Do not use a shuffling or non-time-ordered splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqnet.forecasting import Forecaster
    >>> t = np.arange(120)
    >>> series = np.sin(2 * np.pi * t / 12)
    >>> fc = Forecaster(Ridge(alpha=1e-3), window=12, horizon=6).fit(series)
    >>> fc.predict().shape
    (6,)
    >>> bool(np.allclose(fc.predict(12), series[:12], atol=1e-2))
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"recursive", "direct"})],
        "difference": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "scale": ["boolean"],
        "step": [Interval(Integral, 1, None, closed="left")],
        "transform": [StrOptions({"auto", "log", "none"})],
        "n_models": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        window=12,
        horizon=1,
        strategy="recursive",
        difference="auto",
        scale=True,
        step=1,
        transform="auto",
        n_models=5,
        random_state=None,
    ):
        self.estimator = estimator
        self.window = window
        self.horizon = horizon
        self.strategy = strategy
        self.difference = difference
        self.scale = scale
        self.step = step
        self.transform = transform
        self.n_models = n_models
        self.random_state = random_state

    # -- transforms -----------------------------------------------------------

    def _difference(self, y):
        """Difference ``y`` ``self.difference_`` times; return it and the level tails."""
        tails = []
        for _ in range(self.difference_):
            tails.append(y[-1])
            y = np.diff(y)
        return y, np.array(tails, dtype=np.float64)

    def _integrate(self, d, tails):
        """Invert :meth:`_difference` for values that follow the series end."""
        for tail in tails[::-1]:
            d = tail + np.cumsum(d)
        return d

    def _forward(self, y, name="X"):
        """Apply ``transform_`` to a series in the units of the data."""
        if self.transform_ == "log":
            if np.any(y <= 0):
                raise ValueError(
                    f"transform='log' needs a strictly positive series; {name} has "
                    f"{int(np.sum(y <= 0))} value(s) <= 0 (minimum {y.min():g}). "
                    "Use transform='none'."
                )
            return np.log(y)
        return y

    def _backward(self, z):
        return np.exp(z) if self.transform_ == "log" else z

    def _context(self, history):
        """Transformed context window and level tails for a given history."""
        z, tails = self._difference(self._forward(history, "history"))
        if len(z) < self.window:
            raise ValueError(
                f"history has {len(history)} values; with difference="
                f"{self.difference_} and window={self.window} it needs at least "
                f"{self.window + self.difference_}."
            )
        return (z[-self.window :] - self.mean_) / self.scale_, tails

    # -- estimator API --------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the regressor on windows of the series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps,) or (n_timesteps, 1)
            The training series, oldest value first. Must be finite.
        y : array-like of shape (n_timesteps,) or None, default=None
            Not used for fitting. Accepted so that scikit-learn scorers that
            compare against ``y`` work in model selection: pass the series as
            both ``X`` and ``y`` (see Notes of the class). If given, it must
            have the same length as ``X``.

        Returns
        -------
        self : Forecaster
            Fitted forecaster.
        """
        series = _as_1d_series(X)
        if y is not None:
            check_consistent_length(series, y)
        self.transform_ = (choose_transform(series, self.window)
                           if self.transform == "auto" else self.transform)
        model_series = self._forward(series)
        self.difference_ = (ndiffs(model_series) if self.difference == "auto"
                            else int(self.difference))
        z, self.last_values_ = self._difference(model_series)

        out = self.horizon if self.strategy == "direct" else 1
        need = self.window + out + 1  # at least two training windows
        if len(z) < need:
            fits = len(z) - out - 1
            hint = (f"use window={fits} or less" if fits >= 1
                    else "use a longer series")
            raise ValueError(
                f"The series has {len(series)} values; window={self.window} with "
                f"{out} output step(s) and difference={self.difference_} needs at least "
                f"{need + self.difference_}: {hint}."
            )

        if self.scale:
            self.mean_ = float(z.mean())
            std = float(z.std())
            # A constant series has nothing to scale; avoid dividing by ~0.
            self.scale_ = std if std > 1e-12 * max(1.0, abs(self.mean_)) else 1.0
        else:
            self.mean_, self.scale_ = 0.0, 1.0
        z = (z - self.mean_) / self.scale_

        Xw, yw = make_windows(z, self.window, horizon=out, step=self.step)
        Xw = Xw[:, :, 0]  # univariate: (n, window) is what every regressor reads
        if out == 1:
            yw = yw[:, 0]

        with warnings.catch_warnings():
            if self.estimator is None:  # the default's budget is not the user's choice
                warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimators_ = [member.fit(Xw, yw) for member in self._members()]
        self.estimator_ = self.estimators_[0]
        self.last_window_ = z[-self.window :].copy()
        self.n_train_ = len(series)
        self.n_windows_ = len(Xw)
        self.n_features_in_ = 1
        self.series_ = series
        self._residuals = None  # predict_interval's calibration, made on first use
        return self

    def _members(self):
        """Unfitted clones of the estimator, one per seed of the ensemble."""
        if self.estimator is None:
            from . import LSTMRegressor  # lazy: estimators import heavy kernels

            estimator = LSTMRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                                      batch_size=32, max_iter=100, n_iter_no_change=30)
        else:
            estimator = self.estimator
        params = estimator.get_params(deep=False)
        if "random_state" not in params:
            return [clone(estimator)]  # deterministic: one fit is the ensemble
        if self.n_models == 1 and self.random_state is None:
            return [clone(estimator)]
        base = self.random_state if self.random_state is not None else params["random_state"]
        seeds = check_random_state(base).randint(np.iinfo(np.int32).max, size=self.n_models)
        return [clone(estimator).set_params(random_state=int(s)) for s in seeds]

    def _n_steps(self, X):
        if X is None:
            return self.horizon
        if isinstance(X, Integral) and not isinstance(X, bool):
            if X < 1:
                raise ValueError(f"steps must be >= 1, got {X}.")
            return int(X)
        return len(_as_1d_series(X))

    def predict(self, X=None, history=None):
        """Forecast the steps that follow the end of the series.

        Parameters
        ----------
        X : int, array-like of shape (n_steps,) or (n_steps, 1), or None, \
                default=None
            How far to forecast: an int number of steps, or an array whose
            *length* is the number of steps (its values are ignored; this is
            what model selection passes as the test fold). None means
            ``horizon`` steps.
        history : array-like of shape (n_timesteps,) or None, default=None
            Start from the end of this series instead of the end of the
            training series, without refitting (e.g. the full series after
            fitting on its head). It must have at least
            ``window + difference`` values and is transformed with the
            statistics learned in ``fit``.

        Returns
        -------
        forecast : ndarray of shape (n_steps,)
            Forecast values, in the units of the series.
        """
        check_is_fitted(self)
        return self._backward(self._predict_model_scale(self._n_steps(X), history))

    def _predict_model_scale(self, steps, history=None):
        """Forecast ``steps`` values on the transformed (log or raw) scale."""
        if history is None:
            ctx, tails = self.last_window_, self.last_values_
        else:
            ctx, tails = self._context(_as_1d_series(history, "history"))

        buf = np.empty(self.window + steps, dtype=np.float64)
        buf[: self.window] = ctx
        pos = self.window
        while pos < self.window + steps:
            context = buf[None, pos - self.window : pos]
            pred = np.mean([np.asarray(est.predict(context), dtype=np.float64).ravel()
                            for est in self.estimators_], axis=0)
            # Recursive: one value per call; direct: a whole block of `horizon`.
            n = min(len(pred), self.window + steps - pos)
            buf[pos : pos + n] = pred[:n]
            pos += n

        z = buf[self.window :] * self.scale_ + self.mean_
        return self._integrate(z, tails)

    def predict_interval(self, X=None, coverage=0.9, history=None):
        """Forecast with conformal prediction intervals.

        The interval for horizon step ``h`` is the forecast plus and minus the
        ``coverage`` quantile of the absolute errors that the same
        configuration made ``h`` steps ahead in a rolling-origin backtest: a
        clone is fitted on the first 75% of the training series (at least
        what one fit needs) and forecasts from every origin in the rest, with
        no refit. The errors are measured on the transformed scale, so with
        ``transform_="log"`` the interval is multiplicative and stays
        positive. The backtest runs on the first call and is kept.

        Parameters
        ----------
        X : int, array-like of shape (n_steps,), or None, default=None
            How far to forecast, as in :meth:`predict`.
        coverage : float, default=0.9
            Nominal probability that a future value falls in its interval,
            in (0, 1).
        history : array-like of shape (n_timesteps,) or None, default=None
            Start from the end of this series, as in :meth:`predict`.

        Returns
        -------
        intervals : ndarray of shape (n_steps, 3)
            Columns ``lower``, ``forecast``, ``upper`` in the units of the
            series; ``lower <= forecast <= upper``.

        Notes
        -----
        Split conformal prediction per horizon step (Stankeviciute et al.,
        2021, "Conformal time-series forecasting", NeurIPS). Steps beyond the
        longest horizon the backtest could score reuse its widest step.
        """
        check_is_fitted(self)
        if not 0.0 < float(coverage) < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {coverage}.")
        steps = self._n_steps(X)
        z = self._predict_model_scale(steps, history)
        residuals = self._calibration_residuals(steps)
        q = np.empty(steps)
        for h in range(steps):
            r = residuals[min(h, len(residuals) - 1)]
            k = len(r)
            rank = min(k, int(np.ceil((k + 1) * float(coverage))))
            q[h] = np.sort(r)[rank - 1]
        return np.column_stack(
            [self._backward(z - q), self._backward(z), self._backward(z + q)]
        )

    def _calibration_residuals(self, steps):
        """Absolute backtest errors per horizon step (list of arrays)."""
        cached = self._residuals
        if cached is not None and (len(cached) >= steps or cached[-1].size == 1):
            return cached  # long enough, or as long as the backtest allows
        series = self.series_
        n = len(series)
        out = self.horizon if self.strategy == "direct" else 1
        min_fit = self.window + out + 1 + self.difference_  # what fit needs
        n_head = max(min_fit, int(round(0.75 * n)))
        if n - n_head < 2:
            raise ValueError(
                f"predict_interval needs a training series long enough for a "
                f"backtest: {n} values leave {n - n_head} for calibration with "
                f"window={self.window}; fit on at least {min_fit + 2 + min_fit // 3} "
                "values or use a smaller window."
            )
        head_model = clone(self).set_params(transform=self.transform_,
                                            difference=self.difference_)
        head_model.fit(series[:n_head])
        model_series = self._forward(series)
        n_steps = min(steps, n - n_head)
        errors = [[] for _ in range(n_steps)]
        for origin in range(n_head, n):
            h_max = min(n_steps, n - origin)
            pred = head_model._predict_model_scale(h_max, history=series[:origin])
            for h in range(h_max):
                errors[h].append(abs(pred[h] - model_series[origin + h]))
        self._residuals = [np.asarray(e) for e in errors]
        return self._residuals

    def score(self, X, y=None, sample_weight=None):
        """R^2 of the forecast of ``len(X)`` steps after the training series.

        Parameters
        ----------
        X : array-like of shape (n_steps,) or (n_steps, 1)
            The values that follow the training series (e.g. a TimeSeriesSplit
            test fold). Its length sets the number of steps; its values are the
            truth when ``y`` is None.
        y : array-like of shape (n_steps,) or None, default=None
            The truth, if different from ``X``.
        sample_weight : array-like of shape (n_steps,) or None, default=None
            Weights per step.

        Returns
        -------
        score : float
            Coefficient of determination of the forecast (higher is better; 1
            is perfect, 0 is as good as forecasting the test mean).
        """
        truth = _as_1d_series(X if y is None else y, "y")
        return r2_score(truth, self.predict(len(truth)), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags
