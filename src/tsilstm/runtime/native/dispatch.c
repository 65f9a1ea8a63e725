/* The one dispatch table (instruction set -> its kernels, each entry defined in its own
 * kernels_<isa>.c) and the choice of the best instruction set at load. */
#include "dispatch.h"

extern const kernel_set_t KERNELS_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
extern const kernel_set_t KERNELS_AVX2, KERNELS_AVX512, KERNELS_AVX512_VNNI, KERNELS_AMX;
int amx_usable(void);
#endif

/* What each instruction set runs; an entry absent on this architecture is never chosen (best_isa). */
static const kernel_set_t *const TABLE[ISA_COUNT] = {
    [ISA_GENERIC] = &KERNELS_GENERIC,
#if defined(__x86_64__) || defined(__i386__)
    [ISA_AVX2] = &KERNELS_AVX2,
    [ISA_AVX512] = &KERNELS_AVX512,
    [ISA_AVX512_VNNI] = &KERNELS_AVX512_VNNI,
    [ISA_AMX] = &KERNELS_AMX,
#endif
};

const kernel_set_t *kernels_for(int isa) { return TABLE[isa] ? TABLE[isa] : TABLE[ISA_GENERIC]; }

static int best_isa_found = -1;

int best_isa(void) {
    if (best_isa_found >= 0) return best_isa_found;
    int isa = ISA_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = ISA_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) isa = ISA_AVX512;
    if (isa == ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) isa = ISA_AVX512_VNNI;
    if (isa == ISA_AVX512_VNNI && amx_usable()) isa = ISA_AMX;
#endif
    best_isa_found = isa;
    return isa;
}
