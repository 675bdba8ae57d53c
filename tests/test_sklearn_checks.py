"""scikit-learn's estimator checks over every public estimator with its default
parameters (issue 18: defaults that fit any valid input).

The only departures, each explained where it is declared: float64 for the four
checks that compare at rtol=1e-7 (:data:`PER_CHECK_PARAMS`), FCN / ResNet with
narrower filters unless ``SEQNET_FULL_CHECKS=1`` (:data:`NARROW`), and known
failures through scikit-learn's ``expected_failed_checks``
(:data:`EXPECTED_FAILURES`).
"""

import os

from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import seqnet

#: Every public estimator, with its DEFAULT parameters: a scikit-learn user's
#: ``Estimator()`` must fit whatever the checks give it.
NAMES = [name + task for name in ("MLP", "RNN", "LSTM", "GRU", "Conv", "FCN", "ResNet")
         for task in ("Classifier", "Regressor")]


#: FCN / ResNet: the published architectures with narrower layers in CI; with
#: ``SEQNET_FULL_CHECKS=1`` the checks run them at their defaults.  That run
#: passes (but for the expected failure below) and is compute, not overhead:
#: FCNClassifier's ~65 checks fit ~6,000 rows in all for up to 100 epochs each,
#: through 128-256 channel convolutions (0.27 M parameters, most of the time in
#: the convolution kernels), about ten minutes per estimator on two cores
#: (benchmarks/RESULTS.md); four such estimators do not fit a CI run.  The geometry (kernels 8,
#: 5, 3, 'same' padding, batch norm, global pooling) and every other parameter
#: are the defaults.
NARROW = ({} if os.environ.get("SEQNET_FULL_CHECKS") == "1" else
          {"FCN": dict(filters=(8, 8, 8)), "ResNet": dict(filters=(8, 8, 8))})


def _estimators():
    return [getattr(seqnet, name)(**NARROW.get(name.replace("Classifier", "")
                                               .replace("Regressor", ""), {}))
            for name in NAMES]


#: The only per-check settings: float64 for the checks that compare predictions
#: at rtol=1e-7, finer than float32 rounding.  The sample-weight equivalence
#: checks (dense and sparse X) compare a weighted row with its repeated copies:
#: in float32 their different summation orders differ by ~1e-7 relative.  The
#: two invariance checks compare predictions on subsets / permutations: in
#: float32, OpenBLAS picks different kernels (and so a different summation
#: order) for different numbers of rows, which moves a result by an ulp or
#: two; in float64 the same effect is ~1e-16.
FLOAT64 = dict(dtype="float64")
PER_CHECK_PARAMS = {
    "check_sample_weight_equivalence_on_dense_data": FLOAT64,
    "check_sample_weight_equivalence_on_sparse_data": FLOAT64,
    "check_methods_subset_invariance": FLOAT64,
    "check_methods_sample_order_invariance": FLOAT64,
}

#: Checks expected to fail, through scikit-learn's own mechanism for known
#: failures (``expected_failed_checks``, run strict: a check that passes again
#: fails the test, so no excuse outlives its cause).  All are the dense
#: sample-weight equivalence check (15 weighted rows against their 27 repeated
#: copies), in float64:
#: * FCN / ResNet train on mini-batches of 16 (the published recipe): the 27
#:   repeated rows are two batches, the 15 weighted rows one, so the two fits
#:   take different steps; no mini-batch method can pass it.  (The recurrent
#:   models' batches of 32 hold either set whole, so they are checked.)
#: * GRUClassifier: its weighted and repeated fits agree to 1e-16 for 60
#:   epochs, then part exponentially (1e-14 at epoch 90, 3e-9 at 110, 2e-2 at
#:   130: doubling every ~3.5 epochs) while Adam memorises the 3 random
#:   classes through loss spikes (0.15 -> 0.46); the ~1e-16 summation-order
#:   difference between a weighted row and its copies is amplified by chaotic
#:   training, not a weighting error (LSTM, RNN and GRURegressor pass at 1e-10
#:   or better on the same data).
#: * LSTMRegressor: its two fits agree to 1e-16 in loss for 100 epochs, then
#:   drift slowly (4e-13 at epoch 130, 5e-10 at 190) while the loss keeps
#:   falling to 0.014 at max_iter=200; one of the 15 predictions ends 1.27e-7
#:   apart relative, just past rtol=1e-7.  With scikit-learn's patience of 10
#:   epochs it passed, because training stopped at epoch 131 at a loss of 0.118
#:   (the premature stop issue 22 found); the recurrent default of 30 trains on.
_MINI_BATCH = ("mini-batches of 16 (published recipe): a weighted row and its repeated "
               "copies fall in different batches")
EXPECTED_FAILURES = {
    "GRUClassifier": {"check_sample_weight_equivalence_on_dense_data":
                      "Adam's fits part exponentially from a 1e-16 summation-order "
                      "difference after ~60 epochs on random 3-class labels"},
    "LSTMRegressor": {"check_sample_weight_equivalence_on_dense_data":
                      "summation-order rounding grows over 200 Adam epochs to 1.3e-7 "
                      "relative in one prediction (rtol=1e-7)"},
    **{name + task: {"check_sample_weight_equivalence_on_dense_data": _MINI_BATCH}
       for name in ("FCN", "ResNet") for task in ("Classifier", "Regressor")},
}


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


def _check_name(check):
    return getattr(check, "func", check).__name__


@parametrize_with_checks(_estimators(), expected_failed_checks=_expected_failures,
                         xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    params = PER_CHECK_PARAMS.get(_check_name(check))
    if params:  # on a copy: the same instance is passed to every check
        estimator = clone(estimator).set_params(**params)
    check(estimator)
