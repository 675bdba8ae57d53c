"""The scikit-learn conventions of RecursiveClassifier / RecursiveRegressor, as
explicit tests: ``check_estimator`` cannot run on them as a whole, its checks
build X as arrays (see the class docstring).  Each test names the scikit-learn
check it stands for."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from seqnet import RecursiveClassifier, RecursiveRegressor
from seqnet.network.tree_encoding import encode_trees

from tests import reference_tree as ref

CLASSES = [RecursiveClassifier, RecursiveRegressor]
SMALL = dict(hidden_layer_sizes=6, max_iter=3, random_state=0)


def _data(cls, n=24, seed=0, n_features=2):
    rng = np.random.default_rng(seed)
    X = [ref.random_tree(rng, int(rng.integers(1, 6)), n_features, one_child=0.1)
         for _ in range(n)]
    s = np.array([np.sum(ref.leaf_values(t)) for t in X])
    y = np.where(s > 0, "pos", "neg") if cls is RecursiveClassifier else s
    return X, y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


@pytest.mark.parametrize("cls", CLASSES)
def test_get_params_set_params_clone(cls):  # check_get_params_invariance, check_set_params
    est = cls(**SMALL)
    params = est.get_params()
    assert params["pooling"] == "root" and params["hidden_layer_sizes"] == 6
    est.set_params(pooling="mean", activation="relu")
    assert est.pooling == "mean" and est.activation == "relu"
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "weights_")


#: scikit-learn's own checks that build no X: they run as they are.  Every
#: other check of check_estimator fits on arrays (TypeError: X must be a list
#: of trees); the tests below stand for those that apply.
SKLEARN_CHECKS_WITHOUT_X = [
    "check_get_params_invariance", "check_set_params", "check_no_attributes_set_in_init",
    "check_parameters_default_constructible", "check_estimator_repr",
    "check_estimator_cloneable", "check_estimator_tags_renamed", "check_valid_tag_types",
    "check_do_not_raise_errors_in_init_or_set_params", "check_mixin_order",
]


@pytest.mark.parametrize("check", SKLEARN_CHECKS_WITHOUT_X)
@pytest.mark.parametrize("cls", CLASSES)
def test_sklearn_checks_without_array_x(cls, check):
    getattr(estimator_checks, check)(cls.__name__, cls())


@pytest.mark.parametrize("cls", CLASSES)
def test_parameters_are_validated(cls):  # check_param_validation
    X, y = _data(cls)
    for bad in (dict(pooling="max"), dict(activation="logistic"), dict(hidden_layer_sizes=0),
                dict(solver="newton")):
        with pytest.raises((InvalidParameterError, ValueError)):
            cls(**{**SMALL, **bad}).fit(X, y)


@pytest.mark.parametrize("cls", CLASSES)
def test_not_fitted_raises(cls):  # check_estimators_unfitted
    X, _ = _data(cls)
    with pytest.raises(NotFittedError):
        cls().predict(X)


@pytest.mark.parametrize("cls", CLASSES)
def test_fit_is_idempotent_and_deterministic(cls):  # check_fit_idempotent
    X, y = _data(cls)
    est = _fit(cls(**SMALL), X, y)
    first = est.predict(X)
    second = _fit(est, X, y).predict(X)
    third = _fit(cls(**SMALL), X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, third)


@pytest.mark.parametrize("cls", CLASSES)
def test_fitted_attributes(cls):  # check_n_features_in, check_dict_unchanged, n_iter_
    X, y = _data(cls, n_features=3)
    est = _fit(cls(**SMALL), X, y)
    assert est.n_features_in_ == 3 and 1 <= est.n_iter_ <= 3
    assert len(est.loss_curve_) == est.n_iter_ and est.t_ == est.n_iter_ * len(X)
    assert set(est.weights_) == {"tree.weight_leaf", "tree.bias_leaf", "tree.weight_left",
                                 "tree.weight_right", "tree.bias", "out.weight", "out.bias"}
    assert est.weights_["tree.weight_leaf"].shape == (6, 3)
    before = est.predict(X)
    est.predict(X)  # predict changes nothing
    np.testing.assert_array_equal(est.predict(X), before)
    with pytest.raises(ValueError, match="3 features"):
        est.predict(_data(cls, n_features=2)[0])


@pytest.mark.parametrize("cls", CLASSES)
def test_pickle_and_joblib_round_trip(cls, tmp_path):  # check_estimators_pickle
    X, y = _data(cls)
    est = _fit(cls(**SMALL), X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    joblib.dump(est, tmp_path / "est.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "est.joblib").predict(X),
                                  est.predict(X))
    restored.weights_["out.bias"][...] += 1.0  # views of the restored buffer
    assert not np.array_equal(restored._network.params, est._network.params)


@pytest.mark.parametrize("cls", CLASSES)
def test_weights_are_writable_views(cls):
    X, y = _data(cls)
    est = _fit(cls(**SMALL), X, y)
    est.weights_["tree.weight_leaf"][...] = 0.0
    est.weights_["tree.bias_leaf"][...] = 0.0
    est.weights_["tree.weight_left"][...] = 0.0
    est.weights_["tree.weight_right"][...] = 0.0
    est.weights_["tree.bias"][...] = 0.0  # every tree now has state 0
    raw = est._forward_raw(est._validate_X(X, reset=False)[0], None)
    np.testing.assert_allclose(raw, np.broadcast_to(est.weights_["out.bias"], raw.shape))


@pytest.mark.parametrize("cls", CLASSES)
def test_sample_weight_equals_repetition(cls):  # check_sample_weight_equivalence
    X, y = _data(cls, n=12)
    params = dict(SMALL, dtype="float64", shuffle=False, solver="sgd")
    weighted = _fit(cls(**params), X, y, sample_weight=np.r_[np.full(6, 2.0), np.ones(6)])
    repeated = _fit(cls(**params), X[:6] + X, np.r_[y[:6], y])
    for k, v in weighted.weights_.items():
        np.testing.assert_allclose(v, repeated.weights_[k], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("params", [dict(solver="lbfgs"), dict(early_stopping=True),
                                    dict(learning_rate="adaptive", solver="sgd"),
                                    dict(pooling="mean", dropout=0.2),
                                    dict(hidden_layer_sizes=(6, 5), dtype="float64")])
def test_shared_parameters_apply(cls, params):
    X, y = _data(cls, n=30)
    est = _fit(cls(**{**SMALL, **params}), X, y)
    assert est.predict(X).shape == (30,)
    if params.get("early_stopping"):
        assert len(est.validation_scores_) == est.n_iter_
    if params.get("hidden_layer_sizes") == (6, 5):
        assert est.weights_["dense.0.weight"].shape == (5, 6)


@pytest.mark.parametrize("cls", CLASSES)
def test_partial_fit_and_warm_start(cls):  # check_estimators_partial_fit_n_features
    X, y = _data(cls)
    est = cls(**SMALL)
    kw = {"classes": np.unique(y)} if is_classifier(est) else {}
    for _ in range(3):
        est.partial_fit(X[:12], y[:12], **kw)
        kw = {}
    assert est.t_ == 36
    warm = _fit(cls(**SMALL, warm_start=True), X, y)
    start = warm.weights_["out.bias"].copy()
    _fit(warm, X, y)
    assert not np.array_equal(start, warm.weights_["out.bias"])
    assert not hasattr(cls(solver="lbfgs"), "partial_fit")


def test_classifier_probabilities_and_multiclass():  # check_classifiers_train
    X, s = _data(RecursiveRegressor, n=30)
    y = np.digitize(s, [-0.5, 0.5])  # three classes
    est = _fit(RecursiveClassifier(**SMALL), X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (30, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(est.classes_[proba.argmax(1)], est.predict(X))
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba, rtol=1e-6)


@pytest.mark.parametrize("cls", CLASSES)
def test_model_selection_on_lists_of_trees(cls):
    X, y = _data(cls, n=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(cls(**SMALL), X, y, cv=3)
        search = GridSearchCV(cls(**SMALL), {"pooling": ["root", "mean"]}, cv=2).fit(X, y)
    assert len(scores) == 3 and search.best_params_["pooling"] in ("root", "mean")
    assert is_classifier(cls()) or is_regressor(cls())


@pytest.mark.parametrize("cls", CLASSES)
def test_encoded_forest_is_accepted(cls):
    X, y = _data(cls)
    est = _fit(cls(**SMALL), X, y)
    np.testing.assert_array_equal(est.predict(encode_trees(X)), est.predict(X))
