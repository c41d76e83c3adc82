// AVX2 kernels (with FMA and F16C, which every AVX2 CPU has) for machines without AVX-512.
// Integer results go through the scalar epilogue so they match the scalar twins bit for bit.
#include <immintrin.h>
#include <string.h>

#include "pb_internal.h"

#define T2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

// ---- Popcount over bit-planes, interleaved rows, nibble-table popcount ----------------------
// AVX2 has no vector popcount: split bytes into nibbles and look both up with vpshufb. Each word
// is one quantization block: the byte counts c_b (≤ 8) of its planes are combined in bytes as
// c0 + 2c1 + 4c2 + 8c3 (≤ 120) and c4 + 2c5 + 4c6 (≤ 56), vpsadbw folds each 64-bit lane's 8
// bytes (one lane is one row) and S = lo + 16·hi − 128·c7.

INLINE T2 __m256i popcount_bytes(__m256i v, __m256i table, __m256i low) {
    __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, low));
    __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    return _mm256_add_epi8(lo, hi);
}

// Block sums S of 4 rows (lanes `half·4 …` of an interleaved group of 8) for word w, in 64-bit lanes.
INLINE T2 __m256i popcount_word(const uint64_t *g, int half, const uint64_t *planes, int64_t w) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    __m256i s = _mm256_loadu_si256((const __m256i *)(g + w * 8 + half * 4));
    __m256i c[8];
    for (int b = 0; b < 8; b++)
        c[b] = popcount_bytes(_mm256_and_si256(s, _mm256_set1_epi64x((long long)planes[w * 8 + b])), table, low);
    __m256i lo = _mm256_add_epi8(c[3], c[3]);
    lo = _mm256_add_epi8(lo, c[2]);
    lo = _mm256_add_epi8(lo, lo);
    lo = _mm256_add_epi8(lo, c[1]);
    lo = _mm256_add_epi8(lo, lo);
    lo = _mm256_add_epi8(lo, c[0]);
    __m256i hi = _mm256_add_epi8(c[6], c[6]);
    hi = _mm256_add_epi8(hi, c[5]);
    hi = _mm256_add_epi8(hi, hi);
    hi = _mm256_add_epi8(hi, c[4]);
    __m256i sum = _mm256_add_epi64(_mm256_sad_epu8(lo, zero), _mm256_slli_epi64(_mm256_sad_epu8(hi, zero), 4));
    return _mm256_sub_epi64(sum, _mm256_slli_epi64(_mm256_sad_epu8(c[7], zero), 7));
}

T2 void pb_popcount_avx2(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                         int64_t ldy) {
    const int64_t words = m->words;
    for (int64_t g = r0 / 8; g * 8 < r1; g++) {
        const uint64_t *bits = m->bits8 + g * words * 8;
        for (int64_t t = 0; t < a->count; t++) {
            const uint64_t *planes = a->planes + t * words * 8;
            const float *d = a->scale + t * words;
            __m256 pos = _mm256_setzero_ps();
            for (int64_t w = 0; w < words; w++) {
                __m256 s0 = _mm256_castsi256_ps(popcount_word(bits, 0, planes, w));
                __m256 s1 = _mm256_castsi256_ps(popcount_word(bits, 1, planes, w));
                // Low dwords of the 64-bit lanes, rows 0..7 in order (the sums are small).
                __m256i s = _mm256_castps_si256(_mm256_shuffle_ps(s0, s1, _MM_SHUFFLE(2, 0, 2, 0)));
                s = _mm256_permute4x64_epi64(s, _MM_SHUFFLE(3, 1, 2, 0));
                pos = _mm256_fmadd_ps(_mm256_set1_ps(d[w]), _mm256_cvtepi32_ps(s), pos);
            }
            float p[8];
            _mm256_storeu_ps(p, pos);
            for (int64_t l = 0; l < 8; l++) {
                int64_t i = g * 8 + l;
                if (i >= r0 && i < r1) y[t * ldy + i] = pb_int_epilogue(p[l], a, t, m->alpha[i], m->mu[i]);
            }
        }
    }
}

// ---- Byte dot over the nibble layout: 8 rows × 4 columns per 32 bits -----------------------
// Half h of a nibble word (its 32 bits 32h…32h+31) covers 4 columns of rows 16g+8h…+7. Route
// byte k of the broadcast word to byte k and test bit k%8: bytes 0/1 (vpminub), then vpmaddubsw
// against the 4 broadcast bytes of q sums pairs into int16 (|·| ≤ 254; ≤ 4064 over a block of 16
// words), vpmaddwd folds the pairs of row l into int32 lane l, and the block is scaled into float.
// A tile is H halves × TB vectors.

INLINE T2 __m256i expand01(uint32_t bits, __m256i route, __m256i select, __m256i one) {
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), route);
    return _mm256_min_epu8(_mm256_and_si256(v, select), one);
}

INLINE T2 void dot_tile(const pb_matrix *m, const pb_acts *a, int64_t g, int h0, const int H,
                        int64_t t0, const int TB, int64_t r0, int64_t r1, float *y, int64_t ldy) {
    const __m256i route = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                           2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i one16 = _mm256_set1_epi16(1);
    const int64_t words = m->words;
    const uint32_t *nib = (const uint32_t *)(m->nibbles + g * words * 16);
    __m256 pos[2][4];
    for (int h = 0; h < H; h++)
        for (int t = 0; t < TB; t++) pos[h][t] = _mm256_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m256i s[2][4];
        for (int h = 0; h < H; h++)
            for (int t = 0; t < TB; t++) s[h][t] = _mm256_setzero_si256();
        for (int c = 0; c < 16; c++) {
            __m256i qb[4];
            for (int t = 0; t < TB; t++) {
                int32_t v;
                memcpy(&v, a->q + (t0 + t) * a->stride + w * 64 + 4 * c, 4);
                qb[t] = _mm256_set1_epi32(v);
            }
            for (int h = 0; h < H; h++) {
                __m256i bytes = expand01(nib[(w * 16 + c) * 2 + h0 + h], route, select, one);
                for (int t = 0; t < TB; t++) s[h][t] = _mm256_add_epi16(s[h][t], _mm256_maddubs_epi16(bytes, qb[t]));
            }
        }
        for (int t = 0; t < TB; t++) {
            __m256 dw = _mm256_set1_ps(a->scale[(t0 + t) * words + w]);
            for (int h = 0; h < H; h++)
                pos[h][t] = _mm256_fmadd_ps(dw, _mm256_cvtepi32_ps(_mm256_madd_epi16(s[h][t], one16)), pos[h][t]);
        }
    }
    for (int h = 0; h < H; h++)
        for (int t = 0; t < TB; t++) {
            float p[8];
            _mm256_storeu_ps(p, pos[h][t]);
            for (int64_t l = 0; l < 8; l++) {
                int64_t i = g * 16 + (h0 + h) * 8 + l;
                if (i >= r0 && i < r1) y[(t0 + t) * ldy + i] = pb_int_epilogue(p[l], a, t0 + t, m->alpha[i], m->mu[i]);
            }
        }
}

T2 void pb_dot_avx2(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                    int64_t ldy) {
    for (int64_t g = r0 / 16; g * 16 < r1; g++) {
        if (a->count == 1) {
            dot_tile(m, a, g, 0, 2, 0, 1, r0, r1, y, ldy);
            continue;
        }
        for (int h = 0; h < 2; h++) {
            if (g * 16 + h * 8 >= r1 || g * 16 + h * 8 + 8 <= r0) continue;
            int64_t t = 0;
            for (; t + 4 <= a->count; t += 4) dot_tile(m, a, g, h, 1, t, 4, r0, r1, y, ldy);
            if (t + 2 <= a->count) {
                dot_tile(m, a, g, h, 1, t, 2, r0, r1, y, ldy);
                t += 2;
            }
            if (t < a->count) dot_tile(m, a, g, h, 1, t, 1, r0, r1, y, ldy);
        }
    }
}

// ---- q8 matrices: vpmaddubsw of |q| against sign-adjusted weights -------------------------
// Half h of a 64-byte chunk (bytes 32h…32h+31) holds 4 columns of rows 16g+8h…+7. vpsignb moves
// q's signs onto the weights, vpmaddubsw(|q|, ±w) gives int16 pair sums (|·| ≤ 2·127·127, no
// saturation: weights are never −128), vpmaddwd folds row l's pair into int32 lane l. A tile is
// H halves × TB vectors.

INLINE T2 void q8_tile(const pb_q8 *m, const pb_acts *a, int64_t g, int h0, const int H, int64_t t0,
                       const int TB, int64_t r0, int64_t r1, float *y, int64_t ldy) {
    const __m256i one16 = _mm256_set1_epi16(1);
    const int64_t words = m->words;
    const int8_t *wg = m->w + g * words * 16 * 64 + 32 * h0;
    __m256 pos[2][2];
    for (int h = 0; h < H; h++)
        for (int t = 0; t < TB; t++) pos[h][t] = _mm256_setzero_ps();
    for (int64_t w = 0; w < words; w++) {
        __m256i s[2][2];
        for (int h = 0; h < H; h++)
            for (int t = 0; t < TB; t++) s[h][t] = _mm256_setzero_si256();
        for (int c = 0; c < 16; c++) {
            __m256i qb[2], ab[2];
            for (int t = 0; t < TB; t++) {
                int32_t v;
                memcpy(&v, a->q + (t0 + t) * a->stride + w * 64 + 4 * c, 4);
                qb[t] = _mm256_set1_epi32(v);
                ab[t] = _mm256_abs_epi8(qb[t]);
            }
            for (int h = 0; h < H; h++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(wg + (w * 16 + c) * 64 + 32 * h));
                for (int t = 0; t < TB; t++)
                    s[h][t] = _mm256_add_epi32(s[h][t], _mm256_madd_epi16(_mm256_maddubs_epi16(ab[t], _mm256_sign_epi8(wv, qb[t])), one16));
            }
        }
        for (int t = 0; t < TB; t++) {
            __m256 dw = _mm256_set1_ps(a->scale[(t0 + t) * words + w]);
            for (int h = 0; h < H; h++) pos[h][t] = _mm256_fmadd_ps(dw, _mm256_cvtepi32_ps(s[h][t]), pos[h][t]);
        }
    }
    for (int h = 0; h < H; h++)
        for (int t = 0; t < TB; t++) {
            float p[8];
            _mm256_storeu_ps(p, pos[h][t]);
            for (int64_t l = 0; l < 8; l++) {
                int64_t i = g * 16 + (h0 + h) * 8 + l;
                if (i >= r0 && i < r1) y[(t0 + t) * ldy + i] = m->scale[i] * p[l];
            }
        }
}

T2 void pb_q8_avx2(const pb_q8 *m, const pb_acts *a, int64_t r0, int64_t r1, float *y, int64_t ldy) {
    for (int64_t g = r0 / 16; g * 16 < r1; g++) {
        int64_t t = 0;
        for (; t + 2 <= a->count; t += 2) q8_tile(m, a, g, 0, 2, t, 2, r0, r1, y, ldy);
        if (t < a->count) q8_tile(m, a, g, 0, 2, t, 1, r0, r1, y, ldy);
    }
}

// ---- Float: sign bits → lane masks, blend-add ------------------------------------------------
// vpsllvd moves bit 8q+l of a broadcast 32-bit slice into the sign bit of lane l; vblendvps
// selects x there and 0 elsewhere.

INLINE T2 void float_block(const pb_matrix *m, const pb_acts *a, int64_t i0, int64_t nrows,
                           int64_t t, float *y) {
    const __m256i shift[4] = {
        _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24),
        _mm256_setr_epi32(23, 22, 21, 20, 19, 18, 17, 16),
        _mm256_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8),
        _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0),
    };
    const __m256 zero = _mm256_setzero_ps();
    const uint32_t *row[4];
    for (int r = 0; r < 4; r++)
        row[r] = (const uint32_t *)(m->bits + (i0 + (r < nrows ? r : nrows - 1)) * m->words);
    const float *x = a->x + t * a->stride;

    __m256 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = zero;
    for (int64_t h = 0; h < m->words * 2; h++) {
        for (int q = 0; q < 4; q++) {
            __m256 xv = _mm256_loadu_ps(x + h * 32 + q * 8);
            for (int r = 0; r < 4; r++) {
                __m256i sel = _mm256_sllv_epi32(_mm256_set1_epi32((int)row[r][h]), shift[q]);
                acc[r][q & 1] = _mm256_add_ps(acc[r][q & 1], _mm256_blendv_ps(zero, xv, _mm256_castsi256_ps(sel)));
            }
        }
    }
    __m128 c[4];
    for (int r = 0; r < 4; r++) {
        __m256 s = _mm256_add_ps(acc[r][0], acc[r][1]);
        c[r] = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    }
    float pos[4];
    _mm_storeu_ps(pos, _mm_hadd_ps(_mm_hadd_ps(c[0], c[1]), _mm_hadd_ps(c[2], c[3])));
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = i0 + r;
        y[i] = pb_float_epilogue(pos[r], a, t, m->alpha[i], m->mu[i]);
    }
}

T2 void pb_float_avx2(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                      int64_t ldy) {
    for (int64_t i = r0; i < r1; i += 4) {
        int64_t n = r1 - i < 4 ? r1 - i : 4;
        for (int64_t t = 0; t < a->count; t++) float_block(m, a, i, n, t, y + t * ldy);
    }
}

// ---- Helpers -------------------------------------------------------------------------------

T2 static float load_float_avx2(const float *x, int64_t k, int64_t padded, float *xpad) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        _mm256_storeu_ps(xpad + j, v);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; j < k; j++) {
        xpad[j] = x[j];
        s += x[j];
    }
    memset(xpad + k, 0, (size_t)(padded - k) * sizeof(float));
    return (float)s;
}

T2 static void quantize_avx2(const float *x, int64_t k, int64_t padded, int8_t *q, uint8_t *u,
                             float *scale, float *qsum) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i offset = _mm256_set1_epi8((char)0x80);
    float tail[64];
    double total = 0;
    for (int64_t w = 0; w < padded / 64; w++) {
        const int64_t j0 = w * 64;
        const float *src = x + j0;
        if (j0 + 64 > k) {   // the last, partial block: through a zero-padded copy
            memset(tail, 0, sizeof tail);
            if (k > j0) memcpy(tail, src, (size_t)(k - j0) * sizeof(float));
            src = tail;
        }
        __m256 v[8];
        __m256 mx = _mm256_setzero_ps();
        for (int p = 0; p < 8; p++) {
            v[p] = _mm256_loadu_ps(src + 8 * p);
            mx = _mm256_max_ps(mx, _mm256_and_ps(v[p], abs_mask));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float id;
        float d = pb_quantize_scale(_mm_cvtss_f32(m4), &id);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i acc = _mm256_setzero_si256();
        __m256i qi[8];
        for (int p = 0; p < 8; p++) {
            // cvtps2dq rounds half to even under the default MXCSR, like rintf in the scalar twin.
            qi[p] = _mm256_cvtps_epi32(_mm256_mul_ps(v[p], vid));
            qi[p] = _mm256_min_epi32(_mm256_max_epi32(qi[p], lo), hi);
            acc = _mm256_add_epi32(acc, qi[p]);
        }
        for (int p = 0; p < 8; p += 4) {
            // int32 → int8 through two packs; the packs interleave 128-bit lanes, vpermd undoes it.
            __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(qi[p], qi[p + 1]), _mm256_packs_epi32(qi[p + 2], qi[p + 3]));
            bytes = _mm256_permutevar8x32_epi32(bytes, order);
            _mm256_storeu_si256((__m256i *)(q + j0 + 8 * p), bytes);
            if (u) _mm256_storeu_si256((__m256i *)(u + j0 + 8 * p), _mm256_xor_si256(bytes, offset));
        }
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(1, 0, 3, 2)));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
        scale[w] = d;
        total += (double)d * (double)_mm_cvtsi128_si32(s4);
    }
    *qsum = (float)total;
}

// Shifting 16-bit lanes left by 7−b puts bit b of every byte in its top bit; vpmovmskb collects them.
T2 static void bitplanes_avx2(const int8_t *q, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(q + w * 64));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(q + w * 64 + 32));
        for (int b = 0; b < 8; b++) {
            __m128i n = _mm_cvtsi32_si128(7 - b);
            uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(v0, n));
            uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(v1, n));
            planes[w * 8 + b] = (uint64_t)lo | (uint64_t)hi << 32;
        }
    }
}

// Batched: as in pb_avx512.c (a transposed result tile, two accumulator sets), 8 vectors per
// register.
INLINE T2 void sparse_tile_batch(const pb_sparse *s, int64_t i0, int64_t nr, const float *xt,
                                 int64_t ldxt, const int NV, float *yt) {
    float c8[8] __attribute__((aligned(32)));
    for (int64_t r = 0; r < nr; r++) {
        __m256 even[8], odd[8];
        for (int v = 0; v < NV; v++) even[v] = odd[v] = _mm256_setzero_ps();
        const int64_t end = s->start[i0 + r + 1];
        for (int64_t e = s->start[i0 + r]; e < end; e += 8) {
            const int64_t n = end - e < 8 ? end - e : 8;
            if (n == 8) {
                _mm256_store_ps(c8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s->coef + e))));
            } else {
                for (int64_t j = 0; j < n; j++) c8[j] = _cvtsh_ss(s->coef[e + j]);
            }
            int64_t j = 0;
            for (; j + 2 <= n; j += 2) {
                const __m256 c0 = _mm256_set1_ps(c8[j]), c1 = _mm256_set1_ps(c8[j + 1]);
                const float *x0 = xt + (int64_t)s->col[e + j] * ldxt;
                const float *x1 = xt + (int64_t)s->col[e + j + 1] * ldxt;
                for (int v = 0; v < NV; v++) {
                    even[v] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(x0 + 8 * v), even[v]);
                    odd[v] = _mm256_fmadd_ps(c1, _mm256_loadu_ps(x1 + 8 * v), odd[v]);
                }
            }
            if (j < n) {
                const __m256 c0 = _mm256_set1_ps(c8[j]);
                const float *x0 = xt + (int64_t)s->col[e + j] * ldxt;
                for (int v = 0; v < NV; v++) even[v] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(x0 + 8 * v), even[v]);
            }
        }
        for (int v = 0; v < NV; v++) _mm256_store_ps(yt + r * 64 + 8 * v, _mm256_add_ps(even[v], odd[v]));
    }
}

T2 static void sparse_avx2(const pb_sparse *s, const float *x, int64_t ldx, const float *xt,
                           int64_t ldxt, int64_t count, int64_t r0, int64_t r1, float *y,
                           int64_t ldy) {
    if (xt && count > 1) {
        float yt[PB_SPARSE_ROWS * 64] __attribute__((aligned(32)));
        for (int64_t t0 = 0; t0 < count; t0 += 64) {
            const int64_t nt = count - t0 < 64 ? count - t0 : 64;
            for (int64_t i0 = r0; i0 < r1; i0 += PB_SPARSE_ROWS) {
                const int64_t nr = r1 - i0 < PB_SPARSE_ROWS ? r1 - i0 : PB_SPARSE_ROWS;
                switch ((nt + 15) / 16) {   // whole 16-vector steps: ldxt is a multiple of 16
                case 1: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 2, yt); break;
                case 2: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 4, yt); break;
                case 3: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 6, yt); break;
                default: sparse_tile_batch(s, i0, nr, xt + t0, ldxt, 8, yt); break;
                }
                for (int64_t t = 0; t < nt; t++)
                    for (int64_t r = 0; r < nr; r++) y[(t0 + t) * ldy + i0 + r] += yt[r * 64 + t];
            }
        }
        return;
    }
    if (s->ell_start) {
        // ELL by 16 rows, as in pb_avx512.c: a slot is two gathers of 8 (rows 16g…+7, +8…+15).
        for (int64_t g = r0 / 16; g * 16 < r1; g++) {
            const int64_t s0 = s->ell_start[g], s1 = s->ell_start[g + 1];
            for (int64_t t = 0; t < count; t++) {
                const float *xr = x + t * ldx;
                __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
                for (int64_t sl = s0; sl < s1; sl++) {
                    __m128i c0 = _mm_loadu_si128((const __m128i *)(s->ell_col + sl * 16));
                    __m128i c1 = _mm_loadu_si128((const __m128i *)(s->ell_col + sl * 16 + 8));
                    __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s->ell_coef + sl * 16)));
                    __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s->ell_coef + sl * 16 + 8)));
                    lo = _mm256_fmadd_ps(w0, _mm256_i32gather_ps(xr, _mm256_cvtepu16_epi32(c0), 4), lo);
                    hi = _mm256_fmadd_ps(w1, _mm256_i32gather_ps(xr, _mm256_cvtepu16_epi32(c1), 4), hi);
                }
                float out[16];
                _mm256_storeu_ps(out, lo);
                _mm256_storeu_ps(out + 8, hi);
                for (int64_t l = 0; l < 16; l++) {
                    int64_t i = g * 16 + l;
                    if (i >= r0 && i < r1) y[t * ldy + i] += out[l];
                }
            }
        }
        return;
    }
    for (int64_t i = r0; i < r1; i++) {
        const int64_t begin = s->start[i], end = s->start[i + 1];
        for (int64_t t = 0; t < count; t++) {
            const float *xr = x + t * ldx;
            __m256 acc = _mm256_setzero_ps();
            int64_t e = begin;
            for (; e + 8 <= end; e += 8) {
                __m256i col = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s->col + e)));
                __m256 c = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s->coef + e)));
                acc = _mm256_fmadd_ps(c, _mm256_i32gather_ps(xr, col, 4), acc);
            }
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
            h = _mm_hadd_ps(h, h);
            float sum = _mm_cvtss_f32(_mm_hadd_ps(h, h));
            for (; e < end; e++) sum += pb_half_to_float(s->coef[e]) * xr[s->col[e]];
            y[t * ldy + i] += sum;
        }
    }
}

T2 void pb_floats_to_halves_avx2(const float *x, int64_t n, uint16_t *h) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) h[i] = pb_float_to_half(x[i]);
}

const pb_helpers pb_helpers_avx2 = {
    .load_float = load_float_avx2,
    .quantize = quantize_avx2,
    .bitplanes = bitplanes_avx2,
    .sparse = sparse_avx2,
};
