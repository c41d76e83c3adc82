import CKernels

/// Errors building a `BinaryMatrix` from stored parts: what is wrong, in which matrix, and a hint.
public enum BinaryMatrixError: Error, CustomStringConvertible {
    case shape(matrix: String, detail: String)
    case paddingBits(matrix: String, row: Int)
    case salientShape(String)
    case salient(matrix: String, detail: String)

    public var description: String {
        switch self {
        case .shape(let m, let detail):
            return matrixShapeDescription(m, detail)
        case .paddingBits(let m, let row):
            return "\(m): row \(row) has sign bits set past column K. Hint: the canonical layout keeps padding bits 0; reconvert the model."
        case .salientShape(let detail):
            return "salient weights: \(detail). Hint: the file's salient parts are inconsistent; reconvert the model."
        case .salient(let m, let detail):
            return "\(m): \(detail). Hint: the file's salient parts are inconsistent; reconvert the model."
        }
    }
}

/// The message of a parts-size mismatch, alike for every matrix built from a file (`Q8MatrixError` too).
func matrixShapeDescription(_ matrix: String, _ detail: String) -> String {
    "\(matrix): \(detail). Hint: the parts' sizes must match the tensor's shape; the file may be truncated or corrupt."
}

/// An N×K partially-binarized weight matrix ready for the kernels:
///     yᵢ = μᵢ·Σⱼxⱼ + αᵢ·Σⱼ sᵢⱼxⱼ + Σ_{j salient} cᵢⱼ·xⱼ
/// It owns 64-byte-aligned copies of the canonical sign bits (the file layout), α, μ, the salient
/// correction (float16 coefficients, uint16 columns) and the interleaved layouts the chosen variants
/// read: rows interleaved by 8 (popcount variants) and by 16 in 4-column nibbles (byte-dot
/// variants). Read-only after init: any number of threads may compute disjoint row ranges at once.
public final class BinaryMatrix: @unchecked Sendable {
    public let name: String
    public let rows: Int
    public let k: Int
    public let wordsPerRow: Int
    /// Number of salient weights (entries of the sparse correction).
    public let salientCount: Int
    /// Whether the interleaved copy for the popcount variants exists.
    public let hasInterleavedRows: Bool
    /// Whether the nibble-interleaved copy for the byte-dot variants exists.
    public let hasNibbleRows: Bool

    private let bits: UnsafeMutablePointer<UInt64>
    private let bits8: UnsafeMutablePointer<UInt64>?
    private let nibbles: UnsafeMutablePointer<UInt64>?
    private let alpha: UnsafeMutablePointer<Float>
    private let mu: UnsafeMutablePointer<Float>
    private let sparseStart: UnsafeMutablePointer<UInt32>
    private let sparseColumns: UnsafeMutablePointer<UInt16>
    private let sparseCoefficients: UnsafeMutablePointer<UInt16>
    private var ellStart: UnsafeMutablePointer<UInt32>?
    private var ellColumns: UnsafeMutablePointer<UInt16>?
    private var ellCoefficients: UnsafeMutablePointer<UInt16>?
    private let cMatrix: UnsafeMutablePointer<pb_matrix>
    private let cSparse: UnsafeMutablePointer<pb_sparse>

    /// - Parameters:
    ///   - signs: rows × ⌈K/64⌉ little-endian UInt64 words in the canonical layout (any alignment).
    ///   - variants: the kernels that will run on this matrix; decides which layouts are built.
    public init(name: String = "binary matrix", rows: Int, k: Int, signs: UnsafeRawBufferPointer,
                alpha alphaIn: [Float], mu muIn: [Float],
                salient: SalientWeights? = nil,
                variants: [KernelVariant] = [KernelVariant.best]) throws {
        guard rows > 0, k > 0 else {
            throw BinaryMatrixError.shape(matrix: name, detail: "shape \(rows)×\(k) is empty")
        }
        let words = (k + 63) / 64
        guard signs.count == rows * words * 8 else {
            throw BinaryMatrixError.shape(matrix: name, detail:
                "\(signs.count) bytes of sign bits, expected \(rows * words * 8) for \(rows)×⌈\(k)/64⌉ words")
        }
        guard alphaIn.count == rows, muIn.count == rows else {
            throw BinaryMatrixError.shape(matrix: name, detail:
                "\(alphaIn.count) α and \(muIn.count) μ values for \(rows) rows")
        }
        self.name = name
        self.rows = rows
        self.k = k
        wordsPerRow = words

        bits = alignedAllocate(UInt64.self, count: rows * words)
        UnsafeMutableRawPointer(bits).copyMemory(from: signs.baseAddress!, byteCount: signs.count)
        alpha = alignedAllocate(Float.self, count: rows)
        mu = alignedAllocate(Float.self, count: rows)
        alpha.update(from: alphaIn, count: rows)
        mu.update(from: muIn, count: rows)
        hasInterleavedRows = variants.contains { $0.usesInterleavedRows }
        bits8 = hasInterleavedRows ? alignedAllocate(UInt64.self, count: (rows + 7) / 8 * 8 * words) : nil
        hasNibbleRows = variants.contains { $0.usesNibbleRows }
        nibbles = hasNibbleRows ? alignedAllocate(UInt64.self, count: (rows + 15) / 16 * 16 * words) : nil

        let salientEntries = salient?.count ?? 0
        salientCount = salientEntries
        sparseStart = alignedAllocate(UInt32.self, count: rows + 1)
        sparseColumns = alignedAllocate(UInt16.self, count: salientEntries)
        sparseCoefficients = alignedAllocate(UInt16.self, count: salientEntries)
        cMatrix = .allocate(capacity: 1)
        cSparse = .allocate(capacity: 1)

        // Every stored pointer exists from here on, so deinit may run if a check below throws.
        if k % 64 != 0 {
            let padding = ~UInt64(0) << UInt64(k % 64)
            for i in 0..<rows where bits[i * words + words - 1] & padding != 0 {
                throw BinaryMatrixError.paddingBits(matrix: name, row: i)
            }
        }
        if let bits8 { pb_interleave8(bits, Int64(rows), Int64(words), bits8) }
        if let nibbles { pb_interleave_nibbles(bits, Int64(rows), Int64(words), nibbles) }
        if let salient {
            try fillSparse(salient)
            // The one-vector SIMD paths read the entries by 16 rows (ELL).
            let slots = Int(pb_sparse_ell_slots(sparseStart, Int64(rows)))
            let start = alignedAllocate(UInt32.self, count: (rows + 15) / 16 + 1)
            let columns = alignedAllocate(UInt16.self, count: slots * 16)
            let coefficients = alignedAllocate(UInt16.self, count: slots * 16)
            pb_sparse_fill_ell(sparseStart, sparseColumns, sparseCoefficients, Int64(rows), start, columns, coefficients)
            (ellStart, ellColumns, ellCoefficients) = (start, columns, coefficients)
        }

        cMatrix.initialize(to: pb_matrix(rows: Int64(rows), k: Int64(k), words: Int64(words), bits: bits,
                                         bits8: bits8, nibbles: nibbles, alpha: alpha, mu: mu))
        cSparse.initialize(to: pb_sparse(rows: Int64(rows), k: Int64(k), start: sparseStart, col: sparseColumns,
                                         coef: sparseCoefficients, ell_start: ellStart, ell_col: ellColumns,
                                         ell_coef: ellCoefficients))
    }

    /// Convenience over an array of sign words (tests, converters).
    public convenience init(name: String = "binary matrix", rows: Int, k: Int, signs: [UInt64],
                            alpha: [Float], mu: [Float], salient: SalientWeights? = nil,
                            variants: [KernelVariant] = [KernelVariant.best]) throws {
        // self.init cannot run inside withUnsafeBytes, so lend the words through a temporary copy.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, signs.count * 8), alignment: 8)
        defer { raw.deallocate() }
        signs.withUnsafeBytes { raw.copyMemory(from: $0) }
        try self.init(name: name, rows: rows, k: k, signs: UnsafeRawBufferPointer(rebasing: raw[0..<(signs.count * 8)]),
                      alpha: alpha, mu: mu, salient: salient, variants: variants)
    }

    deinit {
        for p in [UnsafeMutableRawPointer(bits), UnsafeMutableRawPointer(alpha), UnsafeMutableRawPointer(mu),
                  UnsafeMutableRawPointer(sparseStart),
                  UnsafeMutableRawPointer(sparseColumns), UnsafeMutableRawPointer(sparseCoefficients)] {
            p.deallocate()
        }
        bits8.map { UnsafeMutableRawPointer($0).deallocate() }
        nibbles.map { UnsafeMutableRawPointer($0).deallocate() }
        ellStart.map { UnsafeMutableRawPointer($0).deallocate() }
        ellColumns.map { UnsafeMutableRawPointer($0).deallocate() }
        ellCoefficients.map { UnsafeMutableRawPointer($0).deallocate() }
        cMatrix.deallocate()
        cSparse.deallocate()
    }

    /// Validates the CSR structure and stores cᵢⱼ = ŵᵢⱼ − μᵢ − αᵢ·sᵢⱼ as float16.
    private func fillSparse(_ s: SalientWeights) throws {
        guard s.rows == rows, s.start.count == rows + 1, s.start.first == 0,
              Int(s.start[rows]) == s.values.count, s.columns.count == s.values.count else {
            throw BinaryMatrixError.salient(matrix: name, detail:
                "CSR of \(s.rows) rows with \(s.start.count) offsets, \(s.columns.count) columns and "
                    + "\(s.values.count) values does not describe \(rows) rows")
        }
        var corrections = [Float](repeating: 0, count: s.values.count)
        for i in 0..<rows {
            let lo = Int(s.start[i]), hi = Int(s.start[i + 1])
            guard lo <= hi else {
                throw BinaryMatrixError.salient(matrix: name, detail: "row offsets decrease at row \(i)")
            }
            for e in lo..<hi {
                let j = Int(s.columns[e])
                guard j < k else {
                    throw BinaryMatrixError.salient(matrix: name, detail: "salient column \(j) in row \(i) ≥ K = \(k)")
                }
                let sign: Float = (bits[i * wordsPerRow + j / 64] >> UInt64(j % 64)) & 1 == 1 ? 1 : -1
                corrections[e] = s.values[e] - mu[i] - alpha[i] * sign
                sparseColumns[e] = UInt16(j)
            }
        }
        // Batch conversion (F16C where available; Swift's Float16(_:) is a library call on baseline x86-64).
        pb_floats_to_halves(corrections, Int64(corrections.count), sparseCoefficients)
        for e in 0..<corrections.count where sparseCoefficients[e] & 0x7c00 == 0x7c00 {
            let i = s.start.lastIndex { Int($0) <= e }!
            throw BinaryMatrixError.salient(matrix: name, detail:
                "correction \(corrections[e]) at row \(i), column \(s.columns[e]) overflows float16")
        }
        for i in 0...rows { sparseStart[i] = s.start[i] }
    }

    /// Whether `variant` can run on this matrix on this CPU.
    public func supports(_ variant: KernelVariant) -> Bool {
        variant.available && (hasInterleavedRows || !variant.usesInterleavedRows)
            && (hasNibbleRows || !variant.usesNibbleRows)
    }

    /// The work of one vector in `ThreadPool.minimumParallelWork` units: a salient entry costs
    /// about 20 sign-bit weights.
    public var parallelWork: Int { rows * k + 20 * salientCount }

    /// Bytes of weight data the kernels stream per product (sign bits, α, μ, salient entries).
    public var weightBytes: Int { rows * wordsPerRow * 8 + rows * 8 + salientCount * 4 }

    /// y[i] = row i · x for i in `rows` (default all), for vector `token` of `a`. Other entries of y
    /// are not touched. No allocation. A whole-matrix product large enough
    /// (`ThreadPool.minimumParallelWork`) is split over `pool` at multiples of the variant's row
    /// block; a call naming `rows` runs on the calling thread.
    public func gemv(_ a: BinaryActivations, _ y: UnsafeMutablePointer<Float>, rows range: Range<Int>? = nil,
                     token: Int = 0, variant: KernelVariant = .best, pool: ThreadPool? = ThreadPool.shared) {
        precondition(token >= 0 && token < a.tokens, "token \(token) not prepared (\(a.tokens) vectors)")
        ThreadPool.forEachRowRange(rows: rows, range, work: parallelWork, block: variant.rowBlock, pool: pool) {
            run(a, tokens: token..<(token + 1), y, ldy: rows, $0, variant)
        }
    }

    /// y[t·ldy + i] = row i · xₜ for every prepared vector t of `a` and i in `rows`: the prefill
    /// product. Each block of rows is reused across all vectors while it sits in L1. The dense part
    /// equals `gemv` token by token, bit for bit; the salient correction runs over the vectors at
    /// once (from the transposed copy) and equals gemv's up to float summation order.
    public func gemm(_ a: BinaryActivations, _ y: UnsafeMutablePointer<Float>, ldy: Int,
                     rows range: Range<Int>? = nil, variant: KernelVariant = .best, pool: ThreadPool? = ThreadPool.shared) {
        precondition(ldy >= rows, "ldy \(ldy) < rows \(rows)")
        ThreadPool.forEachRowRange(rows: rows, range, work: parallelWork * a.tokens, block: variant.rowBlock, pool: pool) {
            run(a, tokens: 0..<a.tokens, y, ldy: ldy, $0, variant)
        }
    }

    /// Prepares x in `scratch`, then `gemv`. With several threads on one input, prepare once and
    /// call the other `gemv` instead, so the vector is quantized once.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows range: Range<Int>? = nil,
                     scratch: BinaryActivations, variant: KernelVariant = .best, pool: ThreadPool? = ThreadPool.shared) {
        scratch.prepare(x, k: k, for: variant)
        gemv(scratch, y, rows: range, variant: variant, pool: pool)
    }

    private func run(_ a: BinaryActivations, tokens: Range<Int>, _ y: UnsafeMutablePointer<Float>, ldy: Int,
                     _ range: Range<Int>, _ variant: KernelVariant) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows) of \(name)")
        precondition(a.k == k, "activations of length \(a.k) for \(name) with K = \(k)")
        precondition(a.prepared.isSuperset(of: variant.needs), "activations not prepared for \(variant)")
        guard let kernel = variant.kernel else { preconditionFailure("\(variant) cannot run on this CPU") }
        precondition(supports(variant),
                     "\(name) was built without the interleaved rows \(variant) reads; pass it in `variants:`")
        if range.isEmpty { return }
        var acts = a.view(tokens)
        let r0 = Int64(range.lowerBound), r1 = Int64(range.upperBound)
        kernel(cMatrix, &acts, r0, r1, y, Int64(ldy))
        if salientCount > 0 {
            let sparse = pb_table_helpers(variant.isa)!.pointee.sparse!
            sparse(cSparse, acts.x, acts.stride, acts.xt, acts.ldxt, acts.count, r0, r1, y, Int64(ldy))
        }
    }
}
