// Partially-binarized (PB-LLM) matrix kernels: the dense sign-bit GEMV/GEMM, activation
// preparation, the sparse salient correction, and 8-bit (q8) matrices for the output head and
// embeddings. One C file per instruction set; the path is chosen at run time from the CPU's
// features (pb_table()), never at compile time. The fork-join pool is in pb_pool.h.
//
// Arithmetic (see shared/design/kernels.md). Row i of an N×K layer, non-salient weights:
//     ŵᵢⱼ = μᵢ + αᵢ·sᵢⱼ,  sᵢⱼ = ±1
//     yᵢ  = μᵢ·X + αᵢ·Bᵢ (+ sparse correction),  X = Σⱼ xⱼ,  Bᵢ = Σⱼ sᵢⱼ·xⱼ
// Every kernel computes a "positive sum" over the columns whose sign bit is 1 and derives Bᵢ:
//   float kernels:   pos = Σ_{s=+1} xⱼ                         Bᵢ = 2·pos − X
//   integer kernels: pos = Σ_w d_w·Σ_{j∈w, s=+1} qⱼ            Bᵢ ≈ 2·pos − Q
// Integer kernels quantize x per block of 64 columns (one block per 64-bit word of sign bits):
// x ≈ d_w·q with q ∈ [−127, 127], d_w = max_{j∈w}|xⱼ|/127, and Q = Σ_w d_w·Σ_{j∈w} qⱼ (the
// quantized vector's sum). The block sum Σ_{j∈w, s=+1} qⱼ is an exact int32; it is scaled and
// accumulated in float, block by block in column order, with one fused multiply-add per block:
//     pos ← fma(d_w, (float)S_w, pos)
// so every integer kernel is bit-exact against its scalar twin on the same quantized input.
// The μ·X term uses the exact float sum X of the unquantized input.
//
// Canonical sign layout (also the file layout): row-major, ⌈K/64⌉ little-endian uint64 words per
// row, bit j%64 of word j/64 set ⇔ sᵢⱼ = +1, padding bits 0.
#ifndef PB_KERNELS_H
#define PB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features -------------------------------------------------------------------------

enum {
    PB_CPU_POPCNT          = 1u << 0,
    PB_CPU_AVX2            = 1u << 1,
    PB_CPU_FMA             = 1u << 2,
    PB_CPU_F16C            = 1u << 3,
    PB_CPU_AVX512F         = 1u << 4,
    PB_CPU_AVX512BW        = 1u << 5,
    PB_CPU_AVX512VL        = 1u << 6,
    PB_CPU_AVX512VNNI      = 1u << 7,
    PB_CPU_AVX512VPOPCNTDQ = 1u << 8,
};

/// The features of this CPU (and OS support for their registers), read once.
uint32_t pb_cpu_features(void);

// ---- Data the kernels read ------------------------------------------------------------------

/// One N×K sign matrix with its per-row scales. Borrowed pointers; the Swift side owns them.
typedef struct pb_matrix {
    int64_t rows, k, words;      // words = ⌈k/64⌉ per row
    const uint64_t *bits;        // rows × words, canonical layout
    const uint64_t *bits8;       // the same bits interleaved by 8 rows for the popcount kernels:
                                 // word w of row 8g+l at [(g·words + w)·8 + l], rows padded with 0
                                 // to a multiple of 8; NULL when no popcount kernel will run
    const uint64_t *nibbles;     // the same bits interleaved by 16 rows in 4-column nibbles for the
                                 // byte-dot kernels: chunk c (columns 4c…4c+3) of group g is the
                                 // word [g·words·16 + c], whose nibble l (bits 4l…4l+3) holds row
                                 // 16g+l; rows padded with 0 to a multiple of 16; NULL when unused
    const float *alpha, *mu;     // rows each
} pb_matrix;

/// `count` activation vectors prepared for the kernels (vector t at offset t·stride in x, q, u;
/// its block scales at t·words). Which arrays must be filled depends on the kernel.
typedef struct pb_acts {
    int64_t k, words, count;
    int64_t stride;              // elements between vectors in x, q and u: words·64
    const float *x;              // zero-padded float copy (float kernels, sparse correction)
    const int8_t *q;             // int8 q, zero-padded (byte-dot kernels)
    const uint8_t *u;            // q + 128 (q8 matrices on AVX-512), 128 past k
    const uint64_t *planes;      // bit-plane b of q's two's complement bytes, word w:
                                 // [(t·words + w)·8 + b] (popcount kernels)
    const float *scale;          // d_w per block: [t·words + w] (q·d_w ≈ x within block w)
    const float *sum;            // X = Σ x per vector (from the float input, not from q)
    const float *qsum;           // Q = Σ_w d_w·Σ_{j∈w} qⱼ per vector
    const float *xt;             // transposed float copy when count > 1: x of vector t, column j
                                 // at [j·ldxt + t] (batched sparse correction); NULL otherwise
    int64_t ldxt;                // a multiple of 16, ≥ count
} pb_acts;

/// Sparse salient correction in CSR form: yᵢ += Σ_{e ∈ [start[i], start[i+1])} coef[e]·x[col[e]].
/// Columns are uint16 (so K ≤ 65536); coefficients are IEEE binary16 bit patterns. A coefficient
/// is the difference between the salient weight and its binary approximation, ŵ − μ − α·s.
/// The same entries in ELL form by 16 rows (the one-vector SIMD paths: lane l = row 16g+l, no
/// horizontal sums): group g has ell_start[g+1] − ell_start[g] slots (its longest row), slot s
/// holds entry s of each row at [(ell_start[g] + s)·16 + l], padded with column 0, coefficient 0.
typedef struct pb_sparse {
    int64_t rows, k;
    const uint32_t *start;       // rows + 1 offsets
    const uint16_t *col;
    const uint16_t *coef;        // binary16
    const uint32_t *ell_start;   // ⌈rows/16⌉ + 1 slot offsets; NULL: no ELL copy
    const uint16_t *ell_col;
    const uint16_t *ell_coef;
} pb_sparse;

// ---- Kernels -------------------------------------------------------------------------------

typedef enum pb_variant {
    PB_SCALAR_POPCOUNT = 0,      // reference for the popcount kernels
    PB_SCALAR_DOT,               // reference for the byte-dot kernels
    PB_SCALAR_FLOAT,             // reference for the masked-float kernels
    PB_AVX2_POPCOUNT,            // nibble-table popcount over bit-planes, interleaved rows
    PB_AVX2_DOT,                 // nibble rows → bytes 0/1, vpmaddubsw against q
    PB_AVX2_FLOAT,               // sign bits → lane masks, blend-add of float x
    PB_AVX512_POPCOUNT,          // VPOPCNTQ over bit-planes, interleaved rows
    PB_AVX512_VNNI,              // nibble rows → bytes 0/1 (vmovdqu8{z}), vpdpbusd against q
    PB_AVX512_FLOAT,             // masked add of float x
    PB_VARIANT_COUNT
} pb_variant;

enum {
    PB_NEEDS_FLOAT      = 1u << 0,   // acts.x, acts.sum
    PB_NEEDS_BYTES      = 1u << 1,   // acts.q, scale, qsum, sum
    PB_NEEDS_PLANES     = 1u << 2,   // acts.planes, scale, qsum, sum
    PB_NEEDS_INTERLEAVE = 1u << 3,   // matrix.bits8
    PB_NEEDS_NIBBLES    = 1u << 4,   // matrix.nibbles
};

/// For every vector t < acts.count and row i ∈ [r0, r1): y[t·ldy + i] = μᵢ·X + αᵢ·Bᵢ.
typedef void (*pb_kernel_fn)(const pb_matrix *m, const pb_acts *a, int64_t r0, int64_t r1,
                             float *y, int64_t ldy);

/// Instruction-set levels of the helpers below.
typedef enum pb_isa { PB_ISA_SCALAR = 0, PB_ISA_AVX2, PB_ISA_AVX512, PB_ISA_COUNT } pb_isa;

/// Activation preparation and the sparse correction, one set per instruction-set level.
typedef struct pb_helpers {
    /// Copies x[0..k) to xpad and zeroes xpad[k..padded); returns Σ x (accumulated in double).
    float (*load_float)(const float *x, int64_t k, int64_t padded, float *xpad);
    /// Quantizes x per block of 64: q = rint(xⱼ·127/m_w) with m_w = max_{j∈w}|xⱼ|, scale[w] =
    /// d_w = m_w/127 (0 for a block of zeros or one too small to invert, m_w < 127/FLT_MAX), q
    /// zeroed past k up to padded (a multiple of 64); u = q + 128 when u is not NULL; *qsum = Q =
    /// Σ_w d_w·Σ_{j∈w} qⱼ (products exact in double, summed in block order, rounded once). Rounds
    /// half to even. x must be finite. Bit-exact across levels.
    void (*quantize)(const float *x, int64_t k, int64_t padded, int8_t *q, uint8_t *u, float *scale,
                     float *qsum);
    /// Bit-planes of `words`·64 bytes q: planes[w·8 + b] bit l = bit b of (uint8)q[64w + l].
    void (*bitplanes)(const int8_t *q, int64_t words, uint64_t *planes);
    /// y[t·ldy + i] += Σ coef·x[t·ldx + col] for rows [r0, r1), vectors t < count. When xt is not
    /// NULL it is the transposed copy of the count vectors (pb_acts.xt, ldxt) and the batched path
    /// reads it instead; the result is the same up to summation order.
    void (*sparse)(const pb_sparse *s, const float *x, int64_t ldx, const float *xt, int64_t ldxt,
                   int64_t count, int64_t r0, int64_t r1, float *y, int64_t ldy);
} pb_helpers;

// ---- 8-bit matrices (the `q8` encoding: output head, embeddings) ---------------------------
// ŵᵢⱼ = scaleᵢ·wᵢⱼ, wᵢⱼ ∈ [−127, 127]. On activations quantized per block of 64 (pb_acts):
//     yᵢ = scaleᵢ·pos,  pos ← fma(d_w, (float)S_w, pos) block by block,  S_w = Σ_{j∈w} wᵢⱼ·qⱼ
// with S_w an exact int32, so every kernel is bit-exact against its scalar twin.

/// One N×K q8 matrix. Borrowed pointers; the Swift side owns them.
typedef struct pb_q8 {
    int64_t rows, k, words;      // words = ⌈k/64⌉ blocks per row
    const int8_t *w;             // rows interleaved by 16 in 4-column chunks: chunk c of group g is
                                 // the 64 bytes at [(g·words·16 + c)·64], byte 4l+b = w[16g+l][4c+b];
                                 // rows and columns zero-padded to multiples of 16 and 64
    const int32_t *corr;         // −128·Σ_{j∈block} w[16g+l][j] at [(g·words + block)·16 + l]
    const float *scale;          // rows
} pb_q8;

typedef enum pb_q8_variant {
    PB_Q8_SCALAR = 0,            // reference
    PB_Q8_AVX2,                  // vpsignb/vpmaddubsw of |q| against sign-adjusted weights
    PB_Q8_AVX512_VNNI,           // vpdpbusd of q + 128 against the weights, offset removed exactly
    PB_Q8_VARIANT_COUNT
} pb_q8_variant;

/// For every vector t < acts.count and row i ∈ [r0, r1): y[t·ldy + i] = row i · xₜ. Reads acts.q
/// and acts.u (PB_NEEDS_BYTES), acts.scale.
typedef void (*pb_q8_fn)(const pb_q8 *m, const pb_acts *a, int64_t r0, int64_t r1, float *y,
                         int64_t ldy);

/// The dispatch table: every kernel and helper level this CPU can run (NULL otherwise), and the
/// preferred choices. Filled once from the CPU's features on first use.
typedef struct pb_dispatch {
    pb_kernel_fn kernel[PB_VARIANT_COUNT];
    pb_q8_fn q8_kernel[PB_Q8_VARIANT_COUNT];
    const pb_helpers *helpers[PB_ISA_COUNT];
    pb_variant best_variant;     // fastest available kernel
    pb_q8_variant best_q8;       // fastest available q8 kernel
    pb_isa best_isa;             // widest available helper level
    uint32_t features;           // the features the table was filled for
} pb_dispatch;

const pb_dispatch *pb_table(void);
/// Table entries by index (NULL when this CPU cannot run them), for callers without C arrays.
pb_kernel_fn pb_table_kernel(pb_variant v);
const pb_helpers *pb_table_helpers(pb_isa isa);
pb_q8_fn pb_table_q8(pb_q8_variant v);

/// Refills the table as if the CPU had only `features & pb_cpu_features()` (tests, benchmarks,
/// PBLLM_KERNEL-style overrides). Not thread-safe: call before any kernel runs.
void pb_table_limit(uint32_t features);

/// Overrides the preferred kernel (must be available). Not thread-safe, as above.
void pb_table_set_best(pb_variant v);

const char *pb_variant_name(pb_variant v);
uint32_t pb_variant_needs(pb_variant v);      // PB_NEEDS_* bits
uint32_t pb_variant_requires(pb_variant v);   // PB_CPU_* bits
pb_isa pb_variant_isa(pb_variant v);
pb_variant pb_variant_reference(pb_variant v);  // its scalar twin
int64_t pb_variant_row_block(pb_variant v);   // rows per step: split ranges at multiples of it

const char *pb_q8_variant_name(pb_q8_variant v);
uint32_t pb_q8_variant_requires(pb_q8_variant v);   // PB_CPU_* bits
int64_t pb_q8_variant_row_block(pb_q8_variant v);

// ---- Load-time helpers (scalar; run once per matrix) --------------------------------------

/// ones[i] = number of set bits in row i.
void pb_row_ones(const uint64_t *bits, int64_t rows, int64_t words, int32_t *ones);
/// Fills the nibble layout (⌈rows/16⌉·16·words words) described in pb_matrix.nibbles.
void pb_interleave_nibbles(const uint64_t *bits, int64_t rows, int64_t words, uint64_t *nibbles);
/// Fills the interleaved-by-8 layout (⌈rows/8⌉·8·words words) described in pb_matrix.bits8.
void pb_interleave8(const uint64_t *bits, int64_t rows, int64_t words, uint64_t *bits8);
/// Fills pb_q8.w and pb_q8.corr from row-major w (rows × k); returns the first row holding −128
/// (not allowed: the AVX2 kernel negates weights), or −1.
int64_t pb_q8_interleave(const int8_t *w, int64_t rows, int64_t k, int8_t *w16, int32_t *corr);
/// out[j] = scaleᵢ·wᵢⱼ for j < k: one dequantized row (embedding lookup).
void pb_q8_row(const pb_q8 *m, int64_t i, float *out);
/// Slots of 16 the ELL copy of a CSR needs (Σ over groups of 16 rows of the longest row).
int64_t pb_sparse_ell_slots(const uint32_t *start, int64_t rows);
/// Fills the ELL copy (pb_sparse.ell_*) from the CSR arrays.
void pb_sparse_fill_ell(const uint32_t *start, const uint16_t *col, const uint16_t *coef, int64_t rows,
                        uint32_t *ell_start, uint16_t *ell_col, uint16_t *ell_coef);
/// xt[j·ldxt + t] = x[t·ldx + j] for j < k, t < count; zero for count ≤ t < ldxt (AVX-512 when
/// the dispatch table allows it and ldxt is a multiple of 16).
void pb_transpose(const float *x, int64_t ldx, int64_t count, int64_t k, float *xt, int64_t ldxt);
/// IEEE binary32 → binary16, rounding to nearest even (overflow to ±inf), for n values: F16C when
/// the dispatch table allows it, else an exact scalar conversion.
void pb_floats_to_halves(const float *x, int64_t n, uint16_t *h);
/// IEEE binary32 → binary16, rounding to nearest even (the scalar path of pb_floats_to_halves).
uint16_t pb_float_to_half(float f);
/// IEEE binary16 → binary32, exact (the scalar sparse path's converter).
float pb_half_to_float(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
