/* Vector types and the scalar math every part of the kernel shares: exp, sigmoid and tanh written
 * branch-free so the loops over them vectorise. */
#ifndef TSI_VECTOR_MATH_H
#define TSI_VECTOR_MATH_H

#include <stdint.h>
#include <string.h>

#include "layout.h"

typedef float vf __attribute__((vector_size(64)));
typedef uint32_t u32v __attribute__((vector_size(64)));
typedef int32_t i32v __attribute__((vector_size(64)));
/* Narrower native vectors for the tile products of AVX2 (32 bytes) and SSE2 / NEON (16 bytes). */
typedef float vf8 __attribute__((vector_size(32)));
typedef uint32_t u32v8 __attribute__((vector_size(32)));
typedef int32_t i32v8 __attribute__((vector_size(32)));
typedef float vf4 __attribute__((vector_size(16)));
typedef uint32_t u32v4 __attribute__((vector_size(16)));
typedef int32_t i32v4 __attribute__((vector_size(16)));

static inline int imin(int a, int b) { return a < b ? a : b; }

/* exp(x) for float, branch-free so loops over it vectorise: Cody-Waite range reduction and the
 * degree-5 minimax polynomial of Cephes expf (relative error ~2 ulp). x is clamped to
 * [-87.3, 88.0] (results stay normal and finite; sigmoid/tanh saturate there anyway); NaN stays
 * NaN: the clamps are comparisons that are false for NaN, and 2^n is built from the bits of the
 * rounded value with integer arithmetic only. */
static inline __attribute__((always_inline)) float exp_approx(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.3f ? -87.3f : x;
    const float shifted = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: round to integer */
    const float n = shifted - 12582912.0f;
    uint32_t bits; /* unsigned: the arithmetic below wraps (defined) for NaN's bit pattern */
    memcpy(&bits, &shifted, sizeof bits);
    const uint32_t pow2_bits = (bits - 0x4B400000u + 127u) << 23;
    float pow2;
    memcpy(&pow2, &pow2_bits, sizeof pow2);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * pow2;
}

/* Below -87.3 exp_approx(-x) is clamped (finite), so 1 / (1 + e) would stay ~1e-38 where the exact
 * sigmoid is 0 (or a denormal): a GRU update gate that small times a state near the float32 limit
 * would then add ~1 instead of ~0. The select keeps the loop vectorisable and NaN propagating. */
static inline __attribute__((always_inline)) float sigmoid_f(float x) {
    const float s = 1.0f / (1.0f + exp_approx(-x));
    return x < -87.0f ? 0.0f : s;
}

static inline __attribute__((always_inline)) float tanh_f(float x) {
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

/* f as bfloat16, rounded to nearest even (NaN stays NaN; a value that would round past the
 * largest bfloat16 is cut instead, so no finite value becomes infinite). */
static inline uint16_t bf16_round(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if (f != f) return 0x7FC0;
    if ((bits & 0x7FFFFFFFu) >= 0x7F7F8000u) return (uint16_t)(bits >> 16);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

static inline float bf16_value(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif
