"""The scikit-learn face: one base class plus thin subclasses per family."""

from .mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
