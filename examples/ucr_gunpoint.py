"""Time-series classification on the UCR GunPoint dataset (shipped offline by aeon).

GunPoint: 50 training and 150 test series of 150 steps (hand position of an
actor drawing a gun or pointing).  Prints the test accuracy of a GRU, an
LSTM and a 1-D convolutional classifier, next to scikit-learn's MLP.

    pip install aeon
    python examples/ucr_gunpoint.py
"""

import time

import numpy as np
from aeon.datasets import load_classification
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.pipeline import make_pipeline

from seqnet import ConvClassifier, GRUClassifier, LSTMClassifier
from seqnet.preprocessing import SequenceScaler


def load(split):
    X, y = load_classification("GunPoint", split=split)
    return np.transpose(X, (0, 2, 1)).astype(np.float32), y  # (n, T, channels)


def main():
    X_tr, y_tr = load("train")
    X_te, y_te = load("test")
    models = {
        # max pooling over the 150 hidden states: the final state alone trains
        # poorly here (an LSTM with pooling='last' stays near chance)
        "GRUClassifier": GRUClassifier(hidden_layer_sizes=(32,), pooling="max", max_iter=150,
                                       n_iter_no_change=50, learning_rate_init=0.01,
                                       batch_size=16, random_state=0),
        "LSTMClassifier": LSTMClassifier(hidden_layer_sizes=(32,), pooling="max", max_iter=150,
                                         n_iter_no_change=50, learning_rate_init=0.01,
                                         batch_size=16, random_state=0),
        "ConvClassifier (1-D)": ConvClassifier(filters=(16, 32), kernel_size=7, pool_size=4,
                                               hidden_layer_sizes=(32,), max_iter=100,
                                               learning_rate_init=0.003, batch_size=16,
                                               random_state=0),
    }
    print(f"GunPoint: train {X_tr.shape}, test {X_te.shape}")
    for name, model in models.items():
        pipe = make_pipeline(SequenceScaler(), model)
        start = time.perf_counter()
        pipe.fit(X_tr, y_tr)
        print(f"{name:22s} test accuracy {pipe.score(X_te, y_te):.3f}  "
              f"fit {time.perf_counter() - start:5.1f} s")
    sk = SkMLP(hidden_layer_sizes=(100,), max_iter=500, random_state=0)
    sk.fit(X_tr[:, :, 0], y_tr)
    print(f"{'sklearn MLPClassifier':22s} test accuracy {sk.score(X_te[:, :, 0], y_te):.3f}")


if __name__ == "__main__":
    main()
