/// The hyperparameters of a decoder-only transformer, as a model file states them.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String      // "llama", "gemma3", …
    public var dim: Int                  // hidden size d
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int          // < headCount: grouped-query attention
    public var headDim: Int
    public var ffnDim: Int
    public var vocabularySize: Int
    public var contextLength: Int        // the longest context the model was trained for
    public var normEps: Float
    public var rope: RopeConfig
    /// Per layer: attend only to the last `window` positions (sliding-window layers), or nil.
    public var slidingWindow: [Int?]
    /// Per layer: the RoPE of that layer (local layers of Gemma 3 use their own base).
    public var layerRope: [RopeConfig]

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }
}

/// Rotary position embedding of one layer.
public struct RopeConfig: Sendable, Equatable {
    public enum Pairing: Sendable { case adjacent, halves }  // (2i, 2i+1) as llama.cpp stores Llama; (i, i+d/2) NeoX/Gemma
    public var base: Float
    public var dimensions: Int           // how many leading dims of a head rotate
    public var pairing: Pairing
    public var linearScale: Float = 1    // positions are divided by this ("linear" scaling)
    public var frequencyFactors: [Float]? = nil  // per-pair divisors (llama3-style rope_freqs)

    public init(base: Float, dimensions: Int, pairing: Pairing, linearScale: Float = 1, frequencyFactors: [Float]? = nil) {
        self.base = base
        self.dimensions = dimensions
        self.pairing = pairing
        self.linearScale = linearScale
        self.frequencyFactors = frequencyFactors
    }
}
