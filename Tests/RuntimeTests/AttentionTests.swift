import Foundation
import Runtime
import XCTest

/// The batched attention and RoPE against plain loops written straight from the equations.
final class AttentionTests: XCTestCase {
    private var rng = SeededRandom(seed: 42)
    private func randoms(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) } }

    /// softmax(q·kᵀ·scale)·v for one query at `position`, keys window-limited, in Double.
    private func naiveAttention(q: [Float], keys: [Float], values: [Float], position: Int, heads: Int, kvHeads: Int,
                                headDim: Int, window: Int?) -> [Float] {
        let kvDim = kvHeads * headDim
        var out = [Float](repeating: 0, count: heads * headDim)
        let first = window.map { max(0, position - $0 + 1) } ?? 0
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            var scores: [Double] = []
            for j in first...position {
                var s = 0.0
                for d in 0..<headDim { s += Double(q[h * headDim + d]) * Double(keys[j * kvDim + g * headDim + d]) }
                scores.append(s / Double(headDim).squareRoot())
            }
            let m = scores.max()!
            let e = scores.map { exp($0 - m) }, total = e.reduce(0, +)
            for d in 0..<headDim {
                var acc = 0.0
                for (i, j) in (first...position).enumerated() { acc += e[i] / total * Double(values[j * kvDim + g * headDim + d]) }
                out[h * headDim + d] = Float(acc)
            }
        }
        return out
    }

    func testBatchedCausalAttentionMatchesNaive() {
        for (heads, kvHeads, headDim, start, tokens, window) in [
            (1, 1, 1, 0, 1, nil), (9, 3, 64, 0, 7, nil), (4, 1, 33, 5, 3, nil), (6, 2, 16, 0, 17, 4 as Int?),
            (2, 2, 8, 9, 1, 3), (3, 3, 5, 2, 1, nil),
        ] {
            let length = start + tokens, qDim = heads * headDim, kvDim = kvHeads * headDim
            let q = randoms(tokens * qDim), keys = randoms(length * kvDim), values = randoms(length * kvDim)
            var out = [Float](repeating: .nan, count: tokens * qDim)
            var scores = [Float](repeating: 0, count: tokens * length)
            let attention = CausalAttention(heads: heads, kvHeads: kvHeads, headDim: headDim,
                                            scale: 1 / Float(headDim).squareRoot())
            attention(queries: q, tokens: tokens, start: start, keys: keys, values: values, window: window,
                      scores: &scores, threads: 2, into: &out)
            for t in 0..<tokens {
                let expected = naiveAttention(q: Array(q[(t * qDim)..<((t + 1) * qDim)]), keys: keys, values: values,
                                              position: start + t, heads: heads, kvHeads: kvHeads, headDim: headDim,
                                              window: window)
                for i in 0..<qDim {
                    XCTAssertEqual(out[t * qDim + i], expected[i], accuracy: 1e-5,
                                   "heads \(heads)/\(kvHeads) hd \(headDim) token \(t) dim \(i)")
                }
            }
        }
    }

    func testRopeMatchesRotationFormula() {
        for pairing in [RopeConfig.Pairing.adjacent, .halves] {
            let headDim = 10, heads = 3, base: Float = 10_000
            let rope = RotaryEmbedding(RopeConfig(base: base, dimensions: headDim, pairing: pairing),
                                       headDim: headDim, maxPositions: 50)
            for position in [0, 1, 17, 49] {
                let x = randoms(heads * headDim)
                var y = x
                rope.apply(&y, heads: heads, position: position)
                for h in 0..<heads {
                    for i in 0..<(headDim / 2) {
                        let (a, b) = pairing == .adjacent ? (2 * i, 2 * i + 1) : (i, i + headDim / 2)
                        let angle = Double(position) * pow(Double(base), -2 * Double(i) / Double(headDim))
                        let x0 = Double(x[h * headDim + a]), x1 = Double(x[h * headDim + b])
                        XCTAssertEqual(Double(y[h * headDim + a]), x0 * cos(angle) - x1 * sin(angle), accuracy: 1e-5)
                        XCTAssertEqual(Double(y[h * headDim + b]), x0 * sin(angle) + x1 * cos(angle), accuracy: 1e-5)
                    }
                }
            }
        }
    }
}
