"""Fresh interpreters for the numba-cache tests: a cold or warm cache is a
property of a process, so these tests start new ones."""

import json
import os
import subprocess
import sys

#: Prints, as the last line of output, how many specializations numba compiled
#: while the code given to :func:`count_compiles` ran.
_COUNTED = """
import json
from seqnet.training.compiling import watch_compiles
with watch_compiles() as _watch:
{body}
print(json.dumps({{"compiled": _watch.n_compiled}}))
"""


def run_fresh(code, cache_dir=None, *, prefix=(), unset=(), cwd=None, timeout=600, **env):
    """Run ``code`` in a new interpreter and return its stdout.

    numba's cache goes to ``cache_dir`` (unless None); ``prefix`` is a command
    that runs the interpreter (e.g. ``setpriv ... --``); ``unset`` names
    environment variables to remove, keywords set others; ``cwd`` is the
    working directory (first on ``sys.path``).
    """
    full = dict(os.environ, **env)
    for name in unset:
        full.pop(name, None)
    if cache_dir is not None:
        full["NUMBA_CACHE_DIR"] = str(cache_dir)
    res = subprocess.run([*prefix, sys.executable, "-c", code], env=full, cwd=cwd,
                         capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def run_counted(code, cache_dir=None, **kwargs):
    """Run ``code`` in a fresh process (keywords as for :func:`run_fresh`);
    returns the number of numba compilations while it ran, and its stdout."""
    body = "\n".join("    " + line for line in code.strip().splitlines())
    out = run_fresh(_COUNTED.format(body=body), cache_dir, **kwargs).strip().splitlines()
    return json.loads(out[-1])["compiled"], "\n".join(out[:-1])


def count_compiles(code, cache_dir=None, **kwargs):
    """Number of numba compilations while ``code`` runs in a fresh process."""
    return run_counted(code, cache_dir, **kwargs)[0]
