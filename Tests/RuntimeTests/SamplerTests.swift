import Runtime
import XCTest

final class SamplerTests: XCTestCase {
    private func logits(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float(rng.nextUnit() * 10 - 5) }
    }

    private func draw(_ p: SamplingParameters, steps: Int) -> [Int] {
        var sampler = Sampler(p)
        var history: [Int] = []
        for step in 0..<steps {
            var l = logits(1000, seed: UInt64(step))
            history.append(sampler.sample(&l, count: l.count, history: history))
        }
        return history
    }

    func testGreedyIsExactArgmaxWithFirstIndexOnTies() {
        var p = SamplingParameters(); p.temperature = 0
        var sampler = Sampler(p)
        var l: [Float] = [1, 5, 3, 5, -2]
        XCTAssertEqual(sampler.sample(&l, count: 5, history: []), 1)
        var m = logits(4097, seed: 9)
        XCTAssertEqual(sampler.sample(&m, count: m.count, history: []), m.indices.max { m[$0] < m[$1] }!)
    }

    func testSameSeedSameTokensDifferentSeedDifferentTokens() {
        var p = SamplingParameters(); p.temperature = 1.5; p.topK = 0; p.topP = 1; p.minP = 0; p.seed = 7
        let a = draw(p, steps: 50), b = draw(p, steps: 50)
        XCTAssertEqual(a, b)
        p.seed = 8
        XCTAssertNotEqual(a, draw(p, steps: 50))
    }

    func testTopKOneIsGreedyAndCutsKeepTheMostLikely() {
        var p = SamplingParameters(); p.topK = 1; p.seed = 3
        var sampler = Sampler(p)
        for s in 0..<20 {
            var l = logits(300, seed: UInt64(100 + s))
            let best = l.indices.max { l[$0] < l[$1] }!
            XCTAssertEqual(sampler.sample(&l, count: l.count, history: []), best)
        }
        // top-p 0.5 on a distribution with one dominant token keeps only that token.
        p = SamplingParameters(); p.topP = 0.5; p.topK = 0; p.minP = 0; p.seed = 5
        sampler = Sampler(p)
        for _ in 0..<20 {
            var l: [Float] = [0, 0, 10, 0, 0]
            XCTAssertEqual(sampler.sample(&l, count: 5, history: []), 2)
        }
    }

    func testRepetitionPenaltyDemotesRecentTokens() {
        var p = SamplingParameters(); p.temperature = 0; p.repeatPenalty = 2
        var sampler = Sampler(p)
        var l: [Float] = [3, 2, 1]
        XCTAssertEqual(sampler.sample(&l, count: 3, history: [0]), 1)  // 3/2 = 1.5 < 2
    }
}
