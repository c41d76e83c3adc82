import Kernels
import Runtime

/// Calibration text cut into windows, as GPTQ draws them: `samples` windows of `length` tokens
/// starting at positions drawn uniformly (seeded) from the tokenized text.
public struct CalibrationSet: Sendable {
    public let windows: [[Int]]
    public let seed: UInt64

    public init(tokens: [Int], samples: Int, length: Int, seed: UInt64) throws {
        guard samples > 0, length > 0 else { throw QuantizerError.invalidSetting("--nsamples and --seqlen must be positive") }
        guard tokens.count > length else {
            throw QuantizerError.invalidSetting("the calibration text has \(tokens.count) tokens; --seqlen \(length) needs more")
        }
        var random = SeededRandom(seed: seed)
        windows = (0..<samples).map { _ in
            let start = Int(random.next() % UInt64(tokens.count - length))
            return Array(tokens[start..<(start + length)])
        }
        self.seed = seed
    }
}

/// Running H = 2/n · Σ x·xᵀ over the inputs of one linear layer (n = samples seen, as GPTQ
/// counts them), accumulated with one rank-k update per sample.
public final class HessianAccumulator {
    let columns: Int
    private(set) var samples = 0
    private var sum: [Float]  // Σ x·xᵀ, K×K (upper triangle filled by syrk; mirrored on read)

    public init(columns: Int) {
        self.columns = columns
        sum = Array(repeating: 0, count: columns * columns)
    }

    /// Adds one sample's T×K inputs.
    public func add(_ x: UnsafePointer<Float>, tokens: Int) {
        sum.withUnsafeMutableBufferPointer { s in
            BLAS.syrkAtA(n: columns, k: tokens, a: x, lda: columns, c: s.baseAddress!, ldc: columns)
        }
        samples += 1
    }

    /// H as a full symmetric K×K matrix.
    public var hessian: [Float] {
        let k = columns, scale = 2 / Float(max(samples, 1))
        var h = sum
        for i in 0..<k {
            for j in i..<k {
                let v = sum[i * k + j] * scale
                h[i * k + j] = v
                h[j * k + i] = v
            }
        }
        return h
    }
}
