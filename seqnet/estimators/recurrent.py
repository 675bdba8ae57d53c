"""Recurrent estimators: RNN, LSTM and GRU classifiers and regressors.

Network: stacked recurrent layers (``hidden_layer_sizes``), optional dropout
between them, then either a pooling of the hidden states (``'last'``,
``'mean'``, ``'max'``) into a dense output layer, or with
``return_sequences=True`` the output layer applied at every time step.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from seqnet.kernels.contract import IDENTITY
from seqnet.network.dense import DenseLayer, DropoutLayer
from seqnet.network.recurrent import RecurrentLayer, SequencePooling
from seqnet.network.recurrent_leaky import LeakyRecurrentLayer

from .base import SHARED_CONSTRAINTS, SHARED_PARAMS_DOC, SIZES_CONSTRAINT, BaseSeqNet, _set_params
from .classifier import CLASS_WEIGHT_DOC, CLASSIFIER_CONSTRAINTS, SeqNetClassifierMixin
from .doc_examples import sequence_example
from .inputs import validate_sequences
from .mlp import _as_sizes
from .regressor import REGRESSOR_CONSTRAINTS, REGRESSOR_LOSS_DOC, SeqNetRegressorMixin

#: Default gradient-norm clip of recurrent models (``clip_norm='auto'``).
RECURRENT_CLIP_NORM = 5.0

#: Shared parameters whose defaults differ for the recurrent models: training
#: recipes for small data (tens to thousands of series).  On GunPoint (50
#: series) full-batch training took too few Adam steps, and a loss spike (RNNs
#: on long series have them) followed by 10 epochs without a new best loss
#: stopped training in the spike; batches of 32 (Keras's default) and 30 epochs
#: of patience lifted the default LSTM from 91.7 to 95.2 % and the GRU from 86.3
#: to 90.4 % (mean of 5 seeds, benchmarks/RESULTS.md).
RECURRENT_DEFAULTS = dict(batch_size=32, n_iter_no_change=30, clip_norm="auto")


class _BaseRecurrent(BaseSeqNet):
    _cell = None
    _is_sequence_model = True
    _default_clip_norm = RECURRENT_CLIP_NORM
    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "hidden_layer_sizes": SIZES_CONSTRAINT,
        "bidirectional": ["boolean"],
        "bptt_steps": [None, Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"last", "mean", "max"})],
        "return_sequences": ["boolean"],
    }

    def _thread_owner(self):
        # recurrent kernels run batch-row chunks on seqnet's threads; BLAS gets 1
        return "chunks"

    def _validate_X(self, X, reset):
        return validate_sequences(self, X, self._dtype, reset)

    def _build_layers(self, in_shape, n_outputs):
        sizes = _as_sizes(self.hidden_layer_sizes)
        nonlinearity = getattr(self, "activation", "tanh")
        layers = []
        for i, units in enumerate(sizes):
            if i > 0 and self.dropout > 0:
                layers.append(DropoutLayer(self.dropout, f"dropout.{i - 1}"))
            layers.append(self._recurrent_layer(units, i, nonlinearity))
        if not self.return_sequences:
            layers.append(SequencePooling(self.pooling, 2 if self.bidirectional else 1))
        layers.append(DenseLayer(n_outputs, "out", IDENTITY))
        return layers

    def _recurrent_layer(self, units, index, nonlinearity):
        leak = getattr(self, "leak", 1.0)
        skip_steps = getattr(self, "skip_steps", None)
        if self._cell == "rnn" and (isinstance(leak, str) or leak != 1.0
                                    or skip_steps is not None):
            return LeakyRecurrentLayer(units, index, self.bidirectional, nonlinearity,
                                       self.bptt_steps, self._dtype, leak, skip_steps)
        # leak=1.0 without skips is the plain Elman cell: its own (fast) kernels
        return RecurrentLayer(self._cell, units, index, self.bidirectional, nonlinearity,
                              self.bptt_steps, self._dtype)


_RECURRENT_DOC = """
    Input ``X``: an array (n_samples, n_timesteps, n_features); a 2-D array
    (n_samples, n_timesteps) of univariate series; or a list of
    (n_timesteps_i, n_features) arrays of different lengths (a ragged batch:
    padded internally and masked, so each sequence is predicted exactly as
    if it were alone).

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(64,)
        Hidden units of each stacked recurrent layer (an int ``n`` means ``(n,)``)
        (weights ``rnn.{l}.weight_ih`` etc., PyTorch's layout and gate order).
"""

_RECURRENT_PARAMS_DOC = """    bidirectional : bool, default=False
        Add a reverse-time direction to every layer (``*_reverse`` weights).
    bptt_steps : int or None, default=None
        Truncated backpropagation through time: gradients are cut every
        ``bptt_steps`` steps (the state is still carried forward). None is
        full BPTT.
    pooling : {'last', 'mean', 'max'}, default='last'
        How the hidden states feed the output layer: the final state of each
        direction, or the mean / max over valid steps.
    return_sequences : bool, default=False
        One output per time step (sequence labelling / per-step regression);
        then ``y`` is (n_samples, n_timesteps[, n_outputs]).

    The shared parameters below follow scikit-learn's MLP except for these
    defaults, chosen for small data: ``batch_size=32`` (mini-batches of 32
    series, Keras's default, also for tens of series), ``n_iter_no_change=30``
    (the patience to ride out the loss spikes recurrent models have on long
    series) and ``clip_norm='auto'`` (5.0).
""" + SHARED_PARAMS_DOC

_RNN_ACTIVATION_DOC = """    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity of the Elman cell.
"""

_RNN_LEAK_DOC = """    leak : float in (0, 1] or 'learn', default=1.0
        Leaky units: ``h_t = (1 - a) * h_{t-1} + a * f_t``, ``f_t`` the Elman
        cell's output, with leak rate ``a = leak`` for every unit; 1.0 is the
        plain Elman cell (and runs its own kernels, unchanged).  Small rates
        keep a state for about ``1 / a`` steps.  ``'learn'``: one rate per unit,
        ``a = sigmoid(w)`` with the weight ``rnn.{l}.leak`` (``_reverse`` for the
        backward direction) initialised to 0, i.e. ``a = 0.5``.
    skip_steps : int >= 2 or None, default=None
        Skip connections in time: the cell's input gains ``S h_{t-d}`` with
        ``d = skip_steps`` and the weight ``rnn.{l}.weight_hh_skip`` (H, H)
        (orthogonal initialisation); ``h_{t-d}`` is 0 for the first ``d`` steps
        of each sequence (counted from its own start; the reverse direction's
        start is the sequence's last valid step).  With ``bptt_steps``, gradients
        cross no truncation boundary, neither through ``h_{t-1}`` nor through
        ``h_{t-d}``.
"""

_ATTRS_HEAD = """
    Attributes
    ----------
"""

_ATTRS_DOC = """    n_features_in_ : int
        Features per time step (for 2-D input: the number of time steps).
    n_outputs_, n_iter_, t_ : int
        ``n_iter_``: epochs of the last ``fit`` / ``partial_fit`` call;
        ``t_``: samples seen over all calls.
    loss_, loss_curve_, best_loss_, validation_scores_, best_validation_score_
    weights_ : dict of str -> ndarray
        Named views into the single parameter buffer; ``rnn.0.weight_ih`` is
        PyTorch's ``weight_ih_l0``, so a ``state_dict`` maps one to one.
"""


def _doc(title, cell_text, classifier):
    act = _RNN_ACTIVATION_DOC + _RNN_LEAK_DOC if cell_text == "RNN" else ""
    extra = CLASS_WEIGHT_DOC if classifier else REGRESSOR_LOSS_DOC
    classes = "    classes_ : ndarray\n        The labels seen in fit.\n" if classifier else ""
    name = cell_text + ("Classifier" if classifier else "Regressor")
    return (title + "\n" + _RECURRENT_DOC + act + _RECURRENT_PARAMS_DOC + extra
            + _ATTRS_HEAD + classes + _ATTRS_DOC
            + sequence_example(name, "hidden_layer_sizes=16, learning_rate_init=0.01, "))


_RNN_CONSTRAINTS = {
    "activation": [StrOptions({"tanh", "relu"})],
    "leak": [Interval(Real, 0, 1, closed="right"), StrOptions({"learn"})],
    "skip_steps": [None, Interval(Integral, 2, None, closed="left")],
}


class RNNClassifier(SeqNetClassifierMixin, _BaseRecurrent):
    _cell = "rnn"
    _parameter_constraints = {**_BaseRecurrent._parameter_constraints, **_RNN_CONSTRAINTS,
                              **CLASSIFIER_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), activation="tanh", *, leak=1.0,
                 skip_steps=None, bidirectional=False,
                 bptt_steps=None, pooling="last", return_sequences=False, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size=32,
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=30, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm="auto", class_weight=None):
        _set_params(self, locals())

    __doc__ = _doc("Elman recurrent network classifier (tanh or relu cell).", "RNN", True)


class RNNRegressor(SeqNetRegressorMixin, _BaseRecurrent):
    _cell = "rnn"
    _parameter_constraints = {**_BaseRecurrent._parameter_constraints, **_RNN_CONSTRAINTS,
                              **REGRESSOR_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), activation="tanh", *, leak=1.0,
                 skip_steps=None, bidirectional=False,
                 bptt_steps=None, pooling="last", return_sequences=False, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size=32,
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=30, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm="auto", loss="squared_error"):
        _set_params(self, locals())

    __doc__ = _doc("Elman recurrent network regressor (tanh or relu cell).", "RNN", False)


class _GatedClassifier(SeqNetClassifierMixin, _BaseRecurrent):
    """The LSTM and GRU classifiers: one signature, their cells apart."""

    _parameter_constraints = {**_BaseRecurrent._parameter_constraints,
                              **CLASSIFIER_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), *, bidirectional=False, bptt_steps=None,
                 pooling="last", return_sequences=False, solver="adam", alpha=0.0001,
                 l1_ratio=0.0, dropout=0.0, batch_size=32, learning_rate="constant",
                 learning_rate_init=0.001, max_learning_rate=None, cycle_length=8, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=0.0001, verbose=0,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-08,
                 n_iter_no_change=30, init="glorot", device="cpu", dtype="float32",
                 max_fun=15000, clip_norm="auto", class_weight=None):
        _set_params(self, locals())


class _GatedRegressor(SeqNetRegressorMixin, _BaseRecurrent):
    """The LSTM and GRU regressors: one signature, their cells apart."""

    _parameter_constraints = {**_BaseRecurrent._parameter_constraints,
                              **REGRESSOR_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), *, bidirectional=False, bptt_steps=None,
                 pooling="last", return_sequences=False, solver="adam", alpha=0.0001,
                 l1_ratio=0.0, dropout=0.0, batch_size=32, learning_rate="constant",
                 learning_rate_init=0.001, max_learning_rate=None, cycle_length=8, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=0.0001, verbose=0,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-08,
                 n_iter_no_change=30, init="glorot", device="cpu", dtype="float32",
                 max_fun=15000, clip_norm="auto", loss="squared_error"):
        _set_params(self, locals())


class LSTMClassifier(_GatedClassifier):
    _cell = "lstm"
    __doc__ = _doc("Long short-term memory classifier (gates i, f, g, o; forget bias 1).",
                   "LSTM", True)


class LSTMRegressor(_GatedRegressor):
    _cell = "lstm"
    __doc__ = _doc("Long short-term memory regressor (direct multi-step forecasts with "
                   "y of shape (n, horizon)).", "LSTM", False)


class GRUClassifier(_GatedClassifier):
    _cell = "gru"
    __doc__ = _doc("Gated recurrent unit classifier (gates r, z, n as PyTorch).", "GRU", True)


class GRURegressor(_GatedRegressor):
    _cell = "gru"
    __doc__ = _doc("Gated recurrent unit regressor.", "GRU", False)
