/// Chooses the salient weights of a layer: within each group of columns, the (1 − low_frac)
/// share with the highest saliency, as PB-LLM does (a threshold at the low_frac quantile).
enum SalientMask {
    /// `saliency`: N×K row-major scores. Returns N×K flags, true where the weight is salient.
    static func select(saliency: [Float], rows: Int, columns: Int, lowFraction: Double, groupSize: Int,
                       unit: QuantSettings.SalientUnit = .weight) -> [Bool] {
        var mask = [Bool](repeating: false, count: rows * columns)
        for groupStart in stride(from: 0, to: columns, by: groupSize) {
            let groupEnd = min(groupStart + groupSize, columns)
            if unit == .column {
                // The (1 − low_frac) share of the group's columns with the largest total saliency.
                let total = (groupStart..<groupEnd).map { j in (0..<rows).reduce(0.0) { $0 + Double(saliency[$1 * columns + j]) } }
                let count = Int((Double(groupEnd - groupStart) * (1 - lowFraction)).rounded())
                for c in total.indices.sorted(by: { total[$0] > total[$1] }).prefix(count) {
                    for i in 0..<rows { mask[i * columns + groupStart + c] = true }
                }
                continue
            }
            var scores: [Float] = []
            scores.reserveCapacity(rows * (groupEnd - groupStart))
            for i in 0..<rows { scores += saliency[(i * columns + groupStart)..<(i * columns + groupEnd)] }
            let index = Int(Double(scores.count) * lowFraction)
            guard index < scores.count else { continue }  // low_frac 1: nothing salient
            scores.sort()
            let threshold = scores[index]
            // Like PB-LLM: weights at or below the threshold are binarized, the rest are salient.
            for i in 0..<rows {
                for j in groupStart..<groupEnd where saliency[i * columns + j] > threshold {
                    mask[i * columns + j] = true
                }
            }
        }
        return mask
    }

    static func magnitude(_ w: [Float]) -> [Float] { w.map(abs) }

    /// (|wᵢⱼ − μᵢ| − αᵢ)² / dⱼ²: the Hessian-weighted error binarizing the weight would cost, with
    /// the row's xnor levels μ ± α taken over all its weights.
    static func binarizationError(_ w: [Float], rows: Int, columns: Int, inverseCholeskyDiagonal d: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: w.count)
        for i in 0..<rows {
            let row = w[(i * columns)..<((i + 1) * columns)]
            let mu = row.reduce(0, +) / Float(columns)
            let alpha = row.reduce(0) { $0 + abs($1 - mu) } / Float(columns)
            for j in 0..<columns {
                let e = abs(w[i * columns + j] - mu) - alpha
                out[i * columns + j] = e * e / (d[j] * d[j])
            }
        }
        return out
    }

    /// w²ᵢⱼ / dⱼ², d the diagonal of the upper Cholesky factor of H⁻¹.
    static func hessian(_ w: [Float], columns: Int, inverseCholeskyDiagonal d: [Float]) -> [Float] {
        w.indices.map { let x = w[$0], dj = d[$0 % columns]; return x * x / (dj * dj) }
    }
}
