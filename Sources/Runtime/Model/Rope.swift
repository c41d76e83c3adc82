import Foundation

/// Rotary position embedding: cos/sin of every (position, pair) precomputed once per config.
public final class RotaryEmbedding: @unchecked Sendable {
    public let config: RopeConfig
    public let headDim: Int
    private let pairs: Int
    private let cosines: FloatBuffer  // maxPositions × pairs
    private let sines: FloatBuffer

    public init(_ config: RopeConfig, headDim: Int, maxPositions: Int) {
        self.config = config
        self.headDim = headDim
        pairs = config.dimensions / 2
        cosines = FloatBuffer(count: maxPositions * pairs)
        sines = FloatBuffer(count: maxPositions * pairs)
        for i in 0..<pairs {
            // θᵢ = base^(−2i/d), divided by a per-pair factor when the model ships one.
            var theta = pow(Double(config.base), -2 * Double(i) / Double(config.dimensions))
            if let factors = config.frequencyFactors { theta /= Double(factors[i]) }
            for p in 0..<maxPositions {
                let angle = Double(p) / Double(config.linearScale) * theta
                cosines.pointer[p * pairs + i] = Float(cos(angle))
                sines.pointer[p * pairs + i] = Float(sin(angle))
            }
        }
    }

    public var maxPositions: Int { cosines.count / max(pairs, 1) }

    /// Rotates `heads` consecutive heads of one token at `position`, in place.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let c = cosines.pointer + position * pairs, s = sines.pointer + position * pairs
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<pairs {
                // Which two elements form pair i depends on how the checkpoint laid out the head.
                let (a, b) = config.pairing == .adjacent ? (2 * i, 2 * i + 1) : (i, i + config.dimensions / 2)
                let x0 = v[a], x1 = v[b]
                v[a] = x0 * c[i] - x1 * s[i]
                v[b] = x0 * s[i] + x1 * c[i]
            }
        }
    }
}
