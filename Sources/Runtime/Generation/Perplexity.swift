import Foundation
import Kernels

/// Perplexity over non-overlapping windows (the protocol of the reference numbers): every
/// position 1..<ctx of a window is scored given the earlier tokens of the same window.
public struct PerplexityResult: Sendable {
    public var perplexity: Double
    public var tokensScored: Int
    public var seconds: Double
    public var windowMeanNLL: [Double]
}

public enum Perplexity {
    public static func evaluate(model: LanguageModel, tokens: [Int], contextLength ctx: Int, windows: Int,
                                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> PerplexityResult {
        guard ctx >= 2 else { throw RuntimeError.invalidArgument("--ctx must be at least 2") }
        let available = tokens.count / ctx
        guard available > 0 else {
            throw RuntimeError.invalidArgument("the text has \(tokens.count) tokens, fewer than one window of \(ctx)")
        }
        let count = min(windows, available)
        let vocab = model.config.vocabularySize, dim = model.config.dim
        let cache = model.makeCache(capacity: ctx)
        let hidden = FloatBuffer(count: ctx * dim)
        let rowsPerChunk = 64  // logits of 64 positions at a time: 64 × vocab floats, not ctx × vocab
        let logits = FloatBuffer(count: rowsPerChunk * vocab)
        let clock = Date()
        var totalNLL = 0.0
        var windowMeans: [Double] = []
        for w in 0..<count {
            let window = Array(tokens[(w * ctx)..<((w + 1) * ctx)])
            cache.reset()
            model.forward(window, cache: cache, hidden: hidden.pointer)
            var windowNLL = 0.0
            // Position i predicts token i+1.
            for chunkStart in stride(from: 0, to: ctx - 1, by: rowsPerChunk) {
                let rows = min(rowsPerChunk, ctx - 1 - chunkStart)
                model.logits(hidden.pointer + chunkStart * dim, rows: rows, into: logits.pointer)
                for r in 0..<rows {
                    let row = logits.pointer + r * vocab
                    let target = window[chunkStart + r + 1]
                    windowNLL += FloatOps.logSumExp(row, n: vocab) - Double(row[target])
                }
            }
            totalNLL += windowNLL
            windowMeans.append(windowNLL / Double(ctx - 1))
            progress(w + 1, count, exp(totalNLL / Double((w + 1) * (ctx - 1))))
        }
        let scored = count * (ctx - 1)
        return PerplexityResult(perplexity: exp(totalNLL / Double(scored)), tokensScored: scored,
                                seconds: Date().timeIntervalSince(clock), windowMeanNLL: windowMeans)
    }
}
