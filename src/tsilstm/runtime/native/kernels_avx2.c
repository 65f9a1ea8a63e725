/* The microkernels for AVX2 + FMA (x86-64). */
#if defined(__x86_64__) || defined(__i386__)
#include "microkernel_template.h"

DEFINE_ISA_KERNELS(avx2, __attribute__((target("avx2,fma"))))

const kernel_set_t KERNELS_AVX2 = {ISA_KERNEL_FIELDS(avx2)};
#endif
