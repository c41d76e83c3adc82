import CKernels

/// One implementation of the dense sign-bit product Bᵢ = Σⱼ sᵢⱼ·xⱼ (plus yᵢ = μᵢ·X + αᵢ·Bᵢ).
///
/// Three forms, each with a scalar twin that is its test oracle and the plain x86-64 fallback:
/// - *popcount*: 8-bit activations as bit-planes, Σ 2ᵇ·popcount(signs AND plane b);
/// - *dot*: 8-bit activations as bytes, summed under the sign bits (VNNI `vpdpbusd`);
/// - *float*: float activations added under the sign mask — no activation quantization error.
/// The integer forms quantize x per block of 64 columns (x ≈ d_w·q, d_w = max_{j∈w}|xⱼ|/127), sum
/// each block exactly in int32 and scale it into a float accumulator; they are bit-exact against
/// their scalar twins on the same quantized input.
public enum KernelVariant: String, CaseIterable, Sendable, CustomStringConvertible {
    case scalarPopcount, scalarDot, scalarFloat
    case avx2Popcount, avx2Dot, avx2Float
    case avx512Popcount, avx512VNNI, avx512MaskedFloat

    var c: pb_variant {
        switch self {
        case .scalarPopcount: PB_SCALAR_POPCOUNT
        case .scalarDot: PB_SCALAR_DOT
        case .scalarFloat: PB_SCALAR_FLOAT
        case .avx2Popcount: PB_AVX2_POPCOUNT
        case .avx2Dot: PB_AVX2_DOT
        case .avx2Float: PB_AVX2_FLOAT
        case .avx512Popcount: PB_AVX512_POPCOUNT
        case .avx512VNNI: PB_AVX512_VNNI
        case .avx512MaskedFloat: PB_AVX512_FLOAT
        }
    }

    init(_ v: pb_variant) {
        switch v {
        case PB_SCALAR_DOT: self = .scalarDot
        case PB_SCALAR_FLOAT: self = .scalarFloat
        case PB_AVX2_POPCOUNT: self = .avx2Popcount
        case PB_AVX2_DOT: self = .avx2Dot
        case PB_AVX2_FLOAT: self = .avx2Float
        case PB_AVX512_POPCOUNT: self = .avx512Popcount
        case PB_AVX512_VNNI: self = .avx512VNNI
        case PB_AVX512_FLOAT: self = .avx512MaskedFloat
        default: self = .scalarPopcount
        }
    }

    public var description: String { rawValue }

    /// Whether this CPU (as the dispatch table sees it) can run the variant.
    public var available: Bool { pb_table_kernel(c) != nil }

    /// The variants this CPU can run, in declaration order.
    public static var allAvailable: [KernelVariant] { allCases.filter(\.available) }

    /// The process-wide choice: the fastest available variant, unless overridden by `prefer(_:)`.
    public static var best: KernelVariant { KernelVariant(pb_table().pointee.best_variant) }

    /// Makes `variant` the process-wide `best` (e.g. from a command-line flag). Returns false if this
    /// CPU cannot run it. Call before any kernel runs, from one thread.
    @discardableResult
    public static func prefer(_ variant: KernelVariant) -> Bool {
        guard variant.available else { return false }
        pb_table_set_best(variant.c)
        return true
    }

    /// The scalar twin computing the same sum the same way (the test oracle).
    public var reference: KernelVariant { KernelVariant(pb_variant_reference(c)) }

    /// True for the integer forms: results depend on the int8-quantized activations.
    public var quantizesActivations: Bool { !needs.contains(.float) }

    /// Rows the kernel handles per step. Row ranges may start and end anywhere, but splitting work
    /// (e.g. across threads) at multiples of this avoids computing a block twice.
    public var rowBlock: Int { Int(pb_variant_row_block(c)) }

    /// What the kernel reads from `BinaryActivations`.
    public var needs: ActivationNeeds {
        let n = pb_variant_needs(c)
        var out: ActivationNeeds = []
        if n & UInt32(PB_NEEDS_FLOAT) != 0 { out.insert(.float) }
        if n & UInt32(PB_NEEDS_BYTES) != 0 { out.insert(.bytes) }
        if n & UInt32(PB_NEEDS_PLANES) != 0 { out.insert(.planes) }
        return out
    }

    /// Whether the kernel reads the rows interleaved by 8 (built at load by `BinaryMatrix`).
    public var usesInterleavedRows: Bool { pb_variant_needs(c) & UInt32(PB_NEEDS_INTERLEAVE) != 0 }

    /// Whether the kernel reads the rows interleaved by 16 in 4-column nibbles (built at load by
    /// `BinaryMatrix`).
    public var usesNibbleRows: Bool { pb_variant_needs(c) & UInt32(PB_NEEDS_NIBBLES) != 0 }

    var kernel: pb_kernel_fn? { pb_table_kernel(c) }
    var isa: pb_isa { pb_variant_isa(c) }
}

/// Forms of a prepared activation vector.
public struct ActivationNeeds: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Zero-padded float copy and X = Σx (always prepared: the sparse correction reads it).
    public static let float = ActivationNeeds(rawValue: 1)
    /// int8 q and q + 128 bytes, one scale d_w per block of 64, Q = Σ_w d_w·Σ_{j∈w} qⱼ.
    public static let bytes = ActivationNeeds(rawValue: 2)
    /// The 8 bit-planes of q (implies bytes).
    public static let planes = ActivationNeeds(rawValue: 4)
}

/// Scratch for the activation vectors of one linear-layer input, prepared once and shared by every
/// matrix that reads the same input (q/k/v, gate/up) and by every thread computing a row range.
/// Allocated once for the largest K and token count; `prepare` never allocates.
///
/// Integer forms are quantized per block of 64 columns: x ≈ d_w·q, q ∈ [−127, 127],
/// d_w = max_{j∈w}|xⱼ|/127. With several vectors, a transposed float copy is also kept for the
/// batched salient correction.
public final class BinaryActivations: @unchecked Sendable {
    public let maxK: Int
    public let maxTokens: Int
    /// The prepared vectors' length, count and forms.
    public private(set) var k = 0
    public private(set) var tokens = 0
    public private(set) var prepared: ActivationNeeds = []

    private let maxStride: Int          // floats/bytes per vector, a multiple of 64
    private let maxWords: Int
    private let ldxt: Int               // vectors per column of the transposed copy (16·n ≥ maxTokens)
    private let x: UnsafeMutablePointer<Float>
    private let xt: UnsafeMutablePointer<Float>?
    private let q: UnsafeMutablePointer<Int8>
    private let u: UnsafeMutablePointer<UInt8>
    private let planes: UnsafeMutablePointer<UInt64>
    private let scale: UnsafeMutablePointer<Float>
    private let sum: UnsafeMutablePointer<Float>
    private let qsum: UnsafeMutablePointer<Float>
    private let scaled: UnsafeMutablePointer<Float>  // c ⊙ x for layers with column scales

    public init(maxK: Int, maxTokens: Int = 1) {
        precondition(maxK > 0 && maxTokens > 0, "BinaryActivations needs maxK > 0 and maxTokens > 0")
        self.maxK = maxK
        self.maxTokens = maxTokens
        maxStride = (maxK + 63) / 64 * 64
        maxWords = maxStride / 64
        ldxt = (maxTokens + 15) / 16 * 16
        x = alignedAllocate(Float.self, count: maxTokens * maxStride)
        xt = maxTokens > 1 ? alignedAllocate(Float.self, count: maxStride * ldxt) : nil
        q = alignedAllocate(Int8.self, count: maxTokens * maxStride)
        u = alignedAllocate(UInt8.self, count: maxTokens * maxStride)
        planes = alignedAllocate(UInt64.self, count: maxTokens * maxStride / 8)
        scale = alignedAllocate(Float.self, count: maxTokens * maxWords)
        sum = alignedAllocate(Float.self, count: maxTokens)
        qsum = alignedAllocate(Float.self, count: maxTokens)
        scaled = alignedAllocate(Float.self, count: maxTokens * maxK)
    }

    deinit {
        for p in [UnsafeMutableRawPointer(x), UnsafeMutableRawPointer(q), UnsafeMutableRawPointer(u),
                  UnsafeMutableRawPointer(planes), UnsafeMutableRawPointer(scale), UnsafeMutableRawPointer(sum),
                  UnsafeMutableRawPointer(qsum), UnsafeMutableRawPointer(scaled)] {
            p.deallocate()
        }
        xt.map { UnsafeMutableRawPointer($0).deallocate() }
    }

    /// Prepares `tokens` vectors of length `k` (vector t at `x + t·stride`) for `variant`.
    public func prepare(_ input: UnsafePointer<Float>, k: Int, tokens: Int = 1, stride: Int? = nil,
                        for variant: KernelVariant) {
        prepare(input, k: k, tokens: tokens, stride: stride, needs: variant.needs)
    }

    /// Prepares c ⊙ xₜ for `tokens` contiguous vectors xₜ of length `k`: the input of a layer with
    /// per-column scales c (`k` of them).
    public func prepare(_ input: UnsafePointer<Float>, k: Int, tokens: Int = 1, columnScale c: UnsafePointer<Float>,
                        for variant: KernelVariant) {
        precondition(k > 0 && k <= maxK && tokens > 0 && tokens <= maxTokens, "\(tokens) vectors of length \(k) exceed the scratch")
        for t in 0..<tokens { for j in 0..<k { scaled[t * k + j] = input[t * k + j] * c[j] } }
        prepare(scaled, k: k, tokens: tokens, needs: variant.needs)
    }

    /// Prepares `tokens` vectors of length `k` in every form in `needs` (plus `.float`, and the
    /// transposed copy when tokens > 1), using the widest helper level the dispatch table allows
    /// (all levels give identical q, d, Q and planes).
    public func prepare(_ input: UnsafePointer<Float>, k: Int, tokens: Int = 1, stride: Int? = nil,
                        needs: ActivationNeeds) {
        precondition(k > 0 && k <= maxK, "activation length \(k) outside 1...\(maxK)")
        precondition(tokens > 0 && tokens <= maxTokens, "token count \(tokens) outside 1...\(maxTokens)")
        let ld = stride ?? k
        precondition(ld >= k, "activation stride \(ld) < k \(k)")
        let helpers = pb_table_helpers(pb_table().pointee.best_isa)!.pointee
        let words = (k + 63) / 64
        let padded = words * 64
        let wantBytes = !needs.isDisjoint(with: [.bytes, .planes])
        for t in 0..<tokens {
            let src = input + t * ld
            sum[t] = helpers.load_float(src, Int64(k), Int64(padded), x + t * padded)
            if wantBytes {
                helpers.quantize(src, Int64(k), Int64(padded), q + t * padded, u + t * padded, scale + t * words,
                                 qsum + t)
            }
            if needs.contains(.planes) {
                helpers.bitplanes(q + t * padded, Int64(words), planes + t * words * 8)
            }
        }
        if tokens > 1, let xt { pb_transpose(input, Int64(ld), Int64(tokens), Int64(k), xt, Int64(ldxt)) }
        self.k = k
        self.tokens = tokens
        var ready: ActivationNeeds = .float
        if wantBytes { ready.insert(.bytes) }
        if needs.contains(.planes) { ready.insert(.planes) }
        prepared = ready
    }

    /// The quantization scales d_w of vector t, one per block of 64 columns (x ≈ d_w·q).
    public func scales(token t: Int) -> [Float] {
        let words = (k + 63) / 64
        return Array(UnsafeBufferPointer(start: scale + t * words, count: words))
    }
    /// X = Σ x of vector t.
    public func sum(token t: Int) -> Float { sum[t] }
    /// Q = Σ_w d_w·Σ_{j∈w} qⱼ of vector t: the sum of the quantized vector.
    public func quantizedSum(token t: Int) -> Float { qsum[t] }
    /// The int8 activations q of vector t (for tests and diagnostics; allocates).
    public func quantized(token t: Int) -> [Int8] {
        let base = q + t * ((k + 63) / 64 * 64)
        return (0..<k).map { base[$0] }
    }
    /// The dequantized activations d_w·qⱼ of vector t (for tests and diagnostics; allocates).
    public func dequantized(token t: Int) -> [Float] {
        let d = scales(token: t)
        return quantized(token: t).enumerated().map { d[$0.offset / 64] * Float($0.element) }
    }

    /// The C view of vectors `range`.
    func view(_ range: Range<Int>) -> pb_acts {
        let words = (k + 63) / 64
        let stride = words * 64
        let t = range.lowerBound
        // The transposed copy covers all prepared vectors: lend it for whole-batch views only.
        let whole = range == 0..<tokens && tokens > 1
        return pb_acts(k: Int64(k), words: Int64(words), count: Int64(range.count), stride: Int64(stride),
                       x: x + t * stride, q: q + t * stride, u: u + t * stride, planes: planes + t * words * 8,
                       scale: scale + t * words, sum: sum + t, qsum: qsum + t,
                       xt: whole ? UnsafePointer(xt) : nil, ldxt: Int64(ldxt))
    }
}

/// 64-byte-aligned, zero-initialized storage (cache lines and 512-bit loads).
func alignedAllocate<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let bytes = max(1, count * MemoryLayout<T>.stride)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    return raw.bindMemory(to: T.self, capacity: max(1, count))
}
