"""``seqnet.warmup``: fill numba's on-disk cache before the first real fit.

A fit on a cold cache spends most of its time compiling kernels (seconds for
an MLP, a minute or more for a recurrent model on a small machine).  Every new
environment pays it again: a CI job, a Docker image, a Dask worker.
:func:`warmup` pays it ahead of time by fitting and predicting tiny models of
each chosen family, in every variant that runs different kernels, so that a
later fit in another process loads machine code instead of compiling it.
"""

import time
import warnings

from seqnet.training.compiling import watch_compiles

__all__ = ["warmup", "dask_setup", "FAMILIES"]

FAMILIES = ("mlp", "rnn", "lstm", "gru", "conv", "tree")
DTYPES = ("float32", "float64")

# Variants (estimator name, parameters, input kind, target kind) whose union
# runs every kernel an estimator of the family can call: the classification
# losses (binary: sigmoid, multiclass: softmax) and regression, both solvers
# in common use (adam, sgd), dropout, gradient clipping (a tiny clip_norm so
# that the clipping kernel runs), each pooling mode, bidirectional and stacked
# layers, per-step outputs, the RNN's relu and leaky cells, 1-D and 2-D convolution with
# and without pooling, and every activation of the MLP's dense layers (dense
# kernels may be specialised per activation).  Hyperparameters that are plain
# numbers to the kernels (sizes, strides, learning-rate schedules) need no
# variant.
_SGD_DROPOUT_CLIP = {"solver": "sgd", "dropout": 0.1, "clip_norm": 1e-6}


def _recurrent_variants(prefix):
    clf, reg = prefix + "Classifier", prefix + "Regressor"
    small = {"hidden_layer_sizes": (3,)}
    stacked = {"hidden_layer_sizes": (3, 3), "bidirectional": True, "pooling": "max",
               **_SGD_DROPOUT_CLIP}
    variants = [
        (clf, small, "seq", "binary"),
        (clf, small, "seq", "multiclass"),
        (clf, dict(small, pooling="mean", bptt_steps=2), "seq", "binary"),
        (clf, stacked, "seq", "multiclass"),
        (reg, small, "seq", "regression"),
        (reg, dict(small, return_sequences=True), "seq", "per_step"),
    ]
    if prefix == "RNN":
        variants.append((clf, dict(small, activation="relu"), "seq", "binary"))
        # leaky units / skip connections run kernels of their own (both
        # activations and any skip length are run-time arguments there)
        variants.append((clf, dict(small, leak="learn", skip_steps=2), "seq", "binary"))
    return variants


def _activation_variants():
    from seqnet.kernels.contract import ACTIVATION_CODES

    return [("MLPClassifier", {"hidden_layer_sizes": (3,), "activation": name}, "table",
             "binary") for name in sorted(ACTIVATION_CODES) if name != "relu"]


_CONV_SMALL = {"filters": (2,), "hidden_layer_sizes": (3,)}
_DEEP_SMALL = {"filters": (2, 3), "kernel_size": (3, 2)}  # ResNet: identity, then 1x1 shortcut

# Batch norm (training and running statistics, with and without the fused
# ReLU), masked global average / max pooling over time and space, residual
# blocks, and ragged input (masked kernels): the conv estimators' batch_norm /
# global_pooling and the FCN / ResNet estimators, 1-D, 2-D and ragged.
_NORMALIZED_CONV = [
    ("ConvClassifier", dict(_CONV_SMALL, batch_norm=True, global_pooling="max"), "seq",
     "binary"),
    ("ConvClassifier", dict(_CONV_SMALL, batch_norm=True, global_pooling="avg"), "image",
     "multiclass"),
    ("ConvClassifier", dict(_CONV_SMALL, batch_norm=True, global_pooling="max"), "ragged",
     "multiclass"),
    ("FCNClassifier", _DEEP_SMALL, "seq", "multiclass"),
    ("FCNClassifier", _DEEP_SMALL, "ragged", "binary"),
    ("FCNRegressor", _DEEP_SMALL, "image", "regression"),
    ("ResNetClassifier", _DEEP_SMALL, "seq", "binary"),
    ("ResNetClassifier", _DEEP_SMALL, "image", "multiclass"),
    ("ResNetRegressor", _DEEP_SMALL, "ragged", "regression"),
]

_VARIANTS = {
    "mlp": [
        ("MLPClassifier", {"hidden_layer_sizes": (3,)}, "table", "binary"),
        ("MLPClassifier", {"hidden_layer_sizes": (3,)}, "table", "multiclass"),
        ("MLPClassifier", {"hidden_layer_sizes": (3,), **_SGD_DROPOUT_CLIP}, "table",
         "binary"),
        ("MLPRegressor", {"hidden_layer_sizes": (3,)}, "table", "regression"),
    ],  # + _activation_variants(), read from the kernels when warmup runs
    "rnn": _recurrent_variants("RNN"),
    "lstm": _recurrent_variants("LSTM"),
    "gru": _recurrent_variants("GRU"),
    "conv": [
        ("ConvClassifier", _CONV_SMALL, "seq", "binary"),
        ("ConvClassifier", _CONV_SMALL, "image", "multiclass"),
        ("ConvClassifier", dict(_CONV_SMALL, pool_size=1, **_SGD_DROPOUT_CLIP), "seq",
         "multiclass"),
        ("ConvClassifier", dict(_CONV_SMALL, pool_size=1, **_SGD_DROPOUT_CLIP), "image",
         "binary"),
        ("ConvRegressor", _CONV_SMALL, "seq", "regression"),
        ("ConvRegressor", _CONV_SMALL, "image", "regression"),
        *_NORMALIZED_CONV,
    ],
    # the recursive estimators: tree kernels for tanh and relu, both poolings
    "tree": [
        ("RecursiveClassifier", {"hidden_layer_sizes": (3,)}, "trees", "binary"),
        ("RecursiveRegressor", {"hidden_layer_sizes": (3,), "activation": "relu",
                                "pooling": "mean"}, "trees", "regression"),
    ],
}

_SHAPES = {"table": (4,), "seq": (6, 2), "image": (6, 6, 1)}
_RAGGED_LENGTHS = (4, 6, 5)  # "ragged": a list of (T_i, 2) sequences, cycling these


def _data(inputs, target, n=12):
    import numpy as np

    rng = np.random.default_rng(0)
    if inputs == "ragged":
        X = [rng.normal(size=(_RAGGED_LENGTHS[i % len(_RAGGED_LENGTHS)], 2)) for i in range(n)]
    elif inputs == "trees":  # a leaf, a pair, an unbalanced triple (2 features per leaf)
        leaves = rng.normal(size=(n, 3, 2))
        X = [(lv[0], (lv[0], lv[1]), ((lv[0], lv[1]), lv[2]))[i % 3] for i, lv in
             enumerate(leaves)]
    else:
        X = rng.normal(size=(n,) + _SHAPES[inputs])
    if target == "per_step":
        return X, rng.normal(size=X.shape[:2])
    if target == "regression":
        return X, rng.normal(size=n)
    return X, np.arange(n) % (2 if target == "binary" else 3)


def _as_tuple(value, allowed, what):
    if value is None:
        return allowed
    values = (value,) if isinstance(value, str) else tuple(value)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(f"{what} must be a non-empty list of {allowed}, got {value!r}")
    return values


def _runs(families, dtypes):
    variants = dict(_VARIANTS, mlp=_VARIANTS["mlp"] + _activation_variants())
    return [(family, dtype, variant)
            for family in families for dtype in dtypes for variant in variants[family]]


def _progress(total, verbose):
    """A tqdm bar over the warm-up fits, a line printer without tqdm, or None."""
    if not verbose:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(total)
    return tqdm(total=total, unit="model", desc="seqnet warmup")


class _Lines:
    """tqdm's ``set_description`` / ``update`` / ``close`` as plain lines."""

    def __init__(self, total):
        self.total, self.n, self.desc = total, 0, ""

    def set_description(self, desc):
        self.desc = desc

    def update(self, n=1):
        self.n += n
        print(f"seqnet warmup {self.n}/{self.total}: {self.desc}", flush=True)

    def close(self):
        pass


def warmup(families=None, dtypes=("float32",), verbose=True):
    """Compile seqnet's kernels into numba's on-disk cache.

    Fits (one epoch) and predicts tiny models of each chosen family, in the
    variants that run different kernels (classifier and regressor, binary and
    multiclass, adam and sgd, dropout, clipping, every pooling mode,
    bidirectional, per-step outputs, RNN relu, 1-D and 2-D convolution, batch
    norm, global pooling, FCN and ResNet on fixed-length and ragged input, the
    MLP's activations), so that a later fit of these families in a new
    process compiles nothing: run it once when building a Docker image or a
    CI cache, or on every Dask worker (``client.run(seqnet.warmup)``).  On a
    warm cache it takes about a second per family.

    Parameters
    ----------
    families : list of str or None, default=None
        Any of 'mlp', 'rnn', 'lstm', 'gru', 'conv' ('conv' includes the FCN
        and ResNet estimators), 'tree' (the recursive estimators); None means all.
    dtypes : list of str, default=("float32",)
        Compute dtypes to compile for ('float32', the estimators' default,
        and/or 'float64').
    verbose : bool, default=True
        Show a progress bar (tqdm if installed, else one line per model).

    Returns
    -------
    report : dict
        ``{family: {"seconds": float, "compiled": int}}``: wall time and the
        number of specializations numba compiled (0 when everything was
        loaded from the cache).  Kernels shared by several families (the
        dense output layer, losses, optimizers) count for the first of them.
    """
    from sklearn.exceptions import ConvergenceWarning

    import seqnet

    families = _as_tuple(families, FAMILIES, "families")
    dtypes = _as_tuple(dtypes, DTYPES, "dtypes")
    runs = _runs(families, dtypes)
    bar = _progress(len(runs), verbose)
    report = {family: {"seconds": 0.0, "compiled": 0} for family in families}
    try:
        for family, dtype, (name, params, inputs, target) in runs:
            if bar is not None:
                bar.set_description(f"{family} {dtype} {name}")
            X, y = _data(inputs, target)
            est = getattr(seqnet, name)(max_iter=1, random_state=0, dtype=dtype, **params)
            start = time.perf_counter()
            with watch_compiles() as watch, warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X, y).predict(X)
            report[family]["seconds"] += time.perf_counter() - start
            report[family]["compiled"] += watch.n_compiled
            if bar is not None:
                bar.update(1)
        recurrent = [f for f in families if f in ("rnn", "lstm", "gru")]
        if recurrent:  # the chunk threads' hand-off: tiny batches never use it
            from seqnet._runtime.backend import compile_chunk_handoff

            start = time.perf_counter()
            with watch_compiles() as watch:
                compile_chunk_handoff()
            report[recurrent[0]]["seconds"] += time.perf_counter() - start
            report[recurrent[0]]["compiled"] += watch.n_compiled
    finally:
        if bar is not None:
            bar.close()
    for family in families:
        report[family]["seconds"] = round(report[family]["seconds"], 2)
    return report


def dask_setup(worker):
    """``dask worker --preload seqnet.warmup``: warm the cache as a worker starts."""
    warmup(verbose=False)
