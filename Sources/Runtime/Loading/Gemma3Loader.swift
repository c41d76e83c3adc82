import GGUF

/// Gemma 3 (text) from GGUF, tensor names as llama.cpp writes them. q/k rows are stored as
/// Hugging Face has them, so RoPE rotates the two halves of a head (NeoX pairing).
///
/// Local and global layers: with `attention.sliding_window` set, layers alternate in periods of
/// `attention.sliding_window_pattern` (default 6): the last layer of each period attends
/// globally with `rope.freq_base`, the others see the last `sliding_window` positions and rotate
/// with `rope.freq_base_swa` (default 10 000) and no position scaling. The pattern may also be
/// a per-layer array (true/nonzero = local), as newer llama.cpp files write it.
enum Gemma3Loader {
    static func load(_ w: WeightSource, _ meta: ConfigReader, vocabularySize: Int, threads: Int) throws -> LanguageModel {
        var c = try meta.baseConfig(vocabularySize: vocabularySize, pairing: .halves)
        guard try meta.int("attention.value_length", default: c.headDim) == c.headDim else {
            throw RuntimeError.missingMetadata("\(meta.architecture).attention.value_length (must equal key_length)", path: meta.path)
        }
        guard meta.metadata["\(meta.architecture).attn_logit_softcapping"] == nil else {
            throw RuntimeError.invalidArgument("\(meta.path): attention logit soft-capping is not supported (Gemma 3 has none)")
        }
        let window = try meta.int("attention.sliding_window", default: 0)
        if window > 0 {
            var local = c.rope
            local.base = meta.float("rope.freq_base_swa", default: 10_000)
            local.linearScale = 1
            for (l, isLocal) in try localLayers(meta, count: c.layerCount).enumerated() where isLocal {
                c.slidingWindow[l] = window
                c.layerRope[l] = local
            }
        }
        // query_pre_attn_scalar is not in the file: llama.cpp's rule, head size except for 27B (62 layers).
        let scalar = c.layerCount == 62 ? Float(c.dim / c.headCount) : Float(c.headDim)
        let attentionScale = meta.float("attention.scale", default: 1 / scalar.squareRoot())
        let cap = meta.float("final_logit_softcapping", default: 0)

        let layers = try (0..<c.layerCount).map { i in
            let p = "blk.\(i)."
            return Gemma3Model.Layer(
                common: try w.decoderLayer(i, c),
                qNorm: try w.vector(p + "attn_q_norm.weight", c.headDim),
                kNorm: try w.vector(p + "attn_k_norm.weight", c.headDim),
                postAttentionNorm: try w.vector(p + "post_attention_norm.weight", c.dim),
                postFFNNorm: try w.vector(p + "post_ffw_norm.weight", c.dim))
        }
        // A tied head reads the embeddings unscaled (the model scales only its lookups).
        let (embeddings, output) = try w.embeddingsAndHead(c)
        return Gemma3Model(config: c, embeddings: embeddings, layers: layers,
                           outputNorm: try w.vector("output_norm.weight", c.dim), output: output,
                           attentionScale: attentionScale, finalLogitSoftcap: cap > 0 ? cap : nil, threads: threads)
    }

    /// Which layers use the sliding window: a period n (layer l is local unless l % n == n − 1;
    /// n = 0 makes every layer local), or one flag per layer.
    static func localLayers(_ meta: ConfigReader, count: Int) throws -> [Bool] {
        let key = "\(meta.architecture).attention.sliding_window_pattern"
        switch meta.metadata[key] {
        case nil:
            return (0..<count).map { $0 % 6 < 5 }
        case let value? where value.int != nil:
            let n = value.int!
            guard n >= 0 else { throw RuntimeError.missingMetadata("\(key) (must be ≥ 0)", path: meta.path) }
            return (0..<count).map { n == 0 || $0 % n < n - 1 }
        case let value?:
            guard let items = value.array, items.count == count else {
                throw RuntimeError.missingMetadata("\(key) (an integer, or one flag per layer)", path: meta.path)
            }
            return try items.map { item in
                if let flag = item.bool { return flag }
                if let n = item.int { return n != 0 }
                throw RuntimeError.missingMetadata("\(key) (an integer, or one flag per layer)", path: meta.path)
            }
        }
    }
}
