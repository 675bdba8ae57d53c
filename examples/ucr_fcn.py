"""FCN and ResNet on UCR sets, beside the published accuracies.

Fits ``FCNClassifier`` and ``ResNetClassifier`` with their documented
defaults (only ``random_state`` set) on each data set, for several seeds, and
prints a Markdown table of test accuracy next to the figures of Fawaz et al.
(2019), "Deep learning for time series classification: a review", Data Min.
Knowl. Disc. 33(4): mean (std) over 10 runs on the UCR 2015 archive,
as in the authors' repository (github.com/hfawaz/dl-4-tsc,
results/results-uea-avg-std.csv; PickupGestureWiimoteZ, not in the 2015
archive: mean of their 5 runs on the 2018 archive, results/results-ucr-128.csv).

All three ship with seqnet (``seqnet.datasets``); PickupGestureWiimoteZ has
series of different lengths and is fitted as a list without padding (each
series z-normalised over its own length, as Fawaz et al. normalise; they
used the archive's equal-length version, padded to 361 steps).

    python examples/ucr_fcn.py                       # 3 seeds, default budget
    python examples/ucr_fcn.py --quick               # one seed, 20 epochs, minutes
    python examples/ucr_fcn.py --datasets GunPoint --seeds 0 --models fcn
    python examples/ucr_fcn.py --max-iter 200        # another epoch budget
"""

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from seqnet import FCNClassifier, ResNetClassifier
from seqnet.datasets import load_gunpoint, load_osuleaf, load_pickup_gesture_wiimote_z

MODELS = {"fcn": FCNClassifier, "resnet": ResNetClassifier}

#: (model, data set) -> (mean, std) test accuracy in percent, Fawaz et al. 2019.
PUBLISHED = {
    ("fcn", "GunPoint"): (100.0, 0.0),
    ("resnet", "GunPoint"): (99.1, 0.7),
    ("fcn", "OSULeaf"): (97.7, 0.9),
    ("resnet", "OSULeaf"): (97.9, 0.8),
    ("fcn", "PickupGestureWiimoteZ"): (74.4, 2.7),
    ("resnet", "PickupGestureWiimoteZ"): (70.4, 2.7),
}
LOADERS = {"GunPoint": load_gunpoint, "OSULeaf": load_osuleaf,
           "PickupGestureWiimoteZ": load_pickup_gesture_wiimote_z}


def _znorm(series):
    # per series, over its own steps: no statistic crosses series or splits
    return [(s - s.mean()) / (s.std() or 1.0) for s in series]


def load(name):
    """X_train, X_test, y_train, y_test of a shipped UCR set (ragged ones z-normalised)."""
    X_tr, X_te, y_tr, y_te = LOADERS[name]()
    if isinstance(X_tr, list):
        X_tr, X_te = _znorm(X_tr), _znorm(X_te)
    return X_tr, X_te, y_tr, y_te


def run(datasets, models, seeds, max_iter=None):
    """One row per (data set, model): accuracies per seed and seconds per fit."""
    rows = []
    for name in datasets:
        X_tr, X_te, y_tr, y_te = load(name)
        for key in models:
            params = {} if max_iter is None else {"max_iter": max_iter}
            accs, secs = [], []
            for seed in seeds:
                model = MODELS[key](random_state=seed, **params)
                # CPU seconds beside wall seconds: on a shared machine the wall
                # time measures the other jobs as much as the fit
                start, cpu = time.perf_counter(), time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X_tr, y_tr)
                secs.append(time.perf_counter() - start)
                accs.append(100 * model.score(X_te, y_te))
                print(f"  {name} {key} seed {seed}: {accs[-1]:.1f} % "
                      f"({model.n_iter_} epochs, final loss {model.loss_:.4f}, "
                      f"{secs[-1]:.0f} s wall, {time.process_time() - cpu:.0f} s CPU)",
                      flush=True)
            rows.append((name, key, accs, secs))
    return rows


def table(rows):
    lines = ["| data set | model | accuracy per seed (%) | mean (%) | published (%) | "
             "mean - published | fit (s, mean) |",
             "|---|---|---|---|---|---|---|"]
    for name, key, accs, secs in rows:
        mean = float(np.mean(accs))
        pub, std = PUBLISHED.get((key, name), (None, None))
        pub_s = "-" if pub is None else f"{pub:.1f}" + ("" if std is None else f" ({std:.1f})")
        gap = "-" if pub is None else f"{mean - pub:+.1f}"
        lines.append(f"| {name} | {MODELS[key].__name__} | "
                     f"{', '.join(f'{a:.1f}' for a in accs)} | {mean:.1f} | {pub_s} | {gap} | "
                     f"{np.mean(secs):.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(LOADERS),
                        help=f"comma-separated UCR names (default: {', '.join(LOADERS)})")
    parser.add_argument("--models", default="fcn,resnet", help="fcn and/or resnet")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values")
    parser.add_argument("--max-iter", type=int, default=None,
                        help="epochs (default: the estimators' documented default)")
    parser.add_argument("--quick", action="store_true",
                        help="a few minutes: seed 0 only and 20 epochs (below the "
                             "published figures; for a smoke run, not a comparison)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.max_iter = "0", args.max_iter or 20
    datasets = args.datasets.split(",")
    models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{platform.processor() or platform.machine()}, seeds {seeds}, "
          f"max_iter {args.max_iter or 'default'}")
    print(table(run(datasets, models, seeds, args.max_iter)))


if __name__ == "__main__":
    main()
