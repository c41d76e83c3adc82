// Partially-binarized (PB-LLM) matrix kernels: the dense sign-bit GEMV/GEMM, activation
// preparation and the sparse salient correction. One C file per instruction set; the path is
// chosen at run time from the CPU's features (pb_table()), never at compile time.
//
// Arithmetic (see shared/design/kernels.md). Row i of an N×K layer, non-salient weights:
//     ŵᵢⱼ = μᵢ + αᵢ·sᵢⱼ,  sᵢⱼ = ±1
//     yᵢ  = μᵢ·X + αᵢ·Bᵢ (+ sparse correction),  X = Σⱼ xⱼ,  Bᵢ = Σⱼ sᵢⱼ·xⱼ
// Every kernel computes a "positive sum" over the columns whose sign bit is 1 and derives Bᵢ:
//   float kernels:   pos = Σ_{s=+1} xⱼ                  Bᵢ = 2·pos − X
//   integer kernels: pos = Σ_{s=+1} uⱼ, uⱼ = qⱼ + 128    Bᵢ ≈ d·(2·(pos − 128·Pᵢ) − Σⱼ qⱼ)
// where x ≈ d·q (q ∈ [−127, 127], d = max|x|/127) and Pᵢ is the number of +1 signs in row i.
// Integer kernels are bit-exact against their scalar twins on the same quantized input.
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
    const float *alpha, *mu;     // rows each
    const int32_t *ones;         // Pᵢ = number of +1 signs in row i (integer kernels)
} pb_matrix;

/// `count` activation vectors prepared for the kernels (vector t at offset t·stride / t·words·8).
/// Which arrays must be filled depends on the kernel (pb_variant_needs).
typedef struct pb_acts {
    int64_t k, words, count;
    int64_t stride;              // elements between vectors in x and u: a multiple of 64, ≥ words·64
    const float *x;              // zero-padded float copy (float kernels, sparse correction)
    const uint8_t *u;            // u = q + 128, zero-padded (byte-dot kernels)
    const uint64_t *planes;      // bit-plane b of u, word w: [(t·words + w)·8 + b] (popcount kernels)
    const float *scale;          // d per vector (q·d ≈ x)
    const float *sum;            // X = Σ x per vector (from the float input, not from q)
    const int32_t *qsum;         // Σ q per vector
} pb_acts;

/// Sparse salient correction in CSR form: yᵢ += Σ_{e ∈ [start[i], start[i+1])} coef[e]·x[col[e]].
/// Columns are uint16 (so K ≤ 65536); coefficients are IEEE binary16 bit patterns. A coefficient
/// is the difference between the salient weight and its binary approximation, ŵ − μ − α·s.
typedef struct pb_sparse {
    int64_t rows;
    const uint32_t *start;       // rows + 1 offsets
    const uint16_t *col;
    const uint16_t *coef;        // binary16
} pb_sparse;

// ---- Kernels -------------------------------------------------------------------------------

typedef enum pb_variant {
    PB_SCALAR_POPCOUNT = 0,      // reference for the popcount kernels
    PB_SCALAR_DOT,               // reference for the byte-dot kernels
    PB_SCALAR_FLOAT,             // reference for the masked-float kernels
    PB_AVX2_POPCOUNT,            // nibble-table popcount over bit-planes, interleaved rows
    PB_AVX2_DOT,                 // sign bits → bytes, vpmaddubsw against u
    PB_AVX2_FLOAT,               // sign bits → lane masks, blend-add of float x
    PB_AVX512_POPCOUNT,          // VPOPCNTQ over bit-planes, interleaved rows
    PB_AVX512_VNNI,              // vpdpbusd over u masked by the sign bits (vpmovm2b for batches)
    PB_AVX512_FLOAT,             // masked add of float x
    PB_VARIANT_COUNT
} pb_variant;

enum {
    PB_NEEDS_FLOAT      = 1u << 0,   // acts.x, acts.sum
    PB_NEEDS_BYTES      = 1u << 1,   // acts.u, scale, qsum, sum; matrix.ones
    PB_NEEDS_PLANES     = 1u << 2,   // acts.planes, scale, qsum, sum; matrix.ones
    PB_NEEDS_INTERLEAVE = 1u << 3,   // matrix.bits8
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
    /// Quantizes x to u = q + 128 (u zeroed past k up to padded); d = max|x|/127 (0 if the vector
    /// is all zeros or too small to invert, |x| < 127/FLT_MAX) and Σ q. Rounds half to even.
    /// x must be finite. Bit-exact across levels.
    void (*quantize)(const float *x, int64_t k, int64_t padded, uint8_t *u, float *scale,
                     int32_t *qsum);
    /// Bit-planes of `words`·64 bytes u: planes[w·8 + b] bit l = bit b of u[64w + l].
    void (*bitplanes)(const uint8_t *u, int64_t words, uint64_t *planes);
    /// y[t·ldy + i] += Σ coef·x[t·ldx + col] for rows [r0, r1), vectors t < count.
    void (*sparse)(const pb_sparse *s, const float *x, int64_t ldx, int64_t count, int64_t r0,
                   int64_t r1, float *y, int64_t ldy);
} pb_helpers;

/// The dispatch table: every kernel and helper level this CPU can run (NULL otherwise), and the
/// preferred choices. Filled once from the CPU's features on first use.
typedef struct pb_dispatch {
    pb_kernel_fn kernel[PB_VARIANT_COUNT];
    const pb_helpers *helpers[PB_ISA_COUNT];
    pb_variant best_variant;     // fastest available kernel
    pb_isa best_isa;             // widest available helper level
    uint32_t features;           // the features the table was filled for
} pb_dispatch;

const pb_dispatch *pb_table(void);
/// Table entries by index (NULL when this CPU cannot run them), for callers without C arrays.
pb_kernel_fn pb_table_kernel(pb_variant v);
const pb_helpers *pb_table_helpers(pb_isa isa);

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

// ---- Load-time helpers (scalar; run once per matrix) --------------------------------------

/// ones[i] = number of set bits in row i.
void pb_row_ones(const uint64_t *bits, int64_t rows, int64_t words, int32_t *ones);
/// Fills the interleaved-by-8 layout (⌈rows/8⌉·8·words words) described in pb_matrix.bits8.
void pb_interleave8(const uint64_t *bits, int64_t rows, int64_t words, uint64_t *bits8);
/// IEEE binary16 → binary32, exact (the scalar sparse path's converter).
float pb_half_to_float(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
