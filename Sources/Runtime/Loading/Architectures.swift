import GGUF

/// Every architecture the runtime can build, by its `general.architecture` name. Adding one is
/// a new file with a loader and a forward pass, and a line here.
enum Architectures {
    typealias Loader = @Sendable (WeightSource, ConfigReader, _ vocabularySize: Int, _ threads: Int) throws -> LanguageModel

    static let loaders: [String: Loader] = [
        "llama": LlamaLoader.load,
        "gemma3": Gemma3Loader.load,
    ]

    static var supported: [String] { loaders.keys.sorted() }
}

/// Llama from GGUF: tensor names as llama.cpp writes them. attn_q/attn_k rows are stored
/// permuted so that RoPE rotates adjacent pairs.
enum LlamaLoader {
    static func load(_ w: WeightSource, _ meta: ConfigReader, vocabularySize: Int, threads: Int) throws -> LanguageModel {
        var c = try meta.baseConfig(vocabularySize: vocabularySize, pairing: .adjacent)
        if w.has("rope_freqs.weight") {
            c.rope.frequencyFactors = try w.vector("rope_freqs.weight", c.rope.dimensions / 2).array
            c.layerRope = Array(repeating: c.rope, count: c.layerCount)
        }
        let layers = try (0..<c.layerCount).map { try w.decoderLayer($0, c) }
        let (embeddings, output) = try w.embeddingsAndHead(c)
        return LlamaModel(config: c, embeddings: embeddings, layers: layers,
                          outputNorm: try w.vector("output_norm.weight", c.dim), output: output, threads: threads)
    }
}
