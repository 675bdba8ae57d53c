"""A verbose fit says when it compiles kernels (cold numba cache), and only then.

The subprocess tests start fresh interpreters on an empty ``NUMBA_CACHE_DIR``
(a cold compile of a tiny MLP costs seconds); the in-process tests compile a
new, uncached numba function to trigger real ``"numba:compile"`` events.
"""

import re
import threading

import numba
import numpy as np
import pytest

import seqnet.training.progress as progress
from seqnet.training.compiling import COMPILING, compile_notice, watch_compiles
from tests.fresh_process import run_fresh

_FIT = """
import warnings
import numpy as np
from seqnet import MLPClassifier
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3)).astype(np.float32)
y = (X[:, 0] > 0).astype(int)
MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, verbose={verbose}).fit(X, y).predict(X)
"""

_DONE = re.compile(r"compiled kernels in \d+\.\d s")


def test_message_on_cold_cache_only(tmp_path):
    cold = run_fresh(_FIT.format(verbose=1), tmp_path)
    assert COMPILING in cold and _DONE.search(cold), cold
    warm = run_fresh(_FIT.format(verbose=1), tmp_path)
    assert "compil" not in warm, warm
    assert "1/1" in warm or "Iteration 1" in warm  # the progress itself is still there


def test_verbose_0_prints_nothing_on_cold_cache(tmp_path):
    assert run_fresh(_FIT.format(verbose=0), tmp_path) == ""


# ------------------------------------------------------------ in process


def _fresh_function():
    """A new dispatcher: its first call is a real compilation (no cache)."""
    return numba.njit(lambda x: x * 2.0 + 1.0)


def test_watch_counts_compilations_not_calls():
    f = _fresh_function()
    with watch_compiles() as watch:
        f(1.0)
        f(2.0)       # same signature: no compilation
        f(np.ones(3))  # a second specialization (and what it compiles inside)
    assert watch.n_compiled >= 2 and watch.seconds > 0
    with watch_compiles() as again:
        f(3.0)
    assert again.n_compiled == 0


def test_watches_see_only_their_own_thread():
    funcs = [_fresh_function() for _ in range(2)]
    counts = [None, None]
    barrier = threading.Barrier(2)

    def work(i):
        with watch_compiles() as watch:
            barrier.wait()
            funcs[i](1.0)
            funcs[i](1)  # scalars only: no helper shared between the threads
            barrier.wait()
        counts[i] = watch.n_compiled

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert counts == [2, 2]


def test_notice_plain_lines(capsys):
    with compile_notice(1):
        _fresh_function()(1.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == COMPILING and _DONE.fullmatch(lines[1]), lines
    with compile_notice(0):
        _fresh_function()(1.0)
    assert capsys.readouterr().out == ""


def test_notice_in_progress_bar(capsys):
    pytest.importorskip("tqdm")
    with compile_notice(1):
        bar = progress.EpochProgress(1, max_iter=1, n_batches=1)
        _fresh_function()(1.0)
        bar.epoch(1, 0.5, None, 0.1)
        bar.close()
    out = capsys.readouterr().out
    assert COMPILING in out and _DONE.search(out) and "1/1" in out, out
    assert f"{COMPILING}\n" not in out  # in the bar, not a line of its own


def test_notice_plain_lines_without_tqdm(capsys, monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    with compile_notice(1):
        bar = progress.EpochProgress(1, max_iter=1, n_batches=1)
        _fresh_function()(1.0)
        bar.epoch(1, 0.5, None, 0.1)
        bar.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == COMPILING and _DONE.fullmatch(lines[1]), lines
    assert lines[2].startswith("Iteration 1")
