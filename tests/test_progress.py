"""Progress output (``verbose``) and Ctrl-C during ``fit``."""

import numpy as np
import pytest

import seqnet.training.loop as loop
import seqnet.training.progress as progress
from seqnet import LSTMClassifier, MLPClassifier


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _mlp(**kw):
    params = dict(hidden_layer_sizes=(8,), batch_size=16, max_iter=3, random_state=0,
                  n_iter_no_change=50)
    params.update(kw)
    return MLPClassifier(**params)


def _fit_quietly(est, X, y):
    with pytest.warns(Warning):  # max_iter reached: a ConvergenceWarning
        return est.fit(X, y)


# ------------------------------------------------------------------ verbose


def test_verbose_1_tqdm_bar_per_fit(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    est = _mlp(verbose=1, early_stopping=True, validation_fraction=0.25)
    _fit_quietly(est, X, y)
    out = capsys.readouterr().out
    # one bar over epochs, its last state carries the loss and validation score
    assert "3/3" in out and "epoch" in out
    assert "loss=" in out and "val=" in out
    _fit_quietly(est, X, y)
    assert "3/3" in capsys.readouterr().out  # a fresh bar for the next fit


_WARNING_SCRIPT = """
import sys
import numpy as np
from seqnet import MLPClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(80, 4)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(int)
MLPClassifier(hidden_layer_sizes=(8,), batch_size=16, max_iter=3, random_state=0,
              n_iter_no_change=50, verbose=int(sys.argv[1]),
              early_stopping=sys.argv[2] == "es").fit(X, y)
"""


@pytest.mark.parametrize("verbose,mode", [(1, "plain"), (1, "es"), (2, "plain")])
def test_warning_after_the_bar_not_inside_it(verbose, mode):
    """stdout and stderr in one stream, as a terminal shows them."""
    pytest.importorskip("tqdm")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _WARNING_SCRIPT, str(verbose), mode],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=300, check=True).stdout.decode()  # keeps the \r
    lines = out.split("\n")
    bar_lines = [i for i, ln in enumerate(lines) if "100%|" in ln]
    warn_lines = [i for i, ln in enumerate(lines) if "ConvergenceWarning" in ln]
    assert len(bar_lines) == 1, out  # the bar is drawn once, not again after the warning
    assert len(warn_lines) == 1, out
    assert warn_lines[0] > bar_lines[0], out
    assert "Warning" not in lines[bar_lines[0]]
    final = lines[bar_lines[0]].split("\r")[-1]
    assert "s/epoch=" not in final and final.count("/s") + final.count("s/epoch") + \
        final.count("s/batch") == 1, final  # one rate: tqdm's


def test_verbose_1_plain_lines_without_tqdm(data, capsys, monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    X, y = data
    _fit_quietly(_mlp(verbose=1, early_stopping=True, validation_fraction=0.25), X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Iteration")]
    assert len(lines) == 3
    assert all("loss = " in ln and "validation score = " in ln for ln in lines)
    assert "batch" not in "".join(lines)


def test_verbose_2_tqdm_bar_per_batch(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    _fit_quietly(_mlp(verbose=2), X, y)  # 80 samples / 16 = 5 batches x 3 epochs
    out = capsys.readouterr().out
    assert "15/15" in out and "batch" in out and "loss=" in out


def test_verbose_2_plain_lines_without_tqdm(data, capsys, monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    X, y = data
    _fit_quietly(_mlp(verbose=2), X, y)
    out = capsys.readouterr().out.splitlines()
    assert sum(ln.strip().startswith("batch") for ln in out) == 15
    assert sum(ln.startswith("Iteration") for ln in out) == 3


def test_verbose_0_is_silent(data, capsys):
    X, y = data
    _fit_quietly(_mlp(verbose=0), X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ------------------------------------------------------------------ Ctrl-C


def _interrupt_on_call(monkeypatch, n):
    """Make the ``n``-th training step raise KeyboardInterrupt, as Ctrl-C would."""
    real = loop._train_step
    calls = {"n": 0}

    def step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "_train_step", step)
    return calls


def test_ctrl_c_leaves_a_fitted_estimator(data, monkeypatch):
    X, y = data
    calls = _interrupt_on_call(monkeypatch, 3)
    est = _mlp(max_iter=50)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, y)
    assert calls["n"] == 3
    assert est.stop_reason_ == "interrupted"
    assert est.n_iter_ == 0  # stopped inside the first epoch
    assert est.predict(X).shape == (80,)
    assert np.isfinite(est.predict_proba(X)).all()


def test_ctrl_c_with_early_stopping_keeps_best_weights(data, monkeypatch):
    X, y = data
    # 60 training rows / 16 = 4 batches per epoch: the 11th step is in epoch 3
    _interrupt_on_call(monkeypatch, 11)
    est = _mlp(max_iter=50, early_stopping=True, validation_fraction=0.25)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, y)
    assert est.stop_reason_ == "interrupted"
    assert est.n_iter_ == 2 and len(est.validation_scores_) == 2
    best = est._training.best_params
    np.testing.assert_array_equal(est._network.params, best)
    assert est.predict(X).shape == (80,)


def test_ctrl_c_recurrent_then_refit(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6, 2)).astype(np.float32)
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    _interrupt_on_call(monkeypatch, 2)
    est = LSTMClassifier(hidden_layer_sizes=(4,), batch_size=10, max_iter=5, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, y)
    assert est.stop_reason_ == "interrupted"
    assert est.predict(X).shape == (40,)
    monkeypatch.undo()
    with pytest.warns(Warning):
        est.fit(X, y)  # an interrupted estimator fits again normally
    assert est.stop_reason_ == "max_iter" and est.n_iter_ == 5
