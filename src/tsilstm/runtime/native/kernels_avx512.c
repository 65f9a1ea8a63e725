/* The microkernels for AVX-512F + FMA (x86-64). */
#if defined(__x86_64__) || defined(__i386__)
#include "microkernel_template.h"

/* 32 zmm registers: 16 accumulating (a whole group on 4 columns) + 4 weights. */
DEFINE_ISA_KERNELS(avx512, __attribute__((target("avx512f,fma"))), vf, u32v, i32v, 16, COL_CHUNK)

const kernel_set_t KERNELS_AVX512 = {ISA_KERNEL_FIELDS(avx512)};
#endif
