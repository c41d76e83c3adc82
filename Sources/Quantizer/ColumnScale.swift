/// Per-input-column scales for binarization (`--column-scale`, our addition to PB-LLM).
///
/// One scale per row (α) cannot follow weights whose magnitude varies along the row. With a scale
/// cⱼ per input column the binarized matrix is W·diag(1/c):
///
///     ŵᵢⱼ = cⱼ·(μᵢ + αᵢ·sᵢⱼ),    W·x ≈ Ŵ′·(c ⊙ x)
///
/// c is a rank-one fit |wᵢⱼ − μᵢ| ≈ aᵢ·cⱼ, so the rows of W·diag(1/c) have even magnitude. The file
/// stores c with the layer (part `column_scale`, float16); the runtime scales the input before the kernels.
/// (Sharing one c among the matrices that read one input would fold it into the norm gains and
/// v/up rows for free, but keeps only an eighth of the gain: SmolLM2, GPTQ-PB, error saliency,
/// 10% salient, perplexity 259.2 without c, 253.0 shared, 206.2 per matrix.)
enum ColumnScale {
    /// The rank-one fit of the N×K row-major `w` by power iteration. Returns c with mean 1,
    /// floored at 1% so that no column is divided by ~0, rounded to float16 as the file stores it.
    static func fit(_ w: [Float], rows: Int, columns k: Int, iterations: Int = 8) -> [Float] {
        var m = [Float](repeating: 0, count: w.count)  // |w − μ|, μ the row mean
        for i in 0..<rows {
            let mu = w[(i * k)..<((i + 1) * k)].reduce(0, +) / Float(k)
            for j in 0..<k { m[i * k + j] = abs(w[i * k + j] - mu) }
        }
        var c = [Float](repeating: 1, count: k), a = [Float](repeating: 0, count: rows)
        for _ in 0..<iterations {
            // a = M·c / |c|², then c = Mᵀ·a / |a|².
            let cc = c.reduce(0) { $0 + $1 * $1 }
            for i in 0..<rows { var s: Float = 0; for j in 0..<k { s += m[i * k + j] * c[j] }; a[i] = s / cc }
            let aa = a.reduce(0) { $0 + $1 * $1 }
            c = Array(repeating: 0, count: k)
            for i in 0..<rows { for j in 0..<k { c[j] += m[i * k + j] * a[i] } }
            for j in 0..<k { c[j] /= aa }
        }
        let mean = c.reduce(0, +) / Float(k)
        guard mean > 0, mean.isFinite else { return Array(repeating: 1, count: k) }
        return c.map { Float(Float16(max($0 / mean, 0.01))) }
    }

    /// W·diag(scale): column j of the N×K row-major `w` times scale[j].
    static func scalingColumns(_ w: [Float], by scale: [Float]) -> [Float] {
        var out = w
        let k = scale.count
        for row in stride(from: 0, to: w.count, by: k) { for j in 0..<k { out[row + j] *= scale[j] } }
        return out
    }

    /// diag(c)·H·diag(c): the Hessian of the inputs c ⊙ x.
    static func congruence(_ h: [Float], _ c: [Float]) -> [Float] {
        let k = c.count
        var out = h
        for i in 0..<k { for j in 0..<k { out[i * k + j] *= c[i] * c[j] } }
        return out
    }
}
