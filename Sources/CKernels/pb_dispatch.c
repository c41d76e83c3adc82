// CPU feature detection and the dispatch table. The table is filled once, on first use, from
// __builtin_cpu_supports (which also checks that the OS saves the wide registers).
#include <pthread.h>

#include "pb_internal.h"

uint32_t pb_cpu_features(void) {
    static uint32_t cached = 0;
    static int ready = 0;
    if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) return cached;
    __builtin_cpu_init();
    uint32_t f = 0;
    if (__builtin_cpu_supports("popcnt")) f |= PB_CPU_POPCNT;
    if (__builtin_cpu_supports("avx2")) f |= PB_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= PB_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) f |= PB_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) f |= PB_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= PB_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= PB_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) f |= PB_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avx512vpopcntdq")) f |= PB_CPU_AVX512VPOPCNTDQ;
    cached = f;  // idempotent: racing first callers store the same value
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    return f;
}

// What each instruction-set level needs from the CPU.
static const uint32_t isa_requires[PB_ISA_COUNT] = {
    [PB_ISA_SCALAR] = 0,
    [PB_ISA_AVX2] = PB_CPU_AVX2 | PB_CPU_FMA | PB_CPU_F16C,
    [PB_ISA_AVX512] = PB_CPU_AVX512F | PB_CPU_AVX512BW | PB_CPU_AVX512VL,
};

static const pb_helpers *const isa_helpers[PB_ISA_COUNT] = {
    &pb_helpers_scalar, &pb_helpers_avx2, &pb_helpers_avx512,
};

typedef struct variant_info {
    const char *name;
    pb_kernel_fn fn;
    pb_isa isa;
    uint32_t extra;        // CPU features beyond the isa level
    uint32_t needs;
    pb_variant reference;
    int64_t row_block;
} variant_info;

#define INT_BYTES (PB_NEEDS_BYTES | PB_NEEDS_NIBBLES)
#define INT_PLANES (PB_NEEDS_PLANES | PB_NEEDS_INTERLEAVE)
static const variant_info variants[PB_VARIANT_COUNT] = {
    [PB_SCALAR_POPCOUNT] = {"scalarPopcount", pb_popcount_scalar, PB_ISA_SCALAR, 0, PB_NEEDS_PLANES,
                            PB_SCALAR_POPCOUNT, 1},
    [PB_SCALAR_DOT] = {"scalarDot", pb_dot_scalar, PB_ISA_SCALAR, 0, PB_NEEDS_BYTES, PB_SCALAR_DOT, 1},
    [PB_SCALAR_FLOAT] = {"scalarFloat", pb_float_scalar, PB_ISA_SCALAR, 0, PB_NEEDS_FLOAT,
                         PB_SCALAR_FLOAT, 1},
    [PB_AVX2_POPCOUNT] = {"avx2Popcount", pb_popcount_avx2, PB_ISA_AVX2, 0, INT_PLANES,
                          PB_SCALAR_POPCOUNT, 8},
    [PB_AVX2_DOT] = {"avx2Dot", pb_dot_avx2, PB_ISA_AVX2, 0, INT_BYTES, PB_SCALAR_DOT, 16},
    [PB_AVX2_FLOAT] = {"avx2Float", pb_float_avx2, PB_ISA_AVX2, 0, PB_NEEDS_FLOAT, PB_SCALAR_FLOAT, 4},
    [PB_AVX512_POPCOUNT] = {"avx512Popcount", pb_popcount_avx512, PB_ISA_AVX512,
                            PB_CPU_AVX512VPOPCNTDQ, INT_PLANES, PB_SCALAR_POPCOUNT, 8},
    [PB_AVX512_VNNI] = {"avx512VNNI", pb_vnni_avx512, PB_ISA_AVX512, PB_CPU_AVX512VNNI, INT_BYTES,
                        PB_SCALAR_DOT, 16},
    [PB_AVX512_FLOAT] = {"avx512MaskedFloat", pb_float_avx512, PB_ISA_AVX512, 0, PB_NEEDS_FLOAT,
                         PB_SCALAR_FLOAT, 4},
};

// Fastest first, as measured by KernelBenchmark (VNNI and popcount tie for one vector on AVX-512
// machines; VNNI wins for many vectors and needs no bit-planes).
static const pb_variant preference[] = {
    PB_AVX512_VNNI, PB_AVX512_POPCOUNT, PB_AVX2_DOT, PB_AVX2_POPCOUNT, PB_SCALAR_POPCOUNT,
};

uint32_t pb_variant_requires(pb_variant v) { return isa_requires[variants[v].isa] | variants[v].extra; }
const char *pb_variant_name(pb_variant v) { return variants[v].name; }
uint32_t pb_variant_needs(pb_variant v) { return variants[v].needs; }
pb_isa pb_variant_isa(pb_variant v) { return variants[v].isa; }
pb_variant pb_variant_reference(pb_variant v) { return variants[v].reference; }
int64_t pb_variant_row_block(pb_variant v) { return variants[v].row_block; }

typedef struct q8_info {
    const char *name;
    pb_q8_fn fn;
    pb_isa isa;
    uint32_t extra;
    int64_t row_block;
} q8_info;

static const q8_info q8_variants[PB_Q8_VARIANT_COUNT] = {
    [PB_Q8_SCALAR] = {"scalar", pb_q8_scalar, PB_ISA_SCALAR, 0, 1},
    [PB_Q8_AVX2] = {"avx2", pb_q8_avx2, PB_ISA_AVX2, 0, 16},
    [PB_Q8_AVX512_VNNI] = {"avx512VNNI", pb_q8_avx512, PB_ISA_AVX512, PB_CPU_AVX512VNNI, 16},
};

const char *pb_q8_variant_name(pb_q8_variant v) { return q8_variants[v].name; }
uint32_t pb_q8_variant_requires(pb_q8_variant v) {
    return isa_requires[q8_variants[v].isa] | q8_variants[v].extra;
}
int64_t pb_q8_variant_row_block(pb_q8_variant v) { return q8_variants[v].row_block; }

static pb_dispatch table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void fill(uint32_t features) {
    pb_dispatch t = {0};
    t.features = features;
    for (int v = 0; v < PB_VARIANT_COUNT; v++) {
        uint32_t need = pb_variant_requires((pb_variant)v);
        t.kernel[v] = (features & need) == need ? variants[v].fn : NULL;
    }
    t.best_q8 = PB_Q8_SCALAR;
    for (int v = 0; v < PB_Q8_VARIANT_COUNT; v++) {   // declared slowest first
        uint32_t need = pb_q8_variant_requires((pb_q8_variant)v);
        t.q8_kernel[v] = (features & need) == need ? q8_variants[v].fn : NULL;
        if (t.q8_kernel[v]) t.best_q8 = (pb_q8_variant)v;
    }
    t.best_isa = PB_ISA_SCALAR;
    for (int i = 0; i < PB_ISA_COUNT; i++) {
        int ok = (features & isa_requires[i]) == isa_requires[i];
        t.helpers[i] = ok ? isa_helpers[i] : NULL;
        if (ok) t.best_isa = (pb_isa)i;
    }
    t.best_variant = PB_SCALAR_POPCOUNT;
    for (size_t i = 0; i < sizeof preference / sizeof preference[0]; i++)
        if (t.kernel[preference[i]]) {
            t.best_variant = preference[i];
            break;
        }
    table = t;
}

static void fill_detected(void) { fill(pb_cpu_features()); }

const pb_dispatch *pb_table(void) {
    pthread_once(&table_once, fill_detected);
    return &table;
}

pb_kernel_fn pb_table_kernel(pb_variant v) {
    return v >= 0 && v < PB_VARIANT_COUNT ? pb_table()->kernel[v] : NULL;
}

pb_q8_fn pb_table_q8(pb_q8_variant v) {
    return v >= 0 && v < PB_Q8_VARIANT_COUNT ? pb_table()->q8_kernel[v] : NULL;
}

const pb_helpers *pb_table_helpers(pb_isa isa) {
    return isa >= 0 && isa < PB_ISA_COUNT ? pb_table()->helpers[isa] : NULL;
}

void pb_table_limit(uint32_t features) {
    pthread_once(&table_once, fill_detected);
    fill(features & pb_cpu_features());
}

void pb_table_set_best(pb_variant v) {
    pthread_once(&table_once, fill_detected);
    if (v >= 0 && v < PB_VARIANT_COUNT && table.kernel[v]) table.best_variant = v;
}
