import Foundation
import Kernels

/// Causal grouped-query attention of `tokens` new queries (positions start..<start+tokens) over
/// the keys and values of every position up to their own, held in one layer of the KV cache.
///
///     scoresₕ = Qₕ·Kₕᵀ · scale, masked causally (and to the last `window` positions)
///     outₕ    = softmax(scoresₕ)·Vₕ
///
/// Query head h reads kv head h / (heads / kvHeads).
public struct CausalAttention: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let scale: Float

    public init(heads: Int, kvHeads: Int, headDim: Int, scale: Float) {
        self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim; self.scale = scale
    }

    public func callAsFunction(queries q: UnsafePointer<Float>, tokens: Int, start: Int,
                        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, window: Int?,
                        scores: UnsafeMutablePointer<Float>, threads: Int,
                        into out: UnsafeMutablePointer<Float>) {
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        let length = start + tokens  // keys visible to the last query
        let group = heads / kvHeads
        for h in 0..<heads {
            let kvOffset = (h / group) * headDim
            // scores[tokens × length] = Qₕ · Kₕᵀ · scale
            BLAS.gemmABt(m: tokens, n: length, k: headDim, alpha: scale,
                         a: q + h * headDim, lda: qDim, b: keys + kvOffset, ldb: kvDim,
                         c: scores, ldc: length)
            if tokens == 1 && window == nil {
                FloatOps.softmax(scores, n: length)
            } else {
                Parallel.forEachChunk(tokens, threads: threads, minimumPerThread: 16) { rows in
                    for i in rows {
                        let row = scores + i * length
                        let last = start + i  // a query sees itself and what came before
                        let first = window.map { max(0, last - $0 + 1) } ?? 0
                        for j in 0..<first { row[j] = 0 }
                        FloatOps.softmax(row + first, n: last - first + 1)
                        for j in (last + 1)..<length { row[j] = 0 }
                    }
                }
            }
            // outₕ[tokens × headDim] = P · Vₕ
            BLAS.gemmAB(m: tokens, n: headDim, k: length, a: scores, lda: length,
                        b: values + kvOffset, ldb: kvDim, c: out + h * headDim, ldc: qDim)
        }
    }
}
