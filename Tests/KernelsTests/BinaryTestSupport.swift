import Kernels

/// Seeded generator (SplitMix64): the same data on every run and machine.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Shapes that straddle word boundaries (K) and row blocks of 4 and 8 (rows).
let awkwardK = [1, 63, 64, 65, 127, 128, 129, 576, 1000, 1536]
let awkwardRows = [1, 3, 7, 64, 65]

/// Activation ranges the kernels must survive.
enum ActivationKind: String, CaseIterable {
    case tiny, normal, huge, zeros, outlier

    func generate(count: Int, rng: inout SplitMix64) -> [Float] {
        switch self {
        case .tiny: return (0..<count).map { _ in Float.random(in: -1e-6...1e-6, using: &rng) }
        case .normal: return (0..<count).map { _ in Float.random(in: -2...2, using: &rng) }
        case .huge: return (0..<count).map { _ in Float.random(in: -1e4...1e4, using: &rng) }
        case .zeros: return [Float](repeating: 0, count: count)
        case .outlier:
            var x = (0..<count).map { _ in Float.random(in: -0.01...0.01, using: &rng) }
            x[Int.random(in: 0..<count, using: &rng)] = 1000
            return x
        }
    }
}

/// A random partially-binarized layer in the canonical layout, with the data to rebuild ŵ.
struct TestLayer {
    let rows: Int, k: Int, words: Int
    let signs: [UInt64]
    let alpha: [Float], mu: [Float]
    let salient: SalientWeights?

    init(rows: Int, k: Int, salientFraction: Double = 0, rng: inout SplitMix64) {
        self.rows = rows
        self.k = k
        words = (k + 63) / 64
        var signs = [UInt64](repeating: 0, count: rows * words)
        for i in 0..<rows {
            for w in 0..<words {
                let valid = min(64, k - w * 64)
                signs[i * words + w] = rng.next() & (valid == 64 ? ~0 : (UInt64(1) << UInt64(valid)) - 1)
            }
        }
        self.signs = signs
        alpha = (0..<rows).map { _ in Float.random(in: 0.01...0.2, using: &rng) }
        mu = (0..<rows).map { _ in Float.random(in: -0.02...0.02, using: &rng) }
        if salientFraction > 0 {
            var start: [UInt32] = [0], columns: [UInt16] = [], values: [Float] = []
            for _ in 0..<rows {
                for j in 0..<k where Double.random(in: 0..<1, using: &rng) < salientFraction {
                    columns.append(UInt16(j))
                    values.append(Float.random(in: -1...1, using: &rng))
                }
                start.append(UInt32(columns.count))
            }
            salient = SalientWeights(rows: rows, start: start, columns: columns, values: values)
        } else {
            salient = nil
        }
    }

    func sign(_ i: Int, _ j: Int) -> Double {
        (signs[i * words + j / 64] >> UInt64(j % 64)) & 1 == 1 ? 1 : -1
    }

    /// ŵ in Double, exactly as the kernels see it: μ + α·s, plus the float16-rounded correction at
    /// salient positions.
    func dequantized() -> [Double] {
        var w = [Double](repeating: 0, count: rows * k)
        for i in 0..<rows {
            for j in 0..<k { w[i * k + j] = Double(mu[i]) + Double(alpha[i]) * sign(i, j) }
            if let s = salient {
                for e in Int(s.start[i])..<Int(s.start[i + 1]) {
                    let j = Int(s.columns[e])
                    let c = Float16(s.values[e] - mu[i] - alpha[i] * Float(sign(i, j)))
                    w[i * k + j] += Double(Float(c))
                }
            }
        }
        return w
    }

    func matrix(variants: [KernelVariant] = KernelVariant.allCases, withSalient: Bool = true) throws -> BinaryMatrix {
        try BinaryMatrix(name: "test \(rows)×\(k)", rows: rows, k: k, signs: signs, alpha: alpha, mu: mu,
                         salient: withSalient ? salient : nil, variants: variants)
    }
}

/// Unit roundoff of Float (2⁻²⁴).
let floatRoundoff = Double(Float.ulpOfOne) / 2

/// Error allowed for a float kernel against the Double reference. The kernel forms
/// y = μ·X + α·(2·pos − X) with pos a float sum of up to K terms in any order:
/// |δpos| ≤ K·u·Σ|x|, |δX| ≤ u·Σ|x|, and a few roundings in the epilogue, so
/// |δy| ≤ (2K + 8)·u·(|μ| + |α|)·Σ|x|.
func floatKernelBound(k: Int, alpha: Float, mu: Float, absSum: Double) -> Double {
    Double(2 * k + 8) * floatRoundoff * (Double(abs(mu)) + Double(abs(alpha))) * absSum
}

/// Slack on the half-step rounding bound: q = rint(fl(x·(127/m))) with d = fl(m/127), so x/d
/// and the product the rounder sees differ by a few roundoffs of a value ≤ 127.
let quantizationRoundingSlack = 4 * 128 * floatRoundoff

/// Error an integer kernel may add on top of the float bound: each |xⱼ − d_w·qⱼ| ≤ d_w/2 (plus the
/// slack above) with d_w the scale of j's block of 64, so |α·Σ sⱼ(xⱼ − d_w·qⱼ)| ≤
/// |α|·Σ_w n_w·d_w·(1/2 + slack), n_w the columns of block w.
func quantizationBound(k: Int, alpha: Float, scales d: [Float]) -> Double {
    var s = 0.0
    for (w, dw) in d.enumerated() { s += Double(min(64, k - 64 * w)) * Double(dw) }
    return Double(abs(alpha)) * s * (0.5 + quantizationRoundingSlack)
}

/// Error allowed for the sparse correction: a float sum of n products (fused or not) and one
/// more rounding when it is added into y.
func sparseBound(entries n: Int, absSum: Double) -> Double {
    Double(n + 2) * floatRoundoff * absSum
}
