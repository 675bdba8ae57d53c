"""seqnet._runtime.malloc: glibc malloc thresholds raised once, unless the user opted out."""

import platform

import pytest

from seqnet._runtime import malloc as _malloc


@pytest.fixture
def fresh(monkeypatch):
    """A module state as if no fit had run yet in this process."""
    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setattr(_malloc, "_applied", {})
    for var in ("SEQNET_MALLOC_TUNING", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                "GLIBC_TUNABLES"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="glibc only")
def test_thresholds_applied_once(fresh):
    applied = _malloc.tune_malloc()
    assert applied == {"mmap_threshold": _malloc.MMAP_THRESHOLD,
                       "trim_threshold": _malloc.TRIM_THRESHOLD}
    assert _malloc.tune_malloc() == applied  # a second call changes nothing


@pytest.mark.parametrize("var,value", [("SEQNET_MALLOC_TUNING", "0"),
                                       ("SEQNET_MALLOC_TUNING", "off"),
                                       ("MALLOC_TRIM_THRESHOLD_", "1000000"),
                                       ("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")])
def test_user_settings_win(fresh, var, value):
    fresh.setenv(var, value)
    assert _malloc.tune_malloc() == {}


def test_fit_applies_tuning(fresh):
    import numpy as np

    from seqnet import LSTMRegressor

    X = np.random.default_rng(0).normal(size=(8, 4, 1))
    LSTMRegressor(hidden_layer_sizes=(2,), max_iter=1).fit(X, X[:, -1, 0])
    assert _malloc._done
