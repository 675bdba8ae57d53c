"""seqnet: neural networks for sequences on Numba, with scikit-learn's face.

Importing seqnet compiles nothing: kernels compile (or load from numba's
on-disk cache) the first time they run.  It does select numba's
'threadsafe' threading layer (unless NUMBA_THREADING_LAYER is set), without
starting any thread pool: see seqnet/_threads.py.
"""

from . import _threads as _threads_module
from ._threads import get_num_threads, set_num_threads, threads

_threads_module.ensure_threading_layer()

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
    "set_num_threads", "get_num_threads", "threads",
]
