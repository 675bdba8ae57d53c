"""CPU backend: ``@njit(cache=True)`` kernels, imported lazily by name.

Importing this package compiles nothing: numba compiles (or loads from its
cache) a kernel at its first call.  The CUDA backend mirrors these names.
"""

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
