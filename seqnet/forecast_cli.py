"""``seqnet forecast``: read a series (a CSV column, dates optional), fit a
:class:`~seqnet.forecasting.Forecaster` on its head, score it on the held-back
tail beside a seasonal-naive forecast, and write the forecast, its intervals
and a plot.

Only the standard library is imported at module level (``seqnet --help``
loads this module); the command imports NumPy and the models when it runs.
"""

import csv
import math
import os
import time
import warnings

_MODELS = ("lstm", "gru", "rnn", "mlp", "ridge")


from .forecast_io import (  # noqa: F401  (read_series: re-exported by seqnet.cli)
    CLIError,
    format_dates,
    future_dates,
    infer_frequency,
    read_dated_series,
    read_series,
)


# -- helpers ------------------------------------------------------------------


def guess_period(series, max_period=None):
    """Season length guessed from the autocorrelation function.

    The lag (>= 2) of the highest local maximum of the sample ACF, if that
    maximum is positive; otherwise 1 (no season: plain naive forecast).
    """
    import numpy as np

    y = np.asarray(series, dtype=np.float64) - np.mean(series)
    n = len(y)
    max_period = min(max_period or n // 2, n - 1)
    denom = float(y @ y)
    if max_period < 3 or denom == 0.0:
        return 1
    acf = np.array([float(y[:-k] @ y[k:]) / denom for k in range(1, max_period + 1)])
    best, best_lag = 0.0, 1
    for k in range(2, max_period):  # acf[k - 1] is lag k
        if acf[k - 1] > acf[k - 2] and acf[k - 1] >= acf[k] and acf[k - 1] > best:
            best, best_lag = acf[k - 1], k
    return best_lag


def metrics(y_true, y_pred):
    """MAE, RMSE and MAPE (in %, NaN when the truth contains a zero)."""
    import numpy as np

    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    mae = float(np.mean(np.abs(err)))
    rmse = float(np.sqrt(np.mean(err**2)))
    y_true = np.asarray(y_true, dtype=np.float64)
    mape = float(np.mean(np.abs(err / y_true)) * 100) if np.all(y_true != 0) else math.nan
    return {"MAE": mae, "RMSE": rmse, "MAPE": mape}


def make_regressor(model, hidden=32, epochs=100, learning_rate=0.01, batch_size=32,
                   random_state=0, verbose=False):
    """The regressor behind ``--model``: a seqnet network or a Ridge baseline."""
    if model == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0)
    import seqnet

    cls = {
        "lstm": "LSTMRegressor",
        "gru": "GRURegressor",
        "rnn": "RNNRegressor",
        "mlp": "MLPRegressor",
    }[model]
    return getattr(seqnet, cls)(
        hidden_layer_sizes=(hidden,),
        max_iter=epochs,
        learning_rate_init=learning_rate,
        batch_size=batch_size,
        random_state=random_state,
        verbose=verbose,
    )


def _format_row(name, m):
    mape = "n/a" if math.isnan(m["MAPE"]) else f"{m['MAPE']:.1f}%"
    return f"{name:<24} {m['MAE']:>12.4g} {m['RMSE']:>12.4g} {mape:>9}"


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _plot(path, x, series, test_start, test_band, naive_pred, x_future, future_band, name,
          model, coverage, xlabel, log_y=False):
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot "
              "(pip install matplotlib, or seqnet[plot]).")
        return None
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(x, series, color="0.3", lw=1.2, label="history")
    x_test = x[test_start:]
    ax.plot(x_test, naive_pred, ls=":", color="tab:gray", label="seasonal naive (holdout)")
    ax.plot(x_test, test_band[:, 1], ls="--", color="tab:blue", label=f"{model} (holdout)")
    label = f"{coverage:.0%} interval"
    if test_band.shape[1] == 3 and future_band.shape[1] == 3:
        ax.fill_between(x_test, test_band[:, 0], test_band[:, 2], color="tab:blue", alpha=0.15,
                        label=f"{label} (holdout)")
        ax.fill_between(x_future, future_band[:, 0], future_band[:, 2], color="tab:red",
                        alpha=0.2, label=label)
    ax.plot(x_future, future_band[:, 1], color="tab:red", lw=1.8, label=f"{model} forecast")
    ax.axvline(x_test[0], color="0.7", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(name + (" (log scale)" if log_y else ""))
    if log_y:
        ax.set_yscale("log")
    ax.set_title(f"{name}: {model} forecast vs seasonal naive")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# -- subcommands --------------------------------------------------------------


def _load(args):
    """The series, its name, dates (or None) and their frequency (or None)."""
    frequency = freq_period = None
    if args.csv is None:
        from .datasets import load_lynx

        series, years = load_lynx(return_years=True)
        name = "lynx"
        dates = years.astype(str).astype("datetime64[Y]")
        print("No CSV given: using the shipped Canadian lynx series (1821-1934).")
    else:
        series, name, dates, delimiter = read_dated_series(args.csv, args.column)
        if delimiter != ",":
            print(f"delimiter {delimiter!r} found in {args.csv}")
    if dates is not None:
        frequency, freq_period = infer_frequency(dates)
        if frequency is None:
            print("dates found but their spacing is irregular: indexing by position")
            dates = None
    return series, name, dates, frequency, freq_period


def _check_length(args, series, name, test_size):
    """A one-line error naming the window that fits when the series is too short."""
    out_steps = args.horizon if args.strategy == "direct" else 1
    difference = 0 if args.difference == "auto" else int(args.difference)
    need = test_size + args.window + out_steps + 1 + difference
    if len(series) >= need:
        return
    fits = len(series) - test_size - out_steps - 1 - difference
    if fits >= 1:
        hint = f"use --window {fits} or less"
    else:
        hint = "use a smaller --test-size and --horizon, or a longer series"
    raise CLIError(
        f"series {name!r} has {len(series)} values, too short for --window {args.window} "
        f"with a held-back tail of {test_size} (--test-size, default: --horizon): it needs "
        f"at least {need}; {hint}"
    )


def _fit(args, series, test_size):
    """Fit on the head; return the forecaster, its fit seconds, and the bands
    (lower, forecast, upper; or one column without intervals) on the tail
    and after the end of the series."""
    from sklearn.exceptions import ConvergenceWarning

    from .forecasting import Forecaster

    train = series[:-test_size]
    est = make_regressor(args.model, hidden=args.hidden, epochs=args.epochs,
                         learning_rate=args.learning_rate, batch_size=args.batch_size,
                         random_state=args.random_state, verbose=args.verbose)
    fc = Forecaster(est, window=args.window, horizon=args.horizon, strategy=args.strategy,
                    difference=(args.difference if args.difference == "auto"
                                else int(args.difference)),
                    scale=True, transform="log" if args.log else args.transform,
                    n_models=args.n_models)
    print(f"fitting {args.model} forecaster on the first {len(train)} of {len(series)} "
          "values ...", flush=True)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # A fixed epoch budget is the user's choice here, not a problem to
            # warn about on every run; --verbose shows the training progress.
            if not args.verbose:
                warnings.simplefilter("ignore", ConvergenceWarning)
            fc.fit(train)
            fit_s = time.perf_counter() - t0
            print(f"calibrating {args.coverage:.0%} intervals (backtest on the training "
                  "part) ...", flush=True)
            try:
                test_band = fc.predict_interval(test_size, coverage=args.coverage)
                # Future: the model fitted on the head, conditioned on the whole series.
                future_band = fc.predict_interval(args.horizon, coverage=args.coverage,
                                                  history=series)
            except ValueError as exc:
                print(f"no intervals: {str(exc).splitlines()[0]}")
                test_band = fc.predict(test_size)[:, None]
                future_band = fc.predict(args.horizon, history=series)[:, None]
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    return fc, fit_s, test_band, future_band


def _middle(band):
    """The forecast column of a band (lower, forecast, upper) or of one column."""
    return band[:, -1] if band.shape[1] == 1 else band[:, 1]


def _season(args, series, test_size, frequency, freq_period):
    if args.season:
        period, why = args.season, "--season"
    elif frequency is not None and freq_period is not None:
        period, why = freq_period, f"{frequency} dates"
    else:
        period, why = guess_period(series[:-test_size]), "autocorrelation"
    return min(period, len(series) - test_size), why


def _write(args, label, index, future_index, test, test_band, future_band, naive_pred):
    """forecast.csv (after the end of the series) and holdout.csv (the tail)."""
    n_test = len(test)
    os.makedirs(args.output_dir, exist_ok=True)
    fpath = os.path.join(args.output_dir, "forecast.csv")
    cols = ["lower", "upper"] if future_band.shape[1] == 3 else []
    _write_csv(fpath, ["step", label, "forecast", *cols],
               [[h + 1, future_index[h], *(f"{v:.10g}" for v in
                                          ([row[1], row[0], row[2]] if cols else row))]
                for h, row in enumerate(future_band)])
    hpath = os.path.join(args.output_dir, "holdout.csv")
    _write_csv(hpath, [label, "actual", "forecast", *cols, "seasonal_naive"],
               [[index[len(index) - n_test + i], f"{a:.10g}",
                 *(f"{v:.10g}" for v in ([row[1], row[0], row[2]] if cols else row)),
                 f"{b:.10g}"]
                for i, (a, row, b) in enumerate(zip(test, test_band, naive_pred))])
    print(f"wrote {fpath} ({args.horizon} steps after the end of the series)")
    print(f"wrote {hpath}")


def _plot_axis(args, dates, frequency, n):
    """x values of the series and of the forecast, and the axis label."""
    import numpy as np

    if dates is None:
        return np.arange(n), np.arange(n, n + args.horizon), "time step"
    if frequency == "yearly":
        x = dates.astype("datetime64[Y]").astype(int) + 1970
        return x, x[-1] + np.arange(1, args.horizon + 1), "year"
    x_future = future_dates(dates, args.horizon, frequency).astype("datetime64[s]")
    return dates.astype("datetime64[s]"), x_future, "date"


def cmd_forecast(args):
    """Run ``seqnet forecast`` (see ``seqnet forecast --help``)."""
    import numpy as np

    from .forecasting import seasonal_naive

    series, name, dates, frequency, freq_period = _load(args)
    test_size = args.horizon if args.test_size is None else args.test_size
    _check_length(args, series, name, test_size)
    train, test = series[:-test_size], series[-test_size:]
    fc, fit_s, test_band, future_band = _fit(args, series, test_size)
    test_pred = _middle(test_band)
    period, why = _season(args, series, test_size, frequency, freq_period)
    naive_pred = seasonal_naive(series[:-test_size], test_size, period)

    n = len(series)
    if dates is not None:
        when = f", {format_dates(dates[:1])[0]} to {format_dates(dates[-1:])[0]}"
        label = "date"
        index = format_dates(dates)
        future_index = format_dates(future_dates(dates, args.horizon, frequency))
    else:
        when, label = "", "index"
        index = [str(i) for i in range(n)]
        future_index = [str(n + h) for h in range(args.horizon)]
    print(f"series {name!r}: {len(series)} {frequency or ''} values{when}; training on the "
          f"first {len(train)}, holding back the last {test_size}.")
    print(f"model {args.model} ({args.strategy}, window={args.window}, "
          f"horizon={args.horizon}, difference={fc.difference_}, "
          f"transform={fc.transform_}, {len(fc.estimators_)} model(s)) fitted in "
          f"{fit_s:.2f} s")
    print(f"seasonal period {period} (from the {why})")
    print()
    print(f"{'holdout forecast':<24} {'MAE':>12} {'RMSE':>12} {'MAPE':>9}")
    print(_format_row(f"{args.model} forecaster", metrics(test, test_pred)))
    print(_format_row(f"seasonal naive (m={period})", metrics(test, naive_pred)))
    if test_band.shape[1] == 3:
        inside = np.mean((test_band[:, 0] <= test) & (test <= test_band[:, 2]))
        print(f"{inside:.0%} of the held-back values inside the {args.coverage:.0%} intervals")
    print()
    _write(args, label, index, future_index, test, test_band, future_band, naive_pred)
    if not args.no_plot:
        x, x_future, xlabel = _plot_axis(args, dates, frequency, n)
        safe = "".join(c if c.isalnum() else "_" for c in name).strip("_") or "series"
        ppath = _plot(os.path.join(args.output_dir, f"forecast_{safe}_{args.model}.png"),
                      x, series, n - test_size, test_band, naive_pred, x_future, future_band,
                      name, args.model, args.coverage, xlabel,
                      log_y=fc.transform_ == "log")
        if ppath:
            print(f"wrote {ppath}")
    return 0


def add_forecast_parser(sub):
    """The ``forecast`` subcommand's parser, on argparse subparsers ``sub``."""
    p = sub.add_parser(
        "forecast",
        help="forecast a series from a CSV file",
        description="Train a forecaster on a CSV column, score it on a held-back "
        "tail against a seasonal-naive baseline, and forecast past the end. "
        "Without a CSV, uses the shipped Canadian lynx series.",
    )
    p.add_argument("csv", nargs="?", default=None, help="CSV file (header optional)")
    p.add_argument("--column", default=None,
                   help="column name or 0-based index (default: the last column)")
    p.add_argument("--window", type=int, default=20, help="input window (default: %(default)s)")
    p.add_argument("--horizon", type=int, default=10,
                   help="steps to forecast past the end (default: %(default)s)")
    p.add_argument("--model", choices=_MODELS, default="lstm", help="(default: %(default)s)")
    p.add_argument("--strategy", choices=("recursive", "direct"), default="recursive",
                   help="(default: %(default)s)")
    p.add_argument("--difference", default="auto", choices=("auto", "0", "1", "2"),
                   help="order of differencing; 'auto': a KPSS unit-root test decides, "
                   "so a trend is differenced away (default: %(default)s)")
    p.add_argument("--transform", choices=("auto", "log", "none"), default="auto",
                   help="model the log of the series ('auto': for a strictly positive series "
                   "spanning more than 10x or whose swing grows with its level) "
                   "(default: %(default)s)")
    p.add_argument("--log", action="store_true", help="the same as --transform log")
    p.add_argument("--coverage", type=float, default=0.9,
                   help="nominal coverage of the conformal prediction intervals "
                   "(default: %(default)s)")
    p.add_argument("--test-size", type=int, default=None,
                   help="held-back tail length (default: the horizon)")
    p.add_argument("--season", type=int, default=None,
                   help="seasonal-naive period (default: from the dates' frequency: hourly "
                   "24, daily 7, weekly 52, monthly 12, quarterly 4; else guessed from the "
                   "autocorrelation)")
    p.add_argument("--epochs", type=int, default=100, help="(default: %(default)s)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=0.01, help="(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=32, help="(default: %(default)s)")
    p.add_argument("--n-models", type=int, default=5,
                   help="seed ensemble: models fitted with different seeds, forecasts "
                   "averaged (default: %(default)s)")
    p.add_argument("--random-state", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--output-dir", default="seqnet_forecast",
                   help="where to write forecast.csv, holdout.csv and the plot "
                   "(default: %(default)s)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    p.add_argument("--verbose", action="store_true", help="print training progress")
    p.set_defaults(handler=cmd_forecast)
