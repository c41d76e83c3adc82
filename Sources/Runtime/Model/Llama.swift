import Kernels

/// The Llama decoder (Llama 2/3, SmolLM2, …):
///
///     h = embed(token)
///     for each layer:
///         h += Wo · attention(rope(Wq·norm(h)), rope(Wk·norm(h)), Wv·norm(h))
///         h += Wdown · (silu(Wgate·norm(h)) ⊙ Wup·norm(h))
///     logits = Wout · norm(h)
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    public typealias Layer = DecoderLayerWeights

    public let config: ModelConfig
    public var threads: Int { didSet { BLAS.setThreads(threads) } }
    let embeddings: EmbeddingTable              // vocab × dim
    let layers: [Layer]
    let outputNorm: FloatBuffer                 // dim
    let output: LinearLayer                     // dim → vocab (often the embeddings, tied)
    let rope: RotaryEmbedding
    private let attention: CausalAttention
    private let work: Workspace

    public init(config: ModelConfig, embeddings: EmbeddingTable, layers: [Layer], outputNorm: FloatBuffer,
                output: LinearLayer, threads: Int) {
        self.config = config
        self.embeddings = embeddings
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
        self.threads = threads
        BLAS.setThreads(threads)
        rope = RotaryEmbedding(config.rope, headDim: config.headDim, maxPositions: config.contextLength)
        attention = CausalAttention(heads: config.headCount, kvHeads: config.kvHeadCount,
                                    headDim: config.headDim, scale: 1 / Float(config.headDim).squareRoot())
        work = Workspace(widths: ["x": config.dim, "xn": config.dim, "q": config.qDim, "k": config.kvDim,
                                  "v": config.kvDim, "att": config.qDim, "gate": config.ffnDim,
                                  "up": config.ffnDim])
    }

    public func forward(_ tokens: [Int], cache: KVCache, hidden: UnsafeMutablePointer<Float>) {
        let x = runLayers(tokens, cache: cache, work: work)
        rmsNorm(x, outputNorm, tokens: tokens.count, into: hidden)
    }

    public func embed(_ tokens: [Int], into x: UnsafeMutablePointer<Float>) {
        embeddings.copyRows(tokens, width: config.dim, into: x)
    }

    public func linearLayers(_ l: Int) -> [(name: String, layer: LinearLayer)] { layers[l].linearLayers }

    public func forwardLayer(_ l: Int, _ x: UnsafeMutablePointer<Float>, tokens T: Int, cache: KVCache,
                             observe: LinearInputObserver?) {
        let c = config, layer = layers[l], start = cache.count
        let w = work.reserve(tokens: T, keys: start + T)
        let xn = w["xn"], q = w["q"], att = w["att"], gate = w["gate"], up = w["up"]

        // Attention block: pre-norm, projections, RoPE on q and k, new k/v into the cache.
        rmsNorm(x, layer.attentionNorm, tokens: T, into: xn)
        observe?(["attn_q", "attn_k", "attn_v"], xn, c.dim)
        let keys = cache.keys(layer: l), values = cache.values(layer: l)
        layer.q.forward(xn, tokens: T, into: q)
        layer.k.forward(xn, tokens: T, into: keys + start * c.kvDim)
        layer.v.forward(xn, tokens: T, into: values + start * c.kvDim)
        for t in 0..<T {
            rope.apply(q + t * c.qDim, heads: c.headCount, position: start + t)
            rope.apply(keys + (start + t) * c.kvDim, heads: c.kvHeadCount, position: start + t)
        }
        attention(queries: q, tokens: T, start: start, keys: keys, values: values, window: nil,
                  scores: w.scores.pointer, threads: threads, into: att)
        observe?(["attn_output"], att, c.qDim)
        layer.o.forward(att, tokens: T, into: xn)
        FloatOps.add(xn, into: x, n: T * c.dim)

        // Feed-forward block: pre-norm, SwiGLU.
        rmsNorm(x, layer.ffnNorm, tokens: T, into: xn)
        observe?(["ffn_gate", "ffn_up"], xn, c.dim)
        layer.gate.forward(xn, tokens: T, into: gate)
        layer.up.forward(xn, tokens: T, into: up)
        FloatOps.swiglu(gate, up, n: T * c.ffnDim)
        observe?(["ffn_down"], gate, c.ffnDim)
        layer.down.forward(gate, tokens: T, into: xn)
        FloatOps.add(xn, into: x, n: T * c.dim)
    }

    public func logits(_ hidden: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        output.forward(hidden, tokens: rows, into: logits)
    }

    private func rmsNorm(_ x: UnsafePointer<Float>, _ w: FloatBuffer, tokens: Int, into out: UnsafeMutablePointer<Float>) {
        FloatOps.rmsNorm(x, w.pointer, rows: tokens, width: config.dim, eps: config.normEps, into: out)
    }
}
