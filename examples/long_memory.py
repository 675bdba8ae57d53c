"""Remembering 100 steps back: plain, leaky and skip RNNs against an LSTM.

Each sequence starts with +1 or -1 and continues with 100 steps of Gaussian
noise (standard deviation 0.5); the class is the sign of the first value, so
a model has to carry one bit across 100 noisy steps.  A plain tanh RNN's
gradient fades over that distance and it stays near chance; leaky units
(``leak``: ``h_t = (1 - a) h_{t-1} + a f_t``) keep a state for about ``1 / a``
steps, and skip connections in time (``skip_steps=d``: ``S h_{t-d}`` in the
cell) bridge the 100 steps in 100 / d hops.  An LSTM is the usual answer.

Prints held-out accuracy and fit time per model (mean over the seeds).

Run:  python examples/long_memory.py [--epochs 40] [--seeds 3]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from seqnet import LSTMClassifier, RNNClassifier

LAG = 100


def memory_task(n, seed, noise=0.5):
    """``X`` (n, LAG + 1, 1) float32, ``y`` the sign of ``X[:, 0, 0]`` (0 / 1)."""
    rng = np.random.default_rng(seed)
    first = rng.choice([-1.0, 1.0], size=n)
    X = rng.normal(scale=noise, size=(n, LAG + 1, 1))
    X[:, 0, 0] = first
    return X.astype(np.float32), (first > 0).astype(int)


MODELS = {
    "plain RNN (tanh)": (RNNClassifier, {}),
    "leaky RNN, leak=0.05": (RNNClassifier, dict(leak=0.05)),
    "leaky RNN, leak='learn'": (RNNClassifier, dict(leak="learn")),
    "skip RNN, skip_steps=25": (RNNClassifier, dict(skip_steps=25)),
    "LSTM": (LSTMClassifier, {}),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--n-train", type=int, default=200)
    args = parser.parse_args()
    print(f"sign of the first value, {LAG} noise steps later; {args.n_train} training and "
          f"500 test sequences, {args.hidden} units, {args.epochs} epochs, "
          f"{args.seeds} seed(s)")
    print(f"{'model':<26} {'test accuracy':>14} {'fit time (s)':>13}")
    for name, (cls, params) in MODELS.items():
        scores, times = [], []
        for seed in range(args.seeds):
            X_tr, y_tr = memory_task(args.n_train, seed)
            X_te, y_te = memory_task(500, 100 + seed)
            model = cls(hidden_layer_sizes=args.hidden, max_iter=args.epochs, batch_size=32,
                        learning_rate_init=0.01, random_state=seed, **params)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_tr, y_tr)
            times.append(time.perf_counter() - start)
            scores.append(model.score(X_te, y_te))
        print(f"{name:<26} {np.mean(scores):>14.3f} {np.mean(times):>13.2f}")


if __name__ == "__main__":
    main()
