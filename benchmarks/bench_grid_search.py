"""Grid search wall time: seqnet GridSearchCV n_jobs=1 vs n_jobs=2, and skorch.

8 candidates x 3 folds of an LSTM classifier (one LSTM layer of H units + a
linear head on the last hidden state, softmax cross-entropy, Adam, batch 32,
float32) on random sequences of shape (600, 30, 4) with a learnable rule.
The same search runs with skorch's ``NeuralNetClassifier`` over an equivalent
PyTorch module when skorch is installed (``alpha`` maps to Adam's
``weight_decay``: the same L2 idea, not the same scaling).

Before timing, every search runs once on a small slice so that numba's
kernels are compiled and cached, joblib's loky workers are started and have
loaded the cached machine code, and PyTorch has done its first-call setup.
Times are the best of ``--repeats`` runs.  joblib gives each of the n_jobs
workers ``max(1, cores // n_jobs)`` threads (NUMBA/OMP/OPENBLAS_NUM_THREADS),
which both seqnet and PyTorch honour; with n_jobs=1 the search runs in this
process with all cores.

    pip install skorch  # optional, with torch already installed
    python benchmarks/bench_grid_search.py
    python benchmarks/bench_grid_search.py --n 600 --epochs 5 --repeats 2
    python benchmarks/bench_grid_search.py --torch-threads 1   # PyTorch at 1 thread

On a busy machine PyTorch's OpenMP threads spin-wait for each other: its
n_jobs=1 search at 2 threads can then run many times slower than at 1 thread
(seen here: 2.6 s vs 1.0 s for one fit at load average 6.5 on 2 cores), so
run this on a quiet machine and check ``uptime`` before and after.
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

GRID = {
    "hidden": [8, 16],
    "lr": [1e-3, 1e-2],
    "alpha": [1e-4, 1e-3],
}


def make_data(n, t, f, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, f)).astype(np.float32)
    y = (X[:, -5:, 0].sum(axis=1) > X[:, :5, 1].sum(axis=1)).astype(np.int64)
    return X, y


def seqnet_search(epochs, n_jobs):
    from seqnet import LSTMClassifier

    est = LSTMClassifier(hidden_layer_sizes=(8,), max_iter=epochs, batch_size=32,
                         random_state=0, n_iter_no_change=epochs + 1)
    grid = {"hidden_layer_sizes": [(h,) for h in GRID["hidden"]],
            "learning_rate_init": GRID["lr"], "alpha": GRID["alpha"]}
    return GridSearchCV(est, grid, cv=KFold(3), n_jobs=n_jobs)


def skorch_search(epochs, n_jobs, n_features):
    import torch
    from skorch import NeuralNetClassifier

    class LSTMNet(torch.nn.Module):
        def __init__(self, hidden=8, n_features=n_features, n_classes=2):
            super().__init__()
            self.rnn = torch.nn.LSTM(n_features, hidden, batch_first=True)
            self.out = torch.nn.Linear(hidden, n_classes)

        def forward(self, x):
            h, _ = self.rnn(x)
            return self.out(h[:, -1])

    net = NeuralNetClassifier(
        LSTMNet, module__n_features=n_features, criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam, max_epochs=epochs, batch_size=32,
        train_split=None, verbose=0, iterator_train__shuffle=True,
    )
    grid = {"module__hidden": GRID["hidden"], "lr": GRID["lr"],
            "optimizer__weight_decay": GRID["alpha"]}
    return GridSearchCV(net, grid, cv=KFold(3), n_jobs=n_jobs, error_score="raise")


def best_time(make, X, y, repeats):
    times, search = [], None
    for _ in range(repeats):
        search = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times), search


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=600)
    p.add_argument("--t", type=int, default=30)
    p.add_argument("--f", type=int, default=4)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no-skorch", action="store_true")
    p.add_argument("--torch-threads", type=int, default=None,
                   help="torch.set_num_threads for the n_jobs=1 search (default: "
                        "PyTorch's own choice, all cores)")
    args = p.parse_args()

    X, y = make_data(args.n, args.t, args.f)
    n_cand = int(np.prod([len(v) for v in GRID.values()]))
    print(f"# Grid search: {n_cand} candidates x 3 folds, X={X.shape}, "
          f"{args.epochs} epochs, batch 32")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")

    runners = [("seqnet", lambda j: seqnet_search(args.epochs, j))]
    if not args.no_skorch:
        try:
            import skorch  # noqa: F401
            import torch

            torch.manual_seed(0)
            if args.torch_threads:
                torch.set_num_threads(args.torch_threads)
            print(f"# torch threads in this process: {torch.get_num_threads()}")
            runners.append((f"skorch {skorch.__version__} / torch {torch.__version__}",
                            lambda j: skorch_search(args.epochs, j, args.f)))
        except ImportError:
            print("# skorch not installed: skipped")

    rows = []
    for name, make in runners:
        for n_jobs in (1, 2):
            # warm-up on a slice: compile/cache, start loky workers, first calls
            best_time(lambda: make(n_jobs), X[:60], y[:60], 1)
            seconds, search = best_time(lambda: make(n_jobs), X, y, args.repeats)
            rows.append((name, n_jobs, seconds, search.best_score_))
            print(f"#   {name} n_jobs={n_jobs}: {seconds:.2f} s", flush=True)

    print()
    print("| library | n_jobs | wall time (s) | best CV accuracy |")
    print("|---|---:|---:|---:|")
    for name, n_jobs, seconds, score in rows:
        print(f"| {name} | {n_jobs} | {seconds:.2f} | {score:.3f} |")
    base = {name: s for name, j, s, _ in rows if j == 1}
    for name, n_jobs, seconds, _ in rows:
        if n_jobs == 2:
            print(f"\n{name}: n_jobs=2 speed-up over n_jobs=1: {base[name] / seconds:.2f}x")
    seq = {j: s for name, j, s, _ in rows if name == "seqnet"}
    for name, n_jobs, seconds, _ in rows:
        if name != "seqnet":
            print(f"{name} n_jobs={n_jobs} time / seqnet time: {seconds / seq[n_jobs]:.2f}x")


if __name__ == "__main__":
    main()
