"""Every estimator writes its ``__init__`` out, as scikit-learn's do; the shared
parameters must agree across them (name, default, keyword-only)."""

import inspect

import pytest

import seqnet
from seqnet.estimators.base import SHARED_DEFAULTS
from seqnet.estimators.fcn import FCN_DEFAULTS, RESNET_DEFAULTS
from seqnet.estimators.recurrent import RECURRENT_DEFAULTS

ESTIMATORS = [getattr(seqnet, name) for name in seqnet.__all__
              if name.endswith(("Classifier", "Regressor"))]

#: Defaults a family sets differently from SHARED_DEFAULTS, and why.
FAMILY_DEFAULTS = {
    # recurrent models clip the global gradient norm by default and train
    # small data sets in mini-batches with patience (issue 22)
    "RNN": RECURRENT_DEFAULTS, "LSTM": RECURRENT_DEFAULTS, "GRU": RECURRENT_DEFAULTS,
    # the published training recipe of Wang et al. (2017)
    "FCN": FCN_DEFAULTS, "ResNet": RESNET_DEFAULTS,
}


def _family(cls):
    return next((k for k in FAMILY_DEFAULTS if cls.__name__.startswith(k)), None)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_shared_parameters_agree(cls):
    params = inspect.signature(cls.__init__).parameters
    expected = {**SHARED_DEFAULTS, **FAMILY_DEFAULTS.get(_family(cls), {})}
    for name, default in expected.items():
        assert name in params, name
        assert params[name].default == default, (name, params[name].default, default)
        assert params[name].kind == inspect.Parameter.KEYWORD_ONLY, name
    task = "class_weight" if cls.__name__.endswith("Classifier") else "loss"
    assert list(params)[-1] == task
    assert params[task].default == (None if task == "class_weight" else "squared_error")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_init_only_stores_its_arguments(cls):
    est = cls()
    params = inspect.signature(cls.__init__).parameters
    assert set(est.get_params()) == set(params) - {"self"}
    for name, param in params.items():
        if name != "self":
            assert getattr(est, name) is param.default or getattr(est, name) == param.default
