/// A decoder-only language model: token ids in, final hidden states and logits out.
public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }

    /// Runs `tokens` at positions cache.count ..< cache.count + tokens.count, appends their keys
    /// and values to the cache, and writes the final (normalised) hidden state of each token
    /// into `hidden` (tokens.count × dim).
    func forward(_ tokens: [Int], cache: KVCache, hidden: UnsafeMutablePointer<Float>)

    /// Output head: logits (rows × vocabularySize) of `rows` final hidden states.
    func logits(_ hidden: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>)

    /// Threads the model may use (OpenBLAS and its own loops).
    var threads: Int { get set }

    // Layer-level access, for calibration and quantization.

    /// The token embeddings of `tokens` (T×dim) into x, as the first layer expects them.
    func embed(_ tokens: [Int], into x: UnsafeMutablePointer<Float>)

    /// Decoder layer `l` over T tokens of hidden state x (T×dim, updated in place), at positions
    /// cache.count…; `observe` sees the input of every linear layer.
    func forwardLayer(_ l: Int, _ x: UnsafeMutablePointer<Float>, tokens T: Int, cache: KVCache,
                      observe: LinearInputObserver?)

    /// The linear layers of one decoder layer by their GGUF names ("attn_q", …, "ffn_down"), in
    /// the order their inputs are computed.
    func linearLayers(_ l: Int) -> [(name: String, layer: LinearLayer)]
}

extension LanguageModel {
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.layerCount, capacity: capacity, kvDim: config.kvDim)
    }

    /// The part of `forward` every decoder shares: embeds `tokens` into the workspace's x, runs
    /// every layer over them and moves the cache on. Returns x (T×dim) for the final norm.
    func runLayers(_ tokens: [Int], cache: KVCache, work: Workspace) -> UnsafeMutablePointer<Float> {
        let T = tokens.count
        precondition(cache.count + T <= min(cache.capacity, config.contextLength), "context overflow: caller must check")
        let x = work.reserve(tokens: T, keys: cache.count + T)["x"]
        embed(tokens, into: x)
        for l in 0..<config.layerCount { forwardLayer(l, x, tokens: T, cache: cache, observe: nil) }
        cache.advance(by: T)
        return x
    }
}

/// Sees the input of linear layers during a forward pass: the GGUF-style names of the layers
/// that read it (e.g. ["attn_q", "attn_k", "attn_v"]), the T×width input, and its width.
public typealias LinearInputObserver = (_ names: [String], _ input: UnsafePointer<Float>, _ width: Int) -> Void

/// Scratch space for one forward pass, grown to the largest batch seen and then reused, so the
/// token loop allocates nothing.
final class Workspace: @unchecked Sendable {
    private(set) var tokens = 0
    private(set) var scoreCapacity = 0
    private var buffers: [String: FloatBuffer] = [:]
    private let widths: [String: Int]
    private(set) var scores = FloatBuffer(count: 0)

    /// `widths`: name → floats per token of each scratch buffer.
    init(widths: [String: Int]) { self.widths = widths }

    @discardableResult
    func reserve(tokens n: Int, keys: Int) -> Workspace {
        if n > tokens {
            tokens = n
            buffers = widths.mapValues { FloatBuffer(count: $0 * n) }
        }
        if n * keys > scoreCapacity {
            scoreCapacity = n * keys
            scores = FloatBuffer(count: scoreCapacity)
        }
        return self
    }

    subscript(_ name: String) -> UnsafeMutablePointer<Float> { buffers[name]!.pointer }
}
