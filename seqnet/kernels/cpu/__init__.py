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
    softmax_cross_entropy,
    squared_error,
)
from .batchnorm import batchnorm_backward, batchnorm_forward_eval, batchnorm_forward_train
from .conv import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward
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
from .global_pool import (
    global_avgpool_backward,
    global_avgpool_forward,
    global_maxpool_backward,
    global_maxpool_forward,
    mask_steps,
)
from .poisson import poisson_deviance  # noqa: F401
from .pool import maxpool1d_backward, maxpool1d_forward, maxpool2d_backward, maxpool2d_forward
from .recurrent import (
    recurrent_backward,
    recurrent_forward,
    seqpool_last_backward,
    seqpool_last_forward,
    seqpool_max_backward,
    seqpool_max_forward,
    seqpool_mean_backward,
    seqpool_mean_forward,
)
from .recurrent_leaky import leaky_rnn_backward, leaky_rnn_forward
from .tree import tree_backward, tree_forward, tree_pool_backward, tree_pool_forward

NAME = "cpu"
#: Arrays live in host memory (NumPy): moving them to or from the backend is free.
ON_DEVICE = False
