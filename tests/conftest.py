"""Top-level pytest configuration.

``tests/cuda`` runs in its OWN process with ``NUMBA_ENABLE_CUDASIM=1`` (or on a
GPU machine); the normal run never collects it, so it never imports the CUDA
kernels (numba must see the simulator flag before it is first imported).
"""

import os

collect_ignore = []
if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and os.environ.get("SEQNET_TEST_CUDA") != "1":
    collect_ignore.append("cuda")
