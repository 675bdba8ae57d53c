"""Every CUDA kernel compiles for real GPUs (no GPU needed), and float32
kernels compute in float32.

For each kernel at each signature the simulator tests launch it with
(``launch_signatures.json``, recorded and checked by conftest.py) and at the
same signature in the other float dtype, for sm_80 and sm_90: NVVM compiles it to PTX,
ptxas assembles it (``-v``), and the test asserts no spills and no local
memory, registers x threads per block <= 65,536, static shared memory <= 48 KB
and, in float32 launches, no float64 arithmetic in the PTX except in the
kernels that declare it (``F64_KERNELS`` beside the kernel: deterministic
float64 accumulators).

Runs WITHOUT the simulator, in its own process (the simulator flag is read
when numba is first imported):

    python3 -m pytest tests/cuda/test_ptx.py -p no:cacheprovider

Needs ``numba-cuda[cu12]`` (NVVM and ptxas come as wheels; the ``cuda``
extra); skips, saying why, where NVVM or ptxas is missing.
``python3 tests/cuda/test_ptx.py`` prints the per-kernel table (sm_90).

Device functions must be ``inline=True`` (all of the backend's are): for a
non-inline one numba-cuda 0.30 asks the CUDA driver for the architecture, so
without a GPU its kernel fails here with ``CudaSupportError``.
"""

import functools
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    pytest.skip("test_ptx.py compiles for real GPUs: run it without NUMBA_ENABLE_CUDASIM=1",
                allow_module_level=True)

SIGNATURES = Path(__file__).with_name("launch_signatures.json")
ARCHS = ((8, 0), (9, 0))
MAX_REGS_PER_BLOCK = 65536
MAX_STATIC_SMEM = 48 * 1024
# PTX opcodes that move float64 bits without computing on them
_MOVES = ("ld", "st", "mov", "cvta", "prmt")
_INSTR = re.compile(r"^\s*(?:@!?%\w+\s+)?([a-z][\w.]*)\s")


def _nvvm_reason():
    """Why PTX cannot be compiled here (None when it can)."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        # numba's own (deprecated) CUDA target asks the driver for the
        # architecture when a kernel calls a device function: no GPU, no PTX
        return "needs numba-cuda (pip install 'numba-cuda[cu12]', the 'cuda' extra)"
    try:
        from numba import cuda, float32
    except Exception as e:  # pragma: no cover - numba always has a cuda target
        return f"numba.cuda not importable: {e}"

    @cuda.jit(device=True, inline=True)  # (a non-inline device function asks the driver
    def one(x):                          # for the architecture: inline them all here)
        return x + float32(1)

    def probe(a):
        a[0] = one(a[0])

    try:
        cuda.compile_ptx(probe, (float32[:],), cc=(9, 0))
    except Exception as e:
        return f"NVVM unavailable (pip install 'numba-cuda[cu12]'): {type(e).__name__}: {e}"
    return None


def find_ptxas():
    """ptxas from the nvidia-cuda-nvcc wheel, else the one on PATH (None when absent)."""
    for base in sys.path:
        hits = glob.glob(os.path.join(base, "nvidia", "cuda_nvcc", "bin", "ptxas"))
        hits += glob.glob(os.path.join(base, "nvidia", "cu*", "bin", "ptxas"))
        for h in hits:
            if os.access(h, os.X_OK):
                return h
    return shutil.which("ptxas")


_REASON = _nvvm_reason()
if _REASON:
    pytest.skip(_REASON, allow_module_level=True)
PTXAS = find_ptxas()

from numba import types  # noqa: E402

from seqnet.kernels.cuda import registry  # noqa: E402
from seqnet.kernels.cuda.arrays import THREADS  # noqa: E402
from seqnet.kernels.cuda.matmul import TILE  # noqa: E402

#: threads per block of every launch (elementwise/reductions: THREADS; products: TILE^2)
THREADS_PER_BLOCK = max(THREADS, TILE * TILE)
_ARRAY = re.compile(r"array\((\w+), (\d+)d, ([CFA])\)")


def parse_type(s):
    m = _ARRAY.fullmatch(s)
    if m:
        return types.Array(getattr(types, m.group(1)), int(m.group(2)), m.group(3))
    return getattr(types, s)


def _in_dtype(sig, dtype):
    """``sig`` with every float array and float scalar in ``dtype``; None when it has
    both float32 and float64 arrays (a mixed launch, e.g. a float64 accumulator's
    output: compiled as recorded only)."""
    floats = {d for s in sig for d in ("float32", "float64") if d in s}
    if len(floats) > 1:
        return None
    return tuple(s.replace("float32", dtype).replace("float64", dtype) for s in sig)


def jobs():
    """Sorted ``(kernel name, signature)``: every recorded launch, and the same launch
    in float32 and in float64 (a model fits in either dtype)."""
    recorded = json.loads(SIGNATURES.read_text())
    out = set()
    for name, sigs in recorded.items():
        for sig in map(tuple, sigs):
            out.add((name, sig))
            for dtype in ("float32", "float64"):
                twin = _in_dtype(sig, dtype)
                if twin is not None:
                    out.add((registry.dtype_twin(name, dtype), twin))
    return sorted(out)


def is_float32(sig):
    return any(s.startswith("array(float32") for s in sig)


def f64_instructions(ptx):
    """The PTX instructions that compute on float64 (arithmetic, compares, conversions)."""
    out = []
    for line in ptx.splitlines():
        m = _INSTR.match(line)
        if not m:
            continue
        op = m.group(1)
        if ".f64" in op and op.split(".")[0] not in _MOVES:
            out.append(line.strip())
    return out


@functools.lru_cache(maxsize=None)
def compile_job(name, sig, cc):
    """``(ptx, ptxas -v info or None)`` for one kernel, signature and architecture."""
    from numba import cuda

    kernel = registry.kernels()[name]
    ptx, _ = cuda.compile_ptx(kernel.py_func, tuple(parse_type(s) for s in sig), cc=cc)
    if PTXAS is None:
        return ptx, None
    arch = f"sm_{cc[0]}{cc[1]}"
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "k.ptx")
        Path(src).write_text(ptx)
        run = subprocess.run([PTXAS, f"-arch={arch}", "-v", src, "-o", os.path.join(d, "k.o")],
                             capture_output=True, text=True)
    assert run.returncode == 0, f"ptxas {arch} failed for {name}{sig}:\n{run.stderr}"
    return ptx, parse_ptxas(run.stderr + run.stdout)


def parse_ptxas(text):
    def num(pattern):
        m = re.search(pattern, text)
        return int(m.group(1)) if m else 0

    return {
        "registers": num(r"Used (\d+) registers"),
        "smem": num(r"(\d+) bytes smem"),
        "stack": num(r"(\d+) bytes stack frame"),
        "spill_stores": num(r"(\d+) bytes spill stores"),
        "spill_loads": num(r"(\d+) bytes spill loads"),
        "lmem": num(r"(\d+) bytes lmem"),
    }


JOBS = jobs() if SIGNATURES.exists() else []


def test_signatures_recorded_for_every_kernel():
    assert SIGNATURES.exists(), "record launch_signatures.json (see tests/cuda/conftest.py)"
    launched = {name for name, _ in JOBS}
    kernels = set(registry.kernels())
    assert kernels - launched == set(), (
        "kernels no simulator test launches (so never compiled here): add a test")
    assert launched - kernels == set(), "launch_signatures.json names kernels that are gone"
    assert set(registry.f64_kernels()) <= kernels, "F64_KERNELS names an unknown kernel"


@pytest.mark.parametrize("cc", ARCHS, ids=lambda cc: f"sm_{cc[0]}{cc[1]}")
@pytest.mark.parametrize("name,sig", JOBS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(JOBS)])
def test_kernel_compiles_and_fits(name, sig, cc):
    if PTXAS is None:
        pytest.skip("ptxas not found (it comes with numba-cuda[cu12]'s nvidia-cuda-nvcc wheel)")
    ptx, info = compile_job(name, sig, cc)
    assert ".local" not in ptx, f"{name}{sig} uses local memory"
    assert info["spill_stores"] == 0 and info["spill_loads"] == 0, (name, sig, info)
    assert info["stack"] == 0 and info["lmem"] == 0, (name, sig, info)
    assert info["registers"] * THREADS_PER_BLOCK <= MAX_REGS_PER_BLOCK, (name, sig, info)
    assert info["smem"] <= MAX_STATIC_SMEM, (name, sig, info)


F32_JOBS = [(n, s) for n, s in JOBS if is_float32(s)]


@pytest.mark.parametrize("name,sig", F32_JOBS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(F32_JOBS)])
def test_float32_kernel_computes_in_float32(name, sig):
    ptx = compile_job(name, sig, (9, 0))[0]
    f64 = f64_instructions(ptx)
    allowed = registry.f64_kernels()
    if name in allowed:
        return  # documented float64 accumulator (reason beside the kernel)
    assert not f64, (f"{name}{sig}: {len(f64)} float64 instructions in a float32 kernel, "
                     f"e.g. {f64[:5]}")


def table(cc=(9, 0)):
    """Rows ``(kernel, dtype, max registers, max smem, max f64 instructions)``."""
    rows = {}
    for name, sig in JOBS:
        dtype = "float32" if is_float32(sig) else "float64"
        ptx, info = compile_job(name, sig, cc)
        info = info or {"registers": -1, "smem": -1}
        r = rows.setdefault((name, dtype), [0, 0, 0, 0])
        r[0] = max(r[0], info["registers"])
        r[1] = max(r[1], info["smem"])
        r[2] = max(r[2], len(f64_instructions(ptx)))
        r[3] += 1
    return rows


if __name__ == "__main__":
    print(f"ptxas: {PTXAS}; threads per block {THREADS_PER_BLOCK}; sm_90")
    print(f"{'kernel':34s} {'dtype':8s} {'sigs':>4s} {'regs':>5s} {'smem B':>7s} {'f64 ops':>7s}")
    for (name, dtype), (regs, smem, f64, n) in sorted(table().items()):
        print(f"{name:34s} {dtype:8s} {n:4d} {regs:5d} {smem:7d} {f64:7d}")
