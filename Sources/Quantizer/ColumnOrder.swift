/// A layer's columns in another order (GPTQ's act-order) and back: column p of the permuted
/// matrix is column order[p] of the original.
enum ColumnOrder {
    static func permute<T>(_ w: [T], _ order: [Int]) -> [T] {
        let k = order.count
        return (0..<w.count).map { w[$0 / k * k + order[$0 % k]] }
    }

    /// P·H·Pᵀ for a K×K row-major H.
    static func permuteSymmetric(_ h: [Float], _ order: [Int]) -> [Float] {
        let k = order.count
        return (0..<(k * k)).map { h[order[$0 / k] * k + order[$0 % k]] }
    }

    static func restore<T>(_ w: [T], _ order: [Int]) -> [T] {
        let k = order.count
        var out = w
        for x in w.indices { out[x / k * k + order[x % k]] = w[x] }
        return out
    }

    /// A layer quantized in permuted column order, with every per-weight array put back.
    static func restore(_ q: QuantizedLayer, _ order: [Int]) -> QuantizedLayer {
        var out = q
        out.values = restore(q.values, order)
        out.salient = restore(q.salient, order)
        if var codes = q.packed {
            codes.signs = restore(codes.signs, order)
            codes.salientCodes = restore(codes.salientCodes, order)
            out.packed = codes
        }
        return out
    }
}
