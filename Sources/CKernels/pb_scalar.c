// Scalar twins of every kernel: the fallback on plain x86-64 and the test oracle. Written for
// clarity; each mirrors the arithmetic of its SIMD siblings so integer results match bit for bit.
#include <math.h>
#include <string.h>

#include "pb_internal.h"

// Portable popcount: plain x86-64 has no popcnt instruction, so keep it explicit.
static inline int popcount64(uint64_t v) {
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (int)((v * 0x0101010101010101ull) >> 56);
}

// ---- Kernels -------------------------------------------------------------------------------

// S_w = Σ_b ±2^b · popcount(S AND Q_b) over the two's complement planes of q (plane 7 weighs −128).
void pb_popcount_scalar(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                        int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const uint64_t *planes = a->planes + t * a->words * 8;
        const float *d = a->scale + t * a->words;
        for (int64_t i = r0; i < r1; i++) {
            const uint64_t *row = m->bits + i * m->words;
            float pos = 0;
            for (int64_t w = 0; w < m->words; w++) {
                int32_t c[8];
                for (int b = 0; b < 8; b++) c[b] = popcount64(row[w] & planes[w * 8 + b]);
                pos = pb_block_step(pos, d[w], pb_planes_sum(c));
            }
            y[t * ldy + i] = pb_int_epilogue(pos, a, t, m->alpha[i], m->mu[i]);
        }
    }
}

// S_w = Σ_{bit j set, j ∈ w} q_j, one byte at a time.
void pb_dot_scalar(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                   int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const int8_t *q = a->q + t * a->stride;
        const float *d = a->scale + t * a->words;
        for (int64_t i = r0; i < r1; i++) {
            const uint64_t *row = m->bits + i * m->words;
            float pos = 0;
            for (int64_t w = 0; w < m->words; w++) {
                int32_t s = 0;
                for (int64_t l = 0; l < 64; l++)
                    if ((row[w] >> l) & 1) s += q[w * 64 + l];
                pos = pb_block_step(pos, d[w], s);
            }
            y[t * ldy + i] = pb_int_epilogue(pos, a, t, m->alpha[i], m->mu[i]);
        }
    }
}

// pos = Σ_{bit j set} x_j in float, in column order.
void pb_float_scalar(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                     int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const float *x = a->x + t * a->stride;
        for (int64_t i = r0; i < r1; i++) {
            const uint64_t *row = m->bits + i * m->words;
            float pos = 0;
            for (int64_t j = 0; j < m->words * 64; j++)
                if ((row[j >> 6] >> (j & 63)) & 1) pos += x[j];
            y[t * ldy + i] = pb_float_epilogue(pos, a, t, m->alpha[i], m->mu[i]);
        }
    }
}

// ---- Helpers -------------------------------------------------------------------------------

float pb_quantize_scale(float amax, float *inv) {
    float id = 127.0f / amax;
    // An all-zero block, or one so small that 127/max overflows, quantizes to zeros with d = 0.
    if (!(amax > 0) || isinf(id)) {
        *inv = 0;
        return 0;
    }
    *inv = id;
    return amax / 127.0f;
}

static float load_float_scalar(const float *x, int64_t k, int64_t padded, float *xpad) {
    double s = 0;
    for (int64_t j = 0; j < k; j++) {
        xpad[j] = x[j];
        s += x[j];
    }
    memset(xpad + k, 0, (size_t)(padded - k) * sizeof(float));
    return (float)s;
}

static void quantize_scalar(const float *x, int64_t k, int64_t padded, int8_t *q, uint8_t *u,
                            float *scale, float *qsum) {
    const int64_t words = padded / 64;
    double total = 0;
    for (int64_t w = 0; w < words; w++) {
        int64_t j0 = w * 64, j1 = j0 + 64 < k ? j0 + 64 : k;
        float amax = 0;
        for (int64_t j = j0; j < j1; j++) amax = fmaxf(amax, fabsf(x[j]));
        float id;
        scale[w] = pb_quantize_scale(amax, &id);
        int32_t s = 0;
        for (int64_t j = j0; j < j0 + 64; j++) {
            int32_t v = 0;
            if (j < j1) {
                // rintf rounds half to even under the default rounding mode, as cvtps2dq does.
                v = (int32_t)rintf(x[j] * id);
                v = v < -127 ? -127 : (v > 127 ? 127 : v);
            }
            q[j] = (int8_t)v;
            if (u) u[j] = (uint8_t)(v + 128);
            s += v;
        }
        total += (double)scale[w] * (double)s;   // exact product; sum in block order
    }
    *qsum = (float)total;
}

static void bitplanes_scalar(const int8_t *q, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++)
        for (int b = 0; b < 8; b++) {
            uint64_t p = 0;
            for (int l = 0; l < 64; l++) p |= (uint64_t)(((uint8_t)q[w * 64 + l] >> b) & 1) << l;
            planes[w * 8 + b] = p;
        }
}

float pb_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);              // inf / nan
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);      // normal: rebias 15 → 127
    } else {
        float f = (float)man * 0x1p-24f;                      // zero / subnormal, exact
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t pb_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u | (uint16_t)((a >> 13) & 0x3ffu);   // NaN, quiet
    if (a >= 0x477ff000u) return sign | 0x7c00u;   // ≥ 65520 (or inf): rounds to infinity
    if (a >= 0x38800000u) {                        // ≥ 2⁻¹⁴: normal; round the 13 dropped bits to even
        uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
        return sign | (uint16_t)((r - 0x38000000u) >> 13);   // rebias 127 → 15 (a carry is right)
    }
    float v;                                       // subnormal or zero: units of 2⁻²⁴, exact scaling
    memcpy(&v, &a, sizeof v);
    return sign | (uint16_t)rintf(v * 0x1p24f);   // 1024 encodes the smallest normal, as it should
}

static void sparse_scalar(const pb_sparse *s, const float *x, int64_t ldx, const float *xt,
                          int64_t ldxt, int64_t count, int64_t r0, int64_t r1, float *y,
                          int64_t ldy) {
    (void)xt;
    (void)ldxt;
    for (int64_t i = r0; i < r1; i++)
        for (int64_t t = 0; t < count; t++) {
            const float *xr = x + t * ldx;
            float acc = 0;
            for (uint32_t e = s->start[i]; e < s->start[i + 1]; e++)
                acc += pb_half_to_float(s->coef[e]) * xr[s->col[e]];
            y[t * ldy + i] += acc;
        }
}

const pb_helpers pb_helpers_scalar = {
    .load_float = load_float_scalar,
    .quantize = quantize_scalar,
    .bitplanes = bitplanes_scalar,
    .sparse = sparse_scalar,
};

// ---- Load-time helpers ---------------------------------------------------------------------

void pb_row_ones(const uint64_t *bits, int64_t rows, int64_t words, int32_t *ones) {
    for (int64_t i = 0; i < rows; i++) {
        int32_t n = 0;
        for (int64_t w = 0; w < words; w++) n += popcount64(bits[i * words + w]);
        ones[i] = n;
    }
}

void pb_interleave8(const uint64_t *bits, int64_t rows, int64_t words, uint64_t *bits8) {
    int64_t groups = (rows + 7) / 8;
    for (int64_t g = 0; g < groups; g++)
        for (int64_t w = 0; w < words; w++)
            for (int64_t l = 0; l < 8; l++) {
                int64_t i = g * 8 + l;
                bits8[(g * words + w) * 8 + l] = i < rows ? bits[i * words + w] : 0;
            }
}

void pb_floats_to_halves(const float *x, int64_t n, uint16_t *h) {
    if (pb_table()->best_isa >= PB_ISA_AVX2) {
        pb_floats_to_halves_avx2(x, n, h);
        return;
    }
    for (int64_t i = 0; i < n; i++) h[i] = pb_float_to_half(x[i]);
}

void pb_interleave_nibbles(const uint64_t *bits, int64_t rows, int64_t words, uint64_t *nibbles) {
    int64_t groups = (rows + 15) / 16;
    for (int64_t g = 0; g < groups; g++)
        for (int64_t c = 0; c < words * 16; c++) {
            uint64_t v = 0;
            for (int64_t l = 0; l < 16; l++) {
                int64_t i = g * 16 + l;
                if (i < rows) v |= ((bits[i * words + c / 16] >> (4 * (c % 16))) & 0xf) << (4 * l);
            }
            nibbles[g * words * 16 + c] = v;
        }
}

void pb_transpose(const float *x, int64_t ldx, int64_t count, int64_t k, float *xt, int64_t ldxt) {
    if (pb_table()->best_isa == PB_ISA_AVX512 && ldxt % 16 == 0) {
        pb_transpose_avx512(x, ldx, count, k, xt, ldxt);
        return;
    }
    // 16×16 tiles keep both sides' cache lines in L1.
    for (int64_t j0 = 0; j0 < k; j0 += 16)
        for (int64_t t0 = 0; t0 < ldxt; t0 += 16)
            for (int64_t j = j0; j < j0 + 16 && j < k; j++)
                for (int64_t t = t0; t < t0 + 16; t++) xt[j * ldxt + t] = t < count ? x[t * ldx + j] : 0;
}

// ---- q8 matrices ---------------------------------------------------------------------------

static inline const int8_t *q8_at(const pb_q8 *m, int64_t i, int64_t j) {
    return m->w + ((i / 16) * m->words * 16 + j / 4) * 64 + (i % 16) * 4 + j % 4;
}

// S_w = Σ_{j∈w} wᵢⱼ·qⱼ in int32, one byte at a time.
void pb_q8_scalar(const pb_q8 *m, const pb_acts *a, int64_t r0, int64_t r1, float *y, int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const int8_t *q = a->q + t * a->stride;
        const float *d = a->scale + t * a->words;
        for (int64_t i = r0; i < r1; i++) {
            float pos = 0;
            for (int64_t w = 0; w < m->words; w++) {
                int32_t s = 0;
                for (int64_t j = w * 64; j < w * 64 + 64; j++) s += (int32_t)*q8_at(m, i, j) * q[j];
                pos = pb_block_step(pos, d[w], s);
            }
            y[t * ldy + i] = m->scale[i] * pos;
        }
    }
}

int64_t pb_q8_interleave(const int8_t *w, int64_t rows, int64_t k, int8_t *w16, int32_t *corr) {
    const int64_t words = (k + 63) / 64, groups = (rows + 15) / 16;
    int64_t bad = -1;
    for (int64_t g = 0; g < groups; g++)
        for (int64_t c = 0; c < words * 16; c++)
            for (int64_t l = 0; l < 16; l++)
                for (int64_t b = 0; b < 4; b++) {
                    int64_t i = g * 16 + l, j = c * 4 + b;
                    int8_t v = i < rows && j < k ? w[i * k + j] : 0;
                    if (v == -128 && bad < 0) bad = i;
                    w16[(g * words * 16 + c) * 64 + l * 4 + b] = v;
                }
    for (int64_t g = 0; g < groups; g++)
        for (int64_t blk = 0; blk < words; blk++)
            for (int64_t l = 0; l < 16; l++) {
                int64_t i = g * 16 + l;
                int32_t s = 0;
                for (int64_t j = blk * 64; j < blk * 64 + 64 && j < k; j++)
                    if (i < rows) s += w[i * k + j];
                corr[(g * words + blk) * 16 + l] = -128 * s;
            }
    return bad;
}

void pb_q8_row(const pb_q8 *m, int64_t i, float *out) {
    const float s = m->scale[i];
    for (int64_t j = 0; j < m->k; j++) out[j] = s * (float)*q8_at(m, i, j);
}

int64_t pb_sparse_ell_slots(const uint32_t *start, int64_t rows) {
    int64_t slots = 0;
    for (int64_t g = 0; g * 16 < rows; g++) {
        uint32_t longest = 0;
        for (int64_t i = g * 16; i < g * 16 + 16 && i < rows; i++)
            if (start[i + 1] - start[i] > longest) longest = start[i + 1] - start[i];
        slots += longest;
    }
    return slots;
}

void pb_sparse_fill_ell(const uint32_t *start, const uint16_t *col, const uint16_t *coef, int64_t rows,
                        uint32_t *ell_start, uint16_t *ell_col, uint16_t *ell_coef) {
    uint32_t slot = 0;
    int64_t g = 0;
    for (; g * 16 < rows; g++) {
        ell_start[g] = slot;
        uint32_t longest = 0;
        for (int64_t i = g * 16; i < g * 16 + 16 && i < rows; i++)
            if (start[i + 1] - start[i] > longest) longest = start[i + 1] - start[i];
        for (uint32_t s = 0; s < longest; s++)
            for (int64_t l = 0; l < 16; l++) {
                int64_t i = g * 16 + l;
                uint32_t n = i < rows ? start[i + 1] - start[i] : 0;
                size_t at = ((size_t)slot + s) * 16 + (size_t)l;
                ell_col[at] = s < n ? col[start[i] + s] : 0;
                ell_coef[at] = s < n ? coef[start[i] + s] : 0;
            }
        slot += longest;
    }
    ell_start[g] = slot;
}
