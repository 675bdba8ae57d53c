"""seqnet.warmup / ``seqnet warmup``: a warmed cache makes a later fit compile nothing."""

import ast
import sys

import pytest

import seqnet
from seqnet.cli import main
from tests.fresh_process import count_compiles, run_fresh

warmup_module = sys.modules["seqnet.warmup"]  # seqnet.warmup is the function

_DEFAULT_FIT = """
import numpy as np
from seqnet import MLPClassifier
rng = np.random.default_rng(1)
X = rng.normal(size=(300, 5))
y = rng.integers(0, 3, 300)
MLPClassifier(max_iter=2).fit(X, y).predict(X)
"""


def test_warmup_fills_the_cache_for_a_default_fit(tmp_path):
    out = run_fresh("import seqnet; print(seqnet.warmup(families=['mlp'], verbose=False))",
                    tmp_path, PYTHONWARNINGS="ignore")
    report = ast.literal_eval(out.strip().splitlines()[-1])  # our own repr of a dict
    assert list(report) == ["mlp"] and report["mlp"]["compiled"] > 0, out
    # a new process on the warmed cache: a default fit + predict compiles nothing
    assert count_compiles(_DEFAULT_FIT, tmp_path, PYTHONWARNINGS="ignore") == 0
    again = count_compiles("import seqnet; seqnet.warmup(['mlp'], verbose=False)", tmp_path)
    assert again == 0


_LSTM_FIT_ON_TWO_THREADS = """
import numpy as np
import seqnet
rng = np.random.default_rng(1)
X = rng.normal(size=(256, 12, 3))
y = rng.integers(0, 2, 256)
with seqnet.threads(2):  # several chunks on two threads: the hand-off runs
    seqnet.LSTMClassifier(hidden_layer_sizes=(64,), batch_size=128, max_iter=1).fit(X, y)
"""


def test_warmup_covers_the_chunk_threads_hand_off(tmp_path):
    """Warm-up's tiny batches run in one chunk; a real fit on several threads
    also runs the hand-off's compiled waits, which warm-up compiles too."""
    run_fresh("import seqnet; seqnet.warmup(families=['lstm'], verbose=False)", tmp_path,
              PYTHONWARNINGS="ignore")
    assert count_compiles(_LSTM_FIT_ON_TWO_THREADS, tmp_path, PYTHONWARNINGS="ignore") == 0


def test_warmup_rejects_unknown_names():
    with pytest.raises(ValueError, match="families"):
        seqnet.warmup(families=["transformer"])
    with pytest.raises(ValueError, match="dtypes"):
        seqnet.warmup(families="mlp", dtypes=("float16",))


def test_warmup_reports_per_family_and_prints_lines(capsys, monkeypatch):
    monkeypatch.setattr(warmup_module, "_VARIANTS", {**warmup_module._VARIANTS,
                                                      "mlp": warmup_module._VARIANTS["mlp"][:2]})
    monkeypatch.setattr(warmup_module, "_activation_variants", lambda: [])
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # no tqdm
    report = seqnet.warmup(families="mlp")
    assert set(report["mlp"]) == {"seconds", "compiled"}
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["seqnet warmup 1/2: mlp float32 MLPClassifier",
                     "seqnet warmup 2/2: mlp float32 MLPClassifier"]


def test_cli_warmup(capsys, monkeypatch):
    calls = []

    def fake(families, dtypes, verbose):
        calls.append((families, dtypes))
        return {f: {"seconds": 0.5, "compiled": 3} for f in families}

    monkeypatch.setattr(warmup_module, "warmup", fake)
    assert main(["warmup", "--families", "lstm,gru", "--dtypes", "float32,float64"]) == 0
    assert calls == [(["lstm", "gru"], ["float32", "float64"])]
    out = capsys.readouterr().out
    assert "lstm" in out and "gru" in out and "compiled" in out
    monkeypatch.undo()
    assert main(["warmup", "--families", "bogus"]) == 2
    assert "families must be" in capsys.readouterr().err


def test_dask_preload_hook_warms_up(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup_module, "warmup", lambda **kw: calls.append(kw))
    warmup_module.dask_setup(worker=None)
    assert calls == [{"verbose": False}]
