"""First-use cost of each estimator: import + first fit + predict on an empty numba cache.

Every case is a fresh Python process with ``NUMBA_CACHE_DIR`` pointing at a new
empty directory, so it pays everything a new environment pays (a CI job, a
Docker image, a Dask worker): the imports, numba's compilation of every kernel
the model needs, and the fit itself (``max_iter=2`` on 64 small samples).
Beside it, in the same run, PyTorch's import + first fit (2 epochs) + predict of
the same model, and the budget of issue 17:

* recurrent estimators within 4x PyTorch's LSTM, Conv within 2x PyTorch's
  Conv1d, MLP within 1.5x PyTorch's MLP;
* all ten estimators one after the other in one process within 45 s.

The number of compiled specializations is counted with numba's compile events
(``numba.core.event``, kind ``numba:compile``), nested ones included.

    python benchmarks/compile_time.py [--repeats 1] [--only LSTMClassifier,...]
    python benchmarks/compile_time.py --floor          # the fixed costs, alone
    python benchmarks/compile_time.py --profile LSTMClassifier   # where one goes

``--floor`` times, each in a fresh process on an empty cache, what every
first use pays before any seqnet kernel: ``import sklearn.base, numba`` (the
reference of the import target), ``import seqnet`` on top, numba's first
compilation of a trivial function (its typing and code-generation contexts
are built then, once per process) and one small array loop compiled after it
(the fixed cost of one more compiled function).  ``--profile NAME`` lists the
compiled functions of one estimator's first use with their own (exclusive)
and inclusive seconds.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ESTIMATORS = [
    "MLPClassifier", "MLPRegressor", "RNNClassifier", "RNNRegressor",
    "LSTMClassifier", "LSTMRegressor", "GRUClassifier", "GRURegressor",
    "ConvClassifier", "ConvRegressor",
]

SEQNET_CASE = r"""
import json, sys, time
t0 = time.perf_counter()
from numba.core import event
import numpy as np, warnings
import seqnet
t_import = time.perf_counter() - t0
count = [0]
class Counter(event.Listener):
    def on_start(self, ev):
        count[0] += 1
    def on_end(self, ev):
        pass
event.register("numba:compile", Counter())
warnings.simplefilter("ignore")
names = sys.argv[1].split(",")
rng = np.random.default_rng(0)
for name in names:
    if name.startswith("MLP"):
        X = rng.normal(size=(64, 8))
    elif name.startswith("Conv"):
        X = rng.normal(size=(64, 16, 2))
    else:
        X = rng.normal(size=(64, 10, 2))
    flat = X.reshape(64, -1)
    y = (flat[:, 0] > 0).astype(int) if name.endswith("Classifier") else flat[:, 0]
    est = getattr(seqnet, name)(max_iter=2, random_state=0)
    est.fit(X, y).predict(X)
print(json.dumps({"seconds": time.perf_counter() - t0, "import": t_import,
                  "compiled": count[0]}))
"""

FLOOR_CASE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import sklearn.base, numba
t1 = time.perf_counter()
import seqnet
t2 = time.perf_counter()
from numba import njit
@njit
def first(x):
    return x + 1
first(1)
t3 = time.perf_counter()
@njit
def loop(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * a[i]
    return s
loop(np.ones(3))
t4 = time.perf_counter()
print(json.dumps({"sklearn+numba import": t1 - t0, "seqnet import on top": t2 - t1,
                  "numba first compile": t3 - t2, "one more small function": t4 - t3}))
"""

PROFILE_CASE = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
from numba.core import event
import numpy as np
import seqnet
stack, rows = [], []
class Timer(event.Listener):
    def on_start(self, ev):
        stack.append([time.perf_counter(), 0.0])
    def on_end(self, ev):
        start, inner = stack.pop()
        took = time.perf_counter() - start
        if stack:
            stack[-1][1] += took
        fn = getattr(ev.data.get("dispatcher"), "py_func", None)
        name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}" if fn else "?"
        rows.append((took - inner, took, name.replace("<locals>.", "")))
event.register("numba:compile", Timer())
warnings.simplefilter("ignore")
name = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 8) if name.startswith("MLP") else
               (64, 16, 2) if name.startswith("Conv") else (64, 10, 2))
flat = X.reshape(64, -1)
y = (flat[:, 0] > 0).astype(int) if name.endswith("Classifier") else flat[:, 0]
getattr(seqnet, name)(max_iter=2, random_state=0).fit(X, y).predict(X)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": sorted(rows, reverse=True)}))
"""

TORCH_CASE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import torch
kind = sys.argv[1]
torch.manual_seed(0)
rng = np.random.default_rng(0)
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        if kind == "mlp":
            self.body = torch.nn.Sequential(torch.nn.Linear(8, 100), torch.nn.ReLU())
        elif kind == "conv":
            self.body = torch.nn.Sequential(torch.nn.Conv1d(2, 8, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.MaxPool1d(2), torch.nn.Flatten())
        else:
            self.body = getattr(torch.nn, kind.upper())(2, 100, batch_first=True)
        width = {"mlp": 100, "conv": 8 * 8}.get(kind, 100)
        self.out = torch.nn.Linear(width, 2)
    def forward(self, x):
        if kind == "conv":
            return self.out(self.body(x.transpose(1, 2)))
        h = self.body(x)
        if kind not in ("mlp",):
            h = h[0][:, -1]
        return self.out(h)
shape = {"mlp": (64, 8), "conv": (64, 16, 2)}.get(kind, (64, 10, 2))
X = torch.from_numpy(rng.normal(size=shape).astype(np.float32))
y = torch.from_numpy((X.reshape(64, -1)[:, 0] > 0).numpy().astype(np.int64))
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for epoch in range(2):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(X), y)
    loss.backward()
    opt.step()
with torch.no_grad():
    net(X).argmax(1)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def run_case(code, arg, cold=True):
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run([sys.executable, "-c", code, arg], env=env, check=True,
                             capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import numpy  # noqa: F401
        import scipy.linalg.cython_blas  # noqa: F401 - the BLAS numba's products call
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        blas = "unknown"
    import numba
    return f"CPU: {cpu}, {os.cpu_count()} cores; BLAS: {blas}; numba {numba.__version__}"


def print_floor(repeats):
    runs = [run_case(FLOOR_CASE, "") for _ in range(repeats)]
    for key in runs[0]:
        print(f"{key:28s} {statistics.median(r[key] for r in runs):6.2f} s")


def print_profile(name):
    out = run_case(PROFILE_CASE, name)
    rows = out["rows"]
    print(f"{name}: first use {out['seconds']:.2f} s, {len(rows)} compiled, "
          f"{sum(r[0] for r in rows):.2f} s in numba's compile events")
    print(f"{'own s':>6s} {'incl. s':>7s}  function")
    for own, incl, fn in rows:
        print(f"{own:6.2f} {incl:7.2f}  {fn}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", default=",".join(ESTIMATORS))
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--floor", action="store_true", help="the fixed costs only")
    parser.add_argument("--profile", metavar="NAME", help="one estimator's compiled functions")
    args = parser.parse_args()
    names = args.only.split(",")
    print(machine())
    if args.floor:
        return print_floor(args.repeats)
    if args.profile:
        return print_profile(args.profile)
    torch_s = {}
    if not args.no_torch:
        try:
            for kind in ("mlp", "rnn", "lstm", "gru", "conv"):
                torch_s[kind] = statistics.median(
                    run_case(TORCH_CASE, kind, cold=False)["seconds"]
                    for _ in range(args.repeats))
        except subprocess.CalledProcessError:
            print("PyTorch not installed: no comparison")
    budget = {"MLP": ("mlp", 1.5), "RNN": ("rnn", 4.0), "LSTM": ("lstm", 4.0),
              "GRU": ("gru", 4.0), "Conv": ("conv", 2.0)}
    print(f"{'first use, empty cache':24s} {'seconds':>8s} {'import':>7s} {'compiled':>8s} "
          f"{'PyTorch':>8s} {'x PyTorch':>9s} {'budget':>7s}")
    for name in names:
        runs = [run_case(SEQNET_CASE, name) for _ in range(args.repeats)]
        sec = statistics.median(r["seconds"] for r in runs)
        family = next(k for k in budget if name.startswith(k))
        kind, factor = budget[family]
        ref = torch_s.get(kind)
        ratio = f"{sec / ref:9.1f}" if ref else f"{'-':>9s}"
        ok = ("met" if sec <= factor * ref else "MISSED") if ref else "-"
        print(f"{name:24s} {sec:8.1f} {runs[0]['import']:7.2f} {runs[0]['compiled']:8d} "
              f"{ref if ref else float('nan'):8.2f} {ratio} {factor:4.1f}x {ok}")
    if len(names) > 1:
        r = run_case(SEQNET_CASE, ",".join(names))
        print(f"{'all in one process':24s} {r['seconds']:8.1f} {r['import']:7.2f} "
              f"{r['compiled']:8d}   budget 45 s: {'met' if r['seconds'] <= 45 else 'MISSED'}")
    warm = run_case(SEQNET_CASE, names[0], cold=False)  # fills / reads the default cache
    warm = run_case(SEQNET_CASE, names[0], cold=False)
    print(f"{names[0] + ', warm cache':24s} {warm['seconds']:8.1f} {warm['import']:7.2f} "
          f"{warm['compiled']:8d}")
    if torch_s:
        print("PyTorch import + first fit + predict: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in torch_s.items()))


if __name__ == "__main__":
    main()
