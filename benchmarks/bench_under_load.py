"""Fit and predict times on a busy machine: default threads against one thread.

For N = 0, 1, 2, 4 busy background processes (plain spin loops, bounded in
time and stopped by this script), times ``fit`` and ``predict`` of an MLP, an
LSTM, a GRU and a 1-D convolution, each with the default thread setting and
with one thread (``seqnet.threads(1)``), and PyTorch's equivalents with its
default threads and ``torch.set_num_threads(1)``.  Every
framework runs in a fresh process, after a warm-up fit (compilation
excluded); the two thread settings alternate call by call, so both see the
same load phases; times are medians of ``--repeats`` calls.

    python benchmarks/bench_under_load.py [--loads 0,1,2,4] [--repeats 3] [--no-torch] [--no-grid]
    python benchmarks/bench_under_load.py --scale 20 --repeats 5 --no-torch --no-grid

``--scale K`` runs K times the epochs per fit and predicts K times the rows:
with three runnable processes on two cores, a fit of tens of milliseconds
lands in whichever share of the cores the scheduler gives out at that
moment, and its time scatters by a factor of two either way; fits of about
a second average over those phases.

It also times a ``GridSearchCV`` over an LSTM with ``n_jobs`` 1, 2 and -1 at
each load (joblib's workers use ``cores // n_jobs`` threads each).

Prints the CPU and BLAS, then a Markdown table per load: seconds and the ratio
default / one thread (above 1: the default is slower than one thread).
"""

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

MODELS = ("mlp", "lstm", "gru", "conv")


def _spin(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1


def _data(model):
    rng = np.random.default_rng(0)
    if model == "mlp":
        X = rng.normal(size=(2000, 64)).astype(np.float32)
    elif model == "conv":
        X = rng.normal(size=(400, 48, 2)).astype(np.float32)
    else:  # the case: a small univariate set of short series
        X = rng.normal(size=(67, 24, 1)).astype(np.float32)
    y = (X.reshape(len(X), -1)[:, :3].sum(axis=1) > 0).astype(np.int64)
    return X, y


def _interleaved(fns, settings, repeats):
    """Median seconds of each ``fns[name]`` under each thread setting, the
    settings alternating call by call (so both see the same load phases):
    ``{setting: {name: seconds}}``; ``settings`` maps a name to a function
    that applies it."""
    times = {mode: {name: [] for name in fns} for mode in settings}
    for _ in range(repeats):
        for mode, apply in settings.items():
            apply()
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[mode][name].append(time.perf_counter() - start)
    return {mode: {name: statistics.median(t) for name, t in per.items()}
            for mode, per in times.items()}


#: Epochs per fit of each model (times ``--scale``).
EPOCHS = {"mlp": 5, "lstm": 20, "gru": 20, "conv": 3}
#: Rows per predict (times ``--scale``): an MLP predicts 20,000 rows in about
#: the time a recurrent model takes for 4,000.
PREDICT_ROWS = {"mlp": 20000, "lstm": 4000, "gru": 4000, "conv": 4000}


def _seqnet_case(model, repeats, scale):
    import seqnet

    X, y = _data(model)
    epochs = EPOCHS[model] * scale
    make = {
        "mlp": lambda: seqnet.MLPClassifier(hidden_layer_sizes=(256,), max_iter=epochs,
                                            batch_size=200, random_state=0, tol=0.0,
                                            n_iter_no_change=epochs),
        "lstm": lambda: seqnet.LSTMClassifier(hidden_layer_sizes=(64,), max_iter=epochs,
                                              batch_size=67, random_state=0, tol=0.0,
                                              n_iter_no_change=epochs),
        "gru": lambda: seqnet.GRUClassifier(hidden_layer_sizes=(64,), max_iter=epochs,
                                            batch_size=67, random_state=0, tol=0.0,
                                            n_iter_no_change=epochs),
        "conv": lambda: seqnet.ConvClassifier(filters=(16, 32), kernel_size=5, max_iter=epochs,
                                              batch_size=64, random_state=0, tol=0.0,
                                              n_iter_no_change=epochs),
    }[model]
    Xp = np.concatenate([X] * max(1, scale * PREDICT_ROWS[model] // len(X)))
    est = make().fit(X[:64], y[:64])  # compile / load the kernels
    est.predict(Xp[:64])
    settings = {"default": lambda: seqnet.set_num_threads(None),
                "one": lambda: seqnet.set_num_threads(1)}
    try:
        return _interleaved({"fit": lambda: make().fit(X, y), "predict": lambda: est.predict(Xp)},
                            settings, repeats)
    finally:
        seqnet.set_num_threads(None)


def _torch_case(model, repeats, scale):
    import torch

    default_threads = torch.get_num_threads()
    X, y = _data(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if model == "mlp":
                self.body = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU())
                width = 256
            elif model == "conv":
                self.body = torch.nn.Sequential(
                    torch.nn.Conv1d(2, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
                    torch.nn.Conv1d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
                    torch.nn.Flatten())
                width = 32 * 12
            else:
                self.body = getattr(torch.nn, model.upper())(1, 64, batch_first=True)
                width = 64
            self.out = torch.nn.Linear(width, 2)

        def forward(self, x):
            if model == "conv":
                return self.out(self.body(x.transpose(1, 2)))
            h = self.body(x)
            return self.out(h if model == "mlp" else h[0][:, -1])

    epochs = EPOCHS[model] * scale
    batch = {"mlp": 200, "conv": 64}.get(model, 67)

    def fit():
        net = Net()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for _ in range(epochs):
            for s in range(0, len(Xt), batch):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(Xt[s:s + batch]), yt[s:s + batch]).backward()
                opt.step()
        return net

    net = fit()
    Xp = torch.cat([Xt] * max(1, scale * PREDICT_ROWS[model] // len(Xt)))

    def predict():
        with torch.no_grad():
            net(Xp).argmax(1)

    predict()
    settings = {"default": lambda: torch.set_num_threads(default_threads),
                "one": lambda: torch.set_num_threads(1)}
    return _interleaved({"fit": fit, "predict": predict}, settings, repeats)


def _median(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _grid_case(n_jobs, repeats):
    """GridSearchCV over an LSTM (4 candidates x 3 folds) with ``n_jobs``."""
    from sklearn.model_selection import GridSearchCV

    import seqnet

    X, y = _data("lstm")
    X, y = np.concatenate([X] * 3), np.concatenate([y] * 3)
    search = GridSearchCV(seqnet.LSTMClassifier(hidden_layer_sizes=(32,), max_iter=10,
                                                random_state=0),
                          {"learning_rate_init": [1e-3, 1e-2], "alpha": [1e-4, 1e-2]},
                          cv=3, n_jobs=n_jobs)
    search.fit(X[:64], y[:64])  # start the workers, compile / load the kernels
    return _median(lambda: search.fit(X, y), repeats)


def _worker(args):
    warnings.filterwarnings("ignore")
    if args.worker == "grid":
        print(json.dumps({str(n): _grid_case(n, args.repeats) for n in (1, 2, -1)}))
        return
    case = _seqnet_case if args.worker == "seqnet" else _torch_case
    out = {m: case(m, args.repeats, args.scale) for m in args.models.split(",")}
    print(json.dumps(out))


def _run(framework, args):
    cmd = [sys.executable, __file__, "--worker", framework, "--models", args.models,
           "--repeats", str(args.repeats), "--scale", str(args.scale)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def _machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import scipy.linalg.cython_blas  # noqa: F401 - the BLAS numba's products call
    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                     for i in threadpool_info() if i.get("user_api") == "blas")
    return f"CPU: {cpu}, {os.cpu_count()} cores; BLAS: {blas}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", default="0,1,2,4")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1,
                        help="epochs per fit and rows per predict, times this")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-grid", action="store_true", help="skip the GridSearchCV timings")
    parser.add_argument("--worker", choices=["seqnet", "torch", "grid"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    print(_machine(), f"; scale {args.scale}, medians of {args.repeats}", sep="")
    frameworks = ["seqnet"] + ([] if args.no_torch else ["torch"])
    for load in (int(v) for v in args.loads.split(",")):
        spinners = [multiprocessing.Process(target=_spin, args=(3600,), daemon=True)
                    for _ in range(load)]
        for p in spinners:
            p.start()
        try:
            results = {fw: _run(fw, args) for fw in frameworks}
            grid = None if args.no_grid else _run("grid", args)
        finally:
            for p in spinners:
                p.terminate()
            for p in spinners:
                p.join()
        print(f"\n{load} busy processes (load average {os.getloadavg()[0]:.1f})\n")
        print("| framework | model | fit default s | fit 1 thread s | fit default/1 | "
              "predict default s | predict 1 thread s | predict default/1 |")
        print("|---|---|---|---|---|---|---|---|")
        for fw in frameworks:
            for m in args.models.split(","):
                r = results[fw][m]
                fd, pd = r["default"]["fit"], r["default"]["predict"]
                f1, p1 = r["one"]["fit"], r["one"]["predict"]
                print(f"| {fw} | {m} | {fd:.3f} | {f1:.3f} | {fd / f1:.2f}x | "
                      f"{pd:.4f} | {p1:.4f} | {pd / p1:.2f}x |", flush=True)
        if grid:
            print(f"\nGridSearchCV(LSTMClassifier, 4 candidates, cv=3): "
                  f"n_jobs=1 {grid['1']:.2f} s, n_jobs=2 {grid['2']:.2f} s, "
                  f"n_jobs=-1 {grid['-1']:.2f} s", flush=True)


if __name__ == "__main__":
    main()
