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

    Raises
    ------
    CLIError
        If the file cannot be read, the column is missing, or a value in it is
        empty or not a finite number.
    """
    import numpy as np

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
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
        raise CLIError(f"column {column!r} not found in {path!r} (columns: {cols})")
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
            raise CLIError(
                f"non-numeric value {shown!r} in column {name!r} of {path!r} at line {lineno}"
            )
        values.append(v)
    if not values:
        raise CLIError(f"{path!r} has no data rows")
    return np.asarray(values, dtype=np.float64), name


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


def _plot(path, series, test_start, test_pred, naive_pred, future, name, model):
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot "
              "(pip install matplotlib, or seqnet[plot]).")
        return None
    n = len(series)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(n), series, color="0.3", lw=1.2, label="history")
    t_test = np.arange(test_start, n)
    ax.plot(t_test, naive_pred, ls=":", color="tab:gray", label="seasonal naive (holdout)")
    ax.plot(t_test, test_pred, ls="--", color="tab:blue", label=f"{model} (holdout)")
    ax.plot(np.arange(n, n + len(future)), future, color="tab:red", lw=1.8,
            label=f"{model} forecast")
    ax.axvline(test_start - 0.5, color="0.7", lw=0.8)
    ax.set_xlabel("time step")
    ax.set_ylabel(name)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -- subcommands --------------------------------------------------------------


def _cmd_forecast(args):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from .forecasting import Forecaster, seasonal_naive

    if args.csv is None:
        from .datasets import load_lynx

        series, name = load_lynx(), "lynx"
        print("No CSV given: using the shipped Canadian lynx series (1821-1934).")
    else:
        series, name = read_series(args.csv, args.column)

    if args.log:
        if np.any(series <= 0):
            raise CLIError("--log needs strictly positive values")
        series_model = np.log(series)
    else:
        series_model = series

    test_size = args.horizon if args.test_size is None else args.test_size
    out_steps = args.horizon if args.strategy == "direct" else 1
    need = test_size + args.window + out_steps + 1 + args.difference
    if len(series) < need:
        raise CLIError(
            f"series {name!r} has {len(series)} values; test-size={test_size} + "
            f"window={args.window} + {out_steps} output step(s) + 1 + "
            f"difference={args.difference} needs at least {need}"
        )
    train = series_model[:-test_size]
    test = series[-test_size:]

    est = make_regressor(args.model, hidden=args.hidden, epochs=args.epochs,
                         learning_rate=args.learning_rate, batch_size=args.batch_size,
                         random_state=args.random_state, verbose=args.verbose)
    fc = Forecaster(est, window=args.window, horizon=args.horizon, strategy=args.strategy,
                    difference=args.difference, scale=True)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # A fixed epoch budget is the user's choice here, not a problem to
            # warn about on every run; --verbose shows the training progress.
            if not args.verbose:
                warnings.simplefilter("ignore", ConvergenceWarning)
            fc.fit(train)
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    fit_s = time.perf_counter() - t0

    back = np.exp if args.log else (lambda v: v)
    test_pred = back(fc.predict(test_size))
    period = args.season or guess_period(series[:-test_size])
    period = min(period, len(series) - test_size)
    naive_pred = seasonal_naive(series[:-test_size], test_size, period)
    # Future: the model fitted on the head, conditioned on the whole series.
    future = back(fc.predict(args.horizon, history=series_model))

    print(f"series {name!r}: {len(series)} values; training on the first "
          f"{len(train)}, holding back the last {test_size}.")
    print(f"model {args.model} ({args.strategy}, window={args.window}, "
          f"horizon={args.horizon}, difference={args.difference}) fitted in {fit_s:.2f} s")
    print()
    print(f"{'holdout forecast':<24} {'MAE':>12} {'RMSE':>12} {'MAPE':>9}")
    print(_format_row(f"{args.model} forecaster", metrics(test, test_pred)))
    print(_format_row(f"seasonal naive (m={period})", metrics(test, naive_pred)))
    print()

    os.makedirs(args.output_dir, exist_ok=True)
    fpath = os.path.join(args.output_dir, "forecast.csv")
    n = len(series)
    _write_csv(fpath, ["step", "index", "forecast"],
               [[h + 1, n + h, f"{v:.10g}"] for h, v in enumerate(future)])
    hpath = os.path.join(args.output_dir, "holdout.csv")
    _write_csv(hpath, ["index", "actual", "forecast", "seasonal_naive"],
               [[n - test_size + i, f"{a:.10g}", f"{p:.10g}", f"{b:.10g}"]
                for i, (a, p, b) in enumerate(zip(test, test_pred, naive_pred))])
    print(f"wrote {fpath} ({args.horizon} steps after the end of the series)")
    print(f"wrote {hpath}")
    if not args.no_plot:
        ppath = _plot(os.path.join(args.output_dir, "forecast.png"), series,
                      n - test_size, test_pred, naive_pred, future, name, args.model)
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
    p.add_argument("--difference", type=int, default=0, choices=(0, 1, 2),
                   help="order of differencing (default: %(default)s)")
    p.add_argument("--log", action="store_true", help="model the log of the series")
    p.add_argument("--test-size", type=int, default=None,
                   help="held-back tail length (default: the horizon)")
    p.add_argument("--season", type=int, default=None,
                   help="seasonal-naive period (default: guessed from the autocorrelation)")
    p.add_argument("--epochs", type=int, default=100, help="(default: %(default)s)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=0.01, help="(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=32, help="(default: %(default)s)")
    p.add_argument("--random-state", type=int, default=0, help="(default: %(default)s)")
    p.add_argument("--output-dir", default="seqnet_forecast",
                   help="where to write forecast.csv, holdout.csv, forecast.png "
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
    for name in ("window", "horizon", "test_size", "season", "epochs", "hidden",
                 "batch_size", "samples", "timesteps", "features"):
        v = getattr(args, name, None)
        if v is not None and v < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {v}")


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
