"""Regression: squared error on identity outputs, or the half Poisson deviance on a
log link (``loss='poisson'``: the prediction is ``exp`` of the network's output,
as scikit-learn's MLPRegressor); multi-output and per-step targets."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions

from .classifier import _valid_steps, unpad
from .inputs import check_samples
from .task import TaskMixin, fit_method, partial_fit_doc, samples_doc

#: The ``loss`` parameter of every regressor (its constraint; the default,
#: ``'squared_error'``, is written in each regressor's ``__init__``).
REGRESSOR_CONSTRAINTS = {"loss": [StrOptions({"squared_error", "poisson"})]}
REGRESSOR_LOSS_DOC = """    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half squared error on an identity output, or the half Poisson deviance
        with a log link (predictions ``exp(output)``, for counts: ``y >= 0``
        and ``sum(y) > 0``), as scikit-learn's MLPRegressor.
"""


#: numpydoc of ``y`` in ``fit`` and in ``partial_fit``.
_Y_FIT_DOC = """array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (for example a forecast horizon); with
            ``return_sequences=True`` (n_samples, n_timesteps[, n_outputs])."""
_Y_BATCH_DOC = """array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of this batch, with as many outputs as in the first call."""


class SeqNetRegressorMixin(TaskMixin, RegressorMixin):
    """fit / partial_fit / predict for every regressor family."""

    fit = fit_method("targets", _Y_FIT_DOC)

    @available_if(lambda est: est._check_solver())
    @partial_fit_doc(_Y_BATCH_DOC)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_y(self, y):
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
        poisson = self.loss == "poisson"
        if poisson and not (np.all(y >= 0) and np.sum(y) > 0):  # scikit-learn's words
            raise ValueError("loss='poisson' requires non-negative y and sum(y) > 0.")
        self._pending = {}
        if reset:
            self._pending = {"n_outputs_": Y.shape[-1], "_y_ndim": y.ndim,
                             "out_activation_": "exp" if poisson else "identity"}
        loss = "poisson" if poisson else "squared"
        return np.ascontiguousarray(Y, dtype=self._dtype), loss, Y.shape[-1], None

    def _link(self, raw):
        """Predictions from raw outputs: ``exp`` for the Poisson loss's log link."""
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore"):
                return np.exp(raw)
        return raw

    def _score_encoded(self, X, lengths, Y):
        raw = self._link(self._forward_raw(X, lengths))
        if raw.ndim == 3:
            valid = _valid_steps(raw.shape[:2], lengths)
            Y, raw = Y[valid], raw[valid]
        if not np.isfinite(raw).all():  # diverging weights: a NaN score, as scikit-learn
            return float("nan")
        return float(r2_score(Y, raw))

    @samples_doc(
        "Predict targets.",
        returns="""y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or list
            Predictions shaped like the ``y`` seen in fit, in X's float dtype
            when X is float32 (else float64); with ``return_sequences``, per
            step (a list of unpadded arrays for ragged input).""")
    def predict(self, X):
        raw, lengths = self._predict_raw(X)
        raw = self._link(raw.astype(np.float64, copy=False))
        if getattr(X, "dtype", None) == np.float32:  # X's float dtype, as scikit-learn
            raw = raw.astype(np.float32)
        base_ndim = 2 if self._per_step() else 1
        if self._y_ndim == base_ndim:
            raw = raw[..., 0]
        return unpad(raw, lengths, self._per_step())

    @samples_doc(
        "Coefficient of determination R^2 of :meth:`predict` on ``X``.",
        returns="""score : float
            R^2 (1 is perfect, 0 is as good as predicting the mean of ``y``),
            averaged uniformly over outputs as scikit-learn's; with
            ``return_sequences``, over valid (unpadded) steps.""",
        params="""
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets; per step with ``return_sequences``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples (ignored per step with
            ``return_sequences``).""")
    def score(self, X, y, sample_weight=None):
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
