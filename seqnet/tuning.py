"""Learning-rate range test (Smith 2017, "Cyclical Learning Rates", section 3.3).

``lr_find`` trains a fresh clone of an estimator for a few mini-batches while
raising the learning rate exponentially from ``start_lr`` to ``end_lr``, one
step per batch, and records the loss.  The loss first falls, then flattens and
finally explodes; a good ``learning_rate_init`` lies where it falls fastest.

Mechanism: every step is one ``partial_fit`` call on one mini-batch (the clone
gets ``batch_size`` equal to the batch, so a call is exactly one update), and
the rate for that step is written into the clone's learning-rate schedule
(``_training.schedule.learning_rate``) before the call.  With
``learning_rate='constant'`` the schedule never changes the rate itself, and
the optimizer state (Adam moments, step count) carries over between calls,
so this is the same as one run with an exponential per-batch schedule.  The
user's estimator is never touched: only the clone is fitted.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import type_of_target

from seqnet.training.loop import batch_size_for

__all__ = ["lr_find", "LRFindResult"]


@dataclass
class LRFindResult:
    """Outcome of :func:`lr_find`.

    Attributes
    ----------
    learning_rates : ndarray of shape (n_steps,)
        The rate used at every step, increasing.
    losses : ndarray of shape (n_steps,)
        Smoothed (bias-corrected exponential moving average) training loss.
    raw_losses : ndarray of shape (n_steps,)
        Loss of every mini-batch, evaluated before its update.
    suggested_lr : float
        Rate at the steepest descent of the smoothed loss (see :func:`lr_find`).
    stop_reason : {'end_lr', 'diverged'}
        Whether the test ran to ``end_lr`` or stopped on a diverging loss.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_lr: float
    stop_reason: str = field(default="end_lr")

    def plot(self, ax=None):
        """Smoothed loss against the learning rate (log axis), suggestion marked.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        from seqnet.plotting import check_matplotlib

        plt = check_matplotlib("LRFindResult.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.5))
        ax.plot(self.learning_rates, self.raw_losses, color="C0", alpha=0.3, label="batch loss")
        ax.plot(self.learning_rates, self.losses, color="C0", label="smoothed loss")
        ax.axvline(self.suggested_lr, color="C3", linestyle="--",
                   label=f"suggested {self.suggested_lr:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.legend(loc="best")
        return ax


def lr_find(estimator, X, y, *, start_lr=1e-6, end_lr=1.0, num_steps=100, smooth=0.05,
            diverge_factor=4.0, random_state=None):
    """Learning-rate range test on a clone of ``estimator``.

    Parameters
    ----------
    estimator : seqnet estimator
        Fitted or not; it is cloned and left unchanged (parameters and fitted
        state). Its solver, batch size, regularization and architecture are
        used; ``learning_rate``, ``early_stopping``, ``warm_start`` and
        ``verbose`` are overridden on the clone.
    X, y : training data, as for ``estimator.fit``
        Mini-batches of ``estimator``'s batch size are drawn from a shuffled
        pass over the data (several passes if ``num_steps`` needs more).
    start_lr, end_lr : float, default=1e-6, 1.0
        First and last learning rate; the rate grows by the constant factor
        ``(end_lr / start_lr) ** (1 / (num_steps - 1))`` per step.
    num_steps : int, default=100
        Number of steps (mini-batches) if the loss does not diverge first.
    smooth : float in (0, 1], default=0.05
        Weight of the newest batch loss in the exponential moving average
        (1 means no smoothing).
    diverge_factor : float, default=4.0
        Stop once the smoothed loss exceeds ``diverge_factor`` times the best
        smoothed loss so far, or the loss is not finite.
    random_state : int, RandomState instance or None, default=None
        Seeds the clone's initialisation and the batch order; None uses the
        estimator's own ``random_state``.

    Returns
    -------
    result : LRFindResult

    Notes
    -----
    The suggested rate is the one where the smoothed loss falls fastest
    against ``log(lr)`` (the most negative finite-difference slope), looking
    only at steps up to the minimum of the smoothed loss, so that the
    diverging tail cannot win, and skipping the first tenth of the steps,
    whose averages rest on a few batches and are noisy.  With fewer than
    three steps in that range it falls back to a tenth of the rate at the
    minimum (never below ``start_lr``), the other common rule.
    Both rules are heuristics: the value is a starting point for
    ``learning_rate_init``, not an optimum.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from seqnet import MLPClassifier
    >>> from seqnet.tuning import lr_find
    >>> X, y = load_digits(return_X_y=True)
    >>> res = lr_find(MLPClassifier(random_state=0), X / 16, y, num_steps=40)
    >>> 1e-6 <= res.suggested_lr <= 1.0
    True
    """
    _check_args(start_lr, end_lr, num_steps, smooth, diverge_factor)
    est = clone(estimator)
    seed = est.random_state if random_state is None else random_state
    rng = check_random_state(seed)
    if not isinstance(seed, (int, np.integer)) and seed is not None:
        # a RandomState instance: give the clone its own integer seed from it
        seed = int(rng.randint(np.iinfo(np.int32).max))
    n = _num_samples(X)
    bs = batch_size_for(est, n)
    est.set_params(learning_rate="constant", early_stopping=False, warm_start=False,
                   verbose=0, random_state=seed, batch_size=bs, learning_rate_init=start_lr)
    rates = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / max(num_steps - 1, 1))
    first_kw = {"classes": _classes_arg(est, y)} if is_classifier(est) else {}

    raw, smoothed = [], []
    avg, best = 0.0, np.inf
    stop_reason = "end_lr"
    batches = _batches(n, bs, rng)
    with warnings.catch_warnings():
        # divergence is the expected end of a range test, not a user problem
        warnings.simplefilter("ignore")
        for step, lr in enumerate(rates):
            idx = next(batches)
            if step > 0:
                est._training.schedule.learning_rate = float(lr)
            est.partial_fit(_safe_indexing(X, idx), _safe_indexing(y, idx),
                            **(first_kw if step == 0 else {}))
            loss = float(est.loss_)
            if est.stop_reason_ == "diverged" or not np.isfinite(loss):
                stop_reason = "diverged"
                break
            avg = (1.0 - smooth) * avg + smooth * loss
            value = avg / (1.0 - (1.0 - smooth) ** (step + 1))  # bias correction
            raw.append(loss)
            smoothed.append(value)
            best = min(best, value)
            if value > diverge_factor * best:
                stop_reason = "diverged"
                break
    k = len(raw)
    if k == 0:
        raise ValueError(
            f"The loss was not finite at the first step (learning rate {start_lr:g}); "
            "lower start_lr or check the data."
        )
    rates = rates[:k]
    losses = np.asarray(smoothed)
    return LRFindResult(learning_rates=rates, losses=losses, raw_losses=np.asarray(raw),
                        suggested_lr=_suggest(rates, losses), stop_reason=stop_reason)


def _suggest(rates, losses):
    """Rate of steepest descent of ``losses`` vs log(rate), between the warm-up and the minimum."""
    # The first steps' averages rest on one or two batches: skip a tenth of the run.
    lo = max(1, len(losses) // 10) if len(losses) > 3 else 0
    i_min = lo + int(np.argmin(losses[lo:]))
    if i_min - lo < 2:
        return float(max(rates[i_min] / 10.0, rates[0]))
    seg = slice(lo, i_min + 1)
    slope = np.gradient(losses[seg], np.log(rates[seg]))
    return float(rates[lo + int(np.argmin(slope))])


def _check_args(start_lr, end_lr, num_steps, smooth, diverge_factor):
    if not 0 < start_lr < end_lr:
        raise ValueError(f"Need 0 < start_lr < end_lr; got start_lr={start_lr}, end_lr={end_lr}.")
    if int(num_steps) != num_steps or num_steps < 2:
        raise ValueError(f"num_steps must be an integer >= 2; got {num_steps}.")
    if not 0 < smooth <= 1:
        raise ValueError(f"smooth must be in (0, 1]; got {smooth}.")
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be > 1; got {diverge_factor}.")


def _num_samples(X):
    return len(X) if isinstance(X, list) else np.shape(X)[0]


def _batches(n, bs, rng):
    """Endless mini-batch indices: shuffled passes over the data, full batches only."""
    n_full = max(n // bs, 1)  # a short last batch would be a noisier loss
    while True:
        order = rng.permutation(n)
        for b in range(n_full):
            yield order[b * bs:(b + 1) * bs]


def _classes_arg(est, y):
    """``classes=`` for the first ``partial_fit``: every label in the full ``y``.

    A single batch may miss a class, so the label set comes from all of ``y``
    (a multilabel indicator matrix is passed whole: its columns are the classes).
    """
    if not getattr(est, "return_sequences", False) and not isinstance(y, list):
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and type_of_target(y_arr) == "multilabel-indicator":
            return y_arr
    if isinstance(y, list):
        return np.unique(np.concatenate([np.ravel(a) for a in y]))
    return np.unique(np.asarray(y))
