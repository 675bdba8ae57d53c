"""First-use cost as CPU seconds, seqnet source trees side by side, beside PyTorch.

``compile_time.py`` reports wall seconds, which on a shared machine move with
the other programs' load.  This script counts the CPU seconds (user + system)
of each fresh process instead: import + first ``fit(max_iter=2)`` + ``predict``
on 64 small samples with an empty ``NUMBA_CACHE_DIR``, for each estimator and
each source tree given (alternating, ``--rounds`` times), and PyTorch's import
+ first fit + predict of an LSTM of the same size in the same run.  A tree is
a checkout's root (``git worktree add /tmp/base <commit>``); the minimum over
rounds is reported.

    cd /tmp; python /path/to/benchmarks/compile_cpu_ab.py --trees /tmp/base /work/main \
        --only MLPClassifier,LSTMClassifier
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile

CASE = r"""
import sys, warnings, numpy as np
warnings.simplefilter("ignore")
import seqnet
name = sys.argv[1]
rng = np.random.default_rng(0)
est = getattr(seqnet, name)(max_iter=2, random_state=0, verbose=0)
seq = not name.startswith("MLP")
X = (rng.normal(size=(64, 10, 2)) if seq else rng.normal(size=(64, 20))).astype(np.float32)
y = rng.integers(0, 2, 64) if "Classifier" in name else rng.normal(size=64)
est.fit(X, y)
est.predict(X)
"""

TORCH_LSTM = r"""
import torch
torch.set_num_threads(1)
x = torch.randn(64, 10, 2)
y = torch.randint(0, 2, (64,))
lstm, head = torch.nn.LSTM(2, 100, batch_first=True), torch.nn.Linear(100, 2)
opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()))
for _ in range(2):
    for i in range(0, 64, 32):
        out, _ = lstm(x[i:i + 32])
        loss = torch.nn.functional.cross_entropy(head(out[:, -1]), y[i:i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
with torch.no_grad():
    head(lstm(x)[0][:, -1]).argmax(1)
"""


def child_cpu_seconds(code, arg, tree):
    """CPU seconds of one fresh process running ``code`` with ``tree`` first on the path."""
    env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(), OMP_NUM_THREADS="1")
    if tree:
        env["PYTHONPATH"] = tree
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code, arg], env=env, check=True,
                   cwd=tempfile.gettempdir())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", required=True, help="seqnet source trees")
    parser.add_argument("--only", default="MLPClassifier,LSTMClassifier,GRURegressor,"
                        "RNNClassifier,ConvClassifier", help="estimators, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}")
    names = args.only.split(",")
    seconds = {}
    for _ in range(args.rounds):
        for name in names:
            for tree in args.trees:
                seconds.setdefault((name, tree), []).append(child_cpu_seconds(CASE, name, tree))
        seconds.setdefault(("PyTorch LSTM", ""), []).append(
            child_cpu_seconds(TORCH_LSTM, "", None))
    torch_s = min(seconds[("PyTorch LSTM", "")])
    print(f"| estimator | tree | CPU s (min of {args.rounds}) | x PyTorch LSTM |")
    print("|---|---|---|---|")
    for (name, tree), values in seconds.items():
        print(f"| {name} | {tree or '-'} | {min(values):.1f} | {min(values) / torch_s:.2f} |")


if __name__ == "__main__":
    main()
