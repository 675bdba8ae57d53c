"""Optimizers: state arrays over the flat buffer plus one fused kernel call per step.

The learning rate is passed in at every step by the schedule
(``schedules.py``), so any solver combines with any schedule.  Decay rates:
adam uses ``beta_1``/``beta_2``; rmsprop and adadelta use ``beta_2`` as their
squared-gradient decay ``rho`` (documented on the estimators).
"""

import numpy as np


SOLVERS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta")


class Optimizer:
    """Solver state for one flat parameter buffer.

    Parameters
    ----------
    solver : {'adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta'}
    n_params : int
    dtype : numpy dtype
    momentum, nesterovs_momentum, beta_1, beta_2, epsilon :
        As on the estimators (scikit-learn's MLP names).
    """

    def __init__(self, solver, n_params, dtype, momentum=0.9, nesterovs_momentum=True,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.solver = solver
        self.momentum = float(momentum)
        self.nesterov = bool(nesterovs_momentum)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0  # number of updates, for adam's bias correction
        n_state = {"adam": 2, "sgd": 1, "rmsprop": 1, "adagrad": 1, "adadelta": 2}[solver]
        self.state = [np.zeros(n_params, dtype=dtype) for _ in range(n_state)]

    def to_backend(self, backend):
        """Move the state arrays to ``backend``'s device (no-op on the CPU)."""
        if backend.ON_DEVICE:
            self.state = [backend.to_device(s) for s in self.state]

    def to_host(self, backend):
        """Bring the state arrays back as NumPy arrays (they pickle as such)."""
        if backend.ON_DEVICE:
            self.state = [backend.to_host(s) for s in self.state]

    def step(self, params, grads, lr, backend):
        """Apply one update in place with learning rate ``lr``, with the
        update kernels of ``backend`` (where ``params`` live)."""
        k = backend
        self.t += 1
        if self.solver == "adam":
            lr_t = lr * np.sqrt(1.0 - self.beta_2 ** self.t) / (1.0 - self.beta_1 ** self.t)
            k.adam_update(params, grads, self.state[0], self.state[1], lr_t,
                          self.beta_1, self.beta_2, self.epsilon)
        elif self.solver == "sgd":
            k.sgd_update(params, grads, self.state[0], lr, self.momentum, self.nesterov)
        elif self.solver == "rmsprop":
            k.rmsprop_update(params, grads, self.state[0], lr, self.beta_2, self.epsilon)
        elif self.solver == "adagrad":
            k.adagrad_update(params, grads, self.state[0], lr, self.epsilon)
        else:
            k.adadelta_update(params, grads, self.state[0], self.state[1], lr,
                              self.beta_2, self.epsilon)
