"""Behaviour of ConvClassifier / ConvRegressor: real-data accuracy, shapes, errors."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import seqnet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from digits_conv import DIGITS_CONV_SETTINGS  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_digits_images_accuracy_at_least_098():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
    clf = seqnet.ConvClassifier(**DIGITS_CONV_SETTINGS).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.98
    assert clf.weights_["conv.0.weight"].shape == (16, 1, 3, 3)
    assert clf.weights_["conv.1.weight"].shape == (32, 16, 3, 3)


def test_conv1d_sequences_and_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 24, 2)).astype(np.float32)
    y = X[:, 5:8, 0].sum(axis=1)
    reg = seqnet.ConvRegressor(filters=(8,), kernel_size=3, pool_size=2, strides=1,
                               hidden_layer_sizes=(16,), max_iter=80,
                               learning_rate_init=0.01, random_state=0).fit(X, y)
    assert reg.weights_["conv.0.weight"].shape == (8, 2, 3)
    assert reg.score(X, y) > 0.8
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_invalid_geometry_names_layer_and_sizes():
    X = np.zeros((4, 5, 1))
    y = np.array([0, 1, 0, 1])
    clf = seqnet.ConvClassifier(filters=(2,), kernel_size=2, strides=2, padding="valid",
                                pool_size=1, max_iter=1)
    with pytest.raises(ValueError, match=r"conv\.0.*5"):
        clf.fit(X, y)


def test_input_shape_mismatch_and_predict_shape_check():
    X = np.random.default_rng(0).normal(size=(10, 16))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="input_shape"):
        seqnet.ConvClassifier(input_shape=(3, 3, 1), max_iter=1).fit(X, y)
    clf = seqnet.ConvClassifier(input_shape=(4, 4, 1), filters=(2,), pool_size=1,
                                max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :9])
