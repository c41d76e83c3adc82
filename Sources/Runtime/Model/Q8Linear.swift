import Kernels

/// An 8-bit linear layer (encoding `q8`: ŵᵢⱼ = scaleᵢ·qᵢⱼ), for the output head of a .pbllm file:
/// int8 weights against int8 activations, a quarter of the float head's memory traffic.
public final class Q8Linear: LinearLayer, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    let matrix: Q8Matrix
    let activations: BinaryActivations

    init(matrix: Q8Matrix, activations: BinaryActivations) {
        self.matrix = matrix
        self.activations = activations
        inFeatures = matrix.k
        outFeatures = matrix.rows
    }

    public func forward(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        var start = 0
        while start < tokens {
            let n = min(activations.maxTokens, tokens - start)
            activations.prepare(x + start * inFeatures, k: inFeatures, tokens: n, needs: .bytes)
            if n == 1 {
                matrix.gemv(activations, y + start * outFeatures)
            } else {
                matrix.gemm(activations, y + start * outFeatures, ldy: outFeatures)
            }
            start += n
        }
    }
}
