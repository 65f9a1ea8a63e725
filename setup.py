"""Build of the native kernel (tsilstm.runtime._kernel); everything else is in pyproject.toml.

The kernel is plain C11 with pthreads and no third-party headers (it takes Python buffers, so numpy
is not needed to build it), a small library in src/tsilstm/runtime/native (docs/design.md, section 6,
lists its files). It is compiled for the baseline of the target architecture; the microkernels are
additionally compiled for AVX2+FMA, AVX-512, AVX-512 VNNI and AMX on x86-64 through per-function
target attributes and picked at load from the CPU's features, so the same build runs on any x86-64
or aarch64 machine.
"""

from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path("src/tsilstm/runtime/native")

KERNEL = Extension(
    "tsilstm.runtime._kernel",
    sources=sorted(str(path) for path in NATIVE.glob("*.c")),
    depends=sorted(str(path) for path in NATIVE.glob("*.h")),
    extra_compile_args=["-O3", "-std=gnu11", "-ffp-contract=fast", "-fno-trapping-math", "-pthread", "-Wno-psabi",
                        "-fvisibility=hidden"],
    extra_link_args=["-pthread", "-lm"],
)

setup(ext_modules=[KERNEL])
