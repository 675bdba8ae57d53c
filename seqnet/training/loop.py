"""The one training loop shared by every estimator.

The epoch loop stays in Python (stopping rules, history, progress, Ctrl-C);
each batch is a handful of compiled kernel calls.  Stopping follows
scikit-learn's MLP: with ``early_stopping`` the validation score must improve
by ``tol`` within ``n_iter_no_change`` epochs, otherwise the training loss must
fall by ``tol``; the best weights are restored at the end of early stopping.
"""

import time
import warnings

import numpy as np
from scipy.sparse import issparse
from sklearn.exceptions import ConvergenceWarning

from seqnet.network.layers import Context
from seqnet.network.network import input_to_device

from .optimizers import Optimizer
from .progress import EpochProgress
from .schedules import LearningRateSchedule


class TrainingState:
    """Everything that persists between ``fit`` / ``partial_fit`` calls."""

    def __init__(self, est, n_params, dtype, n_batches_per_epoch):
        self.optimizer = None if est.solver == "lbfgs" else Optimizer(
            est.solver, n_params, dtype, est.momentum, est.nesterovs_momentum,
            est.beta_1, est.beta_2, est.epsilon,
        )
        self.schedule = LearningRateSchedule(
            est.learning_rate, est.learning_rate_init, est.power_t,
            est.max_learning_rate, est.cycle_length * n_batches_per_epoch,
        )
        self.t_ = 0
        self.epochs = 0  # over every call: seeds each epoch's shuffle
        self.n_iter_ = 0  # epochs of the latest call (scikit-learn's n_iter_)
        self.loss_curve_ = []
        self.validation_scores_ = [] if est.early_stopping else None
        self.best_loss_ = np.inf if not est.early_stopping else None
        self.best_validation_score_ = -np.inf if est.early_stopping else None
        self.no_improvement_count = 0
        self.best_params = None


class Batch:
    __slots__ = ("x", "y", "sw", "lengths")

    def __init__(self, x, y, sw, lengths):
        self.x, self.y, self.sw, self.lengths = x, y, sw, lengths


def take_batch(X, Y, sw, lengths, idx):
    """Gather rows ``idx`` (indices, or a slice: a view where one will do);
    trim post-padding to the batch's longest sequence."""
    lb = None
    if lengths is not None:
        lb = lengths[idx]
        t_max = int(lb.max())
        if t_max < X.shape[1]:
            xb = _batch_array(X[idx, :t_max])
            yb = Y[idx, :t_max] if Y.ndim == 3 else Y[idx]
            return Batch(xb, _batch_array(yb), _batch_array(sw[idx]), lb)
    return Batch(_batch_array(X[idx]), _batch_array(Y[idx]), _batch_array(sw[idx]), lb)


def _batch_array(a):
    """``a`` itself when the kernels can take it (a C-contiguous writeable view
    of unshuffled rows: no copy), else a C-contiguous copy.  A read-only view
    (a memory map, a joblib worker's input) is copied: numba would compile
    every kernel again for read-only arrays.  A sparse batch (CSR rows of a
    sparse ``X``) is returned as it is: the first dense layer multiplies it;
    so is a batch of trees (a ``Forest``: the tree layer reads its arrays)."""
    if issparse(a) or not isinstance(a, np.ndarray):
        return a
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


def batch_size_for(est, n_samples):
    if est.batch_size == "auto":
        return min(200, n_samples)
    return int(np.clip(est.batch_size, 1, n_samples))


def train_epochs(est, net, state, data, validate, incremental, backend):
    """Run epochs until stopping; returns the reason training ended.

    On a device backend (CUDA) the parameters, gradients, ``reg_mask`` and the
    optimizer state stay on the device for the whole call; each batch is
    gathered on the host and copied there once, and the parameters come back
    into the host buffer at the end (``weights_`` views stay valid).

    Parameters
    ----------
    est : estimator (read for hyperparameters only)
    net : Network
    state : TrainingState
    data : (X, Y, sw, lengths) arrays in the compute dtype
    validate : callable() -> float or None
        Validation score of the current weights (early stopping).
    incremental : bool
        ``partial_fit``: exactly one pass over ``data``.
    backend : kernel module
        The estimator's backend (``seqnet._runtime.backend.get_backend``).
    """
    with net.on_backend(backend):
        state.optimizer.to_backend(backend)
        try:
            return _train_epochs(est, net, state, data, validate, incremental, backend)
        finally:
            state.optimizer.to_host(backend)
            if state.best_params is not None:
                state.best_params = backend.to_host(state.best_params)


def _train_epochs(est, net, state, data, validate, incremental, backend):
    X, Y, sw, lengths = data
    n = X.shape[0]
    bs = batch_size_for(est, n)
    rng = np.random.default_rng(_epoch_seed(est.random_state, state.epochs))
    state.n_iter_ = 0
    max_iter = 1 if incremental else est.max_iter
    progress = EpochProgress(est.verbose, max_iter, n_batches=-(-n // bs))
    reason = "max_iter"
    # Weights at which the most recent batch loss was finite, and a scratch
    # copy of the weights a batch starts from: divergence restores the former.
    last_good = backend.copy(net.params)
    trial = backend.empty(last_good.shape, last_good.dtype)
    try:
        for _ in range(max_iter):
            start = time.perf_counter()
            order = rng.permutation(n) if est.shuffle else None
            total_loss, total_w = 0.0, 0.0
            diverged = False
            for b0 in range(0, n, bs):
                # unshuffled batches are slices: views of the data, not copies
                idx = slice(b0, b0 + bs) if order is None else order[b0:b0 + bs]
                batch = take_batch(X, Y, sw, lengths, idx)
                backend.copy_into(trial, net.params)
                loss = _train_step(est, net, state, batch, rng, backend)
                if not np.isfinite(loss):
                    diverged = True
                    break
                last_good, trial = trial, last_good
                w = float(batch.sw.sum())
                total_loss += loss * w
                total_w += w
                progress.batch(loss)
            # a step with a finite loss can still overflow the weights
            if not diverged and not backend.all_finite(net.params):
                diverged = True
            if diverged:
                backend.copy_into(net.params, last_good)
                warnings.warn(
                    f"{type(est).__name__}: the training loss became NaN or infinite in "
                    f"epoch {state.epochs + 1}; training stopped and the weights were "
                    "restored to the last ones with a finite loss. Lower "
                    "learning_rate_init or set clip_norm (e.g. clip_norm=1.0).",
                    ConvergenceWarning,
                )
                reason = "diverged"
                break
            state.n_iter_ += 1
            state.epochs += 1
            epoch_loss = total_loss / max(total_w, 1e-300)
            state.loss_curve_.append(epoch_loss)
            stop = _update_stopping(est, net, state, epoch_loss, validate)
            progress.epoch(state.n_iter_, epoch_loss,
                           state.validation_scores_[-1] if state.validation_scores_ else None,
                           time.perf_counter() - start)
            if stop:
                reason = "converged"
                break
            if incremental:
                reason = "incremental"
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({est.max_iter}) reached "
                    "and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:
        reason = "interrupted"
        warnings.warn(
            f"{type(est).__name__}: training interrupted after {state.n_iter_} epochs; "
            "keeping the best weights so far.",
            UserWarning,
        )
    finally:
        progress.close()
    if est.early_stopping and state.best_params is not None:
        backend.copy_into(net.params, state.best_params)
    return reason


def _epoch_seed(random_state, n_iter):
    """Shuffling/dropout seed derived from ``random_state`` and the epoch count."""
    if random_state is None:
        return None
    base = random_state if isinstance(random_state, (int, np.integer)) else 0
    return [int(base) & 0xFFFFFFFF, int(n_iter), 7]


def _train_step(est, net, state, batch, rng, backend):
    ctx = Context(training=True, lengths=batch.lengths, rng=rng, backend=backend)
    # one host-to-device copy of the batch (identity on the CPU)
    loss = net.loss_and_grad(input_to_device(backend, batch.x), backend.to_device(batch.y),
                             batch.sw, ctx)
    if est.alpha > 0:
        scale = est.alpha / max(float(batch.sw.sum()), 1e-300)
        loss += backend.add_elastic_net(net.params, net.grads, net.reg_mask,
                                        scale, est.l1_ratio)
    clip = _clip_norm(est)
    if clip is not None:
        norm = backend.global_norm(net.grads)
        if norm > clip:
            backend.scale_inplace(net.grads, clip / (norm + 1e-12))
    state.optimizer.step(net.params, net.grads, state.schedule.learning_rate, backend)
    state.t_ += batch.x.shape[0]
    state.schedule.batch_end(state.t_, state.optimizer.t)
    return loss


def _clip_norm(est):
    clip = est.clip_norm
    if isinstance(clip, str):  # 'auto': recurrent models clip at 5, others do not
        return getattr(est, "_default_clip_norm", None)
    return clip


def _update_stopping(est, net, state, epoch_loss, validate):
    """scikit-learn's no-improvement bookkeeping; returns True to stop."""
    if est.early_stopping and validate is not None:
        score = validate()
        state.validation_scores_.append(score)
        if score < state.best_validation_score_ + est.tol:
            state.no_improvement_count += 1
        else:
            state.no_improvement_count = 0
        if score > state.best_validation_score_:
            state.best_validation_score_ = score
            state.best_params = _copy_params(net)
    else:
        if state.best_loss_ is None:
            state.best_loss_ = np.inf
        if epoch_loss > state.best_loss_ - est.tol:
            state.no_improvement_count += 1
        else:
            state.no_improvement_count = 0
        if epoch_loss < state.best_loss_:
            state.best_loss_ = epoch_loss
    if state.no_improvement_count > est.n_iter_no_change:
        if state.schedule.trigger_stopping(est.verbose):
            return True
        state.no_improvement_count = 0
    return False


def _copy_params(net):
    """A copy of the parameters on the device they live on."""
    return net.residence.copy(net.params)
