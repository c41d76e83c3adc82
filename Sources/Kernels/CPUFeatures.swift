import CKernels

/// The instruction-set extensions the binary kernels can use, as detected at run time (CPUID plus
/// the OS's register support). Swift code in this package is compiled for baseline x86-64; the
/// wide paths live in CKernels and are chosen from these flags.
public struct CPUFeatures: Sendable, Equatable, CustomStringConvertible {
    public var popcnt = false
    public var avx2 = false
    public var fma = false
    public var f16c = false
    public var avx512f = false
    public var avx512bw = false
    public var avx512vl = false
    public var avx512vnni = false
    public var avx512vpopcntdq = false

    public init() {}

    /// This machine's features.
    public static let current = CPUFeatures(mask: pb_cpu_features())

    /// The features the kernel dispatch table was filled for: `current`, unless narrowed by
    /// `restrictDispatch(to:)`.
    public static var dispatch: CPUFeatures { CPUFeatures(mask: pb_table().pointee.features) }

    /// Refills the dispatch table as if the CPU had only `features` (∩ `current`), e.g. to run the
    /// AVX2 or plain x86-64 paths on an AVX-512 machine. Call before any kernel runs, from one
    /// thread; `restrictDispatch(to: .current)` restores the detected choice.
    public static func restrictDispatch(to features: CPUFeatures) {
        pb_table_limit(features.mask)
    }

    /// Plain x86-64: no extensions.
    public static let baseline = CPUFeatures()

    /// An AVX2 machine without AVX-512 (Haswell to Alder Lake, Zen 1–3).
    public static let avx2Only: CPUFeatures = {
        var f = CPUFeatures()
        f.popcnt = true
        f.avx2 = true
        f.fma = true
        f.f16c = true
        return f
    }()

    init(mask: UInt32) {
        popcnt = mask & UInt32(PB_CPU_POPCNT) != 0
        avx2 = mask & UInt32(PB_CPU_AVX2) != 0
        fma = mask & UInt32(PB_CPU_FMA) != 0
        f16c = mask & UInt32(PB_CPU_F16C) != 0
        avx512f = mask & UInt32(PB_CPU_AVX512F) != 0
        avx512bw = mask & UInt32(PB_CPU_AVX512BW) != 0
        avx512vl = mask & UInt32(PB_CPU_AVX512VL) != 0
        avx512vnni = mask & UInt32(PB_CPU_AVX512VNNI) != 0
        avx512vpopcntdq = mask & UInt32(PB_CPU_AVX512VPOPCNTDQ) != 0
    }

    var mask: UInt32 {
        var m: UInt32 = 0
        if popcnt { m |= UInt32(PB_CPU_POPCNT) }
        if avx2 { m |= UInt32(PB_CPU_AVX2) }
        if fma { m |= UInt32(PB_CPU_FMA) }
        if f16c { m |= UInt32(PB_CPU_F16C) }
        if avx512f { m |= UInt32(PB_CPU_AVX512F) }
        if avx512bw { m |= UInt32(PB_CPU_AVX512BW) }
        if avx512vl { m |= UInt32(PB_CPU_AVX512VL) }
        if avx512vnni { m |= UInt32(PB_CPU_AVX512VNNI) }
        if avx512vpopcntdq { m |= UInt32(PB_CPU_AVX512VPOPCNTDQ) }
        return m
    }

    public var description: String {
        let names: [(Bool, String)] = [
            (popcnt, "popcnt"), (avx2, "avx2"), (fma, "fma"), (f16c, "f16c"), (avx512f, "avx512f"),
            (avx512bw, "avx512bw"), (avx512vl, "avx512vl"), (avx512vnni, "avx512vnni"),
            (avx512vpopcntdq, "avx512vpopcntdq"),
        ]
        let on = names.filter { $0.0 }.map { $0.1 }
        return on.isEmpty ? "x86-64 baseline" : on.joined(separator: " ")
    }
}
