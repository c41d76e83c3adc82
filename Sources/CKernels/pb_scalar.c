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

// pos = Σ_b 2^b · popcount(S AND U_b): each set sign bit picks up every set bit of its u.
void pb_popcount_scalar(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                        int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const uint64_t *planes = a->planes + t * a->words * 8;
        for (int64_t i = r0; i < r1; i++) {
            const uint64_t *row = m->bits + i * m->words;
            int32_t pos = 0;
            for (int64_t w = 0; w < m->words; w++)
                for (int b = 0; b < 8; b++) pos += popcount64(row[w] & planes[w * 8 + b]) << b;
            y[t * ldy + i] = pb_int_epilogue(pos, m->ones[i], a, t, m->alpha[i], m->mu[i]);
        }
    }
}

// pos = Σ_{bit j set} u_j, one byte at a time.
void pb_dot_scalar(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                   int64_t ldy) {
    for (int64_t t = 0; t < a->count; t++) {
        const uint8_t *u = a->u + t * a->stride;
        for (int64_t i = r0; i < r1; i++) {
            const uint64_t *row = m->bits + i * m->words;
            int32_t pos = 0;
            for (int64_t j = 0; j < m->words * 64; j++)
                if ((row[j >> 6] >> (j & 63)) & 1) pos += u[j];
            y[t * ldy + i] = pb_int_epilogue(pos, m->ones[i], a, t, m->alpha[i], m->mu[i]);
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
    // An all-zero vector, or one so small that 127/max overflows, quantizes to zeros with d = 0.
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

static void quantize_scalar(const float *x, int64_t k, int64_t padded, uint8_t *u, float *scale,
                            int32_t *qsum) {
    float amax = 0;
    for (int64_t j = 0; j < k; j++) amax = fmaxf(amax, fabsf(x[j]));
    float id;
    float d = pb_quantize_scale(amax, &id);
    int32_t s = 0;
    for (int64_t j = 0; j < k; j++) {
        // rintf rounds half to even under the default rounding mode, as cvtps2dq does.
        int32_t q = (int32_t)rintf(x[j] * id);
        q = q < -127 ? -127 : (q > 127 ? 127 : q);
        u[j] = (uint8_t)(q + 128);
        s += q;
    }
    memset(u + k, 0, (size_t)(padded - k));
    *scale = d;
    *qsum = s;
}

static void bitplanes_scalar(const uint8_t *u, int64_t words, uint64_t *planes) {
    for (int64_t w = 0; w < words; w++)
        for (int b = 0; b < 8; b++) {
            uint64_t p = 0;
            for (int l = 0; l < 64; l++) p |= (uint64_t)((u[w * 64 + l] >> b) & 1) << l;
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

static void sparse_scalar(const pb_sparse *s, const float *x, int64_t ldx, int64_t count,
                          int64_t r0, int64_t r1, float *y, int64_t ldy) {
    for (int64_t i = r0; i < r1; i++)
        for (int64_t t = 0; t < count; t++) {
            const float *xt = x + t * ldx;
            float acc = 0;
            for (uint32_t e = s->start[i]; e < s->start[i + 1]; e++)
                acc += pb_half_to_float(s->coef[e]) * xt[s->col[e]];
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
