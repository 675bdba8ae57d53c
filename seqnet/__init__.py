"""seqnet: neural networks for sequences on Numba, with scikit-learn's face.

Importing seqnet compiles nothing: kernels compile (or load from numba's
on-disk cache) the first time they run.  It imports nothing heavy either: the
estimators (and with them numba and scikit-learn) load on first use of a name
(PEP 562), so ``import seqnet`` and ``seqnet --help`` are quick.
"""

from typing import TYPE_CHECKING

from ._runtime.threads import get_num_threads, set_num_threads, threads

# the function, bound after its module: seqnet.warmup is never the submodule
from .warmup import warmup

__version__ = "0.1.0"

_ESTIMATORS = (
    "MLPClassifier", "MLPRegressor", "RNNClassifier", "RNNRegressor",
    "LSTMClassifier", "LSTMRegressor", "GRUClassifier", "GRURegressor",
    "ConvClassifier", "ConvRegressor",
    "FCNClassifier", "FCNRegressor", "ResNetClassifier", "ResNetRegressor",
    "RecursiveClassifier", "RecursiveRegressor",
)

__all__ = [*_ESTIMATORS, "set_num_threads", "get_num_threads", "threads", "warmup"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .estimators import (  # noqa: F401
        ConvClassifier,
        ConvRegressor,
        FCNClassifier,
        FCNRegressor,
        GRUClassifier,
        GRURegressor,
        LSTMClassifier,
        LSTMRegressor,
        MLPClassifier,
        MLPRegressor,
        RecursiveClassifier,
        RecursiveRegressor,
        RNNClassifier,
        ResNetClassifier,
        ResNetRegressor,
        RNNRegressor,
    )


def __getattr__(name):
    if name in _ESTIMATORS:
        from . import estimators

        value = getattr(estimators, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
