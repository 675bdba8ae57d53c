"""``seqnet demo``: what seqnet is for, on real data shipped with it (no download).

1. Time-series classification: the UCR archive's GunPoint (shipped in
   :mod:`seqnet.datasets`) with a 1-D :class:`~seqnet.ConvClassifier`, beside
   scikit-learn's ``MLPClassifier`` on the flattened series. Accuracy is the
   mean over seeds (3, or 1 with ``quick``), with the spread.
2. Forecasting: the Canadian lynx series, the last 14 years held out, with
   ``Forecaster(LSTMRegressor)`` on the log scale and 90% conformal intervals,
   beside the seasonal-naive forecast (10-year cycle).
3. Small images: ``load_digits`` as 8x8x1 images with a 2-D ConvClassifier,
   beside scikit-learn's MLP on the 64 pixels.

Every stage says what it is about to fit before it starts. The loss curves and
the forecast are written as PNG files to the output folder. Fit times include
numba's compilation only on a cold cache; the footer says so only when
kernels were really compiled in this run. ``quick=True`` tells the same story
with one seed, fewer epochs and smaller models.
"""

import os
import time
import warnings

import numpy as np

GUNPOINT_EPOCHS = 100
LYNX_HOLDOUT = 14


class _Compiles:
    """Count numba compilations in this run and say when one starts."""

    def __init__(self):
        self.n_compiled = 0
        self.seconds = 0.0
        self._said = False

    def _on_start(self):
        if not self._said:
            print("    compiling kernels (first run on this machine only) ...", flush=True)
            self._said = True

    def run(self, fn):
        from seqnet.training.compiling import watch_compiles

        self._said = False
        with watch_compiles(self._on_start) as watch:
            out = fn()
        self.n_compiled += watch.n_compiled
        self.seconds += watch.seconds
        return out


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _say(text):
    print(text, flush=True)


def run_demo(output_dir="seqnet_demo_output", quick=False):
    """Train the demo models, print a results table, write plots to ``output_dir``.

    Parameters
    ----------
    output_dir : str or path, default="seqnet_demo_output"
        Folder for the PNG files (created if missing).
    quick : bool, default=False
        One seed, fewer epochs and smaller models: the same story in well
        under a minute on 2 cores (on a warm numba cache).

    Returns
    -------
    rows : list of tuple
        ``(task, seqnet model, seqnet score, seqnet fit seconds, baseline name,
        baseline score, baseline fit seconds, metric)`` per task; the score is
        accuracy (higher is better) or MAE (lower is better), as ``metric``
        says.
    """
    from sklearn.exceptions import ConvergenceWarning

    os.makedirs(output_dir, exist_ok=True)
    # The demo trains to a fixed epoch budget on purpose: "not converged" is noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _run(output_dir, quick)


def _run(output_dir, quick):
    compiles = _Compiles()
    seeds = (0,) if quick else (0, 1, 2)
    _say("seqnet demo: sequence models on data shipped with seqnet "
         f"({'quick' if quick else 'full'} run, seeds {', '.join(map(str, seeds))})")
    rows, curves = [], {}

    row, est = _gunpoint_stage(compiles, seeds, quick)
    rows.append(row)
    curves["gunpoint_conv1d"] = (est, "ConvClassifier on GunPoint (UCR)")

    row, lynx_png = _lynx_stage(compiles, output_dir, quick)
    rows.append(row)

    row, est = _digits_stage(compiles, quick)
    rows.append(row)
    curves["digits_conv2d"] = (est, "ConvClassifier on digits (8x8 images)")

    _print_table(rows)
    if compiles.n_compiled:
        _say(f"This run compiled {compiles.n_compiled} kernel specializations in "
             f"{compiles.seconds:.1f} s (included in the seqnet fit times above);\n"
             "later runs load them from numba's cache (`seqnet warmup` does it ahead of time).")
    written = _plot_curves(curves, output_dir) + ([lynx_png] if lynx_png else [])
    if written:
        _say(f"\nplots written to {os.path.abspath(output_dir)}: {', '.join(written)}")
    return rows


# -- stages -------------------------------------------------------------------


def _gunpoint_stage(compiles, seeds, quick):
    import seqnet
    from sklearn.neural_network import MLPClassifier as SkMLP

    from seqnet.datasets import load_gunpoint

    X_tr, X_te, y_tr, y_te = load_gunpoint()
    epochs = 40 if quick else GUNPOINT_EPOCHS
    _say("\n[1/3] Time-series classification: GunPoint (UCR archive; "
         f"{len(X_tr)} train / {len(X_te)} test series of {X_tr.shape[1]} steps)")
    _say(f"  seqnet ConvClassifier (1-D conv, filters (16, 32), kernel 7), {epochs} epochs:")
    accs, secs, est = [], [], None
    for seed in seeds:
        _say(f"    seed {seed}: fitting ...")
        model = seqnet.ConvClassifier(filters=(16, 32), kernel_size=7, pool_size=2,
                                      hidden_layer_sizes=(32,), max_iter=epochs,
                                      learning_rate_init=0.003, batch_size=16,
                                      random_state=seed)
        est, s = compiles.run(lambda m=model: _timed(lambda: m.fit(X_tr[:, :, None], y_tr)))
        accs.append(est.score(X_te[:, :, None], y_te))
        secs.append(s)
        _say(f"      accuracy {accs[-1]:.3f} ({s:.2f} s)")
    sk_iter = 100 if quick else 200
    _say(f"  scikit-learn MLPClassifier(100) on the flattened series, {sk_iter} iterations:")
    sk_accs, sk_secs = [], []
    for seed in seeds:
        _say(f"    seed {seed}: fitting ...")
        sk, s = _timed(lambda: SkMLP(hidden_layer_sizes=(100,), max_iter=sk_iter,
                                     random_state=seed).fit(X_tr, y_tr))
        sk_accs.append(sk.score(X_te, y_te))
        sk_secs.append(s)
        _say(f"      accuracy {sk_accs[-1]:.3f} ({s:.2f} s)")
    row = ("GunPoint (UCR), accuracy", "ConvClassifier 1-D", _spread(accs), np.mean(secs),
           "sklearn MLP", _spread(sk_accs), np.mean(sk_secs), "accuracy")
    return row, est


def _lynx_stage(compiles, output_dir, quick):
    import seqnet
    from seqnet.datasets import load_lynx
    from seqnet.forecasting import Forecaster, seasonal_naive

    y, years = load_lynx(return_years=True)
    h = LYNX_HOLDOUT
    train, test = y[:-h], y[-h:]
    epochs = 60 if quick else 200
    _say(f"\n[2/3] Forecasting: Canadian lynx trappings, fit on {years[0]}-{years[-h - 1]}, "
         f"forecast {years[-h]}-{years[-1]}")
    _say(f"  seqnet Forecaster(LSTMRegressor(32)), log scale, window 20, {epochs} epochs: fitting ...")
    model = Forecaster(
        seqnet.LSTMRegressor(hidden_layer_sizes=(32,), max_iter=epochs,
                             learning_rate_init=0.01, batch_size=16, random_state=0),
        window=20, horizon=h, strategy="direct", transform="auto",
    )
    _, secs = compiles.run(lambda: _timed(lambda: model.fit(train)))
    _say(f"    fitted in {secs:.2f} s (transform: {model.transform_})")
    _say("  90% prediction intervals: backtest of the same model on 1821-1895 ...")
    band, cal_secs = compiles.run(lambda: _timed(lambda: model.predict_interval(h, coverage=0.9)))
    _say(f"    calibrated in {cal_secs:.2f} s")
    pred = band[:, 1]
    _say("  seasonal naive (repeat the last 10-year cycle)")
    naive = seasonal_naive(train, h, period=10)
    mae = float(np.mean(np.abs(pred - test)))
    naive_mae = float(np.mean(np.abs(naive - test)))
    inside = float(np.mean((band[:, 0] <= test) & (test <= band[:, 2])))
    _say(f"    MAE: LSTM {mae:.0f} lynx, seasonal naive {naive_mae:.0f} lynx; "
         f"{inside:.0%} of the held-out years inside the 90% band")
    path = _plot_forecast(output_dir, years, train, test, band, naive)
    row = ("lynx 14-year forecast, MAE", "Forecaster(LSTM)", mae, secs,
           "seasonal naive", naive_mae, 0.0, "MAE")
    return row, path and os.path.basename(path)


def _digits_stage(compiles, quick):
    import seqnet
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    epochs = 15 if quick else 20
    _say(f"\n[3/3] Small images: digits as 8x8x1 images ({len(X_tr)} train / {len(X_te)} test)")
    _say(f"  seqnet ConvClassifier (2-D conv, filters (16, 32)), {epochs} epochs:")
    est = seqnet.ConvClassifier(input_shape=(8, 8, 1), filters=(16, 32), kernel_size=3,
                                padding="same", pool_size=2, hidden_layer_sizes=(64,),
                                max_iter=epochs, learning_rate_init=0.003, random_state=0,
                                verbose=1)
    _, secs = compiles.run(lambda: _timed(lambda: est.fit(X_tr, y_tr)))
    acc = est.score(X_te, y_te)
    _say(f"    accuracy {acc:.3f} ({secs:.2f} s)")
    sk_iter = 100 if quick else 200
    _say(f"  scikit-learn MLPClassifier(100) on the 64 pixels, {sk_iter} iterations: fitting ...")
    sk, sk_secs = _timed(lambda: SkMLP(hidden_layer_sizes=(100,), max_iter=sk_iter,
                                       random_state=0).fit(X_tr, y_tr))
    sk_acc = sk.score(X_te, y_te)
    _say(f"    accuracy {sk_acc:.3f} ({sk_secs:.2f} s)")
    return ("digits 8x8 images, accuracy", "ConvClassifier 2-D", (acc, 0.0), secs,
            "sklearn MLP", (sk_acc, 0.0), sk_secs, "accuracy"), est


# -- report -------------------------------------------------------------------


def _spread(values):
    """(mean, half the range) of per-seed scores."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float((values.max() - values.min()) / 2)


def _fmt(score):
    if isinstance(score, tuple):
        mean, spread = score
        return f"{mean:.3f}" + (f" ±{spread:.3f}" if spread else "")
    return f"{score:.0f}"


def _print_table(rows):
    width = 96
    _say("\n" + "=" * width)
    _say(f"{'task':28s} {'seqnet':19s} {'score':>13s} {'fit s':>6s}   "
         f"{'baseline':15s} {'score':>13s} {'fit s':>6s}")
    _say("-" * width)
    for task, model, score, secs, base, base_score, base_secs, _ in rows:
        base_s = f"{base_secs:6.2f}" if base_secs else f"{'-':>6s}"
        _say(f"{task:28s} {model:19s} {_fmt(score):>13s} {secs:6.2f}   "
             f"{base:15s} {_fmt(base_score):>13s} {base_s}")
    _say("=" * width)
    _say("accuracy: higher is better (mean ± half-range over seeds); MAE: lower is better.")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _plot_curves(curves, output_dir):
    plt = _pyplot()
    if plt is None:
        _say("matplotlib is not installed: no plots (pip install matplotlib)")
        return []
    from seqnet.plotting import LossCurveDisplay

    written = []
    for key, (est, title) in curves.items():
        fig, ax = plt.subplots(figsize=(6, 3.5))
        LossCurveDisplay.from_estimator(est, ax=ax, title=title)
        name = f"loss_curve_{key}.png"
        fig.savefig(os.path.join(output_dir, name), dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(name)
    return written


def _plot_forecast(output_dir, years, train, test, band, naive):
    plt = _pyplot()
    if plt is None:
        return None
    n_tr = len(train)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.plot(years[:n_tr], train, color="0.3", lw=1.2, label="history")
    ax.plot(years[n_tr:], test, color="black", marker=".", label="held out")
    ax.fill_between(years[n_tr:], band[:, 0], band[:, 2], color="tab:red", alpha=0.2,
                    label="90% interval")
    ax.plot(years[n_tr:], band[:, 1], color="tab:red", lw=1.8, label="LSTM forecast")
    ax.plot(years[n_tr:], naive, color="tab:gray", ls=":", label="seasonal naive")
    ax.set(xlabel="year", ylabel="lynx trapped per year", yscale="log",
           title="Canadian lynx: 14-year forecast, seqnet LSTM vs seasonal naive")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    path = os.path.join(output_dir, "lynx_forecast_lstm_vs_seasonal_naive.png")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
