"""CUDA backend: ``@cuda.jit`` kernels behind the SAME names and signatures as
``seqnet.kernels.cpu`` (arrays are numba device arrays; kernels that return
arrays on the CPU return device arrays here).

Imported only when a CUDA device is chosen (``seqnet._runtime.backend.get_backend``).
Tested on any machine with the simulator: ``NUMBA_ENABLE_CUDASIM=1``.
"""

from .activations import ACTIVATION_CODES  # noqa: F401
from .arrays import (  # noqa: F401
    add,
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
from .conv import (  # noqa: F401
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
)
from .dense import (  # noqa: F401
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
)
from .losses import (  # noqa: F401
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    squared_error,
)
from .poisson import poisson_deviance  # noqa: F401
from .matmul import matmul  # noqa: F401
from .optim import (  # noqa: F401
    adadelta_update,
    adagrad_update,
    adam_update,
    add_elastic_net,
    all_finite,
    global_norm,
    rmsprop_update,
    scale_inplace,
    sgd_update,
)
from .batchnorm import batchnorm_backward, batchnorm_forward_eval, batchnorm_forward_train  # noqa: F401,E501
from .global_pool import (  # noqa: F401
    global_avgpool_backward,
    global_avgpool_forward,
    global_maxpool_backward,
    global_maxpool_forward,
    mask_steps,
)
from .pool import (  # noqa: F401
    maxpool1d_backward,
    maxpool1d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .recurrent import recurrent_backward, recurrent_forward  # noqa: F401
from .seqpool import (  # noqa: F401
    seqpool_last_backward,
    seqpool_last_forward,
    seqpool_max_backward,
    seqpool_max_forward,
    seqpool_mean_backward,
    seqpool_mean_forward,
)
from .recurrent_leaky import leaky_rnn_backward, leaky_rnn_forward  # noqa: F401
from .tree import (  # noqa: F401
    tree_backward,
    tree_forward,
    tree_pool_backward,
    tree_pool_forward,
)

NAME = "cuda"
#: Arrays live in GPU memory: the training loop moves parameters there once per fit.
ON_DEVICE = True
