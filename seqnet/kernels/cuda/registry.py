"""Every ``@cuda.jit`` kernel of the CUDA backend under a stable name.

Used by the tests: the simulator tests record, per kernel name, the argument
types of every launch (``tests/cuda/launch_signatures.json``), and the PTX
test (``tests/cuda/test_ptx.py``) compiles each kernel at each recorded
signature, in float32 and float64, for real GPUs.

Names are ``module.attribute`` for a module-level kernel and
``module.attribute[dtype]`` for a kernel held in a dtype-keyed dict (the
tiled product, one kernel per dtype).  A module may declare beside its
kernels ``F64_KERNELS = {"_name": "reason"}``: kernels whose float64
arithmetic in float32 runs is intentional (deterministic float64
accumulators); every other float32 kernel computes in float32 only.
"""

import importlib
import pkgutil

import numpy as np


def _module_names():
    """Every module of this package (a new kernel module is found without a list)."""
    here = importlib.import_module(__package__)
    return sorted(m.name for m in pkgutil.iter_modules(here.__path__)
                  if m.name != "registry")


def _is_kernel(obj):
    if type(obj).__name__ == "FakeCUDAKernel":  # the simulator
        return not obj._device
    targetoptions = getattr(obj, "targetoptions", None)
    return (targetoptions is not None and hasattr(obj, "py_func")
            and not targetoptions.get("device", False))


def _module(name):
    return importlib.import_module(f"{__package__}.{name}")


def kernels():
    """``{name: kernel}`` for every kernel (not device function) of the backend."""
    out = {}
    for mod_name in _module_names():
        mod = _module(mod_name)
        for attr, obj in vars(mod).items():
            if _is_kernel(obj) and obj.py_func.__module__ == mod.__name__:
                out[f"{mod_name}.{attr}"] = obj
            elif isinstance(obj, dict) and obj and all(map(_is_kernel, obj.values())):
                for key, k in obj.items():
                    out[f"{mod_name}.{attr}[{np.dtype(key).name}]"] = k
    return out


def name_of(kernel):
    """The registry name of ``kernel`` (None for a kernel outside the backend)."""
    global _BY_ID
    if _BY_ID is None:
        _BY_ID = {id(k): name for name, k in kernels().items()}
    return _BY_ID.get(id(kernel))


_BY_ID = None


def f64_kernels():
    """``{name: reason}`` of the kernels whose float64 use in float32 runs is intentional."""
    out = {}
    for mod_name in _module_names():
        for attr, reason in getattr(_module(mod_name), "F64_KERNELS", {}).items():
            out[f"{mod_name}.{attr}"] = reason
    return out


def dtype_twin(name, dtype):
    """Name of the kernel that runs ``name``'s launches in ``dtype`` (float32/float64)."""
    other = "float32" if dtype == "float64" else "float64"
    return name.replace(f"[{other}]", f"[{dtype}]")
