import GGUF

/// Reads hyperparameters from GGUF metadata, whose keys are prefixed by the architecture name
/// ("llama.embedding_length", "gemma3.block_count", …).
struct ConfigReader {
    let metadata: [String: GGUFValue]
    let architecture: String
    let path: String

    func int(_ key: String) throws -> Int {
        guard let v = metadata["\(architecture).\(key)"]?.int, v > 0 else {
            throw RuntimeError.missingMetadata("\(architecture).\(key)", path: path)
        }
        return v
    }

    func int(_ key: String, default value: Int) throws -> Int {
        metadata["\(architecture).\(key)"] == nil ? value : try int(key)
    }

    func float(_ key: String, default value: Float) -> Float {
        metadata["\(architecture).\(key)"]?.double.map(Float.init) ?? value
    }

    func string(_ key: String) -> String? { metadata["\(architecture).\(key)"]?.string }

    /// The hyperparameters every architecture shares.
    func baseConfig(vocabularySize: Int, pairing: RopeConfig.Pairing) throws -> ModelConfig {
        let dim = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = try int("attention.head_count_kv", default: heads)
        let headDim = try int("attention.key_length", default: dim / heads)
        let layers = try int("block_count")
        guard heads % kvHeads == 0 else {
            throw RuntimeError.missingMetadata("\(architecture).attention.head_count_kv (must divide head_count)", path: path)
        }
        var rope = RopeConfig(base: float("rope.freq_base", default: 10_000),
                              dimensions: try int("rope.dimension_count", default: headDim), pairing: pairing)
        switch string("rope.scaling.type") {
        case nil, "none": break
        case "linear": rope.linearScale = float("rope.scaling.factor", default: 1)
        case let other?:
            throw RuntimeError.invalidArgument("\(path): RoPE scaling type '\(other)' is not supported (none, linear)")
        }
        guard rope.dimensions <= headDim, rope.dimensions % 2 == 0 else {
            throw RuntimeError.missingMetadata("\(architecture).rope.dimension_count (even, ≤ head size)", path: path)
        }
        return ModelConfig(architecture: architecture, dim: dim, layerCount: layers, headCount: heads,
                           kvHeadCount: kvHeads, headDim: headDim, ffnDim: try int("feed_forward_length"),
                           vocabularySize: vocabularySize, contextLength: try int("context_length"),
                           normEps: float("attention.layer_norm_rms_epsilon", default: 1e-5), rope: rope,
                           slidingWindow: Array(repeating: nil, count: layers),
                           layerRope: Array(repeating: rope, count: layers))
    }
}
