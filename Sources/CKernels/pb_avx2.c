// AVX2 kernels (with FMA and F16C, which every AVX2 CPU has) for machines without AVX-512.
// Integer results go through the scalar epilogue so they match the scalar twins bit for bit.
#include <immintrin.h>
#include <string.h>

#include "pb_internal.h"

#define T2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

// ---- Popcount over bit-planes, interleaved rows, nibble-table popcount ----------------------
// AVX2 has no vector popcount: split bytes into nibbles and look both up with vpshufb. Byte
// counts (≤ 8 per word) are summed per plane for up to 31 words before they could overflow a
// byte, then vpsadbw folds each 64-bit lane's 8 bytes — one lane is one row.

INLINE T2 __m256i popcount_bytes(__m256i v, __m256i table, __m256i low) {
    __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, low));
    __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    return _mm256_add_epi8(lo, hi);
}

// Positive sums of 4 rows: lanes `half·4 …` of an interleaved group of 8.
INLINE T2 __m256i popcount_half(const uint64_t *g, int half, const uint64_t *planes, int64_t words) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const int64_t flush_every = 31;   // 31 · 8 = 248 < 256
    __m256i total = _mm256_setzero_si256();
    for (int64_t w0 = 0; w0 < words; w0 += flush_every) {
        int64_t w1 = w0 + flush_every < words ? w0 + flush_every : words;
        __m256i c[8];
        for (int b = 0; b < 8; b++) c[b] = _mm256_setzero_si256();
        for (int64_t w = w0; w < w1; w++) {
            __m256i s = _mm256_loadu_si256((const __m256i *)(g + w * 8 + half * 4));
            for (int b = 0; b < 8; b++) {
                __m256i p = _mm256_set1_epi64x((long long)planes[w * 8 + b]);
                c[b] = _mm256_add_epi8(c[b], popcount_bytes(_mm256_and_si256(s, p), table, low));
            }
        }
        for (int b = 0; b < 8; b++) {
            __m256i lane = _mm256_sad_epu8(c[b], _mm256_setzero_si256());
            total = _mm256_add_epi64(total, _mm256_slli_epi64(lane, b));
        }
    }
    return total;
}

T2 void pb_popcount_avx2(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                         int64_t ldy) {
    const int64_t words = m->words;
    for (int64_t g = r0 / 8; g * 8 < r1; g++) {
        const uint64_t *bits = m->bits8 + g * words * 8;
        for (int64_t t = 0; t < a->count; t++) {
            const uint64_t *planes = a->planes + t * words * 8;
            int64_t pos[8];
            _mm256_storeu_si256((__m256i *)pos, popcount_half(bits, 0, planes, words));
            _mm256_storeu_si256((__m256i *)(pos + 4), popcount_half(bits, 1, planes, words));
            for (int64_t l = 0; l < 8; l++) {
                int64_t i = g * 8 + l;
                if (i >= r0 && i < r1)
                    y[t * ldy + i] = pb_int_epilogue((int32_t)pos[l], m->ones[i], a, t, m->alpha[i], m->mu[i]);
            }
        }
    }
}

// ---- Byte dot: sign bits → bytes −1/0, vpmaddubsw against u --------------------------------
// 32 sign bits become 32 bytes: broadcast, route byte k/8 to byte k, test bit k%8. vpmaddubsw
// (u unsigned × mask signed) gives int16 pair sums in [−510, 0]; 64 of them fit in int16 before
// vpmaddwd widens them to int32.

INLINE T2 __m256i expand32(uint32_t bits, __m256i route, __m256i select) {
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), route);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, select), select);
}

INLINE T2 void dot_block(const pb_matrix *m, const pb_acts *a, int64_t i0, int64_t nrows,
                         int64_t t, float *y) {
    const __m256i route = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                           2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i ones16 = _mm256_set1_epi16(1);
    const int64_t flush_every = 64;   // 64 · 510 < 32768
    const int64_t halves = m->words * 2;
    const uint32_t *row[4];
    for (int r = 0; r < 4; r++)
        row[r] = (const uint32_t *)(m->bits + (i0 + (r < nrows ? r : nrows - 1)) * m->words);
    const uint8_t *u = a->u + t * a->stride;

    __m256i acc[4];
    for (int r = 0; r < 4; r++) acc[r] = _mm256_setzero_si256();
    for (int64_t h0 = 0; h0 < halves; h0 += flush_every) {
        int64_t h1 = h0 + flush_every < halves ? h0 + flush_every : halves;
        __m256i acc16[4];
        for (int r = 0; r < 4; r++) acc16[r] = _mm256_setzero_si256();
        for (int64_t h = h0; h < h1; h++) {
            __m256i uv = _mm256_loadu_si256((const __m256i *)(u + h * 32));
            for (int r = 0; r < 4; r++)
                acc16[r] = _mm256_add_epi16(acc16[r], _mm256_maddubs_epi16(uv, expand32(row[r][h], route, select)));
        }
        for (int r = 0; r < 4; r++) acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(acc16[r], ones16));
    }
    __m128i c[4];
    for (int r = 0; r < 4; r++)
        c[r] = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
    int32_t neg[4];
    _mm_storeu_si128((__m128i *)neg, _mm_hadd_epi32(_mm_hadd_epi32(c[0], c[1]), _mm_hadd_epi32(c[2], c[3])));
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = i0 + r;
        y[i] = pb_int_epilogue(-neg[r], m->ones[i], a, t, m->alpha[i], m->mu[i]);
    }
}

T2 void pb_dot_avx2(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                    int64_t ldy) {
    for (int64_t i = r0; i < r1; i += 4) {
        int64_t n = r1 - i < 4 ? r1 - i : 4;
        for (int64_t t = 0; t < a->count; t++) dot_block(m, a, i, n, t, y + t * ldy);
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

T2 static void quantize_avx2(const float *x, int64_t k, int64_t padded, uint8_t *u, float *scale,
                             int32_t *qsum) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask));
    float lanes[8];
    _mm256_storeu_ps(lanes, mx);
    float amax = 0;
    for (int l = 0; l < 8; l++) amax = amax > lanes[l] ? amax : lanes[l];
    for (; j < k; j++) amax = amax > __builtin_fabsf(x[j]) ? amax : __builtin_fabsf(x[j]);
    float id;
    float d = pb_quantize_scale(amax, &id);

    const __m256 vid = _mm256_set1_ps(id);
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    const __m256i offset = _mm256_set1_epi32(128);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i acc = _mm256_setzero_si256();
    for (j = 0; j + 32 <= k; j += 32) {
        __m256i q[4];
        for (int p = 0; p < 4; p++) {
            // cvtps2dq rounds half to even under the default MXCSR, like rintf in the scalar twin.
            q[p] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * p), vid));
            q[p] = _mm256_min_epi32(_mm256_max_epi32(q[p], lo), hi);
            acc = _mm256_add_epi32(acc, q[p]);
            q[p] = _mm256_add_epi32(q[p], offset);
        }
        // int32 → uint8 through two packs; the packs interleave 128-bit lanes, vpermd undoes it.
        __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(u + j), _mm256_permutevar8x32_epi32(bytes, order));
    }
    int32_t parts[8];
    _mm256_storeu_si256((__m256i *)parts, acc);
    int32_t s = 0;
    for (int l = 0; l < 8; l++) s += parts[l];
    for (; j < k; j++) {
        int32_t q = (int32_t)__builtin_rintf(x[j] * id);
        q = q < -127 ? -127 : (q > 127 ? 127 : q);
        u[j] = (uint8_t)(q + 128);
        s += q;
    }
    memset(u + k, 0, (size_t)(padded - k));
    *scale = d;
    *qsum = s;
}

// Shifting 16-bit lanes left by 7−b puts bit b of every byte in its top bit; vpmovmskb collects them.
T2 static void bitplanes_avx2(const uint8_t *u, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(u + w * 64));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(u + w * 64 + 32));
        for (int b = 0; b < 8; b++) {
            __m128i n = _mm_cvtsi32_si128(7 - b);
            uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(v0, n));
            uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(v1, n));
            planes[w * 8 + b] = (uint64_t)lo | (uint64_t)hi << 32;
        }
    }
}

T2 static void sparse_avx2(const pb_sparse *s, const float *x, int64_t ldx, int64_t count,
                           int64_t r0, int64_t r1, float *y, int64_t ldy) {
    for (int64_t i = r0; i < r1; i++) {
        const int64_t begin = s->start[i], end = s->start[i + 1];
        for (int64_t t = 0; t < count; t++) {
            const float *xt = x + t * ldx;
            __m256 acc = _mm256_setzero_ps();
            int64_t e = begin;
            for (; e + 8 <= end; e += 8) {
                __m256i col = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s->col + e)));
                __m256 c = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s->coef + e)));
                acc = _mm256_fmadd_ps(c, _mm256_i32gather_ps(xt, col, 4), acc);
            }
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
            h = _mm_hadd_ps(h, h);
            float sum = _mm_cvtss_f32(_mm_hadd_ps(h, h));
            for (; e < end; e++) sum += pb_half_to_float(s->coef[e]) * xt[s->col[e]];
            y[t * ldy + i] += sum;
        }
    }
}

const pb_helpers pb_helpers_avx2 = {
    .load_float = load_float_avx2,
    .quantize = quantize_avx2,
    .bitplanes = bitplanes_avx2,
    .sparse = sparse_avx2,
};
