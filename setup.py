"""Build of the native kernel (tsilstm.runtime._kernel); everything else is in pyproject.toml.

The kernel is plain C11 with pthreads and no third-party headers (it takes Python buffers, so numpy
is not needed to build it). It is compiled for the baseline of the target architecture; the tile
product is additionally compiled for AVX2+FMA and AVX-512 on x86-64 and picked at run time from
the CPU's features, so the same build runs on any x86-64 or aarch64 machine.
"""

from setuptools import Extension, setup

KERNEL = Extension(
    "tsilstm.runtime._kernel",
    sources=["src/tsilstm/runtime/native/tsi_kernel.c"],
    extra_compile_args=["-O3", "-std=gnu11", "-ffp-contract=fast", "-fno-trapping-math", "-pthread", "-Wno-psabi"],
    extra_link_args=["-pthread", "-lm"],
)

setup(ext_modules=[KERNEL])
