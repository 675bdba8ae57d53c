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


def run_fresh(code, cache_dir=None, timeout=600, **env):
    """Run ``code`` in a new interpreter; numba's cache in ``cache_dir``
    (unless None); extra environment variables as keywords. Returns stdout."""
    full = dict(os.environ, **env)
    if cache_dir is not None:
        full["NUMBA_CACHE_DIR"] = str(cache_dir)
    res = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def count_compiles(code, cache_dir=None, **env):
    """Number of numba compilations while ``code`` runs in a fresh process."""
    body = "\n".join("    " + line for line in code.strip().splitlines())
    out = run_fresh(_COUNTED.format(body=body), cache_dir, **env)
    return json.loads(out.strip().splitlines()[-1])["compiled"]
