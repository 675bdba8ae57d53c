"""Input validation: tables, fixed-length sequences, ragged sequences.

Everything goes through scikit-learn's own validators (NaN/inf, empty input,
sparse matrices, object arrays all give scikit-learn's messages), then is cast
to the compute dtype without copying when it already has it (read-only and
memory-mapped inputs are only read).  An array those validators would return
unchanged skips them (:func:`check_samples`).
"""

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import _check_feature_names, check_array

from seqnet.preprocessing import _is_ragged_list  # noqa: F401  (also used by conv.py)


def check_samples(X, dtype, est, ensure_2d=True, input_name="", accept_sparse=False):
    """``check_array(X, dtype=dtype, allow_nd=True, ensure_2d=ensure_2d,
    accept_sparse=accept_sparse)``, skipped for an array it would return unchanged.

    A non-empty C-contiguous ndarray of the compute dtype with a finite sum
    (so no NaN or inf) passes every check scikit-learn makes here: it is
    returned as it is, without scikit-learn's validation path (a sizeable
    share of a small recurrent ``predict``).  Anything else goes
    through ``check_array`` and gets its conversions and messages.
    """
    if (type(X) is np.ndarray and X.dtype == dtype and X.ndim >= (2 if ensure_2d else 1)
            and X.size > 0 and X.flags.c_contiguous):
        with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN sums: check_array
            if np.isfinite(X.sum()):
                return X
    return check_array(X, dtype=dtype, allow_nd=True, ensure_2d=ensure_2d, estimator=est,
                       input_name=input_name, accept_sparse=accept_sparse)


def validate_table(est, X, dtype, reset, accept_sparse=False):
    """2-D X for dense models; higher-rank X is flattened per sample.

    With ``accept_sparse`` (the MLP: ``["csr", "csc"]``, as scikit-learn's) a
    scipy.sparse ``X`` is returned as CSR (rows are what batches slice) in
    the compute dtype, never densified: the first dense layer multiplies it
    as it is.
    """
    if reset or hasattr(est, "feature_names_in_"):
        _check_feature_names(est, X, reset=reset)
    X = check_samples(X, dtype, est, accept_sparse=accept_sparse)
    if issparse(X):
        X = X.tocsr()  # CSC: a copy of the stored values only
        _check_n_features(est, X.shape[1], reset)
        return X
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    _check_n_features(est, X.shape[1], reset)
    return X


def validate_sequences(est, X, dtype, reset):
    """Return ``(X3, lengths)``: X3 (n, T, F) post-padded, lengths int64 or None.

    Accepts a 3-D array (n, T, F), a 2-D array (n, T) of univariate series, or
    a list of (T_i, F) / (T_i,) arrays of different lengths (padded here and
    masked by the kernels, so padding never changes a result).

    For a 2-D array ``n_features_in_`` is its number of columns (as scikit-learn
    requires); for 3-D and ragged input it is the number of features per step.
    """
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError("X is an empty list: expected at least one sequence of shape "
                         "(n_timesteps, n_features).")
    if _is_ragged_list(X):
        X3, lengths = pad_ragged(est, X, dtype)
        _check_n_features(est, X3.shape[2], reset, ragged=True)
        return X3, lengths
    if reset or hasattr(est, "feature_names_in_"):
        _check_feature_names(est, X, reset=reset)
    X = check_samples(X, dtype, est)
    if X.ndim == 2:
        _check_n_features(est, X.shape[1], reset)
        if not reset and getattr(est, "_input_rank", 2) == 3:
            raise ValueError(
                f"{type(est).__name__} was fitted on 3-D sequences with "
                f"{est.n_features_in_} features; got a 2-D array of shape {X.shape}."
            )
        if reset:
            est._input_rank = 2
        return X.reshape(X.shape[0], X.shape[1], 1), None
    if X.ndim != 3:
        raise ValueError(
            f"Expected sequences of shape (n_samples, n_timesteps, n_features) or "
            f"(n_samples, n_timesteps); got an array of shape {X.shape}."
        )
    if X.shape[1] == 0:
        raise ValueError("Sequences of length 0 cannot be used: X has 0 time steps.")
    _check_n_features(est, X.shape[2], reset, rank=3)
    return X, None


def pad_ragged(est, X, dtype):
    """Return ``(X3, lengths)`` for a ragged list of (T_i, F) / (T_i,) arrays:
    X3 (n, max T_i, F) of ``dtype``, zero-padded after each sequence (the
    kernels mask the padding by ``lengths``, int64). Checks each sequence with
    scikit-learn's validators; ``n_features_in_`` is left to the caller."""
    # checked before check_array, whose "0 sample(s)" message names no sequence
    check_lengths_positive(np.array([len(s) for s in X]))
    seqs = [check_array(np.asarray(s), dtype=dtype, ensure_2d=False, estimator=est,
                        ensure_min_samples=1) for s in X]
    seqs = [s.reshape(-1, 1) if s.ndim == 1 else s for s in seqs]
    n_feat = {s.shape[1] for s in seqs}
    if len(n_feat) != 1:
        raise ValueError(
            f"All sequences of a ragged batch must have the same number of features; "
            f"got {sorted(n_feat)}."
        )
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    X3 = np.zeros((len(seqs), int(lengths.max()), n_feat.pop()), dtype=dtype)
    for i, s in enumerate(seqs):
        X3[i, : s.shape[0]] = s
    return X3, lengths


def _check_n_features(est, n_features, reset, ragged=False, rank=2):
    if reset:
        est.n_features_in_ = int(n_features)
        if ragged or rank == 3:
            est._input_rank = 3
        return
    if not hasattr(est, "n_features_in_"):
        return
    if n_features != est.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    if (ragged or rank == 3) and getattr(est, "_input_rank", 3) == 2:
        raise ValueError(
            f"{type(est).__name__} was fitted on a 2-D array of {est.n_features_in_} "
            "univariate time steps; predict with the same 2-D layout."
        )


def check_lengths_positive(lengths):
    if lengths is not None and np.any(lengths <= 0):
        bad = int(np.flatnonzero(lengths <= 0)[0])
        raise ValueError(f"Sequence {bad} of the ragged batch has length 0; "
                         "every sequence needs at least one time step.")
