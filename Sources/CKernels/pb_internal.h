// Shared between the per-instruction-set files; not part of the public header.
#ifndef PB_INTERNAL_H
#define PB_INTERNAL_H

#include "pb_kernels.h"

// No fused multiply-add contraction anywhere: the integer kernels must produce bit-identical
// floats from identical integer sums whether or not the function was compiled with FMA enabled.
#pragma STDC FP_CONTRACT OFF

// The integer epilogue, written once so every kernel rounds the same way (vector versions perform
// the same operations in the same order, lane by lane).
//   Σ s·q = 2·(pos − 128·P) − Σq,   y = μ·X + α·(d·Σ s·q)
static inline int32_t pb_signed_qsum(int32_t pos, int32_t ones, int32_t qsum) {
    return 2 * (pos - 128 * ones) - qsum;
}
static inline float pb_int_epilogue(int32_t pos, int32_t ones, const pb_acts *a, int64_t t,
                                    float alpha, float mu) {
    float b = a->scale[t] * (float)pb_signed_qsum(pos, ones, a->qsum[t]);
    return mu * a->sum[t] + alpha * b;
}
// The float epilogue: B = 2·pos − X.
static inline float pb_float_epilogue(float pos, const pb_acts *a, int64_t t, float alpha,
                                      float mu) {
    float x = a->sum[t];
    return mu * x + alpha * (2.0f * pos - x);
}

// Scalar twins (pb_scalar.c).
void pb_popcount_scalar(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_dot_scalar(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_float_scalar(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
extern const pb_helpers pb_helpers_scalar;

// AVX2 (pb_avx2.c).
void pb_popcount_avx2(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_dot_avx2(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_float_avx2(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
extern const pb_helpers pb_helpers_avx2;

// AVX-512 (pb_avx512.c).
void pb_popcount_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_vnni_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_float_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
extern const pb_helpers pb_helpers_avx512;

// Shared scalar pieces the SIMD files fall back on for tails.
float pb_quantize_scale(float amax, float *inv);   // returns d, sets 1/d (0 when d is 0)

#endif
