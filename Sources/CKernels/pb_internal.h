// Shared between the per-instruction-set files; not part of the public header.
#ifndef PB_INTERNAL_H
#define PB_INTERNAL_H

#include "pb_kernels.h"

// No fused multiply-add contraction anywhere: the integer kernels must produce bit-identical
// floats from identical integer sums whether or not the function was compiled with FMA enabled.
#pragma STDC FP_CONTRACT OFF

// No contraction, but the integer kernels' one explicit fused multiply-add per block (fmaf here,
// vfmadd in the SIMD files) rounds once everywhere, so it is bit-exact too.
#include <math.h>

// The integer kernels, written once so every kernel rounds the same way (vector versions perform
// the same operations in the same order, lane by lane):
//   per block:  pos ← fma(d_w, (float)S_w, pos),  S_w = Σ_{j∈w, s=+1} qⱼ (exact int32)
//   at the end: y = μ·X + α·(2·pos − Q)
static inline float pb_block_step(float pos, float d, int32_t s) { return fmaf(d, (float)s, pos); }
static inline float pb_int_epilogue(float pos, const pb_acts *a, int64_t t, float alpha, float mu) {
    float b = 2.0f * pos - a->qsum[t];
    return mu * a->sum[t] + alpha * b;
}
// Σ_{set} q from the popcounts c_b = popcount(signs AND plane b) of q's two's complement planes.
static inline int32_t pb_planes_sum(const int32_t c[8]) {
    int32_t s = 0;
    for (int b = 0; b < 7; b++) s += c[b] << b;
    return s - (c[7] << 7);
}
// The float epilogue: B = 2·pos − X.
static inline float pb_float_epilogue(float pos, const pb_acts *a, int64_t t, float alpha,
                                      float mu) {
    float x = a->sum[t];
    return mu * x + alpha * (2.0f * pos - x);
}

// Rows per tile of the batched salient correction (a 64-vector result tile on the stack, 16 KiB).
// Blocking the columns as well, so the transposed activations' slice stays in L1, measured no
// faster: the 2 MiB L2 of the machine keeps up with whole rows.
#define PB_SPARSE_ROWS 64

// q8 kernels: scalar twin, AVX2, AVX-512 VNNI.
void pb_q8_scalar(const pb_q8 *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_q8_avx2(const pb_q8 *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_q8_avx512(const pb_q8 *, const pb_acts *, int64_t, int64_t, float *, int64_t);

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
void pb_floats_to_halves_avx2(const float *x, int64_t n, uint16_t *h);

// AVX-512 (pb_avx512.c).
void pb_popcount_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_vnni_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
void pb_float_avx512(const pb_matrix *, const pb_acts *, int64_t, int64_t, float *, int64_t);
extern const pb_helpers pb_helpers_avx512;
void pb_transpose_avx512(const float *x, int64_t ldx, int64_t count, int64_t k, float *xt, int64_t ldxt);

// Shared scalar pieces the SIMD files fall back on for tails.
float pb_quantize_scale(float amax, float *inv);   // returns d, sets 127/amax (0 when d is 0)
// Every quantize helper accumulates Q as `total += (double)d_w * (double)S_w` in block order and
// rounds once: the products are exact (24 + 14 bits), so all levels agree bit for bit.

#endif
