import Foundation

/// Element-wise and row-wise float operations of a transformer block. Plain loops over
/// unsafe pointers: the compiler vectorises them, and none of them dominates the run time.
public enum FloatOps {
    /// out = x / rms(x) · (weightOffset + w), over one row of n values (RMSNorm).
    /// Gemma stores its norm weights so that the scale is 1 + w; Llama uses w itself.
    @inlinable
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, n: Int, eps: Float,
                               weightOffset: Float = 0, into out: UnsafeMutablePointer<Float>) {
        var sumSquares: Float = 0
        for i in 0..<n { sumSquares += x[i] * x[i] }
        let scale = 1 / (sumSquares / Float(n) + eps).squareRoot()
        for i in 0..<n { out[i] = x[i] * scale * (weightOffset + w[i]) }
    }

    /// RMSNorm of `rows` consecutive rows of `width` values each, with one weight vector.
    @inlinable
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, rows: Int, width: Int, eps: Float,
                               into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { rmsNorm(x + r * width, w, n: width, eps: eps, into: out + r * width) }
    }

    /// In-place softmax over n values; returns nothing, leaves probabilities summing to 1.
    @inlinable
    public static func softmax(_ x: UnsafeMutablePointer<Float>, n: Int) {
        var maxValue = -Float.infinity
        for i in 0..<n where x[i] > maxValue { maxValue = x[i] }
        var sum: Float = 0
        for i in 0..<n { let e = expf(x[i] - maxValue); x[i] = e; sum += e }
        let inv = 1 / sum
        for i in 0..<n { x[i] *= inv }
    }

    /// log Σ exp(x) over n values, computed stably (for perplexity).
    @inlinable
    public static func logSumExp(_ x: UnsafePointer<Float>, n: Int) -> Double {
        var maxValue = -Float.infinity
        for i in 0..<n where x[i] > maxValue { maxValue = x[i] }
        var sum: Double = 0
        for i in 0..<n { sum += Double(expf(x[i] - maxValue)) }
        return Double(maxValue) + log(sum)
    }

    /// gate = silu(gate) · up  (SwiGLU), in place in gate.
    @inlinable
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, n: Int) {
        for i in 0..<n {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// gate = gelu_tanh(gate) · up  (GeGLU with the tanh approximation of GELU), in place.
    @inlinable
    public static func geglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, n: Int) {
        let c: Float = 0.7978845608028654  // √(2/π)
        for i in 0..<n {
            let g = gate[i]
            gate[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
        }
    }

    /// y += x, n values.
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// x *= s, n values.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, n: Int) {
        for i in 0..<n { x[i] *= s }
    }
}
