import Foundation

/// Throughput measurements as llama-bench makes them: prefill of a p-token prompt (pp) and
/// decode of n tokens one at a time (tg), on random token ids, after a warm-up.
public enum Benchmark {
    public struct Measurement: Sendable {
        public var test: String                 // "pp512", "tg128"
        public var tokensPerSecond: [Double]    // one per repetition

        public var mean: Double { tokensPerSecond.reduce(0, +) / Double(max(tokensPerSecond.count, 1)) }
        public var standardDeviation: Double {
            guard tokensPerSecond.count > 1 else { return 0 }
            let m = mean
            return (tokensPerSecond.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(tokensPerSecond.count - 1)).squareRoot()
        }
    }

    static func randomTokens(_ n: Int, vocabulary: Int, seed: UInt64) -> [Int] {
        var random = SeededRandom(seed: seed)
        return (0..<n).map { _ in Int(random.next() % UInt64(vocabulary)) }
    }

    /// Prefill of `tokens` tokens into an empty context, `repetitions` times.
    public static func prefill(_ model: LanguageModel, tokens: Int, repetitions: Int, batchSize: Int = 512) throws -> Measurement {
        let generator = Generator(model: model, contextLength: max(tokens, 16), batchSize: batchSize)
        let prompt = randomTokens(tokens, vocabulary: model.config.vocabularySize, seed: 1)
        try generator.feed(Array(prompt.prefix(8)))  // warm-up: page in weights, size scratch
        generator.rewind(to: 0)
        var rates: [Double] = []
        for _ in 0..<repetitions {
            generator.rewind(to: 0)
            let start = Date()
            try generator.feed(prompt)
            rates.append(Double(tokens) / Date().timeIntervalSince(start))
        }
        return Measurement(test: "pp\(tokens)", tokensPerSecond: rates)
    }

    /// Decode of `tokens` tokens, one forward pass each, `repetitions` times.
    public static func decode(_ model: LanguageModel, tokens: Int, repetitions: Int) throws -> Measurement {
        let generator = Generator(model: model, contextLength: tokens + 1)
        let ids = randomTokens(tokens, vocabulary: model.config.vocabularySize, seed: 2)
        for id in ids.prefix(4) { try generator.feed([id]) }  // warm-up
        var rates: [Double] = []
        for _ in 0..<repetitions {
            generator.rewind(to: 0)
            let start = Date()
            for id in ids { try generator.feed([id]) }
            rates.append(Double(tokens) / Date().timeIntervalSince(start))
        }
        return Measurement(test: "tg\(tokens)", tokensPerSecond: rates)
    }
}
