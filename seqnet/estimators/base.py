"""The scikit-learn face shared by every seqnet estimator.

Subclasses supply three things: how to validate ``X`` (table, sequences or
images), which layers to build for a given input shape, and the task
(classification or regression, in ``classifier.py`` / ``regressor.py``).
Everything else -- parameters, the flat weight buffer, the training loop,
warm starts, ``partial_fit``, pickling -- lives here once.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from seqnet._runtime.backend import get_backend, thread_limits
from seqnet.network.network import Network
from seqnet.training.lbfgs import train_lbfgs
from seqnet.training.loop import TrainingState, batch_size_for, train_epochs
from seqnet.training.optimizers import SOLVERS

#: Rows per predict call: bounds memory (recurrent caches grow with T x H per
#: row) and keeps the working set in cache (much faster than 4096 rows).
PREDICT_CHUNK = 512

SHARED_CONSTRAINTS = {
    "solver": [StrOptions(set(SOLVERS) | {"lbfgs"})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cyclic"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "max_learning_rate": [None, Interval(Real, 0, None, closed="neither")],
    "cycle_length": [Interval(Integral, 1, None, closed="left")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "clip_norm": [None, StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    "init": [StrOptions({"glorot", "he", "orthogonal", "sparse"})],
    "device": [StrOptions({"cpu", "cuda", "auto"})],
    "dtype": [StrOptions({"float32", "float64"})],
}

#: ``hidden_layer_sizes`` of every family: an int ``n`` means ``(n,)``, as in scikit-learn.
SIZES_CONSTRAINT = ["array-like", Interval(Integral, 1, None, closed="left")]

SHARED_DEFAULTS = dict(
    solver="adam", alpha=1e-4, l1_ratio=0.0, dropout=0.0, batch_size="auto",
    learning_rate="constant", learning_rate_init=1e-3, max_learning_rate=None,
    cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
    tol=1e-4, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
    early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
    epsilon=1e-8, n_iter_no_change=10, clip_norm=None, init="glorot",
    device="cpu", dtype="float32", max_fun=15000,
)

#: numpydoc text of the shared parameters, appended to every estimator's docstring.
SHARED_PARAMS_DOC = """
    solver : {'adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'lbfgs'}, default='adam'
        Optimizer. rmsprop and adadelta use ``beta_2`` as their decay rate.
        'lbfgs' is scipy's L-BFGS-B on the full batch, as scikit-learn's MLP:
        ``max_iter`` bounds its iterations, ``max_fun`` its loss evaluations,
        ``tol`` is its gradient tolerance; early stopping, batches and the
        learning-rate parameters do not apply and ``partial_fit`` is
        unavailable (``hasattr(est, 'partial_fit')`` is False).
    alpha : float, default=1e-4
        Strength of the penalty on weights (not biases), divided by the
        batch's total sample weight as in scikit-learn's MLP.
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mix: 0 is pure L2 (``0.5 * alpha * ||w||^2``), 1 pure L1.
    dropout : float in [0, 1), default=0.0
        Inverted-dropout rate after every hidden layer (between stacked
        recurrent layers for recurrent models).
    batch_size : int or 'auto', default='auto'
        Samples per minibatch of the stochastic solvers; ``min(200,
        n_samples)`` when 'auto'.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cyclic'}, default='constant'
        Schedule of the step size, for every solver. 'invscaling' and
        'adaptive' follow scikit-learn; 'cyclic' is the triangular cyclical
        rate between ``learning_rate_init`` and ``max_learning_rate``.
    learning_rate_init : float, default=1e-3
        Initial step size of the stochastic solvers.
    max_learning_rate : float or None, default=None
        Upper rate of the 'cyclic' schedule (None: 10 x learning_rate_init).
    cycle_length : int, default=8
        Epochs per full cycle of the 'cyclic' schedule.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples before every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
        The same value (and thread count) gives bitwise identical results.
    tol : float, default=1e-4
        Smallest improvement of the training loss (or of the validation
        score with ``early_stopping``) that counts, see ``n_iter_no_change``.
    verbose : int, default=0
        1: a progress bar (tqdm if installed) or line per epoch; 2: per batch.
    warm_start : bool, default=False
        Start ``fit`` from the weights of the previous fit instead of a fresh
        initialisation (same classes and shapes only).
    momentum : float, default=0.9
        Momentum of the 'sgd' solver.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for 'sgd' (with ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score
        stops improving and restore the best weights. The split is stratified
        for single-label classifiers; ``partial_fit`` raises a ValueError
        with it. Both as in scikit-learn.
    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of adam's first and second moment estimates.
    epsilon : float, default=1e-8
        Added to the denominators of adam, rmsprop, adagrad and adadelta.
    n_iter_no_change : int or np.inf, default=10
        Epochs without an improvement of ``tol`` before stopping (or, with
        ``learning_rate='adaptive'``, dividing the rate by 5); ``np.inf``
        never stops early, as in scikit-learn.
    clip_norm : float, 'auto' or None, default=None ('auto' for recurrent models)
        Rescale the whole gradient when its Euclidean norm exceeds this.
        'auto' is 5.0 for recurrent models and no clipping otherwise.
    init : {'glorot', 'he', 'orthogonal', 'sparse'}, default='glorot'
        Initialiser of input and dense weights (recurrent weights are always
        orthogonal).
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where the kernels run: 'cuda' needs an NVIDIA GPU and numba-cuda
        (else a clear error); 'auto' takes the GPU when there is one.
    dtype : {'float32', 'float64'}, default='float32'
        Compute dtype.
    max_fun : int, default=15000
        Only with ``solver='lbfgs'``: maximum number of loss evaluations.
"""


class BaseSeqNet(BaseEstimator):
    """Base class; not for direct use."""

    _parameter_constraints = dict(SHARED_CONSTRAINTS)
    _default_clip_norm = None
    _is_sequence_model = False

    # ------------------------------------------------------------ subclass API
    def _validate_X(self, X, reset):
        """Return ``(X, lengths)`` in the compute dtype."""
        raise NotImplementedError

    def _build_layers(self, in_shape, n_outputs):
        """Return the list of layers for per-sample ``in_shape``."""
        raise NotImplementedError

    def set_params(self, **params):
        """Set hyperparameters (scikit-learn's ``set_params``).

        The next ``partial_fit`` validates them again.

        Parameters
        ----------
        **params : dict
            Parameter names and their new values.

        Returns
        -------
        self : object
            The estimator.
        """
        # scikit-learn's _fit_context validates only a first partial_fit: after
        # a change, partial_fit must not train with out-of-range values.  Only
        # then: validating on every call was most of partial_fit's fixed cost
        # on small batches.
        self._params_changed = True
        return super().set_params(**params)

    # ---------------------------------------------------------------- helpers
    @property
    def _dtype(self):
        return np.dtype(self.dtype)

    def _backend(self):
        return get_backend(self.device)

    def _predict_backend(self):
        """Backend for inference: a model fitted with device='cuda' and loaded on a
        machine without a GPU predicts on the CPU (its weights are plain NumPy)."""
        try:
            return get_backend(self.device)
        except RuntimeError:
            warnings.warn(
                f"{type(self).__name__} has device='cuda' but no CUDA GPU is usable "
                "here; predicting on the CPU. Set device='cpu' to silence this.",
                UserWarning,
            )
            return get_backend("cpu")

    def _init_network(self, in_shape, n_outputs, loss, rng):
        net = Network(self._build_layers(in_shape, n_outputs), loss, self._dtype)
        net.build(in_shape)
        net.initialize(rng, self.init)
        return net

    def _fit_network(self, X, lengths, Y, sw, *, incremental, loss, n_outputs,
                     validation=None):
        """Initialise (unless warm/incremental), then run the training loop."""
        first = not hasattr(self, "_network") or (not self.warm_start and not incremental)
        in_shape = X.shape[1:] if lengths is None else (None,) + X.shape[2:]
        if not first and self._network.in_shape != tuple(in_shape):
            first = True
        if first:
            seed_rng = np.random.default_rng(_seed_of(self.random_state))
            self._network = self._init_network(tuple(in_shape), n_outputs, loss, seed_rng)
        if first or not incremental or not hasattr(self, "_training"):
            n_batches = -(-X.shape[0] // batch_size_for(self, X.shape[0]))
            prev = getattr(self, "_training", None) if not first else None
            self._training = TrainingState(self, self._network.n_params, self._dtype,
                                           n_batches)
            if prev is not None and self.warm_start and not incremental:
                _carry_history(prev, self._training)
        state = self._training
        data = (X, Y, sw, lengths)
        with thread_limits(self._thread_owner()):
            if self.solver == "lbfgs":
                reason = train_lbfgs(self, self._network, state, data, self._backend())
            else:
                reason = train_epochs(self, self._network, state, data, validation,
                                      incremental, backend=self._backend())
        self.weights_ = self._network.named_weights()
        self.n_iter_ = state.n_iter_
        self.t_ = state.t_
        self.loss_curve_ = list(state.loss_curve_)
        self.loss_ = state.loss_curve_[-1] if state.loss_curve_ else np.nan
        self.best_loss_ = state.best_loss_
        self.validation_scores_ = state.validation_scores_
        self.best_validation_score_ = state.best_validation_score_
        self.stop_reason_ = reason
        # scikit-learn's counter of the same name and meaning (epochs in a row
        # without an improvement of ``tol``; stopping once it exceeds
        # n_iter_no_change), which code ported from its MLP may read
        self._no_improvement_count = state.no_improvement_count
        return self

    def _check_solver(self):
        """``partial_fit`` exists for the stochastic solvers only (scikit-learn's
        ``available_if`` test: ``hasattr(est, 'partial_fit')`` is False for lbfgs)."""
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic "
                                 f"optimizers. {self.solver} is not stochastic.")
        return True

    def _thread_owner(self):
        """Which thread pool owns the cores: 'blas' (dense, conv) or 'chunks' (recurrent)."""
        return "blas"

    def _forward_raw(self, X, lengths):
        """Network outputs (logits) for validated input, in chunks."""
        net = self._network
        backend = self._predict_backend()
        outs = []
        # on a device backend the weights are copied there once per call (a
        # no-op during fit, where they already are), and never copied back
        with thread_limits(self._thread_owner()), net.on_backend(backend, copy_back=False):
            for s in range(0, X.shape[0], PREDICT_CHUNK):
                xb = X[s:s + PREDICT_CHUNK]
                lb = None if lengths is None else lengths[s:s + PREDICT_CHUNK]
                if lb is not None and int(lb.max()) < xb.shape[1]:
                    xb = xb[:, : int(lb.max())]
                if isinstance(xb, np.ndarray):  # not sparse rows, nor a Forest of trees
                    xb = np.ascontiguousarray(xb)
                outs.append(net.predict_raw(xb, lb, backend))
        if len(outs) == 1:
            return outs[0]
        if outs[0].ndim == 3:  # per-step outputs of chunks trimmed to different T
            t = max(o.shape[1] for o in outs)
            outs = [np.pad(o, ((0, 0), (0, t - o.shape[1]), (0, 0))) for o in outs]
        return np.concatenate(outs, axis=0)

    def _check_fitted(self):
        check_is_fitted(self, "weights_")

    # ------------------------------------------------------------- persistence
    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ returns the live dict
        state.pop("weights_", None)  # views into the flat buffer: rebuilt on load
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_network" in self.__dict__:
            self.weights_ = self._network.named_weights()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._is_sequence_model:
            tags.input_tags.three_d_array = True
        return tags


def _seed_of(random_state):
    """A numpy Generator seed from an sklearn-style ``random_state``."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    # a RandomState instance: draw from it (advances it, as sklearn does)
    return int(random_state.randint(np.iinfo(np.int32).max))


def _carry_history(prev, new):
    new.epochs = prev.epochs  # n_iter_ counts the new call's epochs only
    new.t_ = prev.t_
    new.loss_curve_ = list(prev.loss_curve_)
    new.best_loss_ = prev.best_loss_
    if prev.validation_scores_ is not None and new.validation_scores_ is not None:
        new.validation_scores_ = list(prev.validation_scores_)
        new.best_validation_score_ = prev.best_validation_score_


def _set_params(obj, values):
    """Store constructor arguments unchanged (scikit-learn's contract)."""
    for key, value in values.items():
        if key not in ("self", "__class__"):
            setattr(obj, key, value)
