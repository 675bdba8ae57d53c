"""Plain-NumPy float64 references for the foundation kernels and training rules.

Written for clarity, not speed, and independently of the kernels' formulation
(for example, activation derivatives are taken from the pre-activation ``z``,
not from the output as the kernels do).  Everything computes in float64.

Covered: activations, dense forward/backward, the three output losses, inverted
dropout, the five optimizer steps, the elastic-net penalty, global-norm
clipping and the learning-rate schedules.  The recurrent and convolution
references live in ``reference_recurrent.py`` / ``reference_conv.py`` and are
re-exported at the bottom of this module when present.
"""

import numpy as np

IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU, LECUN_TANH = 0, 1, 2, 3, 4, 5
ACTIVATIONS = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "lecun_tanh": LECUN_TANH,
}
LEAKY_SLOPE = 0.01
LECUN_SCALE = 1.7159


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# --------------------------------------------------------------- activations
def stable_sigmoid(z):
    z = _f64(z)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def activation(z, kind):
    """``f(z)`` elementwise."""
    z = _f64(z)
    if kind == IDENTITY:
        return z.copy()
    if kind == LOGISTIC:
        return stable_sigmoid(z)
    if kind == TANH:
        return np.tanh(z)
    if kind == RELU:
        return np.maximum(z, 0.0)
    if kind == LEAKY_RELU:
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if kind == LECUN_TANH:
        return LECUN_SCALE * np.tanh(2.0 * z / 3.0)
    raise ValueError(kind)


def activation_derivative(z, kind):
    """``f'(z)`` from the pre-activation."""
    z = _f64(z)
    if kind == IDENTITY:
        return np.ones_like(z)
    if kind == LOGISTIC:
        s = stable_sigmoid(z)
        return s * (1.0 - s)
    if kind == TANH:
        return 1.0 / np.cosh(z) ** 2
    if kind == RELU:
        return (z > 0).astype(np.float64)
    if kind == LEAKY_RELU:
        return np.where(z > 0, 1.0, LEAKY_SLOPE)
    if kind == LECUN_TANH:
        return LECUN_SCALE * (2.0 / 3.0) / np.cosh(2.0 * z / 3.0) ** 2
    raise ValueError(kind)


# --------------------------------------------------------------------- dense
def dense_preactivation(x, w, b):
    return _f64(x) @ _f64(w).T + _f64(b)


def dense_forward(x, w, b, kind):
    """``a = f(x W^T + b)``; x (B, I), W (O, I), b (O,)."""
    return activation(dense_preactivation(x, w, b), kind)


def dense_backward(x, w, b, d_a, kind):
    """Return ``(d_w, d_b, d_x)`` for upstream gradient ``d_a`` of the output."""
    z = dense_preactivation(x, w, b)
    dz = _f64(d_a) * activation_derivative(z, kind)
    return dz.T @ _f64(x), dz.sum(axis=0), dz @ _f64(w)


# -------------------------------------------------------------------- losses
def _normalised_weights(sw, n):
    sw = np.ones(n) if sw is None else _f64(sw)
    total = sw.sum()
    return sw / (total if total > 0 else 1.0)


def log_softmax(z):
    z = _f64(z)
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def softmax(z):
    return np.exp(log_softmax(z))


def softmax_cross_entropy(z, y, sw=None):
    """Weighted mean of ``-sum_k y log softmax(z)``; returns ``(loss, d_z)``."""
    z, y = _f64(z), _f64(y)
    w = _normalised_weights(sw, z.shape[0])
    loss = -np.sum(w * np.sum(y * log_softmax(z), axis=1))
    return loss, w[:, None] * (softmax(z) - y)


def sigmoid_cross_entropy(z, y, sw=None):
    """Weighted mean of ``sum_k softplus(z) - y z`` (summed over outputs)."""
    z, y = _f64(z), _f64(y)
    w = _normalised_weights(sw, z.shape[0])
    per = np.logaddexp(0.0, z) - y * z
    loss = np.sum(w * per.sum(axis=1))
    return loss, w[:, None] * (stable_sigmoid(z) - y)


def squared_error(z, y, sw=None):
    """Weighted mean of ``0.5 mean_k (z - y)^2`` (scikit-learn's MLP squared loss)."""
    z, y = _f64(z), _f64(y)
    w = _normalised_weights(sw, z.shape[0])
    k = z.shape[1]
    r = z - y
    loss = np.sum(w * 0.5 * np.mean(r * r, axis=1))
    return loss, w[:, None] * r / k


LOSSES = {
    "softmax": softmax_cross_entropy,
    "logistic": sigmoid_cross_entropy,
    "squared": squared_error,
}


# ------------------------------------------------------------------- dropout
def dropout_mask(u, rate):
    """Inverted-dropout mask: ``1[u >= rate] / (1 - rate)``."""
    return np.where(_f64(u) >= rate, 1.0 / (1.0 - rate), 0.0)


def dropout_forward(x, u, rate):
    """Return ``(out, mask)``."""
    mask = dropout_mask(u, rate)
    return _f64(x) * mask, mask


def dropout_backward(d_out, mask):
    return _f64(d_out) * _f64(mask)


# ---------------------------------------------------------------- optimizers
def sgd_step(p, g, velocity, lr, momentum, nesterov):
    """scikit-learn's SGD: returns ``(p, velocity)`` (new arrays)."""
    p, g, v = _f64(p), _f64(g), _f64(velocity)
    v = momentum * v - lr * g
    update = momentum * v - lr * g if nesterov else v
    return p + update, v


def adam_lr_t(lr, beta_1, beta_2, t):
    """scikit-learn's bias-corrected step size for update number ``t`` (1-based)."""
    return lr * np.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)


def adam_step(p, g, m, s, lr, beta_1, beta_2, epsilon, t):
    """Update number ``t`` (1-based); returns ``(p, m, s)``."""
    p, g, m, s = _f64(p), _f64(g), _f64(m), _f64(s)
    m = beta_1 * m + (1.0 - beta_1) * g
    s = beta_2 * s + (1.0 - beta_2) * g * g
    return p - adam_lr_t(lr, beta_1, beta_2, t) * m / (np.sqrt(s) + epsilon), m, s


def rmsprop_step(p, g, s, lr, rho, epsilon):
    p, g, s = _f64(p), _f64(g), _f64(s)
    s = rho * s + (1.0 - rho) * g * g
    return p - lr * g / (np.sqrt(s) + epsilon), s


def adagrad_step(p, g, s, lr, epsilon):
    p, g, s = _f64(p), _f64(g), _f64(s)
    s = s + g * g
    return p - lr * g / (np.sqrt(s) + epsilon), s


def adadelta_step(p, g, s, u, lr, rho, epsilon):
    """Zeiler (2012) with a learning-rate factor; returns ``(p, s, u)``."""
    p, g, s, u = _f64(p), _f64(g), _f64(s), _f64(u)
    s = rho * s + (1.0 - rho) * g * g
    d = np.sqrt(u + epsilon) / np.sqrt(s + epsilon) * g
    u = rho * u + (1.0 - rho) * d * d
    return p - lr * d, s, u


class ReferenceOptimizer:
    """The five solvers with the estimators' parameter names (rho = beta_2)."""

    def __init__(self, solver, n, momentum=0.9, nesterov=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8):
        self.solver = solver
        self.momentum, self.nesterov = momentum, nesterov
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.state = [np.zeros(n), np.zeros(n)]

    def step(self, p, g, lr):
        self.t += 1
        a, b = self.state
        if self.solver == "sgd":
            p, a = sgd_step(p, g, a, lr, self.momentum, self.nesterov)
        elif self.solver == "adam":
            p, a, b = adam_step(p, g, a, b, lr, self.beta_1, self.beta_2, self.epsilon,
                                self.t)
        elif self.solver == "rmsprop":
            p, a = rmsprop_step(p, g, a, lr, self.beta_2, self.epsilon)
        elif self.solver == "adagrad":
            p, a = adagrad_step(p, g, a, lr, self.epsilon)
        elif self.solver == "adadelta":
            p, a, b = adadelta_step(p, g, a, b, lr, self.beta_2, self.epsilon)
        else:
            raise ValueError(self.solver)
        self.state = [a, b]
        return p


# ------------------------------------------------- regularisation / clipping
def elastic_net(p, reg_mask, alpha, l1_ratio):
    """``(penalty, gradient)`` of ``alpha (0.5 (1-r) ||w||^2 + r ||w||_1)`` on masked entries."""
    p = _f64(p)
    m = np.asarray(reg_mask).astype(bool)
    w = np.where(m, p, 0.0)
    penalty = alpha * (0.5 * (1.0 - l1_ratio) * np.sum(w * w) + l1_ratio * np.sum(np.abs(w)))
    grad = alpha * ((1.0 - l1_ratio) * w + l1_ratio * np.sign(w))
    return penalty, grad


def clip_by_global_norm(g, clip_norm):
    """Rescale ``g`` to norm ``clip_norm`` when its Euclidean norm exceeds it."""
    g = _f64(g)
    norm = np.sqrt(np.sum(g * g))
    if clip_norm is not None and norm > clip_norm:
        return g * (clip_norm / (norm + 1e-12)), norm
    return g.copy(), norm


# ----------------------------------------------------------------- schedules
class ReferenceSchedule:
    """Learning-rate rules (see ``seqnet/training/schedules.py``).

    ``rate_before_batch()`` is the rate the optimizer uses; ``after_batch`` is
    called with the samples seen so far (``t_``) and the updates done;
    ``stalled()`` is the adaptive rule, returning True to stop.
    """

    def __init__(self, kind, lr0, power_t=0.5, max_lr=None, cycle_iterations=2):
        self.kind, self.lr0, self.power_t = kind, float(lr0), float(power_t)
        self.max_lr = 10.0 * lr0 if max_lr is None else float(max_lr)
        self.cycle = max(2, int(cycle_iterations))
        self.lr = float(lr0)

    def after_batch(self, samples_seen, updates_done):
        if self.kind == "invscaling":
            self.lr = self.lr0 / (samples_seen + 1.0) ** self.power_t
        elif self.kind == "cyclic":
            # triangular wave with period `cycle` updates, 0 at multiples of it
            pos = updates_done % self.cycle
            half = self.cycle / 2.0
            frac = pos / half if pos <= half else (self.cycle - pos) / half
            self.lr = self.lr0 + frac * (self.max_lr - self.lr0)

    def stalled(self):
        if self.kind != "adaptive" or self.lr <= 1e-6:
            return True
        self.lr /= 5.0
        return False


# ---------------------------------------------------- finite differences
def numerical_gradient(f, x, h=1e-6):
    """Central differences of scalar ``f()`` w.r.t. array ``x`` (perturbed in place)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.shape[0]):
        old = flat[i]
        flat[i] = old + h
        fp = f()
        flat[i] = old - h
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2.0 * h)
    return grad


def relative_error(a, b):
    """``||a - b|| / max(||a|| + ||b||, tiny)`` (0 when both are 0)."""
    a, b = _f64(a).ravel(), _f64(b).ravel()
    den = np.linalg.norm(a) + np.linalg.norm(b)
    if den == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / den)
