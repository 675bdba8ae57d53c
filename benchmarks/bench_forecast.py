"""Rolling-origin backtest of seqnet's default Forecaster on classic series.

For each series, from several forecast origins (the last ``--origins`` blocks
of ``h`` values, h = the season or the CLI's 10 for a series without one),
every method is fitted on the values before the origin and forecasts the next
``h``; the score is the MAE over those steps, averaged over the origins.

Methods: seqnet's ``Forecaster()`` with its defaults (only ``random_state``
set, once per seed: mean and std over ``--seeds``), seasonal naive, and where
statsmodels is installed ETS (``ExponentialSmoothing``: no trend or a damped
additive one, no season or an additive or (positive series) multiplicative
one, the best AIC) and ARIMA (``SARIMAX``, the best AIC over p in 0..2, q in
0..1, d from seqnet's KPSS test, seasonal (0,1,1) for a calendar season, on
the log scale where seqnet's transform="auto" picks it). ETS and ARIMA are
deterministic: one run.

Series: lynx and sunspots (shipped in seqnet.datasets); with statsmodels, its
co2 (weekly, averaged to months), nile and elec_equip; the airline passengers
if sktime's files are installed (read without importing sktime).

    python benchmarks/bench_forecast.py               # everything found
    python benchmarks/bench_forecast.py --series lynx,co2 --seeds 0,1
    python benchmarks/bench_forecast.py --n-models 1  # no seed ensemble

Prints the machine and a Markdown table for benchmarks/RESULTS.md.
"""

import argparse
import importlib.util
import os
import time
import warnings

import numpy as np
from bench_blas_shapes import cpu_name  # run from benchmarks/ as a script

from seqnet.datasets import load_lynx, load_sunspots
from seqnet.forecasting import Forecaster, choose_transform, ndiffs, seasonal_naive

try:  # optional: ETS/ARIMA baselines and more series
    import statsmodels.api as sm
except ImportError:  # pragma: no cover - depends on the environment
    sm = None


# -- series -------------------------------------------------------------------
# Each loader returns (values, season) or None if its source is missing.
# season: the seasonal-naive period (and the horizon); a "calendar" season
# (months, quarters) also gets a seasonal ARIMA term.


def _lynx():
    return load_lynx(), 10


def _sunspots():
    return load_sunspots(), 11


def _co2():
    if sm is None:
        return None
    weekly = sm.datasets.co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean().interpolate()
    return monthly.to_numpy(dtype=np.float64), 12


def _nile():
    if sm is None:
        return None
    return sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=np.float64), 1


def _elec_equip():
    if sm is None:
        return None
    from statsmodels.datasets import elec_equip

    data = elec_equip.load_pandas().data
    return data.iloc[:, 0].to_numpy(dtype=np.float64), 12


def _package_file(package, *parts):
    """Path of a data file inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], *parts)
    return path if os.path.exists(path) else None


def _airline():
    path = _package_file("sktime", "datasets", "data", "Airline", "Airline.csv")
    if path is None:
        return None
    values = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=1)
    return values[np.isfinite(values)], 12


SERIES = {
    "lynx": _lynx,
    "sunspots": _sunspots,
    "co2": _co2,
    "nile": _nile,
    "airline": _airline,
    "elec_equip": _elec_equip,
}
CALENDAR_SEASONS = (4, 12)


# -- methods ------------------------------------------------------------------


def _ets(train, h, season):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    positive = train.min() > 0
    best = None
    for trend in (None, "add"):
        for seasonal in ((None, "add", "mul") if positive else (None, "add")) if season > 1 \
                else (None,):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = ExponentialSmoothing(
                        train, trend=trend, seasonal=seasonal,
                        seasonal_periods=season if seasonal else None,
                        damped_trend=trend is not None,
                        initialization_method="estimated").fit()
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aic) and (best is None or fit.aic < best.aic):
                best = fit
    return best.forecast(h)


def _arima(train, h, season):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    log = choose_transform(train, season if season > 1 else None) == "log"
    z = np.log(train) if log else train
    calendar = season in CALENDAR_SEASONS
    seasonal_order = (0, 1, 1, season) if calendar else (0, 0, 0, 0)
    d = ndiffs(np.diff(z, season) if calendar else z, max_d=1)
    best = None
    for p in (0, 1, 2):
        for q in (0, 1):
            trend = "c" if d + seasonal_order[1] == 0 else None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = SARIMAX(z, order=(p, d, q), seasonal_order=seasonal_order,
                                  trend=trend).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aic) and (best is None or fit.aic < best.aic):
                best = fit
    pred = best.forecast(h)
    return np.exp(pred) if log else pred


def _seqnet(train, h, seed, n_models, old_defaults=False):
    if old_defaults:  # the defaults before difference="auto" and the ensemble
        from seqnet import LSTMRegressor

        fc = Forecaster(LSTMRegressor(random_state=seed), difference=0, n_models=1)
    else:
        fc = Forecaster(n_models=n_models, random_state=seed)
    fc.fit(train)
    return fc.predict(h), fc


def _mae(truth, pred):
    return float(np.mean(np.abs(np.asarray(truth) - np.asarray(pred))))


# -- driver -------------------------------------------------------------------


def backtest(name, values, season, seeds, n_origins, n_models, baselines=True,
             old_defaults=False):
    h = season if season > 1 else 10
    origins = [len(values) - h * k for k in range(n_origins, 0, -1)]
    row = {"series": name, "n": len(values), "season": season, "h": h,
           "origins": n_origins}
    naive = [_mae(values[o:o + h], seasonal_naive(values[:o], h, season)) for o in origins]
    row["naive"] = float(np.mean(naive))
    if sm is not None and baselines:
        row["ets"] = float(np.mean([_mae(values[o:o + h], _ets(values[:o], h, season))
                                    for o in origins]))
        row["arima"] = float(np.mean([_mae(values[o:o + h], _arima(values[:o], h, season))
                                      for o in origins]))
    per_seed, fit_s, configs = [], [], set()
    for seed in seeds:
        errors = []
        for o in origins:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred, fc = _seqnet(values[:o], h, seed, n_models, old_defaults)
            fit_s.append(time.perf_counter() - t0)
            configs.add(f"{fc.transform_}/d={fc.difference_}")
            errors.append(_mae(values[o:o + h], pred))
        per_seed.append(float(np.mean(errors)))
    row["seqnet"] = per_seed
    row["fit_s"] = float(np.mean(fit_s))
    row["config"] = ",".join(sorted(configs))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default=",".join(SERIES),
                        help="comma-separated (default: %(default)s)")
    parser.add_argument("--seeds", default="0,1,2", help="(default: %(default)s)")
    parser.add_argument("--origins", type=int, default=4,
                        help="forecast origins per series (default: %(default)s)")
    parser.add_argument("--n-models", type=int, default=Forecaster().n_models,
                        help="Forecaster's seed ensemble (default: its default, %(default)s)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip ETS and ARIMA (seasonal naive only)")
    parser.add_argument("--old-defaults", action="store_true",
                        help="seqnet as Forecaster(LSTMRegressor(), difference=0, n_models=1): "
                        "the defaults before the KPSS test and the seed ensemble")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"statsmodels: {'present' if sm is not None else 'absent (no ETS/ARIMA)'}; "
          + ("old defaults" if args.old_defaults else f"Forecaster(n_models={args.n_models})")
          + f", seeds {seeds}, {args.origins} origins")
    t_start = time.perf_counter()
    rows = []
    for name in args.series.split(","):
        loaded = SERIES[name]()
        if loaded is None:
            print(f"{name}: source not installed, skipped")
            continue
        values, season = loaded
        t0 = time.perf_counter()
        row = backtest(name, values, season, seeds, args.origins, args.n_models,
                       baselines=not args.no_baselines, old_defaults=args.old_defaults)
        rows.append(row)
        s = np.array(row["seqnet"])
        print(f"{name}: done in {time.perf_counter() - t0:.0f} s "
              f"(seqnet per seed: {', '.join(f'{v:.4g}' for v in s)})", flush=True)

    print()
    print("MAE over the forecast steps, mean over the origins; seqnet: mean ± std over "
          "the seeds; ratio = seqnet / seasonal naive (< 1: seqnet better)")
    print()
    print("| series | n | season (h) | seasonal naive | ETS | ARIMA | seqnet Forecaster() "
          "| ratio | seqnet config | fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        s = np.array(row["seqnet"])
        fmt = lambda key: f"{row[key]:.4g}" if key in row else "n/a"  # noqa: E731
        print(f"| {row['series']} | {row['n']} | {row['season']} ({row['h']}) "
              f"| {fmt('naive')} | {fmt('ets')} | {fmt('arima')} "
              f"| {s.mean():.4g} ± {s.std():.2g} | {s.mean() / row['naive']:.2f} "
              f"| {row['config']} | {row['fit_s']:.1f} |")
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
