"""The UCR sets shipped in seqnet.datasets: shapes and class counts as the
UCR archive states them, and the files as package data."""

import gzip
import hashlib
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from seqnet.datasets import load_gunpoint, load_osuleaf, load_pickup_gesture_wiimote_z

# Class counts of the archive's own train / test split (UCR archive 2018:
# OSULeaf 200 / 242 series in 6 classes, PickupGestureWiimoteZ 50 / 50 in 10).
OSULEAF_COUNTS = ({"1": 34, "2": 29, "3": 33, "4": 53, "5": 36, "6": 15},
                  {"1": 32, "2": 55, "3": 42, "4": 44, "5": 46, "6": 23})
PICKUP_COUNTS = {str(c): 5 for c in range(1, 11)}  # 10 subjects, 5 series each


def test_osuleaf_shapes_and_classes():
    X_tr, X_te, y_tr, y_te = load_osuleaf()
    assert X_tr.shape == (200, 427) and X_te.shape == (242, 427)
    assert X_tr.dtype == np.float64 and np.isfinite(X_tr).all() and np.isfinite(X_te).all()
    assert dict(Counter(y_tr.tolist())) == OSULEAF_COUNTS[0]
    assert dict(Counter(y_te.tolist())) == OSULEAF_COUNTS[1]
    # z-normalised per series, as the archive distributes it
    np.testing.assert_allclose(X_tr.mean(axis=1), 0.0, atol=1e-3)
    np.testing.assert_allclose(X_tr.std(axis=1, ddof=1), 1.0, atol=1e-2)
    X, y = load_osuleaf(split="test")
    assert (X == X_te).all() and (y == y_te).all()


def test_pickup_gesture_is_ragged():
    X_tr, X_te, y_tr, y_te = load_pickup_gesture_wiimote_z()
    assert isinstance(X_tr, list) and len(X_tr) == len(X_te) == 50
    assert all(s.ndim == 1 and s.dtype == np.float64 for s in X_tr + X_te)
    lengths_tr = [len(s) for s in X_tr]
    assert (min(lengths_tr), max(lengths_tr)) == (29, 361)
    assert (min(map(len, X_te)), max(map(len, X_te))) == (37, 324)
    assert len(set(lengths_tr)) > 10  # genuinely unequal, not padded
    assert all(np.isfinite(s).all() for s in X_tr + X_te)  # no NaN padding
    assert dict(Counter(y_tr.tolist())) == dict(Counter(y_te.tolist())) == PICKUP_COUNTS
    X, y = load_pickup_gesture_wiimote_z(split="train")
    assert all((a == b).all() for a, b in zip(X, X_tr)) and (y == y_tr).all()


@pytest.mark.parametrize("load", [load_gunpoint, load_osuleaf, load_pickup_gesture_wiimote_z])
def test_bad_split(load):
    with pytest.raises(ValueError, match="split"):
        load(split="validation")


def test_ts_files_are_package_data():
    # the wheel takes *.ts.gz from seqnet/datasets: every shipped problem must match it
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["seqnet.datasets"]
    assert "*.ts.gz" in patterns
    names = {p.name for p in resources.files("seqnet.datasets").iterdir()}
    for problem in ("GunPoint", "OSULeaf", "PickupGestureWiimoteZ"):
        for part in ("TRAIN", "TEST"):
            assert f"{problem}_{part}.ts.gz" in names
    # decompressed, the archive's bytes unmodified (sha256 of the files in aeon 1.6.0's wheel)
    packed = resources.files("seqnet.datasets").joinpath("OSULeaf_TRAIN.ts.gz").read_bytes()
    digest = hashlib.sha256(gzip.decompress(packed)).hexdigest()
    assert digest == OSULEAF_TRAIN_SHA256


OSULEAF_TRAIN_SHA256 = "86b9d6e860414ffd26cebc62fff84ffb37fa588ef3e5bf79e4094a437c36ddfc"
