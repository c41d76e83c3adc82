// AVX-512 kernels (F, BW, VL; plus VPOPCNTDQ or VNNI where named). Each function carries its own
// target attribute so the file builds with the package's baseline flags; pb_dispatch.c only hands
// them out when the CPU has the features.
#include <immintrin.h>
#include <string.h>

#include "pb_internal.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define T512_POPCNT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq")))
#define T512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))

// Lanes l of a block starting at row i0 whose rows lie in [r0, r1).
static inline uint32_t row_lanes(int64_t i0, int64_t n, int64_t r0, int64_t r1) {
    uint32_t lanes = 0;
    for (int64_t l = 0; l < n; l++)
        if (i0 + l >= r0 && i0 + l < r1) lanes |= 1u << l;
    return lanes;
}

// ---- Shared epilogues (same operations, same order as pb_int_epilogue / pb_float_epilogue) ---

INLINE T512 void int_epilogue8(__m256i pos, const pb_matrix *m, const pb_acts *a, int64_t t,
                               int64_t i0, __mmask8 lanes, float *y) {
    __m256i ones = _mm256_maskz_loadu_epi32(lanes, m->ones + i0);
    __m256 alpha = _mm256_maskz_loadu_ps(lanes, m->alpha + i0);
    __m256 mu = _mm256_maskz_loadu_ps(lanes, m->mu + i0);
    __m256i sq = _mm256_sub_epi32(_mm256_slli_epi32(_mm256_sub_epi32(pos, _mm256_slli_epi32(ones, 7)), 1),
                                  _mm256_set1_epi32(a->qsum[t]));
    __m256 b = _mm256_mul_ps(_mm256_set1_ps(a->scale[t]), _mm256_cvtepi32_ps(sq));
    __m256 r = _mm256_add_ps(_mm256_mul_ps(mu, _mm256_set1_ps(a->sum[t])), _mm256_mul_ps(alpha, b));
    _mm256_mask_storeu_ps(y + i0, lanes, r);
}

INLINE T512 void int_epilogue4(__m128i pos, const pb_matrix *m, const pb_acts *a, int64_t t,
                               int64_t i0, __mmask8 lanes, float *y) {
    __m128i ones = _mm_maskz_loadu_epi32(lanes, m->ones + i0);
    __m128 alpha = _mm_maskz_loadu_ps(lanes, m->alpha + i0);
    __m128 mu = _mm_maskz_loadu_ps(lanes, m->mu + i0);
    __m128i sq = _mm_sub_epi32(_mm_slli_epi32(_mm_sub_epi32(pos, _mm_slli_epi32(ones, 7)), 1),
                               _mm_set1_epi32(a->qsum[t]));
    __m128 b = _mm_mul_ps(_mm_set1_ps(a->scale[t]), _mm_cvtepi32_ps(sq));
    __m128 r = _mm_add_ps(_mm_mul_ps(mu, _mm_set1_ps(a->sum[t])), _mm_mul_ps(alpha, b));
    _mm_mask_storeu_ps(y + i0, lanes, r);
}

INLINE T512 void float_epilogue4(__m128 pos, const pb_matrix *m, const pb_acts *a, int64_t t,
                                 int64_t i0, __mmask8 lanes, float *y) {
    __m128 alpha = _mm_maskz_loadu_ps(lanes, m->alpha + i0);
    __m128 mu = _mm_maskz_loadu_ps(lanes, m->mu + i0);
    __m128 x = _mm_set1_ps(a->sum[t]);
    __m128 bsum = _mm_sub_ps(_mm_mul_ps(_mm_set1_ps(2.0f), pos), x);
    _mm_mask_storeu_ps(y + i0, lanes, _mm_add_ps(_mm_mul_ps(mu, x), _mm_mul_ps(alpha, bsum)));
}

// Horizontal sums of four float vectors at once: [Σa0, Σa1, Σa2, Σa3].
INLINE T512 __m128 reduce4_ps(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
#define HALVE(v) _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
#define QUARTER(v) _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
    __m128 c0 = QUARTER(HALVE(a0)), c1 = QUARTER(HALVE(a1));
    __m128 c2 = QUARTER(HALVE(a2)), c3 = QUARTER(HALVE(a3));
#undef HALVE
#undef QUARTER
    return _mm_hadd_ps(_mm_hadd_ps(c0, c1), _mm_hadd_ps(c2, c3));
}

// ---- Popcount over bit-planes, 8 interleaved rows per 512-bit vector ------------------------
// Lane l of each vector holds word w of row 8g+l, so every lane's count belongs to one row: no
// horizontal sums and no wasted tail chunk, whatever K is. Plane words are broadcast from memory.

INLINE T512_POPCNT __m256i popcount_group(const uint64_t *g, const uint64_t *planes, int64_t words) {
    __m512i c[8];
    for (int b = 0; b < 8; b++) c[b] = _mm512_setzero_si512();
    for (int64_t w = 0; w < words; w++) {
        __m512i s = _mm512_loadu_si512(g + w * 8);
        for (int b = 0; b < 8; b++) {
            __m512i p = _mm512_set1_epi64((long long)planes[w * 8 + b]);
            c[b] = _mm512_add_epi64(c[b], _mm512_popcnt_epi64(_mm512_and_si512(s, p)));
        }
    }
    __m512i pos = c[0];
    for (int b = 1; b < 8; b++) pos = _mm512_add_epi64(pos, _mm512_slli_epi64(c[b], (unsigned)b));
    return _mm512_cvtepi64_epi32(pos);
}

T512_POPCNT void pb_popcount_avx512(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1,
                                    float *y, int64_t ldy) {
    const int64_t words = m->words;
    for (int64_t g = r0 / 8; g * 8 < r1; g++) {
        const uint64_t *bits = m->bits8 + g * words * 8;
        __mmask8 lanes = (__mmask8)row_lanes(g * 8, 8, r0, r1);
        // The group's bits (words × 64 bytes) stay in L1 while every vector streams past.
        for (int64_t t = 0; t < a->count; t++) {
            __m256i pos = popcount_group(bits, a->planes + t * words * 8, words);
            int_epilogue8(pos, m, a, t, g * 8, lanes, y + t * ldy);
        }
    }
}

// ---- VNNI: vpdpbusd over the bytes u picked by the sign bits --------------------------------
// One vector: zero-mask u with the 64 sign bits of a word (vmovdqu8{z}) and vpdpbusd it against
// bytes of 1, which sums Σ_{set} u into 16 int32 lanes. 8 rows per block keep 8 independent
// accumulation chains. (vpmovm2b + vpdpbusd against u is the same sum with the mask on the other
// operand; it puts two uops per row-word on the one port that runs vpdpbusd on Intel, and was
// 1.5× slower here for one vector.)
// Many vectors: vpmovm2b expands a word to bytes −1/0 once and vpdpbusd reuses it against 4
// vectors' u, accumulating −Σ_{set} u; blocks are 4 rows × 4 vectors.
// Short blocks repeat their last row and store only the real ones.

// Row sums of 8 int32 vectors, in order: unpack/add pairs, then fold the 128-bit lanes.
INLINE T512 __m256i reduce8_epi32(const __m512i v[8]) {
    __m512i p[4], q[2];
    for (int i = 0; i < 4; i++)
        p[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                                _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 2; i++)
        q[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(p[2 * i], p[2 * i + 1]),
                                _mm512_unpackhi_epi64(p[2 * i], p[2 * i + 1]));
    // Each 128-bit lane of q[0] now holds partial sums of rows 0..3, of q[1] rows 4..7.
    __m512i t = _mm512_add_epi32(_mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(3, 1, 3, 1)));
    t = _mm512_shuffle_i32x4(t, t, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
}

INLINE T512_VNNI void vnni_rows8(const pb_matrix *m, const pb_acts *a, int64_t i0, int64_t nrows,
                                 int64_t t, __mmask8 lanes, float *y) {
    const int64_t words = m->words;
    const uint64_t *row[8];
    for (int r = 0; r < 8; r++) row[r] = m->bits + (i0 + (r < nrows ? r : nrows - 1)) * words;
    const uint8_t *u = a->u + t * a->stride;
    const __m512i ones = _mm512_set1_epi8(1);

    __m512i acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_si512();
    for (int64_t w = 0; w < words; w++) {
        __m512i uv = _mm512_loadu_si512(u + w * 64);
        for (int r = 0; r < 8; r++) {
            __mmask64 k = _load_mask64((__mmask64 *)(row[r] + w));
            acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_maskz_mov_epi8(k, uv), ones);
        }
    }
    int_epilogue8(reduce8_epi32(acc), m, a, t, i0, lanes, y);
}

INLINE T512_VNNI void vnni_rows4_vectors4(const pb_matrix *m, const pb_acts *a, int64_t i0,
                                          int64_t nrows, int64_t t0, __mmask8 lanes, float *y,
                                          int64_t ldy) {
    const int64_t words = m->words;
    const uint64_t *row[4];
    for (int r = 0; r < 4; r++) row[r] = m->bits + (i0 + (r < nrows ? r : nrows - 1)) * words;
    const uint8_t *u[4];
    for (int v = 0; v < 4; v++) u[v] = a->u + (t0 + v) * a->stride;

    __m512i acc[4][4];   // [vector][row]
    for (int v = 0; v < 4; v++)
        for (int r = 0; r < 4; r++) acc[v][r] = _mm512_setzero_si512();
    for (int64_t w = 0; w < words; w++) {
        __m512i uv[4];
        for (int v = 0; v < 4; v++) uv[v] = _mm512_loadu_si512(u[v] + w * 64);
        for (int r = 0; r < 4; r++) {
            __m512i s = _mm512_movm_epi8(_load_mask64((__mmask64 *)(row[r] + w)));
            for (int v = 0; v < 4; v++) acc[v][r] = _mm512_dpbusd_epi32(acc[v][r], uv[v], s);
        }
    }
    for (int v = 0; v < 4; v += 2) {
        // Rows 0..3 of vectors v and v+1 → [pos(v, 0..3), pos(v+1, 0..3)].
        const __m512i pair[8] = {acc[v][0], acc[v][1], acc[v][2], acc[v][3],
                                 acc[v + 1][0], acc[v + 1][1], acc[v + 1][2], acc[v + 1][3]};
        __m256i neg = reduce8_epi32(pair);
        __m256i pos = _mm256_sub_epi32(_mm256_setzero_si256(), neg);
        int_epilogue4(_mm256_castsi256_si128(pos), m, a, t0 + v, i0, lanes, y + (t0 + v) * ldy);
        int_epilogue4(_mm256_extracti128_si256(pos, 1), m, a, t0 + v + 1, i0, lanes, y + (t0 + v + 1) * ldy);
    }
}

T512_VNNI void pb_vnni_avx512(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1,
                              float *y, int64_t ldy) {
    int64_t t = 0;
    if (a->count >= 4) {
        for (int64_t i = r0; i < r1; i += 4) {
            int64_t n = r1 - i < 4 ? r1 - i : 4;
            for (int64_t t0 = 0; t0 + 4 <= a->count; t0 += 4)
                vnni_rows4_vectors4(m, a, i, n, t0, (__mmask8)((1u << n) - 1), y, ldy);
        }
        t = a->count / 4 * 4;
    }
    for (; t < a->count; t++)
        for (int64_t i = r0; i < r1; i += 8) {
            int64_t n = r1 - i < 8 ? r1 - i : 8;
            vnni_rows8(m, a, i, n, t, (__mmask8)((1u << n) - 1), y + t * ldy);
        }
}

// ---- Masked float: add x under the sign mask, 4 rows × 64 columns per step -----------------
// Each 16-bit slice of a sign word is a lane mask for 16 floats. Four accumulators per row keep
// four independent add chains in flight.

INLINE T512 void float_block(const pb_matrix *m, const pb_acts *a, int64_t i0, int64_t nrows,
                             int64_t t, float *y) {
    const int64_t words = m->words;
    const uint16_t *row[4];
    for (int r = 0; r < 4; r++)
        row[r] = (const uint16_t *)(m->bits + (i0 + (r < nrows ? r : nrows - 1)) * words);
    const float *x = a->x + t * a->stride;

    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = _mm512_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m512 xv[4];
        for (int q = 0; q < 4; q++) xv[q] = _mm512_loadu_ps(x + w * 64 + q * 16);
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++) {
                __mmask16 k = _cvtu32_mask16(row[r][w * 4 + q]);   // little-endian slice q
                acc[r][q] = _mm512_mask_add_ps(acc[r][q], k, acc[r][q], xv[q]);
            }
    }
    __m512 sum[4];
    for (int r = 0; r < 4; r++)
        sum[r] = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3]));
    __mmask8 lanes = (__mmask8)((1u << nrows) - 1);
    float_epilogue4(reduce4_ps(sum[0], sum[1], sum[2], sum[3]), m, a, t, i0, lanes, y);
}

T512 void pb_float_avx512(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                          int64_t ldy) {
    for (int64_t i = r0; i < r1; i += 4) {
        int64_t n = r1 - i < 4 ? r1 - i : 4;
        for (int64_t t = 0; t < a->count; t++) float_block(m, a, i, n, t, y + t * ldy);
    }
}

// ---- Helpers -------------------------------------------------------------------------------

static inline __mmask16 tail16(int64_t n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

T512 static float load_float_avx512(const float *x, int64_t k, int64_t padded, float *xpad) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < k; j += 16) {
        __m512 v = _mm512_maskz_loadu_ps(tail16(k - j), x + j);
        _mm512_storeu_ps(xpad + j, v);   // zero lanes past k; padded is a multiple of 64
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    }
    int64_t done = (k + 15) / 16 * 16;
    memset(xpad + done, 0, (size_t)(padded - done) * sizeof(float));
    return (float)_mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

T512 static void quantize_avx512(const float *x, int64_t k, int64_t padded, uint8_t *u,
                                 float *scale, int32_t *qsum) {
    __m512 mx = _mm512_setzero_ps();
    for (int64_t j = 0; j < k; j += 16)
        mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(tail16(k - j), x + j)));
    float id;
    float d = pb_quantize_scale(_mm512_reduce_max_ps(mx), &id);

    const __m512 vid = _mm512_set1_ps(id);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    const __m512i offset = _mm512_set1_epi32(128);
    __m512i acc = _mm512_setzero_si512();
    for (int64_t j = 0; j < k; j += 16) {
        __mmask16 lanes = tail16(k - j);
        // cvtps2dq rounds half to even under the default MXCSR, like rintf in the scalar twin.
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + j), vid));
        q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        acc = _mm512_add_epi32(acc, q);   // masked-off lanes loaded 0 and so are 0
        _mm_mask_storeu_epi8(u + j, lanes, _mm512_cvtepi32_epi8(_mm512_add_epi32(q, offset)));
    }
    memset(u + k, 0, (size_t)(padded - k));
    *scale = d;
    *qsum = _mm512_reduce_add_epi32(acc);
}

// vptestmb of 64 bytes against 1<<b yields plane b's 64-bit word directly.
T512 static void bitplanes_avx512(const uint8_t *u, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++) {
        __m512i v = _mm512_loadu_si512(u + w * 64);
        for (int b = 0; b < 8; b++)
            planes[w * 8 + b] = _cvtmask64_u64(_mm512_test_epi8_mask(v, _mm512_set1_epi8((char)(1 << b))));
    }
}

// 16 salient entries per step: gather x at the columns, widen the binary16 coefficients.
T512 static void sparse_avx512(const pb_sparse *s, const float *x, int64_t ldx, int64_t count,
                               int64_t r0, int64_t r1, float *y, int64_t ldy) {
    for (int64_t i = r0; i < r1; i++) {
        const int64_t begin = s->start[i], end = s->start[i + 1];
        for (int64_t t = 0; t < count; t++) {
            const float *xt = x + t * ldx;
            __m512 acc = _mm512_setzero_ps();
            for (int64_t e = begin; e < end; e += 16) {
                __mmask16 lanes = tail16(end - e);
                __m512i col = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, s->col + e));
                __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, col, xt, 4);
                __m512 c = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, s->coef + e));
                acc = _mm512_fmadd_ps(c, xv, acc);
            }
            y[t * ldy + i] += _mm512_reduce_add_ps(acc);
        }
    }
}

const pb_helpers pb_helpers_avx512 = {
    .load_float = load_float_avx512,
    .quantize = quantize_avx512,
    .bitplanes = bitplanes_avx512,
    .sparse = sparse_avx512,
};
