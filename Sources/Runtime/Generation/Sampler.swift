import Foundation

/// Sampling settings, with llama.cpp's defaults.
public struct SamplingParameters: Sendable {
    public var temperature: Float = 0.8      // 0: greedy (exact argmax)
    public var topK: Int = 40                // 0: off
    public var topP: Float = 0.95            // 1: off
    public var minP: Float = 0.05            // 0: off
    public var repeatPenalty: Float = 1.0    // 1: off
    public var repeatLastN: Int = 64
    public var seed: UInt64 = 0
    public init() {}
}

/// Picks the next token from logits: penalties, then top-k, top-p, min-p, temperature, and a
/// draw (the order llama.cpp applies them in).
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SeededRandom

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SeededRandom(seed: parameters.seed)
    }

    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, count n: Int, history: [Int]) -> Int {
        let p = parameters
        if p.repeatPenalty != 1 {
            // CTRL-style penalty: shrink positive logits, push negative ones further down.
            for id in Set(history.suffix(p.repeatLastN)) where id < n {
                logits[id] = logits[id] > 0 ? logits[id] / p.repeatPenalty : logits[id] * p.repeatPenalty
            }
        }
        if p.temperature <= 0 { return Self.argmax(logits, count: n) }

        // Candidates sorted by logit, cut by top-k.
        var candidates = Array(0..<n)
        let k = p.topK > 0 ? min(p.topK, n) : n
        candidates.sort { logits[$0] > logits[$1] }
        candidates.removeSubrange(k...)

        // Probabilities at temperature 1 for the nucleus and min-p cuts.
        let maxLogit = logits[candidates[0]]
        var probs = candidates.map { Double(expf(logits[$0] - maxLogit)) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        var keep = probs.count
        if p.topP < 1 {
            var cumulative = 0.0
            for (i, q) in probs.enumerated() {
                cumulative += q
                if cumulative >= Double(p.topP) { keep = i + 1; break }
            }
        }
        if p.minP > 0 {
            let floor = Double(p.minP) * probs[0]
            keep = min(keep, max(1, probs.prefix(keep).filter { $0 >= floor }.count))
        }
        candidates.removeSubrange(keep...)

        // Temperature, then a draw.
        let weights = candidates.map { Double(expf((logits[$0] - maxLogit) / p.temperature)) }
        var r = random.nextUnit() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            r -= w
            if r < 0 { return candidates[i] }
        }
        return candidates[candidates.count - 1]
    }

    /// The first index of the largest value.
    public static func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        var best = 0
        for i in 1..<n where x[i] > x[best] { best = i }
        return best
    }
}
