"""The ``seqnet`` command: ``demo``, ``forecast``, ``bench`` and ``warmup``.

Installed as the console script ``seqnet = "seqnet.cli:main"``; also runnable as
``python -m seqnet.cli``. User errors (unreadable or malformed CSV, series too
short) print one line on stderr and exit with status 2, never a traceback.

Only the standard library is imported at module level: ``seqnet --help``
builds the parser without loading NumPy, scikit-learn or numba; each command
imports what it needs.
"""

import argparse
import csv
import math
import os
import sys
import time
import warnings

from . import __version__  # seqnet/__init__.py imports nothing heavy

__all__ = ["main"]

_MODELS = ("lstm", "gru", "rnn", "mlp", "ridge")


class CLIError(Exception):
    """A user error: reported as one line on stderr, exit status 2."""


# -- CSV input ----------------------------------------------------------------


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_series(path, column=None):
    """Read one numeric column of a CSV file (with or without a header row).

    The same as :func:`read_dated_series` without the dates and delimiter.
    """
    values, name, _, _ = read_dated_series(path, column)
    return values, name


_DATE_NAMES = ("date", "time", "timestamp", "datetime", "month", "period", "ds", "year")


def _parse_dates(cells, name):
    """The cells as a datetime64 array, or None if any is not a date."""
    import numpy as np

    cells = [c.strip() for c in cells]
    if not cells:
        return None
    if all(c.isdigit() and len(c) == 4 for c in cells):  # a column of years
        if name is None or name.strip().lower() not in _DATE_NAMES:
            return None
    try:
        dates = np.array([np.datetime64(c.replace(" ", "T", 1)) for c in cells])
    except ValueError:
        return None
    if len(dates) > 1 and not np.all(dates[1:] > dates[:-1]):
        return None
    return dates


def read_dated_series(path, column=None):
    """Read one numeric column of a CSV file, its date column and its delimiter.

    The delimiter (``,``, ``;``, tab or ``|``) is detected from the file. The
    date column is the first other column whose every cell is an ISO date
    (``1949-01``, ``1949-01-31``, ``2020-01-01 13:00``), or a column of years
    named ``year`` / ``date``, in increasing order.

    Parameters
    ----------
    path : str
        CSV file.
    column : str or None, default=None
        Column name (if the file has a header) or 0-based index. None means the
        last column, which fits the common ``time,value`` layout.

    Returns
    -------
    values : ndarray of shape (n,)
        The column as float64.
    name : str
        The column name (or ``"column <i>"`` without a header).
    dates : ndarray of datetime64 of shape (n,) or None
        The date of each value, None when no column holds dates.
    delimiter : str
        The delimiter found.

    Raises
    ------
    CLIError
        If the file cannot be read, the column is missing, or a value in it is
        empty or not a finite number.
    """
    import numpy as np

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        rows = [r for r in csv.reader(text.splitlines(), delimiter=delimiter)
                if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CLIError(f"cannot read {path!r}: {reason}") from None
    if not rows:
        raise CLIError(f"{path!r} is empty")

    # A first row with any non-numeric cell is a header.
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    start_line = 2 if header else 1
    width = len(header) if header else len(rows[0])

    if column is None:
        idx = width - 1
    elif header and column in header:
        idx = header.index(column)
    elif column.lstrip("-").isdigit() and -width <= int(column) < width:
        idx = int(column) % width
    else:
        cols = ", ".join(header) if header else f"{width} unnamed columns"
        raise CLIError(f"column {column!r} not found in {path!r} (columns: {cols}; "
                       f"delimiter {delimiter!r} found)")
    name = header[idx] if header else f"column {idx}"

    values = []
    for lineno, row in enumerate(body, start=start_line):
        cell = row[idx].strip() if idx < len(row) else ""
        try:
            v = float(cell)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            shown = cell if cell else "<empty>"
            hint = ""
            if width == 1 and any(d in cell for d in ",;\t|"):
                hint = "; is the file delimited by another character?"
            elif delimiter != "," and "," in cell:
                hint = "; use '.' as the decimal mark"
            raise CLIError(
                f"non-numeric value {shown!r} in column {name!r} of {path!r} at line "
                f"{lineno} (delimiter {delimiter!r} found{hint})"
            )
        values.append(v)
    if not values:
        raise CLIError(f"{path!r} has no data rows")
    dates = None
    for j in range(width):
        if j == idx:
            continue
        dates = _parse_dates([r[j] if j < len(r) else "" for r in body],
                             header[j] if header else None)
        if dates is not None:
            break
    return np.asarray(values, dtype=np.float64), name, dates, delimiter


# (frequency name, days between values, season length or None)
_FREQUENCIES = (
    ("hourly", 1 / 24, 24),
    ("daily", 1, 7),
    ("weekly", 7, 52),
    ("monthly", 30.44, 12),
    ("quarterly", 91.31, 4),
    ("yearly", 365.25, None),
)


def infer_frequency(dates):
    """The frequency of increasing dates and its season length.

    Parameters
    ----------
    dates : ndarray of datetime64
        At least two increasing dates.

    Returns
    -------
    name : str or None
        "hourly", "daily", "weekly", "monthly", "quarterly" or "yearly"; None
        when the median spacing matches none of them within 10%.
    period : int or None
        Season length: 24, 7, 52, 12, 4; None for yearly or unknown data.
    """
    import numpy as np

    if len(dates) < 2:
        return None, None
    secs = np.diff(dates.astype("datetime64[s]").astype(np.int64))
    days = float(np.median(secs)) / 86400.0
    for name, spacing, period in _FREQUENCIES:
        tol = 0.1 * spacing if name not in ("monthly", "quarterly") else 0.08 * spacing
        if abs(days - spacing) <= tol:
            return name, period
    return None, None


def future_dates(dates, steps, frequency):
    """The ``steps`` dates after the last one, at the data's frequency."""
    import numpy as np

    last = dates[-1]
    k = np.arange(1, steps + 1)
    if frequency in ("monthly", "quarterly") and np.datetime_data(dates.dtype)[0] in ("D", "M"):
        months = k * (3 if frequency == "quarterly" else 1)
        month = last.astype("datetime64[M]")
        day = (last.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
        month_end = (last + np.timedelta64(1, "D")).astype("datetime64[M]") != month \
            if np.datetime_data(dates.dtype)[0] == "D" else False
        if np.datetime_data(dates.dtype)[0] == "M":
            return month + months
        if month_end:
            return (month + months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        return (month + months).astype("datetime64[D]") + np.timedelta64(int(day), "D")
    if frequency == "yearly" and np.datetime_data(dates.dtype)[0] == "Y":
        return last + k
    step = np.median(np.diff(dates))
    return last + k * step


def format_dates(dates):
    """ISO strings at the unit the dates were written in."""
    import numpy as np

    return list(np.datetime_as_string(dates))


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


def _cmd_forecast(args):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from .forecasting import Forecaster, seasonal_naive

    frequency = None
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
    transform = "log" if args.log else args.transform

    test_size = args.horizon if args.test_size is None else args.test_size
    out_steps = args.horizon if args.strategy == "direct" else 1
    difference = 0 if args.difference == "auto" else int(args.difference)
    need = test_size + args.window + out_steps + 1 + difference
    if len(series) < need:
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
    train = series[:-test_size]
    test = series[-test_size:]

    est = make_regressor(args.model, hidden=args.hidden, epochs=args.epochs,
                         learning_rate=args.learning_rate, batch_size=args.batch_size,
                         random_state=args.random_state, verbose=args.verbose)
    fc = Forecaster(est, window=args.window, horizon=args.horizon, strategy=args.strategy,
                    difference=(args.difference if args.difference == "auto"
                                else int(args.difference)),
                    scale=True, transform=transform, n_models=args.n_models)
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
    test_pred = test_band[:, -1] if test_band.shape[1] == 1 else test_band[:, 1]
    future = future_band[:, -1] if future_band.shape[1] == 1 else future_band[:, 1]

    if args.season:
        period, why = args.season, "--season"
    elif frequency is not None and freq_period is not None:
        period, why = freq_period, f"{frequency} dates"
    else:
        period, why = guess_period(series[:-test_size]), "autocorrelation"
    period = min(period, len(series) - test_size)
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

    os.makedirs(args.output_dir, exist_ok=True)
    fpath = os.path.join(args.output_dir, "forecast.csv")
    cols = ["lower", "upper"] if future_band.shape[1] == 3 else []
    _write_csv(fpath, ["step", label, "forecast", *cols],
               [[h + 1, future_index[h], *(f"{v:.10g}" for v in
                                          ([row[1], row[0], row[2]] if cols else row))]
                for h, row in enumerate(future_band)])
    hpath = os.path.join(args.output_dir, "holdout.csv")
    _write_csv(hpath, [label, "actual", "forecast", *cols, "seasonal_naive"],
               [[index[n - test_size + i], f"{a:.10g}",
                 *(f"{v:.10g}" for v in ([row[1], row[0], row[2]] if cols else row)),
                 f"{b:.10g}"]
                for i, (a, row, b) in enumerate(zip(test, test_band, naive_pred))])
    print(f"wrote {fpath} ({args.horizon} steps after the end of the series)")
    print(f"wrote {hpath}")
    if not args.no_plot:
        if dates is None:
            x, x_future, xlabel = np.arange(n), np.arange(n, n + args.horizon), "time step"
        elif frequency == "yearly":
            x = dates.astype("datetime64[Y]").astype(int) + 1970
            x_future = x[-1] + np.arange(1, args.horizon + 1)
            xlabel = "year"
        else:
            x = dates.astype("datetime64[s]")
            x_future = future_dates(dates, args.horizon, frequency).astype("datetime64[s]")
            xlabel = "date"
        safe = "".join(c if c.isalnum() else "_" for c in name).strip("_") or "series"
        ppath = _plot(os.path.join(args.output_dir, f"forecast_{safe}_{args.model}.png"),
                      x, series, n - test_size, test_band, naive_pred, x_future, future_band,
                      name, args.model, args.coverage, xlabel,
                      log_y=fc.transform_ == "log")
        if ppath:
            print(f"wrote {ppath}")
    return 0


def _cmd_demo(args):
    from . import demo  # lazy: the demo pulls in plotting and every model

    demo.run_demo(output_dir=args.output_dir, quick=args.quick)
    return 0


def _cmd_bench(args):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    import seqnet

    rng = np.random.default_rng(0)
    n, t, f, h = args.samples, args.timesteps, args.features, args.hidden
    X = rng.standard_normal((n, t, f)).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    print(f"quick timing: {n} sequences x {t} steps x {f} features, hidden {h}, "
          f"batch {args.batch_size}, {args.epochs} epoch(s), device {args.device}")
    print("(first fit of each model includes Numba compilation, if not cached; "
          "see benchmarks/ for comparisons with PyTorch and scikit-learn)")
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs on noise
    for cls in ("RNNRegressor", "GRURegressor", "LSTMRegressor"):
        make = getattr(seqnet, cls)
        times = []
        for _ in range(2):  # first run warms up (compilation), second is timed
            est = make(hidden_layer_sizes=(h,), max_iter=args.epochs,
                       batch_size=args.batch_size, device=args.device, random_state=0)
            t0 = time.perf_counter()
            est.fit(X, y)
            times.append(time.perf_counter() - t0)
        print(f"{cls:<16} first fit {times[0]:8.3f} s   "
              f"then {times[1] / args.epochs:8.4f} s/epoch")
    return 0


def _names(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def _cmd_warmup(args):
    from .warmup import warmup

    try:
        report = warmup(families=_names(args.families) if args.families else None,
                        dtypes=_names(args.dtypes), verbose=True)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    print(f"{'family':<8} {'seconds':>8} {'compiled':>9}")
    for family, row in report.items():
        print(f"{family:<8} {row['seconds']:>8.2f} {row['compiled']:>9}")
    return 0


# -- parser -------------------------------------------------------------------


def build_parser():
    """The argparse parser of the ``seqnet`` command."""
    parser = argparse.ArgumentParser(
        prog="seqnet", description="Numba neural networks for sequences, sklearn-style."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="run the demo (plots and a summary)")
    p.add_argument("--output-dir", default="seqnet_demo_output",
                   help="where to write plots (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="smaller data, fewer epochs")
    p.set_defaults(handler=_cmd_demo)

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
    p.add_argument("--n-models", type=int, default=3,
                   help="seed ensemble: models fitted with different seeds, forecasts "
                   "averaged (default: %(default)s)")
    p.add_argument("--random-state", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--output-dir", default="seqnet_forecast",
                   help="where to write forecast.csv, holdout.csv and the plot "
                   "(default: %(default)s)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    p.add_argument("--verbose", action="store_true", help="print training progress")
    p.set_defaults(handler=_cmd_forecast)

    p = sub.add_parser("bench", help="quick timing of the recurrent models "
                       "(full comparisons: benchmarks/)")
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--timesteps", type=int, default=50)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    p.set_defaults(handler=_cmd_bench)

    p = sub.add_parser(
        "warmup",
        help="compile the kernels into numba's cache (Docker images, CI, Dask workers)",
        description="Fit and predict tiny models of each family so that numba's "
        "on-disk cache holds their kernels: a later fit in a new process loads "
        "machine code instead of compiling it.",
    )
    p.add_argument("--families", default=None,
                   help="comma-separated, of mlp,rnn,lstm,gru,conv (default: all)")
    p.add_argument("--dtypes", default="float32",
                   help="comma-separated, of float32,float64 (default: %(default)s)")
    p.set_defaults(handler=_cmd_warmup)
    return parser


def _check_positive(args):
    for name in ("window", "horizon", "test_size", "season", "epochs", "hidden", "n_models",
                 "batch_size", "samples", "timesteps", "features"):
        v = getattr(args, name, None)
        if v is not None and v < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    coverage = getattr(args, "coverage", None)
    if coverage is not None and not 0 < coverage < 1:
        raise CLIError(f"--coverage must be in (0, 1), got {coverage}")


def main(argv=None):
    """Run the ``seqnet`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a user error (one line on stderr). Malformed
        options make argparse exit with status 2 and its usage message.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_positive(args)
        return args.handler(args)
    except CLIError as exc:
        print(f"seqnet {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
