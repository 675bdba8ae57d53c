"""The contract between the network and its kernel backends.

Backend-neutral facts that both backends (``seqnet.kernels.cpu`` and
``seqnet.kernels.cuda``) and everything above them share: activation codes,
recurrent cell tables, numeric constants, and the kernels every backend
provides, each with its one parameter list.  This module imports neither
backend; both import it.  ``tests/test_contract.py`` checks that both
backends implement every kernel named here with exactly these parameters.
"""

# ------------------------------------------------------------- activations
#: Activation codes, the ``kind`` argument of the kernels.
IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU, LECUN_TANH = 0, 1, 2, 3, 4, 5

#: Activation names (scikit-learn's and seqnet's) to codes.
ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "lecun_tanh": LECUN_TANH,
}

#: Slope of leaky_relu for negative inputs.
LEAKY_SLOPE = 0.01
#: LeCun's scaled tanh: ``LECUN_SCALE * tanh(2 z / 3)``.
LECUN_SCALE = 1.7159

# ----------------------------------------------------------- recurrent cells
#: Gates per cell, in PyTorch's weight layout (rows of W_ih / W_hh in units of H).
CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

#: Magnitude below which backward recurrent values are flushed to zero, so
#: decaying gradients never reach the slow denormal range (both dtypes).
FTZ_THRESHOLD = 1e-30

# --------------------------------------------------------- backend modules
#: Module attributes every backend defines, besides its kernels: how the
#: layers above tell backends apart without knowing which one runs.
BACKEND_ATTRIBUTES = {
    "NAME": "str: the ``device`` name that selects the backend ('cpu', 'cuda')",
    "ON_DEVICE": "bool: arrays live in accelerator memory (moved there per fit)",
}

# ------------------------------------------------------------------ kernels
#: Every kernel a backend provides, with its parameters in order.  Array
#: helpers first, then the layers' forward / backward pairs, losses and the
#: optimizer updates.
KERNELS = {
    # arrays: allocation and movement (CPU: NumPy; CUDA: device arrays)
    "empty": "shape, dtype",
    "zeros": "shape, dtype",
    "fill": "a, value",
    "copy": "a",
    "copy_into": "dst, src",
    "add": "a, b",
    "ascontiguous": "a, dtype",
    "concat_last": "a, b",
    "slice_last": "a, start, stop",
    "is_device": "a",
    "to_device": "a",
    "to_host": "a, out",
    "all_finite": "a",
    # dense layers and dropout
    "dense_forward": "x, w, b, kind, out",
    "dense_backward": "x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx",
    "activation_forward": "z, kind, out",
    "activation_backward": "a, d_a, kind, d_z",
    "dropout_forward": "x, u, rate, out, mask",
    "dropout_backward": "d_out, mask, d_x",
    # convolution, pooling, batch normalisation
    "conv1d_forward": "x, weight, bias, stride, pad, kind, y",
    "conv1d_backward": "x, weight, y, dy, stride, pad, kind, need_dx, dx, dweight, dbias",
    "conv2d_forward": "x, weight, bias, stride_h, stride_w, pad_h, pad_w, kind, y",
    "conv2d_backward": ("x, weight, y, dy, stride_h, stride_w, pad_h, pad_w, kind, need_dx, "
                        "dx, dweight, dbias"),
    "maxpool1d_forward": "x, pool, stride, y, argmax",
    "maxpool1d_backward": "dy, argmax, dx",
    "maxpool2d_forward": "x, pool_h, pool_w, stride_h, stride_w, y, argmax",
    "maxpool2d_backward": "dy, argmax, dx",
    "batchnorm_forward_train": ("x, lengths, weights, gamma, beta, momentum, eps, relu, "
                                "running_mean, running_var, y, xhat, inv_std"),
    "batchnorm_forward_eval": "x, lengths, gamma, beta, eps, relu, running_mean, running_var, y",
    "batchnorm_backward": ("dy, y, xhat, lengths, weights, gamma, inv_std, relu, need_dx, dx, "
                           "dgamma, dbeta"),
    "global_avgpool_forward": "x, lengths",
    "global_avgpool_backward": "dy, lengths, x_shape",
    "global_maxpool_forward": "x, lengths",
    "global_maxpool_backward": "dy, argmax, x_shape",
    "mask_steps": "x, lengths",
    # recurrent layers (one direction per call) and sequence pooling
    # (``cell``: a key of CELL_GATES; ``c0`` read by the LSTM, ``kind`` by the RNN)
    "recurrent_forward": ("cell, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, kind, "
                          "keep_cache"),
    "recurrent_backward": "cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx, kind",
    # leaky RNN cell with skip connections in time (rnn_* stay the plain cell's path)
    "leaky_rnn_forward": "x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, skip, kind",
    "leaky_rnn_backward": "dh, x, lengths, w_ih, w_hh, w_skip, a, h, cache, bptt, need_dx",
    "seqpool_last_forward": "y, lengths, directions",
    "seqpool_last_backward": "dout, lengths, directions, T",
    "seqpool_mean_forward": "y, lengths",
    "seqpool_mean_backward": "dout, lengths, T",
    "seqpool_max_forward": "y, lengths",
    "seqpool_max_backward": "dout, argmax, T",
    # recursive (tree) cell over a batch of trees ordered by height, and its pooling
    "tree_forward": ("x_leaf, left, right, level_ptr, w_leaf, b_leaf, w_left, w_right, bias, "
                     "kind, children, h"),
    "tree_backward": ("d_h, x_leaf, left, right, level_ptr, h, children, w_left, w_right, "
                      "kind, d_w_leaf, d_b_leaf, d_w_left, d_w_right, d_bias"),
    "tree_pool_forward": "h, pool_ptr, pool_nodes, pool_weight, out",
    "tree_pool_backward": "d_out, pool_ptr, pool_nodes, pool_weight, d_h",
    # losses: per-sample weights ``sw``, gradient into ``d_out``
    "squared_error": "z, y, sw, d_out",
    "sigmoid_cross_entropy": "z, y, sw, d_out",
    "softmax_cross_entropy": "z, y, sw, d_out",
    "poisson_deviance": "z, y, sw, d_out",
    # regularisation, clipping and optimizer updates on the flat buffers
    "add_elastic_net": "params, grads, reg_mask, alpha, l1_ratio",
    "global_norm": "grads",
    "scale_inplace": "grads, factor",
    "sgd_update": "params, grads, velocity, lr, momentum, nesterov",
    "adam_update": "params, grads, m, s, lr_t, beta_1, beta_2, epsilon",
    "rmsprop_update": "params, grads, s, lr, rho, epsilon",
    "adagrad_update": "params, grads, s, lr, epsilon",
    "adadelta_update": "params, grads, s, u, lr, rho, epsilon",
}


def parameters(name):
    """The parameter names of kernel ``name``, in order."""
    return [p.strip() for p in KERNELS[name].split(",")]
