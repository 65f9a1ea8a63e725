/* The microkernels for the baseline of the target architecture (any x86-64 or aarch64). */
#include "microkernel_template.h"

DEFINE_ISA_KERNELS(generic, )

const kernel_set_t KERNELS_GENERIC = {ISA_KERNEL_FIELDS(generic)};
