"""Time per epoch: seqnet.MLPClassifier vs scikit-learn's MLPClassifier.

adam, batch_size=200, hidden_layer_sizes=(256, 128), 10 epochs each (tol=0 and
a large n_iter_no_change, so both run every epoch), 2 threads, on
make_classification(n_samples=50000, n_features=100, n_informative=50,
random_state=0) split 80/20 into train / held-out test.

seqnet computes in float32 by default; scikit-learn computes in the input's
dtype, so it is timed on float64 (its default, what make_classification gives)
and on float32 input.

    python benchmarks/bench_mlp.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py
"""

import argparse
import os
import platform
import time
import warnings

import numba
import numpy as np
import sklearn
import threadpoolctl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import seqnet


def environment(threads):
    print(f"python {platform.python_version()}  numpy {np.__version__}  numba "
          f"{numba.__version__}  scikit-learn {sklearn.__version__}  seqnet "
          f"{seqnet.__version__}")
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"nproc {os.cpu_count()}  cpu {cpu}  threads {threads}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        print(f"  {var}={os.environ.get(var, '<unset>')}")
    print("threadpoolctl:")
    for info in threadpoolctl.threadpool_info():
        print(f"  {info['user_api']:6s} {info['internal_api']:9s} "
              f"threads={info['num_threads']} arch={info.get('architecture', '-')} "
              f"{os.path.basename(info['filepath'])}")
    print(f"numba threads: {numba.get_num_threads()} "
          f"(threading layer set at first parallel call)")


def timed_fit(est, X, y, Xte, yte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t0
    return seconds / est.n_iter_, est.n_iter_, est.score(Xte, yte)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-samples", type=int, default=50_000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1,
                    help="fits per model; the fastest per-epoch time is reported")
    args = ap.parse_args()

    numba.set_num_threads(args.threads)
    X, y = make_classification(n_samples=args.n_samples, n_features=100, n_informative=50,
                               random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    common = dict(hidden_layer_sizes=(256, 128), solver="adam", batch_size=200,
                  max_iter=args.epochs, tol=0.0, n_iter_no_change=10**6, random_state=0)

    with threadpoolctl.threadpool_limits(args.threads):
        environment(args.threads)
        # warm-up: load (or compile) every numba kernel the fit uses
        t0 = time.perf_counter()
        seqnet.MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=2, random_state=0).fit(
            Xtr[:300], ytr[:300])
        print(f"warm-up (numba load/compile): {time.perf_counter() - t0:.2f} s")
        print(f"train {Xtr.shape}, test {Xte.shape}; adam, batch 200, hidden (256, 128), "
              f"{args.epochs} epochs\n")

        runs = [
            ("seqnet float32 (default)", lambda: seqnet.MLPClassifier(**common), Xtr),
            ("seqnet float64", lambda: seqnet.MLPClassifier(dtype="float64", **common), Xtr),
            ("sklearn float64 (default)", lambda: SkMLPClassifier(**common), Xtr),
            ("sklearn float32 input", lambda: SkMLPClassifier(**common),
             Xtr.astype(np.float32)),
        ]
        results = {}
        for name, make, Xfit in runs:
            best = None
            for _ in range(args.repeats):
                per_epoch, n_iter, acc = timed_fit(make(), Xfit, ytr,
                                                   Xte.astype(Xfit.dtype), yte)
                best = per_epoch if best is None else min(best, per_epoch)
            results[name] = best
            print(f"{name:28s} {best * 1e3:8.1f} ms/epoch  epochs={n_iter}  "
                  f"test accuracy={acc:.4f}")

    sk64 = results["sklearn float64 (default)"]
    sk32 = results["sklearn float32 input"]
    sn32 = results["seqnet float32 (default)"]
    sn64 = results["seqnet float64"]
    print(f"\nspeed-up seqnet float32 vs sklearn float64: {sk64 / sn32:.2f}x")
    print(f"speed-up seqnet float32 vs sklearn float32: {sk32 / sn32:.2f}x")
    print(f"speed-up seqnet float64 vs sklearn float64: {sk64 / sn64:.2f}x")


if __name__ == "__main__":
    main()
