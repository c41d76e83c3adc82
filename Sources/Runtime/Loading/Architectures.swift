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
        let layers = try (0..<c.layerCount).map { i in
            let p = "blk.\(i)."
            return LlamaModel.Layer(
                attentionNorm: try w.vector(p + "attn_norm.weight", c.dim),
                q: try w.linear(p + "attn_q.weight", in: c.dim, out: c.qDim),
                k: try w.linear(p + "attn_k.weight", in: c.dim, out: c.kvDim),
                v: try w.linear(p + "attn_v.weight", in: c.dim, out: c.kvDim),
                o: try w.linear(p + "attn_output.weight", in: c.qDim, out: c.dim),
                ffnNorm: try w.vector(p + "ffn_norm.weight", c.dim),
                gate: try w.linear(p + "ffn_gate.weight", in: c.dim, out: c.ffnDim),
                up: try w.linear(p + "ffn_up.weight", in: c.dim, out: c.ffnDim),
                down: try w.linear(p + "ffn_down.weight", in: c.ffnDim, out: c.dim))
        }
        let embeddings = try w.floats("token_embd.weight", shape: [c.dim, c.vocabularySize])
        // No output.weight: the head is tied to the embeddings.
        let output = w.has("output.weight")
            ? try w.linear("output.weight", in: c.dim, out: c.vocabularySize)
            : try w.tiedHead("token_embd.weight", embeddings: embeddings, dim: c.dim, vocabulary: c.vocabularySize)
        return LlamaModel(config: c, embeddings: embeddings, layers: layers,
                          outputNorm: try w.vector("output_norm.weight", c.dim), output: output, threads: threads)
    }
}
