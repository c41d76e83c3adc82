import Foundation

/// Timings of one generation, as llama.cpp reports them.
public struct GenerationStats: Sendable {
    public var promptTokens = 0
    public var generatedTokens = 0
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0
    public var prefillTokensPerSecond: Double { promptTokens == 0 ? 0 : Double(promptTokens) / prefillSeconds }
    /// Decode speed counts the steps that ran the model: every generated token but the first,
    /// whose logits came from prefill.
    public var decodeTokensPerSecond: Double {
        generatedTokens <= 1 || decodeSeconds == 0 ? 0 : Double(generatedTokens - 1) / decodeSeconds
    }
}

/// Runs a model over a growing context: prefill in batches, then one token at a time.
public final class Generator: @unchecked Sendable {
    public let model: LanguageModel
    public let cache: KVCache
    public let batchSize: Int
    /// Every token in the context, in order (for repetition penalties and rewinds).
    public private(set) var context: [Int] = []
    private let hidden: FloatBuffer
    private let logitBuffer: FloatBuffer

    public init(model: LanguageModel, contextLength: Int, batchSize: Int = 512) {
        self.model = model
        self.batchSize = max(1, min(batchSize, contextLength))
        cache = model.makeCache(capacity: contextLength)
        hidden = FloatBuffer(count: self.batchSize * model.config.dim)
        logitBuffer = FloatBuffer(count: model.config.vocabularySize)
    }

    public var capacity: Int { cache.capacity }
    public var vocabularySize: Int { model.config.vocabularySize }

    /// Appends `ids` to the context; returns the logits after the last one.
    @discardableResult
    public func feed(_ ids: [Int]) throws -> UnsafeMutablePointer<Float> {
        guard !ids.isEmpty else { throw RuntimeError.invalidArgument("nothing to feed: empty token list") }
        guard cache.count + ids.count <= cache.capacity else {
            throw RuntimeError.contextFull(needed: cache.count + ids.count, capacity: cache.capacity)
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw RuntimeError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(vocabularySize))")
        }
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            model.forward(batch, cache: cache, hidden: hidden.pointer)
            start += batch.count
            if start == ids.count {
                model.logits(hidden.pointer + (batch.count - 1) * model.config.dim, rows: 1, into: logitBuffer.pointer)
            }
        }
        context += ids
        return logitBuffer.pointer
    }

    /// Forgets the context from position `n` on.
    public func rewind(to n: Int) {
        cache.trim(to: n)
        context.removeSubrange(min(n, context.count)...)
    }

    /// Feeds `prompt`, then samples up to `maxTokens` tokens (fewer at an end-of-generation
    /// token unless `ignoreEnd`, or when the context is full), handing each to `onToken`, which
    /// may return false to stop.
    public func generate(prompt: [Int], maxTokens: Int, sampler: inout Sampler,
                         isEnd: (Int) -> Bool, ignoreEnd: Bool = false,
                         onToken: (Int) -> Bool) throws -> GenerationStats {
        var stats = GenerationStats()
        stats.promptTokens = prompt.count
        var clock = Date()
        var logits = try feed(prompt)
        stats.prefillSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        while stats.generatedTokens < maxTokens || maxTokens < 0 {
            let next = sampler.sample(logits, count: vocabularySize, history: context)
            stats.generatedTokens += 1
            if !ignoreEnd && isEnd(next) { break }
            guard onToken(next) else { break }
            if stats.generatedTokens == maxTokens || cache.count >= cache.capacity { break }
            logits = try feed([next])
        }
        stats.decodeSeconds = Date().timeIntervalSince(clock)
        return stats
    }
}
