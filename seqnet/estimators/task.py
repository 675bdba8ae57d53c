"""``fit`` / ``partial_fit`` orchestration shared by classifiers and regressors.

Order matters for reliability: everything is validated and encoded BEFORE any
fitted state is touched, so an error leaves a fitted estimator predicting
exactly as before.
"""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight, check_consistent_length

from seqnet.training.compiling import compile_notice

from .base import BaseSeqNet, _seed_of
from .inputs import check_lengths_positive


class TaskMixin:
    """Subclasses implement ``_encode_targets`` and ``_score_encoded``."""

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        if incremental and hasattr(self, "_network") and self.__dict__.get("_params_changed"):
            self._validate_params()  # changed by set_params since (BaseSeqNet.set_params)
            self._params_changed = False
        if incremental and self.early_stopping:  # scikit-learn's type and words
            raise ValueError("partial_fit does not support early_stopping=True; set "
                             "early_stopping=False to train incrementally.")
        # Validation resets n_features_in_ / feature names before y is checked, and
        # a bad hyperparameter (hidden_layer_sizes=(0,)) only fails when the new
        # network is built: on any error, put every fitted attribute back so the
        # estimator predicts exactly as before (the weight buffer is only written
        # by training, which starts after all of this succeeded).
        saved = dict(self.__dict__)
        try:
            with compile_notice(self.verbose):  # "compiling kernels" on a cold cache
                return self._fit_unguarded(X, y, sample_weight, incremental, classes)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_unguarded(self, X, y, sample_weight, incremental, classes=None):
        first = not incremental or not hasattr(self, "_network")
        X, lengths = self._validate_X(X, reset=first)
        check_lengths_positive(lengths)
        y = self._validate_y(y)
        check_consistent_length(X, y)
        Y, loss, n_outputs, sw_extra = self._encode_targets(
            y, lengths, reset=first, classes=classes
        )
        if sample_weight is None:  # what _check_sample_weight returns, without its cost
            sw = np.ones(X.shape[0], dtype=self._dtype)
        else:
            sw = _check_sample_weight(sample_weight, X, dtype=self._dtype,
                                      ensure_non_negative=True)
        if sw_extra is not None:
            sw = sw * sw_extra.astype(self._dtype)
        if not np.any(sw > 0):
            raise ValueError("sample_weight must not be all zero.")
        validation = None
        if self.early_stopping and not incremental and self.solver != "lbfgs":
            X, lengths, Y, sw, validation = self._split_validation(X, lengths, Y, sw, y)
        self._commit_targets()
        return self._fit_network(X, lengths, Y, sw, incremental=incremental, loss=loss,
                                 n_outputs=n_outputs, validation=validation)

    def _split_validation(self, X, lengths, Y, sw, y):
        # stratified for single-label classifiers: a class too rare to stratify
        # raises train_test_split's error, as in scikit-learn's MLP
        train, val = train_test_split(
            np.arange(X.shape[0]), test_size=self.validation_fraction,
            stratify=self._stratify_labels(y, Y), random_state=_seed_of(self.random_state),
        )
        if len(val) < 2 or len(train) < 1:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                f"size of your dataset (validation_fraction={self.validation_fraction} of "
                f"{X.shape[0]} samples gives {len(val)}), or set early_stopping=False."
            )
        lv = None if lengths is None else lengths[val]
        Xv, Yv = X[val], Y[val]

        def validate():
            return self._score_encoded(Xv, lv, Yv)

        lt = None if lengths is None else lengths[train]
        return X[train], lt, Y[train], sw[train], validate

    def _stratify_labels(self, y, Y):
        return None

    def _commit_targets(self):
        """Store target encodings prepared by ``_encode_targets`` (after validation)."""
        for key, value in getattr(self, "_pending", {}).items():
            setattr(self, key, value)
        self._pending = {}

    def _predict_raw(self, X):
        self._check_fitted()
        X, lengths = self._validate_X(X, reset=False)
        check_lengths_positive(lengths)
        with compile_notice(self.verbose):
            return self._forward_raw(X, lengths), lengths


__all__ = ["TaskMixin", "BaseSeqNet"]
