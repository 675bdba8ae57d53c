"""scikit-learn's estimator checks over every public estimator, no expected failures.

Small networks and few epochs keep the ~50 checks per estimator fast; the
checks that test learning (``check_classifiers_train``,
``check_regressors_train``) still pass with these settings.
"""

from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import seqnet

FAST = dict(max_iter=200, random_state=0)


def _estimators():
    ests = [
        seqnet.MLPClassifier(hidden_layer_sizes=(16,), **FAST),
        seqnet.MLPRegressor(hidden_layer_sizes=(16,), **FAST),
    ]
    for name in ("RNN", "LSTM", "GRU"):
        for task in ("Classifier", "Regressor"):
            cls = getattr(seqnet, name + task, None)
            if cls is not None:
                ests.append(cls(hidden_layer_sizes=(8,), learning_rate_init=0.01, **FAST))
    for task in ("Classifier", "Regressor"):
        cls = getattr(seqnet, "Conv" + task, None)
        if cls is not None:
            ests.append(cls(filters=(4,), kernel_size=2, pool_size=1,
                            hidden_layer_sizes=(8,), **FAST))
    for name in ("FCN", "ResNet"):  # the published architectures, narrower
        for task in ("Classifier", "Regressor"):
            cls = getattr(seqnet, name + task, None)
            if cls is not None:
                ests.append(cls(filters=(8, 8, 8), random_state=0))
    return ests


#: Per-check settings, as scikit-learn's own suite sets them for its MLP
#: (it runs the sample-weight equivalence check with lbfgs in float64): the
#: check compares predictions at rtol=1e-7, finer than float32 rounding, so it
#: runs with full-batch training in float64 and 20 epochs: over 200 epochs
#: Adam (which divides by the root of tiny second moments near convergence)
#: amplifies the 1e-16 summation-order differences between a weighted row and
#: its repeated copies to 1e-7..1e-2, which says nothing about the weights.
#: The two invariance checks compare predictions on subsets / permutations at
#: rtol=1e-7 as well: in float32, OpenBLAS picks different kernels (and so a
#: different summation order) for different numbers of rows, which moves a
#: float32 result by an ulp or two; in float64 the same effect is ~1e-16.
#: Full batches (``batch_size='auto'``) there: FCN/ResNet default to batches of 16,
#: and a weighted row and its copies fall in different mini-batches.
PER_CHECK_PARAMS = {
    "check_sample_weight_equivalence_on_dense_data": dict(dtype="float64", max_iter=20,
                                                          batch_size="auto"),
    "check_sample_weight_equivalence_on_sparse_data": dict(dtype="float64", max_iter=20,
                                                           batch_size="auto"),
    "check_methods_subset_invariance": dict(dtype="float64"),
    "check_methods_sample_order_invariance": dict(dtype="float64"),
}


def _check_name(check):
    return getattr(check, "func", check).__name__


@parametrize_with_checks(_estimators())
def test_sklearn_compatible(estimator, check):
    params = PER_CHECK_PARAMS.get(_check_name(check))
    if params:  # on a copy: the same instance is passed to every check
        estimator = clone(estimator).set_params(**params)
    check(estimator)
