import Foundation
import Kernels

/// The Gemma 3 text decoder:
///
///     h = embed(token) · √d
///     for each layer:
///         q, k = normₕ(Wq·norm(h)), normₕ(Wk·norm(h))              (RMSNorm per head)
///         h += norm(Wo · attention(rope(q), rope(k), Wv·norm(h)))  (sliding window on local layers)
///         h += norm(Wdown · (gelu_tanh(Wgate·norm(h)) ⊙ Wup·norm(h)))
///     logits = softcap(Wembedᵀ · norm(h))                          (tied head; cap only if the file sets one)
///
/// Every RMSNorm scales by (1 + w); GGUF files store the 1 + w (llama.cpp's converter adds the 1),
/// so the stored weights multiply directly. Local layers rotate with their own RoPE base.
public final class Gemma3Model: LanguageModel, @unchecked Sendable {
    /// The weights a Llama layer has too, plus Gemma's own norms. `layer.q`, `layer.ffnNorm`, …
    /// read through to `common`, so the forward pass names every weight alike.
    @dynamicMemberLookup
    public struct Layer {
        var common: DecoderLayerWeights         // attention/FFN pre-norms and projections
        var qNorm, kNorm: FloatBuffer           // headDim, shared by every head
        var postAttentionNorm: FloatBuffer      // dim
        var postFFNNorm: FloatBuffer            // dim

        // Public only because @dynamicMemberLookup asks it of a public type; the paths stay internal.
        public subscript<T>(dynamicMember path: KeyPath<DecoderLayerWeights, T>) -> T { common[keyPath: path] }
    }

    public let config: ModelConfig
    public var threads: Int { didSet { BLAS.setThreads(threads) } }
    let embeddings: EmbeddingTable              // vocab × dim
    let layers: [Layer]
    let outputNorm: FloatBuffer                 // dim
    let output: LinearLayer                     // dim → vocab (the embeddings, tied, unless the file has a head)
    /// Scale of the embeddings: √dim rounded to float32, as the reference multiplies them.
    let embeddingScale: Float
    /// logits = cap · tanh(logits / cap), when the model has a cap.
    let finalLogitSoftcap: Float?
    private let ropes: [RotaryEmbedding]        // per layer (layers with the same RoPE share one table)
    private let attention: CausalAttention
    private let work: Workspace

    public init(config: ModelConfig, embeddings: EmbeddingTable, layers: [Layer], outputNorm: FloatBuffer,
                output: LinearLayer, attentionScale: Float, finalLogitSoftcap: Float?, threads: Int) {
        self.config = config
        self.embeddings = embeddings
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
        self.finalLogitSoftcap = finalLogitSoftcap
        self.threads = threads
        BLAS.setThreads(threads)
        embeddingScale = Float(config.dim).squareRoot()
        var tables: [RotaryEmbedding] = []
        ropes = config.layerRope.map { rope in
            if let shared = tables.first(where: { $0.config == rope }) { return shared }
            let table = RotaryEmbedding(rope, headDim: config.headDim, maxPositions: config.contextLength)
            tables.append(table)
            return table
        }
        attention = CausalAttention(heads: config.headCount, kvHeads: config.kvHeadCount,
                                    headDim: config.headDim, scale: attentionScale)
        work = Workspace(widths: ["x": config.dim, "xn": config.dim, "q": config.qDim, "att": config.qDim,
                                  "gate": config.ffnDim, "up": config.ffnDim])
    }

    public func forward(_ tokens: [Int], cache: KVCache, hidden: UnsafeMutablePointer<Float>) {
        let x = runLayers(tokens, cache: cache, work: work)
        rmsNorm(x, outputNorm, rows: tokens.count, width: config.dim, into: hidden)
    }

    public func embed(_ tokens: [Int], into x: UnsafeMutablePointer<Float>) {
        embeddings.copyRows(tokens, width: config.dim, into: x)
        FloatOps.scale(x, by: embeddingScale, n: tokens.count * config.dim)
    }

    public func linearLayers(_ l: Int) -> [(name: String, layer: LinearLayer)] { layers[l].common.linearLayers }

    public func forwardLayer(_ l: Int, _ x: UnsafeMutablePointer<Float>, tokens T: Int, cache: KVCache,
                             observe: LinearInputObserver?) {
        let c = config, layer = layers[l], rope = ropes[l], start = cache.count
        let w = work.reserve(tokens: T, keys: start + T)
        let xn = w["xn"], q = w["q"], att = w["att"], gate = w["gate"], up = w["up"]

        // Attention block: pre-norm, projections, RMSNorm of every q and k head, RoPE with this
        // layer's base, new k/v into the cache, attention (windowed on local layers), post-norm.
        rmsNorm(x, layer.attentionNorm, rows: T, width: c.dim, into: xn)
        observe?(["attn_q", "attn_k", "attn_v"], xn, c.dim)
        let keys = cache.keys(layer: l), values = cache.values(layer: l)
        let newKeys = keys + start * c.kvDim
        layer.q.forward(xn, tokens: T, into: q)
        layer.k.forward(xn, tokens: T, into: newKeys)
        layer.v.forward(xn, tokens: T, into: values + start * c.kvDim)
        rmsNorm(q, layer.qNorm, rows: T * c.headCount, width: c.headDim, into: q)
        rmsNorm(newKeys, layer.kNorm, rows: T * c.kvHeadCount, width: c.headDim, into: newKeys)
        for t in 0..<T {
            rope.apply(q + t * c.qDim, heads: c.headCount, position: start + t)
            rope.apply(newKeys + t * c.kvDim, heads: c.kvHeadCount, position: start + t)
        }
        attention(queries: q, tokens: T, start: start, keys: keys, values: values, window: c.slidingWindow[l],
                  scores: w.scores.pointer, threads: threads, into: att)
        observe?(["attn_output"], att, c.qDim)
        layer.o.forward(att, tokens: T, into: xn)
        rmsNorm(xn, layer.postAttentionNorm, rows: T, width: c.dim, into: xn)
        FloatOps.add(xn, into: x, n: T * c.dim)

        // Feed-forward block: pre-norm, GeGLU (tanh GELU), post-norm.
        rmsNorm(x, layer.ffnNorm, rows: T, width: c.dim, into: xn)
        observe?(["ffn_gate", "ffn_up"], xn, c.dim)
        layer.gate.forward(xn, tokens: T, into: gate)
        layer.up.forward(xn, tokens: T, into: up)
        FloatOps.geglu(gate, up, n: T * c.ffnDim)
        observe?(["ffn_down"], gate, c.ffnDim)
        layer.down.forward(gate, tokens: T, into: xn)
        rmsNorm(xn, layer.postFFNNorm, rows: T, width: c.dim, into: xn)
        FloatOps.add(xn, into: x, n: T * c.dim)
    }

    public func logits(_ hidden: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        output.forward(hidden, tokens: rows, into: logits)
        if let cap = finalLogitSoftcap {
            for i in 0..<(rows * config.vocabularySize) { logits[i] = cap * tanhf(logits[i] / cap) }
        }
    }

    /// RMSNorm of `rows` rows of `width` values (in place when out == x); the weights already hold 1 + w.
    private func rmsNorm(_ x: UnsafePointer<Float>, _ w: FloatBuffer, rows: Int, width: Int,
                         into out: UnsafeMutablePointer<Float>) {
        FloatOps.rmsNorm(x, w.pointer, rows: rows, width: width, eps: config.normEps, into: out)
    }
}
