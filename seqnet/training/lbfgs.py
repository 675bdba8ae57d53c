"""``solver='lbfgs'``: scipy's L-BFGS-B over the one flat parameter buffer.

Full batch, as scikit-learn's MLP: the objective is the same regularised loss
the stochastic solvers minimise (the weighted mean data loss plus the
elastic-net penalty divided by the total sample weight), evaluated in the
compute dtype and handed to scipy in float64.  The data is processed in
chunks of :data:`CHUNK_ROWS` rows (bounding the memory of recurrent caches);
their gradients are summed with each chunk's share of the total weight.
Options follow scikit-learn's ``_fit_lbfgs``: ``maxiter=max_iter``,
``maxfun=max_fun``, ``gtol=tol``; a limit reached warns a ConvergenceWarning
through scikit-learn's own ``_check_optimize_result``.  Early stopping does
not apply (as in scikit-learn).
"""

import time

import numpy as np
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from seqnet.kernels import cpu as _host  # scipy's L-BFGS works on host arrays
from seqnet.network.layers import Context
from seqnet.network.network import input_to_device, step_weights

from .loop import _epoch_seed, take_batch
from .progress import EpochProgress

#: Rows per forward/backward call of one objective evaluation.
CHUNK_ROWS = 2048


class _MaxFunReached(Exception):
    """The line search asked for more than ``max_fun`` evaluations."""


class _Objective:
    """``fun(w) -> (loss, grad)`` in float64 for scipy; counts its calls."""

    def __init__(self, est, net, data, backend):
        self.est, self.net, self.backend = est, net, backend
        X, Y, sw, lengths = data
        self.chunks = [take_batch(X, Y, sw, lengths, slice(s, s + CHUNK_ROWS))
                       for s in range(0, X.shape[0], CHUNK_ROWS)]
        # each chunk's share of the loss rows' total weight (per step for
        # per-step outputs, whose padded steps weigh 0)
        w = np.array([float(step_weights(c.sw, c.y.shape, c.lengths, np.float64).sum())
                      for c in self.chunks])
        self.shares = w / w.sum()
        self.sw_total = float(sw.sum())
        self.reg_mask = backend.to_host(net.reg_mask)
        self.rng = np.random.default_rng(_epoch_seed(est.random_state, 0))
        self.n_calls = 0

    def __call__(self, w64):
        if self.n_calls >= self.est.max_fun:  # scipy may overrun maxfun mid line search
            raise _MaxFunReached
        self.n_calls += 1
        net, backend = self.net, self.backend
        w = w64.astype(net.dtype)
        backend.copy_into(net.params, backend.to_device(w))
        loss, grad = 0.0, None
        for chunk, share in zip(self.chunks, self.shares):
            ctx = Context(training=True, lengths=chunk.lengths, rng=self.rng,
                          backend=backend)
            chunk_loss = net.loss_and_grad(input_to_device(backend, chunk.x),
                                           backend.to_device(chunk.y), chunk.sw, ctx)
            loss += share * chunk_loss
            g = backend.to_host(net.grads)
            if grad is None:
                grad = g * g.dtype.type(share) if share != 1.0 else g
            else:
                grad += g * g.dtype.type(share)
        if self.est.alpha > 0:
            loss += _host.add_elastic_net(w, grad, self.reg_mask,
                                          self.est.alpha / max(self.sw_total, 1e-300),
                                          self.est.l1_ratio)
        return float(loss), grad.astype(np.float64)


def train_lbfgs(est, net, state, data, backend):
    """Minimise the full-batch loss with L-BFGS-B; returns the stop reason.

    Parameters
    ----------
    est : estimator (read for hyperparameters only)
    net : Network
    state : TrainingState
        ``n_iter_`` is set to this call's iterations, one ``loss_curve_`` entry
        is appended per iteration; ``best_loss_`` and the validation
        attributes are None (early stopping does not apply).
    data : (X, Y, sw, lengths) arrays in the compute dtype
    backend : kernel module
        The estimator's backend (``seqnet._runtime.backend.get_backend``).
    """
    state.best_loss_ = state.validation_scores_ = state.best_validation_score_ = None
    with net.on_backend(backend):
        objective = _Objective(est, net, data, backend)
        x0 = backend.to_host(net.params).astype(np.float64)
        progress = EpochProgress(est.verbose, est.max_iter, n_batches=1)
        last = scipy.optimize.OptimizeResult(x=x0, nit=0)
        clock = [time.perf_counter()]

        def callback(intermediate_result):
            last.x, last.nit = intermediate_result.x, last.nit + 1
            state.loss_curve_.append(float(intermediate_result.fun))
            now = time.perf_counter()
            progress.epoch(last.nit, state.loss_curve_[-1], None, now - clock[0])
            clock[0] = now

        try:
            res = scipy.optimize.minimize(
                objective, x0, method="L-BFGS-B", jac=True, callback=callback,
                options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
            )
        except _MaxFunReached:  # stop at the last iterate, as scipy's own maxfun stop
            res = scipy.optimize.OptimizeResult(
                x=last.x, nit=last.nit, status=1, success=False,
                message="STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT")
        finally:
            progress.close()
        x = res.x if np.all(np.isfinite(res.x)) else x0
        backend.copy_into(net.params, backend.to_device(x.astype(net.dtype)))
    state.n_iter_ = _check_optimize_result("lbfgs", res, est.max_iter)
    state.epochs += state.n_iter_
    state.n_fun_ = objective.n_calls
    return "converged" if res.success else "max_iter"
