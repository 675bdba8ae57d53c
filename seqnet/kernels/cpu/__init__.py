"""CPU backend: ``@njit(cache=True)`` kernels, imported lazily by name.

Importing this package compiles nothing: numba compiles (or loads from its
cache) a kernel at its first call.  The CUDA backend mirrors these names.
"""

from .arrays import (  # noqa: F401  (the backend array API, see arrays.py)
    add,
    all_finite,
    ascontiguous,
    concat_last,
    copy,
    copy_into,
    empty,
    fill,
    is_device,
    slice_last,
    to_device,
    to_host,
    zeros,
)
from .activations import ACTIVATION_CODES, activation_backward, activation_forward
from .dense import dense_backward, dense_forward
from .dropout import dropout_backward, dropout_forward
from .losses import (
    sigmoid_cross_entropy,
    sigmoid_inplace,
    softmax_cross_entropy,
    softmax_rows,
    squared_error,
)
from .optim import (
    adadelta_update,
    adagrad_update,
    adam_update,
    add_elastic_net,
    global_norm,
    rmsprop_update,
    scale_inplace,
    sgd_update,
)

NAME = "cpu"


def _export_kernels(module):
    """Re-export a kernel module's public compiled functions under their names,
    so ``getattr(backend, name)`` finds every kernel on either backend."""
    from numba.core.registry import CPUDispatcher

    for name in dir(module):
        obj = getattr(module, name)
        if not name.startswith("_") and isinstance(obj, CPUDispatcher):
            globals()[name] = obj


def _export_optional(names):
    import importlib

    for name in names:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ImportError:  # a kernel family not present in this build
            continue
        _export_kernels(module)


_export_optional(["recurrent", "conv", "pool"])
