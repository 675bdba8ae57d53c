"""Optimizer kernels, the Optimizer/LearningRateSchedule classes, clipping and
the elastic-net penalty, stepped against tests/reference.py."""

import numpy as np
import pytest

from seqnet.kernels import cpu as K
from seqnet.training.optimizers import SOLVERS, Optimizer
from seqnet.training.schedules import LearningRateSchedule

from tests import reference as ref

N = 37
STEPS = 6
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-4, atol=1e-6)}
SOLVER_KW = {
    "sgd": dict(momentum=0.9, nesterovs_momentum=True),
    "sgd_plain": dict(momentum=0.8, nesterovs_momentum=False),
    "sgd_nomomentum": dict(momentum=0.0, nesterovs_momentum=False),
    "adam": dict(beta_1=0.8, beta_2=0.95, epsilon=1e-7),
    "rmsprop": dict(beta_2=0.9, epsilon=1e-7),
    "adagrad": dict(epsilon=1e-7),
    "adadelta": dict(beta_2=0.9, epsilon=1e-6),
}


def _ref_optimizer(case, n):
    kw = SOLVER_KW[case]
    return ref.ReferenceOptimizer(
        case.split("_")[0], n, momentum=kw.get("momentum", 0.9),
        nesterov=kw.get("nesterovs_momentum", True), beta_1=kw.get("beta_1", 0.9),
        beta_2=kw.get("beta_2", 0.999), epsilon=kw.get("epsilon", 1e-8),
    )


def test_solver_names():
    assert set(SOLVERS) == {"adam", "sgd", "rmsprop", "adagrad", "adadelta"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(SOLVER_KW))
def test_optimizer_steps_match_reference(case, dtype):
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=N)
    params = p0.astype(dtype)
    opt = Optimizer(case.split("_")[0], N, dtype, **SOLVER_KW[case])
    r = _ref_optimizer(case, N)
    p_ref = p0.astype(dtype).astype(np.float64)
    lrs = [0.1, 0.05, 0.2, 0.01, 0.1, 0.3]  # the rate changes between steps
    for step in range(STEPS):
        g = (rng.normal(size=N) * (step + 1)).astype(dtype)
        g[0] = 0.0  # zero gradient entries are fine for every rule
        opt.step(params, g, lrs[step], K)
        p_ref = r.step(p_ref, g, lrs[step])
        np.testing.assert_allclose(params, p_ref, err_msg=f"step {step}", **TOL[dtype])
        for have, want in zip(opt.state, r.state):
            np.testing.assert_allclose(have, want, **TOL[dtype])
    assert opt.t == STEPS
    assert params.dtype == dtype


def test_sgd_kernel_matches_sklearn_optimizer():
    """scikit-learn's own SGDOptimizer / AdamOptimizer give the same trajectory."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    rng = np.random.default_rng(1)
    p0 = rng.normal(size=N)
    for solver, sk in (
        ("sgd", SGDOptimizer([p0.copy()], learning_rate_init=0.1, momentum=0.9,
                             nesterov=True)),
        ("adam", AdamOptimizer([p0.copy()], learning_rate_init=0.01)),
    ):
        ours = p0.copy()
        opt = Optimizer(solver, N, np.float64, momentum=0.9, nesterovs_momentum=True)
        sk_params = [p0.copy()]
        sk.params = sk_params  # sklearn updates the list's arrays in place
        for _ in range(5):
            g = rng.normal(size=N)
            opt.step(ours, g, 0.1 if solver == "sgd" else 0.01, K)
            sk.update_params(sk_params, [g])
        np.testing.assert_allclose(ours, sk_params[0], rtol=1e-12, atol=1e-14)


def test_adam_bias_correction_first_step_is_sign_step():
    """With bias correction the first adam step is ~lr * sign(g)."""
    p = np.zeros(5)
    g = np.array([1.0, -2.0, 3.0, -0.5, 0.1])
    Optimizer("adam", 5, np.float64).step(p, g, 0.01, K)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-4)


# ------------------------------------------------------------------ kernels
def test_optimizer_kernels_update_in_place():
    rng = np.random.default_rng(2)
    p = rng.normal(size=N)
    g = rng.normal(size=N)
    for name, args in (
        ("sgd_update", (np.zeros(N), 0.1, 0.9, True)),
        ("adam_update", (np.zeros(N), np.zeros(N), 0.1, 0.9, 0.999, 1e-8)),
        ("rmsprop_update", (np.zeros(N), 0.1, 0.9, 1e-8)),
        ("adagrad_update", (np.zeros(N), 0.1, 1e-8)),
        ("adadelta_update", (np.zeros(N), np.zeros(N), 1.0, 0.9, 1e-6)),
    ):
        q = p.copy()
        assert getattr(K, name)(q, g, *args) is None
        assert not np.array_equal(q, p), name


# ----------------------------------------------------------------- penalty
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elastic_net_matches_reference(l1_ratio, dtype):
    rng = np.random.default_rng(3)
    p = rng.normal(size=N).astype(dtype)
    p[1] = 0.0
    g0 = rng.normal(size=N).astype(dtype)
    mask = (rng.random(N) < 0.7).astype(np.uint8)
    alpha = 0.37
    g = g0.copy()
    penalty = K.add_elastic_net(p, g, mask, alpha, l1_ratio)
    e_pen, e_grad = ref.elastic_net(p, mask, alpha, l1_ratio)
    np.testing.assert_allclose(penalty, e_pen, **TOL[dtype])
    np.testing.assert_allclose(g, g0.astype(np.float64) + e_grad, **TOL[dtype])
    # unmasked entries (biases) are untouched
    np.testing.assert_array_equal(g[mask == 0], g0[mask == 0])


def test_elastic_net_finite_differences():
    rng = np.random.default_rng(4)
    p = rng.normal(size=N)
    mask = np.ones(N, dtype=np.uint8)
    mask[::3] = 0
    g = np.zeros(N)
    K.add_elastic_net(p, g, mask, 0.5, 0.4)
    scratch = np.zeros(N)

    def pen():
        return K.add_elastic_net(p, scratch, mask, 0.5, 0.4)

    assert ref.relative_error(g, ref.numerical_gradient(pen, p)) < 1e-6


# ---------------------------------------------------------------- clipping
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("clip", [0.5, 3.0, 100.0])
def test_global_norm_clipping(clip, dtype):
    rng = np.random.default_rng(5)
    g = (rng.normal(size=N) * 2).astype(dtype)
    expect, e_norm = ref.clip_by_global_norm(g, clip)
    norm = K.global_norm(g)
    np.testing.assert_allclose(norm, e_norm, rtol=1e-12 if dtype == np.float64 else 1e-6)
    if norm > clip:  # what the training loop does
        K.scale_inplace(g, clip / (norm + 1e-12))
    np.testing.assert_allclose(g, expect, **TOL[dtype])
    assert np.sqrt(np.sum(g.astype(np.float64) ** 2)) <= clip * (1 + 1e-6)


def test_global_norm_float32_accumulates_in_float64():
    g = np.full(1_000_003, 1e-3, dtype=np.float32)
    np.testing.assert_allclose(K.global_norm(g), np.sqrt(g.size) * np.float32(1e-3),
                               rtol=1e-7)


def test_training_step_clips_gradient():
    """The loop's step: clip_norm bounds the update of plain SGD."""
    from types import SimpleNamespace

    from seqnet.network.dense import DenseLayer
    from seqnet.network.network import Network
    from seqnet.training.loop import Batch, TrainingState, _train_step

    est = SimpleNamespace(
        solver="sgd", momentum=0.0, nesterovs_momentum=False, beta_1=0.9, beta_2=0.999,
        epsilon=1e-8, learning_rate="constant", learning_rate_init=1.0, power_t=0.5,
        max_learning_rate=None, cycle_length=1, early_stopping=False, alpha=0.0,
        l1_ratio=0.0, clip_norm=0.01,
    )
    net = Network([DenseLayer(1, "out", 0)], "squared", np.float64)
    net.build((3,))
    net.initialize(np.random.default_rng(0), "glorot")
    state = TrainingState(est, net.n_params, np.float64, 1)
    x = np.full((4, 3), 10.0)
    y = np.full((4, 1), -100.0)
    before = net.params.copy()
    _train_step(est, net, state, Batch(x, y, np.ones(4), None), None, K)
    step = net.params - before
    np.testing.assert_allclose(np.linalg.norm(step), 0.01, rtol=1e-9)


# --------------------------------------------------------------- schedules
SCHEDULES = ["constant", "invscaling", "adaptive", "cyclic"]


@pytest.mark.parametrize("kind", SCHEDULES)
def test_schedule_matches_reference(kind):
    cycle = 6
    ours = LearningRateSchedule(kind, 0.01, power_t=0.4, max_learning_rate=0.05,
                                cycle_iterations=cycle)
    theirs = ref.ReferenceSchedule(kind, 0.01, power_t=0.4, max_lr=0.05,
                                   cycle_iterations=cycle)
    seen = 0
    rates = []
    for update in range(1, 3 * cycle + 2):
        assert ours.learning_rate == pytest.approx(theirs.lr, rel=1e-12), update
        rates.append(ours.learning_rate)
        seen += 32
        ours.batch_end(seen, update)
        theirs.after_batch(seen, update)
    if kind == "constant" or kind == "adaptive":
        assert set(rates) == {0.01}
    if kind == "invscaling":
        assert rates[1] == pytest.approx(0.01 / 33 ** 0.4)
        assert np.all(np.diff(rates) < 0)
    if kind == "cyclic":
        assert max(rates) == pytest.approx(0.05)
        assert rates[0] == rates[cycle] == rates[2 * cycle] == pytest.approx(0.01)
        assert rates[cycle // 2] == pytest.approx(0.05)


@pytest.mark.parametrize("kind", SCHEDULES)
def test_schedule_stalling(kind):
    ours = LearningRateSchedule(kind, 1e-3)
    theirs = ref.ReferenceSchedule(kind, 1e-3)
    for _ in range(10):
        stop = ours.trigger_stopping()
        assert stop == theirs.stalled()
        assert ours.learning_rate == pytest.approx(theirs.lr, rel=1e-12)
        if stop:
            break
    if kind == "adaptive":
        # 1e-3 / 5^k: 2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7 -> stop at the next stall
        assert ours.learning_rate == pytest.approx(1e-3 / 5 ** 5)
    else:
        assert ours.learning_rate == 1e-3


def test_cyclic_schedule_with_optimizer_steps():
    """Schedule + solver stepped together, as the training loop does."""
    rng = np.random.default_rng(6)
    p = rng.normal(size=N)
    p_ref = p.copy()
    opt = Optimizer("sgd", N, np.float64, momentum=0.5)
    r = ref.ReferenceOptimizer("sgd", N, momentum=0.5)
    sched = LearningRateSchedule("cyclic", 0.01, cycle_iterations=4)
    rs = ref.ReferenceSchedule("cyclic", 0.01, cycle_iterations=4)
    for i in range(9):
        g = rng.normal(size=N)
        opt.step(p, g, sched.learning_rate, K)
        p_ref = r.step(p_ref, g, rs.lr)
        sched.batch_end(10 * (i + 1), opt.t)
        rs.after_batch(10 * (i + 1), r.t)
        np.testing.assert_allclose(p, p_ref, rtol=1e-12, atol=1e-14)


def test_unshuffled_batches_are_views_unless_read_only():
    """``take_batch`` hands slices of writeable C-contiguous data over as views
    (no copy per batch); read-only data and index arrays give copies."""
    from seqnet.training.loop import take_batch

    X = np.arange(60, dtype=np.float32).reshape(10, 3, 2)
    Y = np.arange(10, dtype=np.float32)[:, None]
    sw = np.ones(10, dtype=np.float32)
    b = take_batch(X, Y, sw, None, slice(2, 6))
    assert np.shares_memory(b.x, X) and np.shares_memory(b.y, Y)
    np.testing.assert_array_equal(b.x, X[2:6])
    idx = take_batch(X, Y, sw, None, np.array([5, 1]))
    assert not np.shares_memory(idx.x, X)
    np.testing.assert_array_equal(idx.x, X[[5, 1]])
    X_ro = X.copy()
    X_ro.flags.writeable = False
    ro = take_batch(X_ro, Y, sw, None, slice(2, 6))
    assert ro.x.flags.writeable and ro.x.flags.c_contiguous
    assert not np.shares_memory(ro.x, X_ro)
    # ragged: trimmed to the batch's longest sequence, a C-contiguous copy
    lengths = np.array([3, 1, 2, 2, 1, 3, 3, 3, 3, 3])
    r = take_batch(X, Y, sw, lengths, slice(1, 4))
    assert r.x.shape == (3, 2, 2) and r.x.flags.c_contiguous
    np.testing.assert_array_equal(r.x, X[1:4, :2])


def test_unshuffled_fit_same_on_read_only_input_and_leaves_input_alone():
    from seqnet import LSTMRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 2)).astype(np.float32)
    y = X[:, -1, 0].astype(np.float32)
    X_before = X.copy()
    kw = dict(hidden_layer_sizes=(4,), batch_size=16, shuffle=False, max_iter=2,
              random_state=0)
    a = LSTMRegressor(**kw).fit(X, y)
    X_ro = X.copy()
    X_ro.flags.writeable = False
    b = LSTMRegressor(**kw).fit(X_ro, y)
    np.testing.assert_array_equal(X, X_before)
    for name, w in a.weights_.items():
        np.testing.assert_array_equal(w, b.weights_[name])
