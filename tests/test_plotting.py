"""LossCurveDisplay: renders PNG files, with and without validation scores."""

import builtins
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from seqnet import MLPClassifier  # noqa: E402
from seqnet.plotting import LossCurveDisplay  # noqa: E402


def _fitted(**kw):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, batch_size=20,
                             random_state=0, **kw).fit(X, y)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_loss_curve_only(tmp_path):
    est = _fitted()
    disp = LossCurveDisplay.from_estimator(est)
    np.testing.assert_allclose(disp.loss_curve, est.loss_curve_)
    assert disp.validation_scores is None and disp.ax_val_ is None
    assert len(disp.lines_) == 1
    np.testing.assert_allclose(disp.lines_[0].get_ydata(), est.loss_curve_)
    assert disp.figure_ is disp.ax_.figure
    path = tmp_path / "loss.png"
    disp.figure_.savefig(path)
    assert path.stat().st_size > 0


def test_with_validation_scores_on_twin_axis(tmp_path):
    est = _fitted(early_stopping=True, validation_fraction=0.25)
    disp = LossCurveDisplay.from_estimator(est, title="mlp")
    assert len(disp.lines_) == 2
    np.testing.assert_allclose(disp.validation_scores, est.validation_scores_)
    assert disp.ax_val_ is not None and disp.ax_val_ is not disp.ax_
    assert disp.lines_[1].axes is disp.ax_val_
    assert disp.ax_.get_title() == "mlp"
    path = tmp_path / "loss_val.png"
    disp.figure_.savefig(path)
    assert path.stat().st_size > 0


def test_plot_on_given_axes_and_from_arrays():
    fig, ax = plt.subplots()
    disp = LossCurveDisplay([3.0, 2.0, 1.5], validation_scores=[0.5, 0.7, 0.8]).plot(ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    np.testing.assert_array_equal(disp.lines_[0].get_xdata(), [1, 2, 3])


def test_unfitted_estimator_raises():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(MLPClassifier())


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        LossCurveDisplay([1.0, 0.5]).plot()
