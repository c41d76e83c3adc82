/// One partially-binarized linear layer (N rows × K columns) in the file's canonical layout
/// (formats/pbllm.md, encoding `pb`):
///
///     non-salient  ŵᵢⱼ = μᵢ + αᵢ·sᵢⱼ
///     salient      ŵᵢⱼ = σᵢ·(qᵢⱼ − zᵢ)
///     and, when the layer has column scales, every ŵᵢⱼ times cⱼ
///
/// with a sign bit stored for every weight and salient positions as per-256-column-block counts
/// plus in-block offsets.
public struct PBLayer: Sendable, Equatable {
    public static let blockColumns = 256

    public let rows: Int
    public let columns: Int
    public var highBit: Int
    public var signs: [UInt64]            // rows × wordsPerRow
    public var alpha: [Float]             // rows
    public var mu: [Float]                // rows
    public var salientCounts: [UInt16]    // rows × blocksPerRow
    public var salientOffsets: [UInt8]    // nnz
    public var salientQ: [UInt8]          // nnz
    public var salientScale: [Float]      // rows
    public var salientZero: [Float]       // rows
    public var columnScale: [Float]?      // columns, optional; stored as float16

    public var wordsPerRow: Int { (columns + 63) / 64 }
    public var blocksPerRow: Int { (columns + Self.blockColumns - 1) / Self.blockColumns }
    public var salientCount: Int { salientQ.count }

    public init(rows: Int, columns: Int, highBit: Int) {
        self.rows = rows
        self.columns = columns
        self.highBit = highBit
        signs = Array(repeating: 0, count: rows * ((columns + 63) / 64))
        alpha = Array(repeating: 0, count: rows)
        mu = Array(repeating: 0, count: rows)
        salientCounts = Array(repeating: 0, count: rows * ((columns + Self.blockColumns - 1) / Self.blockColumns))
        salientOffsets = []
        salientQ = []
        salientScale = Array(repeating: 0, count: rows)
        salientZero = Array(repeating: 0, count: rows)
    }

    /// sᵢⱼ as ±1.
    @inlinable
    public func sign(row: Int, column j: Int) -> Float {
        (signs[row * wordsPerRow + j / 64] >> UInt64(j % 64)) & 1 == 1 ? 1 : -1
    }

    /// Calls `body(column, q)` for each salient weight of `row`, columns ascending. `start` is the
    /// index of the row's first salient entry (the sum of the counts of earlier rows).
    @inlinable
    public func forEachSalient(row: Int, start: Int, _ body: (Int, UInt8) -> Void) -> Int {
        forEachSalientPosition(row: row, start: start) { j, index in body(j, salientQ[index]) }
    }

    /// Calls `body(column, index)` for each salient position of `row` from the counts and offsets
    /// alone (the codes are not read); returns the index after the row's last entry.
    @inlinable
    public func forEachSalientPosition(row: Int, start: Int, _ body: (Int, Int) -> Void) -> Int {
        var index = start
        for b in 0..<blocksPerRow {
            for _ in 0..<Int(salientCounts[row * blocksPerRow + b]) {
                body(b * Self.blockColumns + Int(salientOffsets[index]), index)
                index += 1
            }
        }
        return index
    }

    /// The parts of encoding `pb` or `pbz`, named as formats/pbllm.md names them.
    public func parts(_ encoding: PBEncoding) -> [(String, [UInt8])] {
        precondition(encoding.isPB)
        let positions = encoding == .pbz ? [("salient_bitmap", SalientBitmap.compress(self))]
            : [("salient_counts", salientCounts.littleEndianBytes), ("salient_offsets", salientOffsets)]
        return [("signs", signs.littleEndianBytes), ("alpha", alpha.littleEndianBytes), ("mu", mu.littleEndianBytes)]
            + positions
            + [("salient_q", encoding == .pbz ? SalientValues.pack(salientQ, bits: highBit) : salientQ),
               ("salient_scale", salientScale.littleEndianBytes),
               ("salient_zero", salientZero.littleEndianBytes)]
            + (columnScale.map { [("column_scale", $0.map { Float16($0).bitPattern }.littleEndianBytes)] } ?? [])
    }

    /// ŵ as floats, row-major: the reference decode every kernel is checked against.
    public func dequantized() -> [Float] {
        var w = [Float](repeating: 0, count: rows * columns)
        var next = 0
        for i in 0..<rows {
            for j in 0..<columns { w[i * columns + j] = mu[i] + alpha[i] * sign(row: i, column: j) }
            next = forEachSalient(row: i, start: next) { j, q in
                w[i * columns + j] = salientScale[i] * (Float(q) - salientZero[i])
            }
            if let c = columnScale { for j in 0..<columns { w[i * columns + j] *= c[j] } }
        }
        return w
    }

    /// Checks the internal consistency a file cannot be trusted to have; nil when fine.
    public func validationError() -> String? {
        if signs.count != rows * wordsPerRow { return "signs hold \(signs.count) words, expected \(rows * wordsPerRow)" }
        if alpha.count != rows || mu.count != rows || salientScale.count != rows || salientZero.count != rows {
            return "per-row scales do not have one value per row"
        }
        if let c = columnScale, c.count != columns || !c.allSatisfy({ $0 > 0 && $0.isFinite }) {
            return "column scales are not \(columns) positive finite values"
        }
        if salientCounts.count != rows * blocksPerRow { return "salient counts have the wrong length" }
        if !(1...8).contains(highBit) { return "high_bit \(highBit) is outside 1...8" }
        let total = salientCounts.reduce(0) { $0 + Int($1) }
        if total != salientOffsets.count || total != salientQ.count { return "salient counts sum to \(total), but \(salientQ.count) values are stored" }
        var index = 0
        for i in 0..<rows {
            for b in 0..<blocksPerRow {
                let width = min(Self.blockColumns, columns - b * Self.blockColumns)
                var previous = -1
                for _ in 0..<Int(salientCounts[i * blocksPerRow + b]) {
                    let offset = Int(salientOffsets[index])
                    if offset >= width || offset <= previous { return "row \(i) block \(b): salient offsets not ascending within the block" }
                    if Int(salientQ[index]) >= 1 << highBit { return "row \(i): salient value above 2^high_bit − 1" }
                    previous = offset
                    index += 1
                }
            }
        }
        // Padding bits past the last column must be zero (the kernels rely on it).
        if columns % 64 != 0 {
            let mask = ~UInt64(0) << UInt64(columns % 64)
            for i in 0..<rows where signs[i * wordsPerRow + wordsPerRow - 1] & mask != 0 {
                return "row \(i): sign padding bits are not zero"
            }
        }
        return nil
    }
}
