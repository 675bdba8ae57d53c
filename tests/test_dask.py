"""Dask: GridSearchCV on a LocalCluster through joblib, and dask-array chunk loops."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from seqnet import LSTMClassifier, MLPClassifier

distributed = pytest.importorskip("distributed")  # the optional 'dask' extra
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=48, t=10, f=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, f)).astype(np.float32)
    y = (X[:, :, 0].mean(axis=1) > 0).astype(int)
    return X, y


def _search():
    return GridSearchCV(
        LSTMClassifier(hidden_layer_sizes=(6,), max_iter=3, batch_size=16, random_state=0),
        {"learning_rate_init": [1e-3, 1e-2], "alpha": [1e-4, 1e-2]},
        cv=KFold(2),
    )


def test_grid_search_on_local_cluster_equals_serial():
    import joblib

    X, y = _data()
    serial = _search().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cluster start-up chatter
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None,
        )
    try:
        with distributed.Client(cluster) as client:
            with joblib.parallel_backend("dask"):
                on_dask = _search().fit(X, y)
            # each worker process ran at one thread (dask's nanny sets OMP_NUM_THREADS=1)
            n_threads = client.run(lambda: __import__("seqnet").get_num_threads())
            assert set(n_threads.values()) == {1}
    finally:
        cluster.close()
    np.testing.assert_array_equal(serial.cv_results_["mean_test_score"],
                                  on_dask.cv_results_["mean_test_score"])
    assert serial.best_params_ == on_dask.best_params_


def test_dask_array_block_loop_matches_numpy_chunks():
    X, y = _data(n=400)
    dX = da.from_array(X, chunks=(100, 10, 3))
    dy = da.from_array(y, chunks=100)
    a = LSTMClassifier(hidden_layer_sizes=(6,), random_state=0)
    for xb, yb in zip(dX.blocks, dy.blocks):
        a.partial_fit(xb.compute(), yb.compute(), classes=[0, 1])
    b = LSTMClassifier(hidden_layer_sizes=(6,), random_state=0)
    for s in range(0, 400, 100):
        b.partial_fit(X[s:s + 100], y[s:s + 100], classes=[0, 1])
    assert a.t_ == 400
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # predict over a dask array: one call per block
    pred = dX.map_blocks(lambda blk: a.predict(blk), drop_axis=[1, 2], dtype=int).compute()
    np.testing.assert_array_equal(pred, a.predict(X))


def test_dask_ml_incremental_with_2d_inputs():
    # dask-ml's Incremental (2025.1.0) indexes blocks as (name, i, 0): it works for
    # 2-D X only; 3-D sequences need the block loop above.
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = _data(n=400)
    X2 = X.reshape(400, -1)
    dX = da.from_array(X2, chunks=(100, X2.shape[1]))
    dy = da.from_array(y, chunks=100)
    inc = wrappers.Incremental(MLPClassifier(hidden_layer_sizes=(6,), random_state=0))
    inc.fit(dX, dy, classes=[0, 1])
    assert inc.estimator_.t_ == 400
    assert inc.predict(dX).compute().shape == (400,)
