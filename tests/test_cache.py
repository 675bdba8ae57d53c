"""numba's on-disk cache holds up: read-only installs and concurrent workers.

Each test starts fresh interpreters (a cold cache is a property of a process)
and fits a tiny MLP, whose cold compile takes seconds.
"""

import json
import os
import re
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest

from tests.fresh_process import count_compiles, run_counted, run_fresh

REPO = Path(__file__).resolve().parents[1]

_TINY_FIT = """
import warnings
import numpy as np
import seqnet
from seqnet import MLPClassifier
assert seqnet.__file__.startswith({site!r}), seqnet.__file__
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3))
y = (X[:, 0] > 0).astype(int)
MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, y).predict(X)
"""


def _without_dac_override():
    """A command prefix under which file permissions bind this process.

    root passes any permission check (CAP_DAC_OVERRIDE), so ``chmod a-w``
    alone would not make the copy read-only for it: as root the process runs
    with that capability dropped (``setpriv``); the test is skipped when that
    is not possible.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod cannot stop root's writes")
    return (setpriv, "--bounding-set=-dac_override", "--")


def _set_writable(root, writable):
    paths = [root, *root.rglob("*")]
    for path in reversed(paths) if writable else paths:
        mode = path.stat().st_mode
        no_write = mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode | stat.S_IWUSR if writable else no_write)


def test_read_only_install_caches_in_the_user_cache_dir(tmp_path):
    # seqnet "installed" (copied, not editable) into a read-only site-packages:
    # numba cannot write __pycache__ next to the sources and falls back to its
    # user-wide cache directory (~/.cache/numba), so a second process loads.
    site, home = tmp_path / "site-packages", tmp_path / "home"
    shutil.copytree(REPO / "seqnet", site / "seqnet",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    home.mkdir()
    _set_writable(site, False)
    prefix = _without_dac_override()
    run = dict(prefix=prefix, unset=("NUMBA_CACHE_DIR", "XDG_CACHE_HOME"), cwd=home,
               PYTHONPATH=str(site), HOME=str(home), PYTHONWARNINGS="ignore")
    code = _TINY_FIT.format(site=str(site))
    try:
        probe = "open({!r}, 'w')".format(str(site / "seqnet" / "probe"))
        with pytest.raises(AssertionError, match="Permission denied"):
            run_fresh(probe, **run)  # the copy really is read-only to the process
        first = count_compiles(code, **run)
        second = count_compiles(code, **run)
    finally:
        _set_writable(site, True)
    assert first > 0 and second == 0, (first, second)
    assert list((home / ".cache" / "numba").rglob("*.nbi")), "nothing in the user cache"
    assert not list(site.rglob("*.nbi")), "numba wrote into the read-only copy"


_SEARCH = """
import json, warnings
import numpy as np
from sklearn.model_selection import GridSearchCV
from seqnet import MLPClassifier
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
                      {{"alpha": [1e-4, 1e-2]}}, cv=2, n_jobs={n_jobs})
search.fit(X, y)
print(json.dumps({{"scores": search.cv_results_["mean_test_score"].tolist(),
                  "predicted": search.predict(X).tolist()}}))
"""


def test_two_workers_on_a_cold_cache(tmp_path):
    # Both loky workers start compiling at once on an empty cache.  numba writes
    # index and data files through a temporary file and os.replace, so neither
    # corrupts the cache; each worker compiles a kernel at most once.
    out = run_fresh(_SEARCH.format(n_jobs=2), tmp_path, NUMBA_DEBUG_CACHE="1",
                    PYTHONUNBUFFERED="1")
    saved = Counter(re.findall(r"\[cache\] data saved to '([^']+)'", out))
    assert saved, "the workers saved nothing to the cache"
    assert max(saved.values()) <= 2, saved.most_common(3)
    concurrent = json.loads(out.strip().splitlines()[-1])
    # a third process loads everything the workers wrote and gets the same results
    compiled, out = run_counted(_SEARCH.format(n_jobs=1), tmp_path)
    assert compiled == 0
    assert json.loads(out.splitlines()[-1]) == concurrent
