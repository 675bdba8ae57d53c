"""Forecast the Canadian lynx series with seqnet and compare with classical baselines.

The lynx trappings (1821-1934) have a ~10-year cycle with very uneven peaks.
Following the classical analyses (Moran 1953; Tong 1977) we model log10 of the
counts, train on 1821-1920 and forecast the 14 held-back years 1921-1934 from
the end of the training data (no peeking at the test years), then report the
errors in the original units:

- seqnet LSTM and GRU forecasters (recursive, one step ahead, iterated);
- a linear autoregression on the same windows (Forecaster + Ridge);
- seasonal naive (repeat the last 10-year cycle);
- ARIMA(2,0,0) (Moran's AR(2)) and AR(11) (Tong), when statsmodels is installed.

Run:  python examples/forecast_lynx.py [--epochs 300] [--window 20]
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import Ridge

from seqnet import GRURegressor, LSTMRegressor
from seqnet.datasets import load_lynx
from seqnet.forecasting import Forecaster, seasonal_naive


def errors(y_true, y_pred):
    err = y_pred - y_true
    return (np.mean(np.abs(err)), np.sqrt(np.mean(err**2)),
            100 * np.mean(np.abs(err / y_true)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--test-size", type=int, default=14)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()

    y, years = load_lynx(return_years=True)
    n_test = args.test_size
    log_train = np.log10(y[:-n_test])
    test = y[-n_test:]
    print(f"Canadian lynx: train {years[0]}-{years[-n_test - 1]}, "
          f"test {years[-n_test]}-{years[-1]} ({n_test} years ahead)\n")

    forecasts, fit_times = {}, {}

    def net(cls):
        return cls(hidden_layer_sizes=(args.hidden,), max_iter=args.epochs,
                   learning_rate_init=0.01, batch_size=16,
                   random_state=args.random_state)

    models = {
        "seqnet LSTM": net(LSTMRegressor),
        "seqnet GRU": net(GRURegressor),
        "Ridge autoregression": Ridge(alpha=1.0),
    }
    for name, est in models.items():
        t0 = time.perf_counter()
        fc = Forecaster(est, window=args.window).fit(log_train)
        fit_times[name] = time.perf_counter() - t0
        forecasts[name] = 10 ** fc.predict(n_test)

    forecasts["seasonal naive (m=10)"] = seasonal_naive(y[:-n_test], n_test, period=10)

    try:
        from statsmodels.tsa.arima.model import ARIMA
    except ImportError:
        print("(statsmodels not installed: skipping ARIMA)\n")
    else:
        for order in [(2, 0, 0), (11, 0, 0)]:
            t0 = time.perf_counter()
            res = ARIMA(log_train, order=order).fit()
            name = f"ARIMA{order}".replace(" ", "")
            fit_times[name] = time.perf_counter() - t0
            forecasts[name] = 10 ** res.forecast(n_test)

    print(f"{'model':<24} {'MAE':>9} {'RMSE':>9} {'MAPE':>8} {'fit (s)':>8}")
    print("-" * 62)
    for name, pred in forecasts.items():
        mae, rmse, mape = errors(test, pred)
        t = fit_times.get(name)
        t = f"{t:8.2f}" if t is not None else f"{'-':>8}"
        print(f"{name:<24} {mae:9.1f} {rmse:9.1f} {mape:7.1f}% {t}")


if __name__ == "__main__":
    main()
