/* The microkernels for the baseline of the target architecture (any x86-64 or aarch64). */
#include "microkernel_template.h"

#if defined(__aarch64__)
/* 32 NEON registers: 16 accumulating (four a layout vector), 4 columns at a time. */
DEFINE_ISA_KERNELS(generic, , vf4, u32v4, i32v4, 16, COL_CHUNK)
#else
/* SSE2's 16 xmm registers: 8 accumulating (four a layout vector), 2 columns at a time. */
DEFINE_ISA_KERNELS(generic, , vf4, u32v4, i32v4, 8, 2)
#endif

const kernel_set_t KERNELS_GENERIC = {ISA_KERNEL_FIELDS(generic)};
