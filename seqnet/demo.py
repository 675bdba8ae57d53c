"""``seqnet demo``: the main job, on real data that ships offline.

1. load_digits read as sequences (8 rows of 8 pixels) -> LSTMClassifier
2. load_digits read as 8x8x1 images -> ConvClassifier
3. a UCR time-series dataset (GunPoint, via aeon, when installed) -> GRUClassifier
4. a short forecast of the Canadian lynx series (shipped) -> Forecaster(LSTMRegressor)

Each model's accuracy and fit time is printed next to scikit-learn's
MLPClassifier on the same split, and the loss curves (drawn by
:class:`seqnet.plotting.LossCurveDisplay`) and the forecast are written as PNG
files to the output folder, whose path is printed.  ``quick=True`` trains
smaller models for fewer epochs (under a minute on 2 cores): a smoke test, not
a showcase.
"""

import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLP


def _timed_fit(est, X, y):
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start


def _digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _gunpoint():
    try:
        from aeon.datasets import load_classification
    except ImportError:
        return None
    try:
        X_tr, y_tr = load_classification("GunPoint", split="train")
        X_te, y_te = load_classification("GunPoint", split="test")
    except Exception:  # dataset not shipped with this aeon version
        return None
    # aeon: (n, channels, T) -> seqnet: (n, T, channels)
    return (np.transpose(X_tr, (0, 2, 1)), np.transpose(X_te, (0, 2, 1)), y_tr, y_te)


def _flat(X):
    return X.reshape(X.shape[0], -1)


def run_demo(output_dir="seqnet_demo_output", quick=False):
    """Train the demo models, print a results table, write plots to ``output_dir``.

    Parameters
    ----------
    output_dir : str or path, default="seqnet_demo_output"
        Folder for the PNG files (created if missing).
    quick : bool, default=False
        Smaller models and fewer epochs, for a smoke test.

    Returns
    -------
    rows : list of tuple
        ``(task, model, accuracy, fit seconds, sklearn accuracy, sklearn seconds)``.
    """
    os.makedirs(output_dir, exist_ok=True)
    # The demo runs to a fixed epoch budget on purpose: "not converged" is noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _run(output_dir, quick)


def _run(output_dir, quick):
    import seqnet

    epochs = 5 if quick else 40
    lstm_hidden = (32,) if quick else (64,)
    sk_iter = 50 if quick else 200
    verbose = 1
    rows = []
    fitted = {}

    X_tr, X_te, y_tr, y_te = _digits()
    tasks = [("digits as sequences (8 steps x 8)", X_tr.reshape(-1, 8, 8), X_te.reshape(-1, 8, 8),
              y_tr, y_te,
              seqnet.LSTMClassifier(hidden_layer_sizes=lstm_hidden, max_iter=epochs,
                                    learning_rate_init=0.01, random_state=0, verbose=verbose))]
    if hasattr(seqnet, "ConvClassifier"):
        tasks.append(("digits as 8x8x1 images", X_tr, X_te, y_tr, y_te,
                      seqnet.ConvClassifier(input_shape=(8, 8, 1), filters=(16, 32),
                                            kernel_size=3, padding="same", pool_size=2,
                                            hidden_layer_sizes=(64,), max_iter=epochs // 2,
                                            learning_rate_init=0.003, random_state=0,
                                            verbose=verbose)))
    gp = _gunpoint()
    if gp is not None:
        g_tr, g_te, gy_tr, gy_te = gp
        tasks.append(("GunPoint (UCR, 150 steps)", g_tr, g_te, gy_tr, gy_te,
                      seqnet.GRUClassifier(hidden_layer_sizes=(32,), pooling="max", max_iter=epochs * 2,
                                           learning_rate_init=0.01, random_state=0,
                                           verbose=verbose)))
    else:
        print("aeon is not installed: skipping the UCR GunPoint task "
              "(pip install aeon)")

    for name, Xa, Xb, ya, yb, est in tasks:
        print(f"\n== {name}: {type(est).__name__}")
        secs = _timed_fit(est, Xa, ya)
        acc = est.score(Xb, yb)
        sk = SkMLP(hidden_layer_sizes=(100,), max_iter=sk_iter, random_state=0)
        sk_secs = _timed_fit(sk, _flat(Xa), ya)
        sk_acc = sk.score(_flat(Xb), yb)
        rows.append((name, type(est).__name__, acc, secs, sk_acc, sk_secs))
        fitted[name] = est

    forecast_row = _forecast_demo(output_dir, quick)
    _print_table(rows, forecast_row)
    _plot_curves(fitted, output_dir)
    print(f"\nplots written to {os.path.abspath(output_dir)}")
    return rows


def _forecast_demo(output_dir, quick):
    import seqnet
    from seqnet.datasets import load_lynx
    from seqnet.forecasting import Forecaster

    series = np.log10(load_lynx())
    horizon = 14
    train, test = series[:-horizon], series[-horizon:]
    model = Forecaster(
        seqnet.LSTMRegressor(hidden_layer_sizes=(32,), max_iter=60 if quick else 200,
                             learning_rate_init=0.01, batch_size=16, random_state=0),
        window=20, horizon=horizon, strategy="direct",
    )
    print("\n== lynx forecast (log10, 14 years held out): Forecaster(LSTMRegressor)")
    start = time.perf_counter()
    model.fit(train)
    secs = time.perf_counter() - start
    pred = np.asarray(model.predict(horizon)).ravel()
    naive = train[-10:][np.arange(horizon) % 10]  # seasonal naive, ~10-year cycle
    mae = float(np.mean(np.abs(pred - test)))
    naive_mae = float(np.mean(np.abs(naive - test)))
    _plot_forecast(output_dir, train, test, pred)
    return mae, naive_mae, secs


def _print_table(rows, forecast_row):
    print("\n" + "=" * 86)
    print(f"{'task':36s} {'seqnet model':16s} {'acc':>6s} {'fit s':>7s}   "
          f"{'sklearn MLP acc':>15s} {'fit s':>6s}")
    print("-" * 86)
    for name, model, acc, secs, sk_acc, sk_secs in rows:
        print(f"{name:36s} {model:16s} {acc:6.3f} {secs:7.2f}   {sk_acc:15.3f} {sk_secs:6.2f}")
    mae, naive_mae, secs = forecast_row
    print(f"{'lynx forecast, MAE (log10)':36s} {'LSTM forecaster':16s} {mae:6.3f} {secs:7.2f}   "
          f"{'seasonal naive':>15s} {naive_mae:6.3f}")
    print("=" * 86)
    print("seqnet fit times include numba compilation on the first run on this machine;\n"
          "later runs load the compiled kernels from numba's cache.")


def _plot_curves(fitted, output_dir):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return
    from seqnet.plotting import LossCurveDisplay

    for i, (name, est) in enumerate(fitted.items()):
        fig, ax = plt.subplots(figsize=(5, 3.2))
        LossCurveDisplay.from_estimator(est, ax=ax, title=f"{type(est).__name__}: {name}")
        fig.tight_layout()
        fig.savefig(os.path.join(output_dir, f"loss_curve_{i}.png"), dpi=90)
        plt.close(fig)


def _plot_forecast(output_dir, train, test, pred):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    years = 1821 + np.arange(len(train) + len(test))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(years[: len(train)], train, label="history")
    ax.plot(years[len(train):], test, label="held out")
    ax.plot(years[len(train):], pred, label="LSTM forecast")
    ax.set(xlabel="year", ylabel="log10 lynx trappings")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "lynx_forecast.png"), dpi=90)
    plt.close(fig)
