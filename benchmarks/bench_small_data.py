"""Recurrent classifiers with their DEFAULT parameters on a small data set (issue 22).

GunPoint (shipped with seqnet: 50 training and 150 test series of 150 steps)
with ``LSTMClassifier()`` / ``GRUClassifier()`` as a user writes them (only
``random_state`` set), over three seeds: test accuracy, epochs run and fit
time.  ``--params`` overrides constructor parameters for every model, to
compare defaults with alternatives (``--params batch_size=32``); run it with
``PYTHONPATH`` pointing at another source tree to compare two versions.

    python benchmarks/bench_small_data.py
    python benchmarks/bench_small_data.py --params batch_size=200 --models LSTM
"""

import argparse
import ast
import statistics
import time
import warnings

import seqnet
from seqnet.datasets import load_gunpoint


def _parse_params(items):
    params = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value  # a bare string such as auto
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["LSTM", "GRU"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", nargs="*", default=[])
    args = parser.parse_args()
    params = _parse_params(args.params)
    X_train, X_test, y_train, y_test = load_gunpoint()
    with warnings.catch_warnings():  # compile first: fit times exclude numba's
        warnings.simplefilter("ignore")
        for name in args.models:
            getattr(seqnet, name + "Classifier")(max_iter=1).fit(X_train[:4], y_train[:4])
    print(f"GunPoint train {X_train.shape}, test {X_test.shape}; params {params or 'defaults'}")
    print("| model | accuracy per seed | mean | epochs | fit s (mean) |")
    print("|---|---|---|---|---|")
    for name in args.models:
        accs, epochs, seconds = [], [], []
        for seed in range(args.seeds):
            est = getattr(seqnet, name + "Classifier")(random_state=seed, **params)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
                est.fit(X_train, y_train)
            seconds.append(time.perf_counter() - start)
            accs.append(100 * est.score(X_test, y_test))
            epochs.append(est.n_iter_)
        print(f"| {name}Classifier | {', '.join(f'{a:.1f}' for a in accs)} | "
              f"{statistics.mean(accs):.1f} | {', '.join(map(str, epochs))} | "
              f"{statistics.mean(seconds):.1f} |", flush=True)


if __name__ == "__main__":
    main()
