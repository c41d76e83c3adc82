import Kernels
import PBFormat

/// A partially-binarized linear layer running on the sign-bit kernels:
///     yᵢ = μᵢ·Σⱼxⱼ + αᵢ·Σⱼ sᵢⱼxⱼ + Σ_{j salient} cᵢⱼ·xⱼ
/// (x scaled column by column first when the layer has column scales).
/// Activations are prepared once per call (int8 for the integer kernels) in scratch shared by all
/// layers of the same input width; prompts run through the batched kernel in chunks.
public final class PBLinear: LinearLayer, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    let matrix: BinaryMatrix
    let variant: KernelVariant
    let activations: BinaryActivations
    let columnScale: [Float]?

    init(name: String, layer: PBLayer, variant: KernelVariant, activations: BinaryActivations) throws {
        inFeatures = layer.columns
        outFeatures = layer.rows
        self.variant = variant
        self.activations = activations
        columnScale = layer.columnScale
        let salient = try layer.salientCounts.withUnsafeBufferPointer { counts in
            try layer.salientOffsets.withUnsafeBufferPointer { offsets in
                try layer.salientQ.withUnsafeBufferPointer { q in
                    try layer.salientScale.withUnsafeBufferPointer { scale in
                        try layer.salientZero.withUnsafeBufferPointer { zero in
                            try SalientWeights(rows: layer.rows, k: layer.columns, blockCounts: counts, offsets: offsets,
                                               q: q, scale: scale, zero: zero)
                        }
                    }
                }
            }
        }
        matrix = try layer.signs.withUnsafeBytes { signs in
            try BinaryMatrix(name: name, rows: layer.rows, k: layer.columns, signs: signs, alpha: layer.alpha,
                             mu: layer.mu, salient: salient.count > 0 ? salient : nil, variants: [variant])
        }
    }

    public func forward(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        var start = 0
        while start < tokens {
            let n = min(activations.maxTokens, tokens - start)
            if let columnScale {
                activations.prepare(x + start * inFeatures, k: inFeatures, tokens: n, columnScale: columnScale, for: variant)
            } else {
                activations.prepare(x + start * inFeatures, k: inFeatures, tokens: n, for: variant)
            }
            if n == 1 {
                matrix.gemv(activations, y + start * outFeatures, variant: variant)
            } else {
                matrix.gemm(activations, y + start * outFeatures, ldy: outFeatures, variant: variant)
            }
            start += n
        }
    }
}
