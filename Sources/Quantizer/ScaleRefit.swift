import Kernels

/// Refits the binary scales of a quantized layer once its signs are fixed. The signs s and salient
/// values come from GPTQ; the row parameters μ, α then have a closed form that minimises the
/// layer's output error on the calibration inputs, eᵀHe with e = w − ŵ, ŵ = μ·m + α·(s⊙m) + salient
/// (m the non-salient indicator):
///
///     [mᵀHm   mᵀHb] [μ]   [mᵀHr]
///     [bᵀHm   bᵀHb] [α] = [bᵀHr]      b = s⊙m,  r = w − salient part
///
/// GPTQ chose each weight given the ones before it; this pass finishes with the best scales for
/// the whole row at once. It never increases eᵀHe (the old μ, α are one candidate).
enum ScaleRefit {
    static func refit(codes: PBLayerCodes, original w: [Float], quantized q: inout [Float], salient: [Bool],
                      rows n: Int, columns k: Int, hessian: [Float], percentDamp: Double) -> PBLayerCodes {
        var h = hessian
        let meanDiagonal = (0..<k).reduce(Float(0)) { $0 + h[$1 * k + $1] } / Float(k)
        for j in 0..<k { h[j * k + j] += Float(percentDamp) * meanDiagonal }

        // Rows of m, b and r, then each times H (one GEMM apiece).
        var m = [Float](repeating: 0, count: n * k), b = m, r = m
        for i in 0..<n {
            for j in 0..<k {
                let x = i * k + j
                if salient[x] { r[x] = w[x] - q[x] } else {
                    m[x] = 1
                    b[x] = codes.signs[x] ? 1 : -1
                    r[x] = w[x]
                }
            }
        }
        func timesH(_ a: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n * k)
            a.withUnsafeBufferPointer { ap in h.withUnsafeBufferPointer { hp in out.withUnsafeMutableBufferPointer { op in
                BLAS.gemmAB(m: n, n: k, k: k, a: ap.baseAddress!, lda: k, b: hp.baseAddress!, ldb: k, c: op.baseAddress!, ldc: k)
            } } }
            return out
        }
        let hm = timesH(m), hb = timesH(b)
        var result = codes
        for i in 0..<n {
            var mm = 0.0, mb = 0.0, bb = 0.0, mr = 0.0, br = 0.0
            for j in 0..<k {
                let x = i * k + j
                mm += Double(m[x] * hm[x]); mb += Double(m[x] * hb[x]); bb += Double(b[x] * hb[x])
                mr += Double(r[x] * hm[x]); br += Double(r[x] * hb[x])
            }
            let det = mm * bb - mb * mb
            guard det > 1e-12 * max(mm * bb, 1e-30) else { continue }  // degenerate row: keep GPTQ's
            let mu = Float((mr * bb - br * mb) / det), alpha = Float((br * mm - mr * mb) / det)
            guard mu.isFinite, alpha.isFinite else { continue }
            result.mu[i] = mu
            result.alpha[i] = alpha
            for j in 0..<k where !salient[i * k + j] { q[i * k + j] = mu + alpha * b[i * k + j] }
        }
        return result
    }
}
