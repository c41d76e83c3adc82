import Kernels

/// A linear layer y = W·x, applied to `tokens` input rows at once (x: tokens×inFeatures,
/// y: tokens×outFeatures, both row-major). Model code only ever calls this; how the weights are
/// stored (float, sign bits, …) is the layer's business.
public protocol LinearLayer: AnyObject, Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    func forward(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>)
}

/// Float32 weights, one output row per line, multiplied through OpenBLAS.
public final class FloatLinear: LinearLayer, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weights: FloatBuffer  // outFeatures × inFeatures

    public init(weights: FloatBuffer, outFeatures: Int, inFeatures: Int) {
        precondition(weights.count == outFeatures * inFeatures)
        self.weights = weights
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
    }

    public func forward(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        BLAS.gemmABt(m: tokens, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                     b: weights.pointer, ldb: inFeatures, c: y, ldc: outFeatures)
    }
}
