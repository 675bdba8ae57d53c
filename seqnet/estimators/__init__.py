"""The scikit-learn face: one base class plus thin subclasses per family."""

from .conv import ConvClassifier, ConvRegressor
from .fcn import FCNClassifier, FCNRegressor, ResNetClassifier, ResNetRegressor
from .mlp import MLPClassifier, MLPRegressor
from .recursive import RecursiveClassifier, RecursiveRegressor
from .recurrent import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)

__all__ = [
    "MLPClassifier", "MLPRegressor", "RNNClassifier", "RNNRegressor",
    "LSTMClassifier", "LSTMRegressor", "GRUClassifier", "GRURegressor",
    "ConvClassifier", "ConvRegressor",
    "FCNClassifier", "FCNRegressor", "ResNetClassifier", "ResNetRegressor",
    "RecursiveClassifier", "RecursiveRegressor",
]
