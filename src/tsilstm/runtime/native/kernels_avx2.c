/* The microkernels for AVX2 + FMA (x86-64). */
#if defined(__x86_64__) || defined(__i386__)
#include "microkernel_template.h"

/* 16 ymm registers: up to 12 accumulating (two a layout vector), 4 columns at a time. */
DEFINE_ISA_KERNELS(avx2, __attribute__((target("avx2,fma"))), vf8, u32v8, i32v8, 12, 4)

const kernel_set_t KERNELS_AVX2 = {ISA_KERNEL_FIELDS(avx2)};
#endif
