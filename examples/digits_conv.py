"""load_digits as 8x8x1 images with ConvClassifier (test_size=0.25, random_state=0).

    python examples/digits_conv.py
"""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from seqnet import ConvClassifier

#: Settings that reach >= 0.98 test accuracy (checked in tests/test_conv_estimators.py).
DIGITS_CONV_SETTINGS = dict(
    input_shape=(8, 8, 1), filters=(16, 32), kernel_size=3, padding="same", pool_size=2,
    hidden_layer_sizes=(64,), batch_size=64, learning_rate_init=0.003, max_iter=30,
    random_state=0,
)


def main():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
    clf = ConvClassifier(**DIGITS_CONV_SETTINGS)
    start = time.perf_counter()
    clf.fit(X_tr, y_tr)
    print(f"ConvClassifier on digits (8x8x1): test accuracy {clf.score(X_te, y_te):.4f}, "
          f"fit {time.perf_counter() - start:.1f} s, {clf.n_iter_} epochs")


if __name__ == "__main__":
    main()
