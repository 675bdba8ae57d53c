"""``fit`` / ``partial_fit`` orchestration shared by classifiers and regressors.

Order matters for reliability: everything is validated and encoded BEFORE any
fitted state is touched, so an error leaves a fitted estimator predicting
exactly as before.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight, check_consistent_length

from seqnet.training.compiling import compile_notice

from seqnet._runtime.docstrings import fill_doc

from .base import BaseSeqNet, _seed_of
from .inputs import check_lengths_positive

_SAMPLES_DOC = """{summary}

        Parameters
        ----------
        X : array-like or list of arrays
            Samples, in the shapes accepted by ``fit``.{params}

        Returns
        -------
        {returns}
        """


def samples_doc(summary, returns, params=""):
    """Decorator: the docstring of a method that takes samples shaped as in
    ``fit`` (``predict``, ``score``, ...).

    ``summary`` is its first line, ``params`` the numpydoc of its parameters
    after ``X`` (each starting on a new line), ``returns`` the body of its
    Returns section.
    """
    return fill_doc(_SAMPLES_DOC, summary=summary, params=params, returns=returns)


_FIT_DOC = """{summary}

        Parameters
        ----------
        X : array-like or list of arrays
            See the class docstring for the accepted shapes.
        y : {y}{classes}
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss{weights}.

        Returns
        -------
        self : object
            The {fitted} estimator.
        """


def fit_method(targets, y_doc):
    """The ``fit`` of a task (one code path for every estimator), with its docstring.

    ``targets`` names what ``y`` holds ('labels', 'targets'); ``y_doc`` is the
    numpydoc type and description of ``y``.
    """

    @fill_doc(_FIT_DOC, summary=f"Fit the model to data ``X`` and {targets} ``y``.",
              y=y_doc, classes="", fitted="fitted",
              weights=" (a weight of 2 equals repeating\n            the sample)")
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, incremental=False)

    return fit


def partial_fit_doc(y, classes=""):
    """Decorator: the docstring of a task's ``partial_fit``, whose ``y`` is
    described by ``y`` and which takes the parameters ``classes`` describes
    after it."""
    return fill_doc(_FIT_DOC, summary="One epoch over ``(X, y)``, continuing from the "
                    "current weights.", y=y, classes=classes, weights="", fitted="updated")


class TaskMixin:
    """Subclasses implement ``_validate_y``, ``_encode_targets`` and ``_score_encoded``."""

    def _per_step(self):
        """Whether ``y`` has one target per time step (``return_sequences``)."""
        return bool(getattr(self, "return_sequences", False))

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
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
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
