"""Cold-start cost of seqnet: a fresh process that imports it and fits a small MLP.

Measures (wall time of a fresh ``python -c``, median of 3):

1. ``import sklearn.base, numba`` -- the floor every seqnet process pays;
2. ``import seqnet`` + ``MLPClassifier(hidden_layer_sizes=(16,), max_iter=3)``
   fit and predict on 100 x 8 data, with numba's on-disk cache warm (what a
   GridSearchCV worker or a second script sees);
3. the same with an empty cache (``NUMBA_CACHE_DIR`` set to a fresh temporary
   directory): the first-ever compile time (measured once per fresh directory,
   3 times).

    python benchmarks/cold_start.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

BASELINE = "import sklearn.base, numba"
FIT = (
    "import numpy as np, warnings; import seqnet; "
    "warnings.simplefilter('ignore'); "
    "rng = np.random.default_rng(0); X = rng.normal(size=(100, 8)); "
    "y = (X[:, 0] > 0).astype(int); "
    "seqnet.MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0)"
    ".fit(X, y).predict(X)"
)


def wall(code, env=None):
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def main(repeats=3):
    print(f"python {sys.executable}")
    print(f"NUMBA_CACHE_DIR={os.environ.get('NUMBA_CACHE_DIR', '<unset: __pycache__ next to sources>')}")
    wall(FIT)  # make sure the default cache is warm
    base = [wall(BASELINE) for _ in range(repeats)]
    warm = [wall(FIT) for _ in range(repeats)]
    cold = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as d:
            env = dict(os.environ, NUMBA_CACHE_DIR=d)
            cold.append(wall(FIT, env))
    for name, times in (
        (f"python -c '{BASELINE}'", base),
        ("import seqnet + fit/predict MLP, warm numba cache", warm),
        ("import seqnet + fit/predict MLP, EMPTY numba cache", cold),
    ):
        print(f"{name:52s} median {statistics.median(times):6.2f} s   "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"seqnet cost over the import floor (warm cache): "
          f"{statistics.median(warm) - statistics.median(base):.2f} s")
    print(f"first-ever compile (empty cache) over warm:     "
          f"{statistics.median(cold) - statistics.median(warm):.2f} s")


if __name__ == "__main__":
    main()
