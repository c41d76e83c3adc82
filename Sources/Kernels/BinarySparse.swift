/// The salient weights of a partially-binarized matrix in CSR form: row i's salient weights are
/// `values[start[i]..<start[i+1]]` at columns `columns[…]` (ascending within a row).
///
/// `BinaryMatrix` turns them into correction coefficients cᵢⱼ = ŵᵢⱼ − μᵢ − αᵢ·sᵢⱼ (the sign bit is
/// stored at salient positions too) kept as float16 beside uint16 columns: 4 bytes per salient
/// weight, K ≤ 65536. float16 keeps 11 significant bits, finer than the 8-bit salient values.
public struct SalientWeights: Sendable {
    public var rows: Int
    public var start: [UInt32]     // rows + 1
    public var columns: [UInt16]
    public var values: [Float]     // the dequantized salient weights ŵᵢⱼ

    public init(rows: Int, start: [UInt32], columns: [UInt16], values: [Float]) {
        self.rows = rows
        self.start = start
        self.columns = columns
        self.values = values
    }

    /// Decodes the `.pbllm` `pb` encoding's salient parts (formats/pbllm.md): per-row, per-256-column
    /// block counts, in-block column offsets, and 8-bit values ŵ = σᵢ·(q − zᵢ).
    public init(rows: Int, k: Int, blockCounts: UnsafeBufferPointer<UInt16>,
                offsets: UnsafeBufferPointer<UInt8>, q: UnsafeBufferPointer<UInt8>,
                scale: UnsafeBufferPointer<Float>, zero: UnsafeBufferPointer<Float>) throws {
        let blocks = (k + 255) / 256
        guard blockCounts.count == rows * blocks, scale.count == rows, zero.count == rows,
              offsets.count == q.count else {
            throw BinaryMatrixError.salientShape(
                "salient parts disagree: \(blockCounts.count) block counts for \(rows)×\(blocks) blocks, "
                    + "\(scale.count) scales and \(zero.count) zeros for \(rows) rows, "
                    + "\(offsets.count) offsets for \(q.count) values")
        }
        var start: [UInt32] = [0]
        var columns: [UInt16] = []
        var values: [Float] = []
        start.reserveCapacity(rows + 1)
        columns.reserveCapacity(q.count)
        values.reserveCapacity(q.count)
        var e = 0
        for i in 0..<rows {
            for b in 0..<blocks {
                let n = Int(blockCounts[i * blocks + b])
                guard e + n <= q.count else {
                    throw BinaryMatrixError.salientShape(
                        "salient counts of row \(i) run past the \(q.count) stored values")
                }
                for _ in 0..<n {
                    let col = b * 256 + Int(offsets[e])
                    guard col < k else {
                        throw BinaryMatrixError.salientShape("salient column \(col) of row \(i) ≥ K = \(k)")
                    }
                    columns.append(UInt16(col))
                    values.append(scale[i] * (Float(q[e]) - zero[i]))
                    e += 1
                }
            }
            start.append(UInt32(e))
        }
        guard e == q.count else {
            throw BinaryMatrixError.salientShape("salient counts add up to \(e), but \(q.count) values are stored")
        }
        self.init(rows: rows, start: start, columns: columns, values: values)
    }

    public var count: Int { values.count }
}
