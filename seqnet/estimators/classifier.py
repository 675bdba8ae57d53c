"""Classification: label encoding, class weights, probabilities.

Binary targets use one logistic output, multiclass a softmax over classes,
multilabel indicator targets one logistic output per label (as scikit-learn's
MLP).  With ``return_sequences=True`` y is (n_samples, n_timesteps) labels and
every valid step is classified.
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.base import _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import assert_all_finite, check_array, column_or_1d

from .task import TaskMixin, fit_method, partial_fit_doc, samples_doc

CLASSIFIER_CONSTRAINTS = {"class_weight": [dict, StrOptions({"balanced"}), None]}
#: numpydoc text of ``class_weight``, the parameter every classifier adds.
CLASS_WEIGHT_DOC = """    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes (``{label: weight}``), multiplied into
        ``sample_weight``; 'balanced' weighs each class by
        ``n_samples / (n_classes * count)``, as scikit-learn.
"""


#: numpydoc of ``y`` in ``fit`` and in ``partial_fit``, and of ``classes``.
_Y_FIT_DOC = """array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels, or a multilabel indicator matrix; (n_samples, n_timesteps)
            labels with ``return_sequences=True``."""
_Y_BATCH_DOC = """array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of this batch, all of them in ``classes``."""
_CLASSES_DOC = """
        classes : array-like of shape (n_classes,), default=None
            Every label that will ever be seen. Required on the first call,
            as in scikit-learn; later calls may omit it or repeat it."""


class SeqNetClassifierMixin(TaskMixin, ClassifierMixin):
    """fit / partial_fit / predict / predict_proba for every classifier family."""

    fit = fit_method("labels", _Y_FIT_DOC)

    @available_if(lambda est: est._check_solver())
    @partial_fit_doc(_Y_BATCH_DOC, _CLASSES_DOC)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={np.unique(classes)}` is not the same as on the first call "
                f"to partial_fit ({self.classes_})."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ---------------------------------------------------------------- targets
    def _validate_y(self, y):
        y_arr = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False,
                            input_name="y")
        if y_arr.dtype.kind == "f":  # before type_of_target, which warns casting NaN
            assert_all_finite(y_arr, input_name="y")
        if self._per_step():
            if y_arr.ndim != 2:
                raise ValueError("With return_sequences=True, y must be labels of shape "
                                 f"(n_samples, n_timesteps); got shape {y_arr.shape}.")
            return y_arr
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = column_or_1d(y_arr, warn=True)
        check_classification_targets(y_arr)
        return y_arr

    def _encode_targets(self, y, lengths, reset, classes=None):
        flat = y.ravel() if self._per_step() else y
        if self._per_step():
            check_classification_targets(flat)
        if reset:
            lb = LabelBinarizer()
            lb.fit(_binarizer_labels(flat, classes))
            if self.warm_start and classes is None and hasattr(self, "classes_"):
                self._check_warm_start_classes(lb)
            self._pending = {"_label_binarizer": lb, "classes_": lb.classes_}
        else:
            lb = self._label_binarizer
            self._pending = {}
        if not reset or classes is not None:  # also labels outside partial_fit's classes=
            y_type = type_of_target(flat)
            if (y_type == "multilabel-indicator") != (lb.y_type_ == "multilabel-indicator"):
                raise ValueError(f"Target type {y_type} differs from the fitted {lb.y_type_}.")
            if y_type != "multilabel-indicator":
                unseen = np.setdiff1d(np.unique(flat), lb.classes_)
                if unseen.size:
                    raise ValueError(f"y has labels {unseen.tolist()} that are not in "
                                     f"classes_ {lb.classes_.tolist()}.")
        Y = lb.transform(flat).astype(self._dtype)
        multilabel = lb.y_type_ == "multilabel-indicator"
        loss = "logistic" if (multilabel or Y.shape[1] == 1) else "softmax"
        if self._per_step():
            Y = Y.reshape(y.shape[0], y.shape[1], -1)
        sw_extra = None
        if self.class_weight is not None and not self._per_step():
            if isinstance(self.class_weight, str) and not reset:
                raise ValueError("class_weight='balanced' is not supported by partial_fit; "
                                 "pass a dict of weights.")
            sw_extra = compute_sample_weight(self.class_weight, y)
        if reset:
            self._pending["n_outputs_"] = Y.shape[-1]
            self._pending["out_activation_"] = loss
        return np.ascontiguousarray(Y), loss, Y.shape[-1], sw_extra

    def _check_warm_start_classes(self, lb):
        """A warm-started ``fit`` reuses the output layer: same classes only."""
        multilabel = lb.y_type_ == "multilabel-indicator"
        if multilabel != (self._label_binarizer.y_type_ == "multilabel-indicator") or \
                not np.array_equal(lb.classes_, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has "
                f"{lb.classes_}" + (" (multilabel)" if multilabel else "")
            )

    def _stratify_labels(self, y, Y):
        """The encoded targets as booleans, as scikit-learn's MLP stratifies (so a
        class too rare to stratify is named as it does: ``['True']``)."""
        if self._per_step() or (y.ndim == 2):
            return None
        return Y.astype(bool)

    def _single_class(self):
        """One class in ``classes_``: trained on one (all-zero) logistic output,
        as scikit-learn's MLP, but always predicted, with probability 1."""
        return len(self.classes_) == 1

    def _score_encoded(self, X, lengths, Y):
        raw = self._forward_raw(X, lengths)
        if self._single_class():
            hit = np.ones(raw.shape[:-1], dtype=bool)
        elif self._label_binarizer.y_type_ == "multilabel-indicator" or raw.shape[-1] == 1:
            hit = (raw > 0) == (Y > 0.5)
            hit = hit.all(axis=-1)
        else:
            hit = raw.argmax(axis=-1) == Y.argmax(axis=-1)
        if hit.ndim == 2:  # per step: ignore padding
            valid = _valid_steps(hit.shape, lengths)
            return float(hit[valid].mean())
        return float(hit.mean())

    # -------------------------------------------------------------- inference
    def _decode(self, raw):
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return (raw > 0).astype(int)
        if self._single_class():
            return self.classes_[np.zeros(raw.shape[:-1], dtype=np.intp)]
        if raw.shape[-1] == 1:
            return self.classes_[(raw[..., 0] > 0).astype(int)]
        return self.classes_[raw.argmax(axis=-1)]

    @samples_doc(
        "Predict labels.",
        returns="""y : ndarray of shape (n_samples,) or (n_samples, n_labels), or list
            Labels from ``classes_``; a 0/1 indicator matrix for multilabel
            targets; per step, (n_samples, n_timesteps), with
            ``return_sequences`` (a list of unpadded arrays for ragged input).""")
    def predict(self, X):
        raw, lengths = self._predict_raw(X)
        return unpad(self._decode(raw), lengths, self._per_step())

    @samples_doc(
        "Predict class probabilities.",
        returns="""proba : ndarray of shape (n_samples, n_classes), or list
            Probability of each class of ``classes_`` (rows sum to 1); for
            multilabel targets, the probability of each label. A single class
            seen in fit has probability 1: shape (n_samples, 1). With
            ``return_sequences``, (n_samples, n_timesteps, n_classes) (a list
            of unpadded arrays for ragged input).""")
    def predict_proba(self, X):
        raw, lengths = self._predict_raw(X)
        raw = raw.astype(np.float64)
        if self._single_class():
            proba = np.ones_like(raw)
        elif self._label_binarizer.y_type_ == "multilabel-indicator":
            proba = _sigmoid(raw)
        elif raw.shape[-1] == 1:
            p = _sigmoid(raw[..., 0])
            proba = np.stack([1.0 - p, p], axis=-1)
        else:
            z = raw - raw.max(axis=-1, keepdims=True)
            e = np.exp(z)
            proba = e / e.sum(axis=-1, keepdims=True)
        return unpad(proba, lengths, self._per_step())

    @samples_doc(
        "Predict the logarithm of the class probabilities.",
        returns="""log_proba : ndarray or list
            ``log`` of :meth:`predict_proba`, in its shape (``-inf`` where a
            probability is 0).""")
    def predict_log_proba(self, X):
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [np.log(p) for p in proba]
        with np.errstate(divide="ignore"):
            return np.log(proba)

    @samples_doc(
        "Mean accuracy of :meth:`predict` on ``X`` against ``y``.",
        returns="""score : float
            Fraction of samples predicted right (multilabel: every label
            right); with ``return_sequences``, of valid (unpadded) steps.""",
        params="""
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels; (n_samples, n_timesteps) with ``return_sequences``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean (ignored per step with
            ``return_sequences``).""")
    def score(self, X, y, sample_weight=None):
        if not self._per_step():
            return super().score(X, y, sample_weight)
        pred = self.predict(X)
        y = np.asarray(y)
        if isinstance(pred, list):
            hits = np.concatenate([p == y[i, : len(p)] for i, p in enumerate(pred)])
            return float(hits.mean())
        return float(np.average(pred == y, weights=None))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = not self._per_step()
        return tags


def _binarizer_labels(y, classes):
    """What the label binarizer learns from: partial_fit's ``classes`` (all
    labels), except for a multilabel indicator ``y``, whose columns are the
    labels (scikit-learn accepts ``classes=range(n_labels)`` with it)."""
    if classes is None:
        return y
    if type_of_target(y) == "multilabel-indicator":
        if len(classes) != y.shape[1]:
            raise ValueError(f"classes has {len(classes)} labels but the multilabel y "
                             f"has {y.shape[1]} columns.")
        return y
    return np.asarray(classes)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _valid_steps(shape, lengths):
    if lengths is None:
        return np.ones(shape, dtype=bool)
    return np.arange(shape[1])[None, :] < np.asarray(lengths)[:, None]


def unpad(arr, lengths, per_step):
    """Per-step outputs of a ragged batch come back as a list of unpadded arrays."""
    if not per_step or lengths is None:
        return arr
    return [arr[i, : int(n)] for i, n in enumerate(lengths)]
