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

INLINE T512 void int_epilogue16(__m512 pos, const pb_matrix *m, const pb_acts *a, int64_t t,
                                int64_t i0, __mmask16 lanes, float *y) {
    __m512 alpha = _mm512_maskz_loadu_ps(lanes, m->alpha + i0);
    __m512 mu = _mm512_maskz_loadu_ps(lanes, m->mu + i0);
    __m512 b = _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), pos), _mm512_set1_ps(a->qsum[t]));
    __m512 r = _mm512_add_ps(_mm512_mul_ps(mu, _mm512_set1_ps(a->sum[t])), _mm512_mul_ps(alpha, b));
    _mm512_mask_storeu_ps(y + i0, lanes, r);
}

INLINE T512 void int_epilogue8(__m256 pos, const pb_matrix *m, const pb_acts *a, int64_t t,
                               int64_t i0, __mmask8 lanes, float *y) {
    __m256 alpha = _mm256_maskz_loadu_ps(lanes, m->alpha + i0);
    __m256 mu = _mm256_maskz_loadu_ps(lanes, m->mu + i0);
    __m256 b = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f), pos), _mm256_set1_ps(a->qsum[t]));
    __m256 r = _mm256_add_ps(_mm256_mul_ps(mu, _mm256_set1_ps(a->sum[t])), _mm256_mul_ps(alpha, b));
    _mm256_mask_storeu_ps(y + i0, lanes, r);
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
// Each word is one quantization block: its 8 plane counts are combined (plane 7 weighs −128),
// narrowed to int32 and scaled into a float accumulator.

INLINE T512_POPCNT __m256 popcount_group(const uint64_t *g, const uint64_t *planes, const float *d,
                                         int64_t words) {
    __m256 pos = _mm256_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m512i s = _mm512_loadu_si512(g + w * 8);
        __m512i c[8];
        for (int b = 0; b < 8; b++)
            c[b] = _mm512_popcnt_epi64(_mm512_and_si512(s, _mm512_set1_epi64((long long)planes[w * 8 + b])));
        // (c0 + 2c1) + 4(c2 + 2c3) + 16((c4 + 2c5) + 4(c6 − 2c7))
        __m512i p0 = _mm512_add_epi64(c[0], _mm512_slli_epi64(c[1], 1));
        __m512i p1 = _mm512_add_epi64(c[2], _mm512_slli_epi64(c[3], 1));
        __m512i p2 = _mm512_add_epi64(c[4], _mm512_slli_epi64(c[5], 1));
        __m512i p3 = _mm512_sub_epi64(c[6], _mm512_slli_epi64(c[7], 1));
        __m512i lo = _mm512_add_epi64(p0, _mm512_slli_epi64(p1, 2));
        __m512i hi = _mm512_add_epi64(p2, _mm512_slli_epi64(p3, 2));
        __m512i sum = _mm512_add_epi64(lo, _mm512_slli_epi64(hi, 4));
        pos = _mm256_fmadd_ps(_mm256_set1_ps(d[w]), _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(sum)), pos);
    }
    return pos;
}

T512_POPCNT void pb_popcount_avx512(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1,
                                    float *y, int64_t ldy) {
    const int64_t words = m->words;
    for (int64_t g = r0 / 8; g * 8 < r1; g++) {
        const uint64_t *bits = m->bits8 + g * words * 8;
        __mmask8 lanes = (__mmask8)row_lanes(g * 8, 8, r0, r1);
        // The group's bits (words × 64 bytes) stay in L1 while every vector streams past.
        for (int64_t t = 0; t < a->count; t++) {
            __m256 pos = popcount_group(bits, a->planes + t * words * 8, a->scale + t * words, words);
            int_epilogue8(pos, m, a, t, g * 8, lanes, y + t * ldy);
        }
    }
}

// ---- VNNI over the nibble layout: 16 rows × 4 columns per 64-bit word ----------------------
// A word of the nibble layout, as a byte mask, picks 4 columns of 16 rows: vmovdqu8{z} turns it
// into bytes 0/1 and vpdpbusd against the 4 broadcast bytes of q sums them into int32 lane l = row
// 16g+l. 16 words make a block of 64 columns, whose exact sums are then scaled into float lanes:
// no horizontal sums anywhere. A tile is G groups × TB vectors: the 0/1 bytes of a word are reused
// by TB vectors and each broadcast of q by G groups; G·TB independent accumulation chains.

INLINE T512_VNNI void vnni_tile(const pb_matrix *m, const pb_acts *a, int64_t g0, const int G,
                                int64_t t0, const int TB, int64_t r0, int64_t r1, float *y,
                                int64_t ldy) {
    const int64_t words = m->words, chunks = words * 16;
    const __m512i one = _mm512_set1_epi8(1);
    const uint64_t *nib[4];
    for (int g = 0; g < G; g++) nib[g] = m->nibbles + (g0 + g) * chunks;
    const int8_t *q[8];
    const float *d[8];
    for (int t = 0; t < TB; t++) {
        q[t] = a->q + (t0 + t) * a->stride;
        d[t] = a->scale + (t0 + t) * words;
    }
    __m512 pos[4][8];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < TB; t++) pos[g][t] = _mm512_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m512i s[4][8];
        for (int g = 0; g < G; g++)
            for (int t = 0; t < TB; t++) s[g][t] = _mm512_setzero_si512();
        for (int c = 0; c < 16; c++) {
            __m512i qb[8];
            for (int t = 0; t < TB; t++) {
                int32_t v;
                memcpy(&v, q[t] + w * 64 + 4 * c, 4);
                qb[t] = _mm512_set1_epi32(v);
            }
            for (int g = 0; g < G; g++) {
                __m512i bytes = _mm512_maskz_mov_epi8(_load_mask64((__mmask64 *)(nib[g] + w * 16 + c)), one);
                for (int t = 0; t < TB; t++) s[g][t] = _mm512_dpbusd_epi32(s[g][t], bytes, qb[t]);
            }
        }
        for (int t = 0; t < TB; t++) {
            __m512 dw = _mm512_set1_ps(d[t][w]);
            for (int g = 0; g < G; g++) pos[g][t] = _mm512_fmadd_ps(dw, _mm512_cvtepi32_ps(s[g][t]), pos[g][t]);
        }
    }
    for (int g = 0; g < G; g++) {
        int64_t i0 = (g0 + g) * 16;
        __mmask16 lanes = (__mmask16)row_lanes(i0, 16, r0, r1);
        for (int t = 0; t < TB; t++) int_epilogue16(pos[g][t], m, a, t0 + t, i0, lanes, y + (t0 + t) * ldy);
    }
}

T512_VNNI void pb_vnni_avx512(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1,
                              float *y, int64_t ldy) {
    const int64_t g1 = (r1 + 15) / 16;
    if (a->count == 1) {
        // One vector: four groups (64 rows) at a time for four independent chains.
        int64_t g = r0 / 16;
        for (; g + 4 <= g1; g += 4) vnni_tile(m, a, g, 4, 0, 1, r0, r1, y, ldy);
        switch (g1 - g) {
        case 3: vnni_tile(m, a, g, 3, 0, 1, r0, r1, y, ldy); break;
        case 2: vnni_tile(m, a, g, 2, 0, 1, r0, r1, y, ldy); break;
        case 1: vnni_tile(m, a, g, 1, 0, 1, r0, r1, y, ldy); break;
        default: break;
        }
        return;
    }
    // Many vectors: tiles of 2 groups × 8 vectors (measured best of 1–4 × 4–8), the groups'
    // words reused from L1 by every vector; token tails in steps of 4, 2, 1.
    for (int64_t g = r0 / 16; g < g1; g += 2) {
        const int two = g + 2 <= g1;
        int64_t t = 0;
        for (; t + 8 <= a->count; t += 8) {
            if (two) vnni_tile(m, a, g, 2, t, 8, r0, r1, y, ldy);
            else vnni_tile(m, a, g, 1, t, 8, r0, r1, y, ldy);
        }
        for (int tb = 4; tb >= 1; tb /= 2) {
            if (t + tb > a->count) continue;
            switch (two * 8 + tb) {
            case 8 + 4: vnni_tile(m, a, g, 2, t, 4, r0, r1, y, ldy); break;
            case 8 + 2: vnni_tile(m, a, g, 2, t, 2, r0, r1, y, ldy); break;
            case 8 + 1: vnni_tile(m, a, g, 2, t, 1, r0, r1, y, ldy); break;
            case 4: vnni_tile(m, a, g, 1, t, 4, r0, r1, y, ldy); break;
            case 2: vnni_tile(m, a, g, 1, t, 2, r0, r1, y, ldy); break;
            default: vnni_tile(m, a, g, 1, t, 1, r0, r1, y, ldy); break;
            }
            t += tb;
        }
    }
}

// ---- q8 matrices: vpdpbusd of u = q + 128 against the interleaved weights ------------------
// A 64-byte chunk holds 4 columns of 16 rows (byte 4l+b = row l, column 4c+b), so vpdpbusd of
// the 4 broadcast bytes of u (unsigned) against it (signed, straight from memory) sums into int32
// lane l = row 16g+l. u = q + 128 adds 128·Σ w over the block, which the block's accumulators
// start from the negative of (pb_q8.corr): after 16 chunks they hold S_w exactly. A tile is
// G groups × TB vectors.

INLINE T512_VNNI void q8_tile(const pb_q8 *m, const pb_acts *a, int64_t g0, const int G, int64_t t0,
                              const int TB, int64_t r0, int64_t r1, float *y, int64_t ldy) {
    const int64_t words = m->words;
    const int8_t *wg[4];
    const int32_t *cg[4];
    for (int g = 0; g < G; g++) {
        wg[g] = m->w + (g0 + g) * words * 16 * 64;
        cg[g] = m->corr + (g0 + g) * words * 16;
    }
    __m512 pos[4][8];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < TB; t++) pos[g][t] = _mm512_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m512i s[4][8];
        for (int g = 0; g < G; g++) {
            __m512i c0 = _mm512_loadu_si512(cg[g] + w * 16);
            for (int t = 0; t < TB; t++) s[g][t] = c0;
        }
        for (int c = 0; c < 16; c++) {
            __m512i ub[8];
            for (int t = 0; t < TB; t++) {
                int32_t v;
                memcpy(&v, a->u + (t0 + t) * a->stride + w * 64 + 4 * c, 4);
                ub[t] = _mm512_set1_epi32(v);
            }
            for (int g = 0; g < G; g++) {
                __m512i wv = _mm512_loadu_si512(wg[g] + (w * 16 + c) * 64);
                for (int t = 0; t < TB; t++) s[g][t] = _mm512_dpbusd_epi32(s[g][t], ub[t], wv);
            }
        }
        for (int t = 0; t < TB; t++) {
            __m512 dw = _mm512_set1_ps(a->scale[(t0 + t) * words + w]);
            for (int g = 0; g < G; g++) pos[g][t] = _mm512_fmadd_ps(dw, _mm512_cvtepi32_ps(s[g][t]), pos[g][t]);
        }
    }
    for (int g = 0; g < G; g++) {
        int64_t i0 = (g0 + g) * 16;
        __mmask16 lanes = (__mmask16)row_lanes(i0, 16, r0, r1);
        __m512 sc = _mm512_maskz_loadu_ps(lanes, m->scale + i0);
        for (int t = 0; t < TB; t++) _mm512_mask_storeu_ps(y + (t0 + t) * ldy + i0, lanes, _mm512_mul_ps(sc, pos[g][t]));
    }
}

T512_VNNI void pb_q8_avx512(const pb_q8 *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                            int64_t ldy) {
    const int64_t g1 = (r1 + 15) / 16;
    if (a->count == 1) {
        int64_t g = r0 / 16;
        for (; g + 4 <= g1; g += 4) q8_tile(m, a, g, 4, 0, 1, r0, r1, y, ldy);
        switch (g1 - g) {
        case 3: q8_tile(m, a, g, 3, 0, 1, r0, r1, y, ldy); break;
        case 2: q8_tile(m, a, g, 2, 0, 1, r0, r1, y, ldy); break;
        case 1: q8_tile(m, a, g, 1, 0, 1, r0, r1, y, ldy); break;
        default: break;
        }
        return;
    }
    // Many vectors: tiles of 4 groups × 4 vectors (measured best of 1–4 × 1–8 on the head), the
    // groups' chunks staying in L1 for every vector.
    for (int64_t g = r0 / 16; g < g1; g += 4) {
        const int G = g1 - g < 4 ? (int)(g1 - g) : 4;
        for (int64_t t = 0; t < a->count; t += 4) {
            const int TB = a->count - t < 4 ? (int)(a->count - t) : 4;
            switch (G * 4 + TB) {
#define Q8_CASE(gg, tt) case gg * 4 + tt: q8_tile(m, a, g, gg, t, tt, r0, r1, y, ldy); break;
            Q8_CASE(1, 1) Q8_CASE(1, 2) Q8_CASE(1, 3) Q8_CASE(1, 4)
            Q8_CASE(2, 1) Q8_CASE(2, 2) Q8_CASE(2, 3) Q8_CASE(2, 4)
            Q8_CASE(3, 1) Q8_CASE(3, 2) Q8_CASE(3, 3) Q8_CASE(3, 4)
            Q8_CASE(4, 1) Q8_CASE(4, 2) Q8_CASE(4, 3) Q8_CASE(4, 4)
#undef Q8_CASE
            default: break;
            }
        }
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

T512 static void quantize_avx512(const float *x, int64_t k, int64_t padded, int8_t *q, uint8_t *u,
                                 float *scale, float *qsum) {
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    const __m512i offset = _mm512_set1_epi8((char)0x80);
    double total = 0;
    for (int64_t w = 0; w < padded / 64; w++) {
        const int64_t j0 = w * 64;
        __m512 v[4];
        __m512 mx = _mm512_setzero_ps();
        for (int p = 0; p < 4; p++) {
            int64_t left = k - j0 - 16 * p;
            v[p] = _mm512_maskz_loadu_ps(left <= 0 ? 0 : tail16(left), x + j0 + 16 * p);
            mx = _mm512_max_ps(mx, _mm512_abs_ps(v[p]));
        }
        float id;
        float d = pb_quantize_scale(_mm512_reduce_max_ps(mx), &id);
        const __m512 vid = _mm512_set1_ps(id);
        __m512i acc = _mm512_setzero_si512();
        __m128i bytes[4];
        for (int p = 0; p < 4; p++) {
            // cvtps2dq rounds half to even under the default MXCSR, like rintf in the scalar twin.
            __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(v[p], vid));
            qi = _mm512_min_epi32(_mm512_max_epi32(qi, lo), hi);
            acc = _mm512_add_epi32(acc, qi);   // lanes past k loaded 0 and so are 0
            bytes[p] = _mm512_cvtepi32_epi8(qi);
        }
        __m512i all = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_inserti128_si256(_mm256_castsi128_si256(bytes[0]), bytes[1], 1)),
            _mm256_inserti128_si256(_mm256_castsi128_si256(bytes[2]), bytes[3], 1), 1);
        _mm512_storeu_si512(q + j0, all);
        if (u) _mm512_storeu_si512(u + j0, _mm512_xor_si512(all, offset));
        scale[w] = d;
        total += (double)d * (double)_mm512_reduce_add_epi32(acc);
    }
    *qsum = (float)total;
}

// vptestmb of 64 bytes against 1<<b yields plane b's 64-bit word directly.
T512 static void bitplanes_avx512(const int8_t *q, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++) {
        __m512i v = _mm512_loadu_si512(q + w * 64);
        for (int b = 0; b < 8; b++)
            planes[w * 8 + b] = _cvtmask64_u64(_mm512_test_epi8_mask(v, _mm512_set1_epi8((char)(1 << b))));
    }
}

// Batched: a row's entries against NV·16 vectors of the transposed copy (each entry is a broadcast
// coefficient times a contiguous run of x[col] over the vectors), for a tile of PB_SPARSE_ROWS rows
// whose results go to a transposed tile yt (row r's vectors at yt[r·64 …]), added into y at the
// end in y's order. Coefficients are widened from binary16 16 at a time and broadcast from memory;
// even and odd entries feed two accumulator sets, so 2·NV multiply-add chains are in flight.
INLINE T512 void sparse_tile_batch(const pb_sparse *s, int64_t i0, int64_t nr, const float *xt,
                                   int64_t ldxt, const int NV, float *yt) {
    float c16[16] __attribute__((aligned(64)));
    for (int64_t r = 0; r < nr; r++) {
        __m512 even[4], odd[4];
        for (int v = 0; v < NV; v++) even[v] = odd[v] = _mm512_setzero_ps();
        const int64_t end = s->start[i0 + r + 1];
        for (int64_t e = s->start[i0 + r]; e < end; e += 16) {
            const int64_t n = end - e < 16 ? end - e : 16;
            _mm512_store_ps(c16, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail16(n), s->coef + e)));
            int64_t j = 0;
            for (; j + 2 <= n; j += 2) {
                const __m512 c0 = _mm512_set1_ps(c16[j]), c1 = _mm512_set1_ps(c16[j + 1]);
                const float *x0 = xt + (int64_t)s->col[e + j] * ldxt;
                const float *x1 = xt + (int64_t)s->col[e + j + 1] * ldxt;
                for (int v = 0; v < NV; v++) {
                    even[v] = _mm512_fmadd_ps(c0, _mm512_loadu_ps(x0 + 16 * v), even[v]);
                    odd[v] = _mm512_fmadd_ps(c1, _mm512_loadu_ps(x1 + 16 * v), odd[v]);
                }
            }
            if (j < n) {
                const __m512 c0 = _mm512_set1_ps(c16[j]);
                const float *x0 = xt + (int64_t)s->col[e + j] * ldxt;
                for (int v = 0; v < NV; v++) even[v] = _mm512_fmadd_ps(c0, _mm512_loadu_ps(x0 + 16 * v), even[v]);
            }
        }
        for (int v = 0; v < NV; v++) _mm512_store_ps(yt + r * 64 + 16 * v, _mm512_add_ps(even[v], odd[v]));
    }
}

// In-place transpose of a 16×16 float block (r[i] lane j ↔ r[j] lane i): unpack pairs of rows,
// then pairs of pairs, then move 128-bit lanes twice.
INLINE T512 void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#define PD(v) _mm512_castps_pd(v)
#define PS(v) _mm512_castpd_ps(v)
    for (int i = 0; i < 4; i++) {   // r[4i + j], 128-bit lane k: column 4k + j of rows 4i…4i+3
        r[4 * i] = PS(_mm512_unpacklo_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 1] = PS(_mm512_unpackhi_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 2] = PS(_mm512_unpacklo_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
        r[4 * i + 3] = PS(_mm512_unpackhi_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
    }
#undef PD
#undef PS
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);        // lanes 0, 1 of each
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);    // lanes 2, 3
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);        // column j
        r[4 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);    // column 4 + j
        r[8 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
    }
}

// y[t·ldy + r] += yt[r·64 + t] for r < nr, t < nt, in 16×16 blocks transposed in registers.
INLINE T512 void add_transposed(const float *yt, int64_t nr, int64_t nt, float *y, int64_t ldy) {
    for (int64_t r0 = 0; r0 < nr; r0 += 16) {
        const __mmask16 rows = tail16(nr - r0);
        for (int64_t t0 = 0; t0 < nt; t0 += 16) {
            __m512 v[16];
            for (int r = 0; r < 16; r++)
                v[r] = r0 + r < nr ? _mm512_load_ps(yt + (r0 + r) * 64 + t0) : _mm512_setzero_ps();
            transpose16(v);
            const int64_t tn = nt - t0 < 16 ? nt - t0 : 16;
            for (int64_t t = 0; t < tn; t++) {
                float *dst = y + (t0 + t) * ldy + r0;
                _mm512_mask_storeu_ps(dst, rows, _mm512_add_ps(_mm512_maskz_loadu_ps(rows, dst), v[t]));
            }
        }
    }
}

// xt[j·ldxt + t] = x[t·ldx + j] (zero for count ≤ t < ldxt) in 16×16 blocks.
T512 void pb_transpose_avx512(const float *x, int64_t ldx, int64_t count, int64_t k, float *xt,
                              int64_t ldxt) {
    for (int64_t t0 = 0; t0 < ldxt; t0 += 16) {
        for (int64_t j0 = 0; j0 < k; j0 += 16) {
            const __mmask16 cols = tail16(k - j0);
            __m512 v[16];
            for (int t = 0; t < 16; t++)
                v[t] = t0 + t < count ? _mm512_maskz_loadu_ps(cols, x + (t0 + t) * ldx + j0) : _mm512_setzero_ps();
            transpose16(v);
            const int64_t jn = k - j0 < 16 ? k - j0 : 16;
            for (int64_t j = 0; j < jn; j++) _mm512_storeu_ps(xt + (j0 + j) * ldxt + t0, v[j]);
        }
    }
}

// One vector: 16 salient entries per step, gather x at the columns, widen the binary16 coefficients.
T512 static void sparse_avx512(const pb_sparse *s, const float *x, int64_t ldx, const float *xt,
                               int64_t ldxt, int64_t count, int64_t r0, int64_t r1, float *y,
                               int64_t ldy) {
    if (xt && count > 1) {
        float yt[PB_SPARSE_ROWS * 64] __attribute__((aligned(64)));
        for (int64_t t0 = 0; t0 < count; t0 += 64) {
            const int64_t nt = count - t0 < 64 ? count - t0 : 64;
            for (int64_t i0 = r0; i0 < r1; i0 += PB_SPARSE_ROWS) {
                const int64_t nr = r1 - i0 < PB_SPARSE_ROWS ? r1 - i0 : PB_SPARSE_ROWS;
                switch ((nt + 15) / 16) {
                case 1: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 1, yt); break;
                case 2: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 2, yt); break;
                case 3: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 3, yt); break;
                default: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 4, yt); break;
                }
                add_transposed(yt, nr, nt, y + t0 * ldy + i0, ldy);
            }
        }
        return;
    }
    if (s->ell_start) {
        // ELL by 16 rows: one gather of x per slot serves 16 rows, lane l accumulating row 16g+l;
        // two chains (even and odd slots) hide the multiply-add latency.
        for (int64_t g = r0 / 16; g * 16 < r1; g++) {
            const int64_t s0 = s->ell_start[g], s1 = s->ell_start[g + 1];
            const __mmask16 lanes = (__mmask16)row_lanes(g * 16, 16, r0, r1);
            for (int64_t t = 0; t < count; t++) {
                const float *xr = x + t * ldx;
                __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
                int64_t sl = s0;
                for (; sl + 2 <= s1; sl += 2) {
                    __m512i c0 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s->ell_col + sl * 16)));
                    __m512i c1 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s->ell_col + sl * 16 + 16)));
                    __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s->ell_coef + sl * 16)));
                    __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s->ell_coef + sl * 16 + 16)));
                    even = _mm512_fmadd_ps(w0, _mm512_i32gather_ps(c0, xr, 4), even);
                    odd = _mm512_fmadd_ps(w1, _mm512_i32gather_ps(c1, xr, 4), odd);
                }
                if (sl < s1) {
                    __m512i c0 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s->ell_col + sl * 16)));
                    __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s->ell_coef + sl * 16)));
                    even = _mm512_fmadd_ps(w0, _mm512_i32gather_ps(c0, xr, 4), even);
                }
                float *yr = y + t * ldy + g * 16;
                _mm512_mask_storeu_ps(yr, lanes, _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, yr), _mm512_add_ps(even, odd)));
            }
        }
        return;
    }
    for (int64_t i = r0; i < r1; i++) {
        const int64_t begin = s->start[i], end = s->start[i + 1];
        for (int64_t t = 0; t < count; t++) {
            const float *xr = x + t * ldx;
            __m512 acc = _mm512_setzero_ps();
            for (int64_t e = begin; e < end; e += 16) {
                __mmask16 lanes = tail16(end - e);
                __m512i col = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, s->col + e));
                __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, col, xr, 4);
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
