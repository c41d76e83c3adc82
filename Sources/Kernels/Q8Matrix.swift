import CKernels

/// One implementation of the 8-bit matrix product (the `.pbllm` `q8` encoding), each with a scalar
/// twin that is its test oracle and the plain x86-64 fallback. On activations quantized per block
/// of 64 (`BinaryActivations`), every block's Σ wᵢⱼ·qⱼ is an exact int32 scaled into a float
/// accumulator, so the SIMD forms are bit-exact against the twin.
public enum Q8Variant: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The scalar twin (reference).
    case scalar
    /// `vpsignb`/`vpmaddubsw` of |q| against sign-adjusted weights, 8 rows per register.
    case avx2
    /// `vpdpbusd` of q + 128 against the weights, 16 rows per register.
    case avx512VNNI

    var c: pb_q8_variant {
        switch self {
        case .scalar: PB_Q8_SCALAR
        case .avx2: PB_Q8_AVX2
        case .avx512VNNI: PB_Q8_AVX512_VNNI
        }
    }

    init(_ v: pb_q8_variant) {
        switch v {
        case PB_Q8_AVX2: self = .avx2
        case PB_Q8_AVX512_VNNI: self = .avx512VNNI
        default: self = .scalar
        }
    }

    public var description: String { rawValue }

    /// Whether this CPU (as the dispatch table sees it) can run the variant.
    public var available: Bool { pb_table_q8(c) != nil }

    /// The variants this CPU can run, in declaration order.
    public static var allAvailable: [Q8Variant] { allCases.filter(\.available) }

    /// The fastest available variant.
    public static var best: Q8Variant { Q8Variant(pb_table().pointee.best_q8) }

    /// The scalar twin.
    public var reference: Q8Variant { .scalar }

    /// Rows the kernel handles per step: split row ranges (e.g. across threads) at multiples of it.
    public var rowBlock: Int { Int(pb_q8_variant_row_block(c)) }

    var kernel: pb_q8_fn? { pb_table_q8(c) }
}

/// Errors building a `Q8Matrix`.
public enum Q8MatrixError: Error, CustomStringConvertible {
    case shape(matrix: String, detail: String)
    case value(matrix: String, row: Int)

    public var description: String {
        switch self {
        case .shape(let m, let detail):
            return matrixShapeDescription(m, detail)
        case .value(let m, let row):
            return "\(m): row \(row) holds the value −128, outside the q8 range [−127, 127]. Hint: reconvert the model."
        }
    }
}

/// An N×K 8-bit matrix (ŵᵢⱼ = scaleᵢ·qᵢⱼ, qᵢⱼ ∈ [−127, 127], one scale per row): the output head
/// and token embeddings of a `.pbllm` file. It keeps one 64-byte-aligned copy of the weights, rows
/// interleaved by 16 in 4-column chunks (the layout every kernel reads), the per-block offset sums
/// of the VNNI kernel and the scales. Read-only after init: any number of threads may compute
/// disjoint row ranges at once.
public final class Q8Matrix: @unchecked Sendable {
    public let name: String
    public let rows: Int
    public let k: Int
    public let blocksPerRow: Int

    private let w: UnsafeMutablePointer<Int8>
    private let corr: UnsafeMutablePointer<Int32>
    private let scale: UnsafeMutablePointer<Float>
    private let cMatrix: UnsafeMutablePointer<pb_q8>

    /// - Parameters:
    ///   - q: rows × k int8 weights, row-major (the file layout), each in [−127, 127].
    ///   - scale: one float per row.
    public init(name: String = "q8 matrix", rows: Int, k: Int, q: UnsafeBufferPointer<Int8>, scale scaleIn: [Float]) throws {
        guard rows > 0, k > 0 else { throw Q8MatrixError.shape(matrix: name, detail: "shape \(rows)×\(k) is empty") }
        guard q.count == rows * k else {
            throw Q8MatrixError.shape(matrix: name, detail: "\(q.count) weights, expected \(rows)×\(k) = \(rows * k)")
        }
        guard scaleIn.count == rows else {
            throw Q8MatrixError.shape(matrix: name, detail: "\(scaleIn.count) scales for \(rows) rows")
        }
        self.name = name
        self.rows = rows
        self.k = k
        let words = (k + 63) / 64
        blocksPerRow = words
        let groups = (rows + 15) / 16
        w = alignedAllocate(Int8.self, count: groups * 16 * words * 64)
        corr = alignedAllocate(Int32.self, count: groups * words * 16)
        scale = alignedAllocate(Float.self, count: rows)
        scale.update(from: scaleIn, count: rows)
        cMatrix = .allocate(capacity: 1)
        cMatrix.initialize(to: pb_q8(rows: Int64(rows), k: Int64(k), words: Int64(words), w: w, corr: corr, scale: scale))
        let bad = pb_q8_interleave(q.baseAddress!, Int64(rows), Int64(k), w, corr)
        if bad >= 0 { throw Q8MatrixError.value(matrix: name, row: Int(bad)) }
    }

    /// Convenience over arrays (tests, converters).
    public convenience init(name: String = "q8 matrix", rows: Int, k: Int, q: [Int8], scale: [Float]) throws {
        let copy = UnsafeMutableBufferPointer<Int8>.allocate(capacity: max(1, q.count))
        defer { copy.deallocate() }
        _ = copy.initialize(from: q)
        try self.init(name: name, rows: rows, k: k, q: UnsafeBufferPointer(rebasing: copy[0..<q.count]), scale: scale)
    }

    deinit {
        UnsafeMutableRawPointer(w).deallocate()
        UnsafeMutableRawPointer(corr).deallocate()
        UnsafeMutableRawPointer(scale).deallocate()
        cMatrix.deallocate()
    }

    /// The work of one vector in `ThreadPool.minimumParallelWork` units: a q8 weight costs about
    /// 4 sign-bit weights.
    public var parallelWork: Int { 4 * rows * k }

    /// Bytes of weight data the kernels stream per product (weights, offset sums, scales).
    public var weightBytes: Int { (rows + 15) / 16 * 16 * (blocksPerRow * 64 + blocksPerRow * 4) + rows * 4 }

    /// out[j] = scaleᵢ·qᵢⱼ for j < k: row i dequantized (an embedding lookup). No allocation.
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) outside 0..<\(rows) of \(name)")
        pb_q8_row(cMatrix, Int64(i), out)
    }

    /// y[i] = row i · x for i in `rows` (default all), for vector `token` of `a` (prepared with
    /// `.bytes`). Other entries of y are not touched. No allocation. A whole-matrix product large
    /// enough (`ThreadPool.minimumParallelWork`) is split over `pool`; a call naming `rows` runs on
    /// the calling thread.
    public func gemv(_ a: BinaryActivations, _ y: UnsafeMutablePointer<Float>, rows range: Range<Int>? = nil,
                     token: Int = 0, variant: Q8Variant = .best, pool: ThreadPool? = ThreadPool.shared) {
        precondition(token >= 0 && token < a.tokens, "token \(token) not prepared (\(a.tokens) vectors)")
        ThreadPool.forEachRowRange(rows: rows, range, work: parallelWork, block: variant.rowBlock, pool: pool) {
            run(a, tokens: token..<(token + 1), y, ldy: rows, $0, variant)
        }
    }

    /// y[t·ldy + i] = row i · xₜ for every prepared vector t of `a` and i in `rows`. Results equal
    /// `gemv` token by token, bit for bit.
    public func gemm(_ a: BinaryActivations, _ y: UnsafeMutablePointer<Float>, ldy: Int, rows range: Range<Int>? = nil,
                     variant: Q8Variant = .best, pool: ThreadPool? = ThreadPool.shared) {
        precondition(ldy >= rows, "ldy \(ldy) < rows \(rows)")
        ThreadPool.forEachRowRange(rows: rows, range, work: parallelWork * a.tokens, block: variant.rowBlock, pool: pool) {
            run(a, tokens: 0..<a.tokens, y, ldy: ldy, $0, variant)
        }
    }

    private func run(_ a: BinaryActivations, tokens: Range<Int>, _ y: UnsafeMutablePointer<Float>, ldy: Int,
                     _ range: Range<Int>, _ variant: Q8Variant) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows) of \(name)")
        precondition(a.k == k, "activations of length \(a.k) for \(name) with K = \(k)")
        precondition(a.prepared.contains(.bytes), "activations not prepared with .bytes for \(name)")
        guard let kernel = variant.kernel else { preconditionFailure("\(variant) cannot run on this CPU") }
        if range.isEmpty { return }
        var acts = a.view(tokens)
        kernel(cMatrix, &acts, Int64(range.lowerBound), Int64(range.upperBound), y, Int64(ldy))
    }
}
