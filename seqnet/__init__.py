"""seqnet: neural networks for sequences on Numba, with scikit-learn's face.

Importing seqnet compiles nothing: kernels compile (or load from numba's
on-disk cache) the first time they run.
"""

from ._threads import get_num_threads, set_num_threads, threads
# the function, bound after its module: seqnet.warmup is never the submodule
from .warmup import warmup

from .estimators import (
    ConvClassifier,
    ConvRegressor,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
    RNNRegressor,
)

__version__ = "0.1.0"

__all__ = [
    "MLPClassifier", "MLPRegressor", "RNNClassifier", "RNNRegressor",
    "LSTMClassifier", "LSTMRegressor", "GRUClassifier", "GRURegressor",
    "ConvClassifier", "ConvRegressor",
    "set_num_threads", "get_num_threads", "threads", "warmup",
]

