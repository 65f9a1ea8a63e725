/* The microkernels for AVX-512F + FMA (x86-64). */
#if defined(__x86_64__) || defined(__i386__)
#include "microkernel_template.h"

DEFINE_ISA_KERNELS(avx512, __attribute__((target("avx512f,fma"))))

const kernel_set_t KERNELS_AVX512 = {ISA_KERNEL_FIELDS(avx512)};
#endif
