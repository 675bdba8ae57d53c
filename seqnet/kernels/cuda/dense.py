"""Dense, elementwise-activation and dropout kernels (CUDA twins of
``seqnet.kernels.cpu.dense`` / ``activations`` / ``dropout``).

Forward is one tiled product with bias and activation fused in its epilogue;
backward is a fused ``dZ = dA * f'(a)`` kernel, a deterministic column sum for
the bias gradient and two tiled products (``dW = dZ^T x``, ``dX = dZ W``).
"""

from numba import cuda

from .activations import activate, derivative
from .arrays import flat, grid
from .matmul import matmul
from .reduce import column_sums


@cuda.jit
def _activation_forward(z, kind, out):
    for i in range(cuda.grid(1), z.shape[0], cuda.gridsize(1)):
        out[i] = activate(z[i], kind)


@cuda.jit
def _activation_backward(a, d_a, kind, d_z):
    for i in range(cuda.grid(1), a.shape[0], cuda.gridsize(1)):
        d_z[i] = d_a[i] * derivative(a[i], kind)


@cuda.jit
def _dropout_forward(x, u, rate, out, mask):
    # rate comes in the array dtype (cast on the host): float32 stays float32
    one = out.dtype.type(1.0)
    inv = one / (one - rate)
    zero = out.dtype.type(0.0)
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        m = inv if u[i] >= rate else zero
        mask[i] = m
        out[i] = x[i] * m


@cuda.jit
def _dropout_backward(d_out, mask, d_x):
    for i in range(cuda.grid(1), d_out.shape[0], cuda.gridsize(1)):
        d_x[i] = d_out[i] * mask[i]


def activation_forward(z, kind, out):
    """``out[i, j] = f(z[i, j])`` for 2-D device arrays (``out`` may be ``z``)."""
    if z.size:
        _activation_forward[grid(z.size)](flat(z), int(kind), flat(out))


def activation_backward(a, d_a, kind, d_z):
    if a.size:
        _activation_backward[grid(a.size)](flat(a), flat(d_a), int(kind), flat(d_z))


def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; one product with a fused epilogue."""
    matmul(x, w, out, trans_b=True, bias=b, kind=kind)


def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; ``d_a`` is overwritten with dZ (as on the CPU)."""
    if a.size:
        fa = flat(d_a)
        _activation_backward[grid(a.size)](flat(a), fa, int(kind), fa)
    column_sums(d_a, d_b)
    matmul(d_a, x, d_w, trans_a=True)
    if compute_dx:
        matmul(d_a, w, d_x)


def dropout_forward(x, u, rate, out, mask):
    """1-D device arrays: writes ``mask`` and ``out = x * mask``."""
    if x.shape[0]:
        _dropout_forward[grid(x.shape[0])](x, u, out.dtype.type(rate), out, mask)


def dropout_backward(d_out, mask, d_x):
    if d_out.shape[0]:
        _dropout_backward[grid(d_out.shape[0])](d_out, mask, d_x)
