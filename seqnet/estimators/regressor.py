"""Regression: squared error on identity outputs, multi-output and per-step targets."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.metrics import r2_score

from .classifier import _valid_steps, unpad
from .inputs import check_samples
from .task import TaskMixin


class SeqNetRegressorMixin(TaskMixin, RegressorMixin):
    """fit / partial_fit / predict for every regressor family."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like or list of arrays
            See the class docstring for the accepted shapes.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (for example a forecast horizon); with
            ``return_sequences=True`` (n_samples, n_timesteps[, n_outputs]).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _per_step(self):
        return bool(getattr(self, "return_sequences", False))

    def _validate_y(self, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        return check_samples(y, self._dtype, None, ensure_2d=False, input_name="y")

    def _encode_targets(self, y, lengths, reset, classes=None):
        per_step = self._per_step()
        base_ndim = 2 if per_step else 1
        if y.ndim not in (base_ndim, base_ndim + 1):
            expected = "(n_samples, n_timesteps[, n_outputs])" if per_step else \
                "(n_samples,) or (n_samples, n_outputs)"
            raise ValueError(f"y must have shape {expected}; got {y.shape}.")
        Y = y if y.ndim == base_ndim + 1 else y[..., None]
        if not reset and Y.shape[-1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[-1]} outputs, but {type(self).__name__} "
                             f"was fitted with {self.n_outputs_}.")
        self._pending = {}
        if reset:
            self._pending = {"n_outputs_": Y.shape[-1], "_y_ndim": y.ndim,
                             "out_activation_": "identity"}
        return np.ascontiguousarray(Y, dtype=self._dtype), "squared", Y.shape[-1], None

    def _score_encoded(self, X, lengths, Y):
        raw = self._forward_raw(X, lengths)
        if raw.ndim == 3:
            valid = _valid_steps(raw.shape[:2], lengths)
            Y, raw = Y[valid], raw[valid]
        if not np.isfinite(raw).all():  # diverging weights: a NaN score, as scikit-learn
            return float("nan")
        return float(r2_score(Y, raw))

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` seen in fit (a list of
        per-step arrays for ragged input with ``return_sequences``)."""
        raw, lengths = self._predict_raw(X)
        raw = raw.astype(np.float64, copy=False)  # scikit-learn expects float64 outputs
        base_ndim = 2 if self._per_step() else 1
        if self._y_ndim == base_ndim:
            raw = raw[..., 0]
        return unpad(raw, lengths, self._per_step())

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 (over valid steps with ``return_sequences``)."""
        if not self._per_step():
            return super().score(X, y, sample_weight)
        pred = self.predict(X)
        if isinstance(pred, list):
            y_true = np.concatenate([np.asarray(y[i])[: len(p)] for i, p in enumerate(pred)])
            return float(r2_score(y_true.reshape(len(y_true), -1),
                                  np.concatenate(pred).reshape(len(y_true), -1)))
        y = np.asarray(y)
        return float(r2_score(y.reshape(-1, 1 if y.ndim == 2 else y.shape[-1]),
                              pred.reshape(-1, 1 if pred.ndim == 2 else pred.shape[-1])))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = False
        return tags
