/// The tensors every architecture's loader reads alike, named as llama.cpp writes them.
extension WeightSource {
    /// Layer `i`'s pre-norms, attention projections and gated feed-forward (`blk.i.…`).
    func decoderLayer(_ i: Int, _ c: ModelConfig) throws -> DecoderLayerWeights {
        let p = "blk.\(i)."
        return DecoderLayerWeights(
            attentionNorm: try vector(p + "attn_norm.weight", c.dim),
            q: try linear(p + "attn_q.weight", in: c.dim, out: c.qDim),
            k: try linear(p + "attn_k.weight", in: c.dim, out: c.kvDim),
            v: try linear(p + "attn_v.weight", in: c.dim, out: c.kvDim),
            o: try linear(p + "attn_output.weight", in: c.qDim, out: c.dim),
            ffnNorm: try vector(p + "ffn_norm.weight", c.dim),
            gate: try linear(p + "ffn_gate.weight", in: c.dim, out: c.ffnDim),
            up: try linear(p + "ffn_up.weight", in: c.dim, out: c.ffnDim),
            down: try linear(p + "ffn_down.weight", in: c.ffnDim, out: c.dim))
    }

    /// The token embeddings and the output head. A file without output.weight ties the head to
    /// the embeddings.
    func embeddingsAndHead(_ c: ModelConfig) throws -> (embeddings: EmbeddingTable, output: LinearLayer) {
        let embeddings = try embeddingTable("token_embd.weight", dim: c.dim, vocabulary: c.vocabularySize)
        let output = has("output.weight")
            ? try linear("output.weight", in: c.dim, out: c.vocabularySize)
            : try tiedHead("token_embd.weight", embeddings: embeddings, dim: c.dim, vocabulary: c.vocabularySize)
        return (embeddings, output)
    }
}
