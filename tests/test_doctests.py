"""The Examples sections of the estimators and the forecaster run as doctests.

Every public estimator has one (it is what a user copies first), so it must
run, print what it says, and raise no ConvergenceWarning: an example that
warns teaches users to ignore the warning.  The examples are sized to take
about a second each once numba's cache is warm.
"""

import doctest
import importlib
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

import seqnet

MODULES = [
    "seqnet.estimators.mlp",
    "seqnet.estimators.recurrent",
    "seqnet.estimators.conv",
    "seqnet.estimators.fcn",
    "seqnet.estimators.recursive",
    "seqnet.forecasting",
    "seqnet.forecast_stats",
    "seqnet.preprocessing",
    "seqnet.datasets",
]
ESTIMATORS = [name for name in seqnet.__all__ if name.endswith(("Classifier", "Regressor"))]


def _doctests(module_name):
    module = importlib.import_module(module_name)
    return [t for t in doctest.DocTestFinder().find(module) if t.examples]


@pytest.mark.parametrize("module_name", MODULES)
def test_module_doctests(module_name):
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = _doctests(module_name)
    assert tests, f"{module_name} has no doctests"
    report = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for test in tests:
            # DocTestRunner writes a failure report through `out`.
            result = runner.run(test, out=report.append, clear_globs=True)
            assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_estimator_has_a_running_example(name):
    cls = getattr(seqnet, name)
    assert "Examples\n    --------" in cls.__doc__
    module_tests = {t.name for t in _doctests(cls.__module__)}
    assert f"{cls.__module__}.{name}" in module_tests
