import CKernels
import XCTest

import Kernels

/// A random q8 matrix with the data to rebuild ŵ.
struct Q8TestMatrix {
    let rows: Int, k: Int
    let q: [Int8]
    let scale: [Float]

    init(rows: Int, k: Int, saturated: Bool = false, rng: inout SplitMix64) {
        self.rows = rows
        self.k = k
        q = (0..<(rows * k)).map { _ in
            saturated ? (Bool.random(using: &rng) ? 127 : -127) : Int8.random(in: -127...127, using: &rng)
        }
        scale = (0..<rows).map { _ in Float.random(in: 1e-4...1e-2, using: &rng) }
    }

    func matrix() throws -> Q8Matrix { try Q8Matrix(name: "q8 \(rows)×\(k)", rows: rows, k: k, q: q, scale: scale) }

    func w(_ i: Int, _ j: Int) -> Double { Double(scale[i]) * Double(q[i * k + j]) }

    /// Σ ŵ·x in Double, and the bound for a kernel on x's block quantization: each |xⱼ − d_w·qⱼ| ≤
    /// d_w·(1/2 + slack), so |Σ ŵ·(x − x̂)| ≤ Σ_w d_w·(1/2 + slack)·Σ_{j∈w}|ŵᵢⱼ|; plus float
    /// roundings (one per block of the accumulation and the final scaling) on Σ|ŵ·x̂|.
    func reference(_ i: Int, _ x: [Float], scales d: [Float]) -> (value: Double, bound: Double) {
        var value = 0.0, quant = 0.0, absSum = 0.0
        for j in 0..<k {
            let wij = w(i, j), dw = Double(d[j / 64])
            value += wij * Double(x[j])
            quant += abs(wij) * dw * (0.5 + quantizationRoundingSlack)
            absSum += abs(wij) * (abs(Double(x[j])) + dw)
        }
        let blocks = (k + 63) / 64
        return (value, quant + Double(blocks + 4) * floatRoundoff * absSum)
    }
}

final class Q8MatrixTests: XCTestCase {
    let sentinel: Float = -12345.5

    /// Every available variant against the scalar twin (bit-exact) and Σ ŵ·x in Double (within the
    /// quantization bound), over awkward shapes, row ranges and activation kinds.
    func testEveryVariantAgainstTwinAndDoubleReference() throws {
        var rng = SplitMix64(seed: 0x5eed_0801)
        XCTAssertTrue(Q8Variant.allAvailable.contains(.scalar))
        for k in awkwardK {
            let acts = BinaryActivations(maxK: k)
            for n in awkwardRows + [17, 33] {
                let t = Q8TestMatrix(rows: n, k: k, rng: &rng)
                let m = try t.matrix()
                for kind in ActivationKind.allCases {
                    let x = kind.generate(count: k, rng: &rng)
                    acts.prepare(x, k: k, needs: .bytes)
                    let d = acts.scales(token: 0)
                    var twin = [Float](repeating: sentinel, count: n)
                    m.gemv(acts, &twin, variant: .scalar)
                    for v in Q8Variant.allAvailable {
                        for range in [0..<n, min(1, n)..<n, (n / 3)..<(n - n / 4)] {
                            var y = [Float](repeating: sentinel, count: n)
                            m.gemv(acts, &y, rows: range, variant: v)
                            for i in 0..<n {
                                let ctx = "\(v) K \(k) rows \(n) range \(range) row \(i) \(kind)"
                                guard range.contains(i) else {
                                    XCTAssertEqual(y[i], sentinel, "wrote outside the range: \(ctx)")
                                    continue
                                }
                                XCTAssertEqual(y[i].bitPattern, twin[i].bitPattern, "not bit-exact against the twin: \(ctx)")
                                let r = t.reference(i, x, scales: d)
                                XCTAssertLessThanOrEqual(abs(Double(y[i]) - r.value), r.bound, "vs Double: \(ctx)")
                                if kind == .zeros { XCTAssertEqual(y[i], 0, ctx) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// gemm equals gemv token by token, bit for bit (strided input, row ranges, odd token counts).
    func testGemmMatchesGemvPerToken() throws {
        var rng = SplitMix64(seed: 0x5eed_0802)
        for (n, k) in [(7, 65), (65, 576), (40, 129), (33, 64)] {
            let m = try Q8TestMatrix(rows: n, k: k, rng: &rng).matrix()
            for tokens in [1, 2, 3, 4, 5, 9, 17, 70] {
                let ldx = k + 5
                var x = [Float](repeating: .nan, count: tokens * ldx)
                for t in 0..<tokens {
                    let v = ActivationKind.allCases[t % ActivationKind.allCases.count].generate(count: k, rng: &rng)
                    for j in 0..<k { x[t * ldx + j] = v[j] }
                }
                let batch = BinaryActivations(maxK: k, maxTokens: tokens)
                batch.prepare(x, k: k, tokens: tokens, stride: ldx, needs: .bytes)
                for v in Q8Variant.allAvailable {
                    let range = min(1, n)..<n, ldy = n + 2
                    var y = [Float](repeating: sentinel, count: tokens * ldy)
                    m.gemm(batch, &y, ldy: ldy, rows: range, variant: v)
                    for t in 0..<tokens {
                        var y1 = [Float](repeating: sentinel, count: n)
                        m.gemv(batch, &y1, rows: range, token: t, variant: v)
                        var twin = [Float](repeating: sentinel, count: n)
                        m.gemv(batch, &twin, rows: range, token: t, variant: .scalar)
                        for i in 0..<n {
                            let ctx = "\(v) K \(k) rows \(n) tokens \(tokens) t \(t) row \(i)"
                            XCTAssertEqual(y[t * ldy + i].bitPattern, y1[i].bitPattern, "gemm ≠ gemv: \(ctx)")
                            XCTAssertEqual(y1[i].bitPattern, twin[i].bitPattern, "≠ twin: \(ctx)")
                        }
                        XCTAssertEqual(y[t * ldy + n], sentinel)
                        XCTAssertEqual(y[t * ldy + n + 1], sentinel)
                    }
                }
            }
        }
    }

    /// Extreme weights and activations (every |w| = |q| = 127) against the exact integer sum: no
    /// int16 saturation in the AVX2 pairs, no int32 overflow in long rows.
    func testSaturatedInputsAreExact() throws {
        var rng = SplitMix64(seed: 0x5eed_0803)
        for k in [64, 4160] {
            let t = Q8TestMatrix(rows: 19, k: k, saturated: true, rng: &rng)
            let m = try t.matrix()
            let acts = BinaryActivations(maxK: k)
            let x = (0..<k).map { _ in Bool.random(using: &rng) ? Float(127) : -127 }   // d_w = 1, q = x
            acts.prepare(x, k: k, needs: .bytes)
            XCTAssertTrue(acts.scales(token: 0).allSatisfy { $0 == 1 })
            for v in Q8Variant.allAvailable {
                var y = [Float](repeating: 0, count: 19)
                m.gemv(acts, &y, variant: v)
                for i in 0..<19 {
                    // Exact: each block's integer sum is exact; pos then adds ≤ 66 integers < 2²⁴.
                    var pos: Float = 0
                    for w in 0..<((k + 63) / 64) {
                        var s = 0
                        for j in (64 * w)..<min(k, 64 * w + 64) { s += Int(t.q[i * k + j]) * Int(x[j]) }
                        pos += Float(s)
                    }
                    XCTAssertEqual(y[i], t.scale[i] * pos, "\(v) K \(k) row \(i)")
                }
            }
        }
    }

    /// row(i, into:) returns scaleᵢ·qᵢⱼ exactly.
    func testRowDequantizes() throws {
        var rng = SplitMix64(seed: 0x5eed_0804)
        let t = Q8TestMatrix(rows: 37, k: 129, rng: &rng)
        let m = try t.matrix()
        var out = [Float](repeating: .nan, count: 130)
        for i in [0, 15, 16, 36] {
            m.row(i, into: &out)
            for j in 0..<129 { XCTAssertEqual(out[j], t.scale[i] * Float(t.q[i * 129 + j]), "row \(i) col \(j)") }
            XCTAssertTrue(out[129].isNaN, "wrote past k")
        }
    }

    func testValidation() throws {
        var rng = SplitMix64(seed: 0x5eed_0805)
        let t = Q8TestMatrix(rows: 5, k: 70, rng: &rng)
        var bad = t.q
        bad[3 * 70 + 9] = -128
        XCTAssertThrowsError(try Q8Matrix(rows: 5, k: 70, q: bad, scale: t.scale)) { e in
            guard case Q8MatrixError.value(_, 3) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("Hint"))
        }
        XCTAssertThrowsError(try Q8Matrix(rows: 5, k: 70, q: Array(t.q.dropLast()), scale: t.scale))
        XCTAssertThrowsError(try Q8Matrix(rows: 5, k: 70, q: t.q, scale: [1]))
        XCTAssertThrowsError(try Q8Matrix(rows: 0, k: 70, q: [], scale: []))
    }

    /// The interleaved layout and the offset sums, against their definitions.
    func testInterleaveLayout() {
        var rng = SplitMix64(seed: 0x5eed_0806)
        let (rows, k) = (19, 70)
        let words = 2, groups = 2
        let q = (0..<(rows * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
        var w16 = [Int8](repeating: 99, count: groups * 16 * words * 64)
        var corr = [Int32](repeating: 99, count: groups * words * 16)
        XCTAssertEqual(pb_q8_interleave(q, Int64(rows), Int64(k), &w16, &corr), -1)
        for i in 0..<(groups * 16) {
            for j in 0..<(words * 64) {
                let want: Int8 = i < rows && j < k ? q[i * k + j] : 0
                XCTAssertEqual(w16[((i / 16) * words * 16 + j / 4) * 64 + (i % 16) * 4 + j % 4], want, "row \(i) col \(j)")
            }
            for b in 0..<words {
                let s = i < rows ? (64 * b)..<min(k, 64 * b + 64) : 0..<0
                let want = -128 * s.reduce(0) { $0 + Int(q[i * k + $1]) }
                XCTAssertEqual(Int(corr[((i / 16) * words + b) * 16 + i % 16]), want)
            }
        }
    }

    /// Narrowing the dispatch table picks the AVX2 and scalar kernels.
    func testDispatchFollowsFeatures() throws {
        defer { CPUFeatures.restrictDispatch(to: .current) }
        let cpu = CPUFeatures.current
        XCTAssertTrue(Q8Variant.best.available)
        if cpu.avx512vnni && cpu.avx512bw && cpu.avx512vl { XCTAssertEqual(Q8Variant.best, .avx512VNNI) }
        CPUFeatures.restrictDispatch(to: .baseline)
        XCTAssertEqual(Q8Variant.best, .scalar)
        XCTAssertEqual(Q8Variant.allAvailable, [.scalar])
        if cpu.avx2 && cpu.fma && cpu.f16c {
            CPUFeatures.restrictDispatch(to: .avx2Only)
            XCTAssertEqual(Q8Variant.best, .avx2)
            XCTAssertFalse(Q8Variant.avx512VNNI.available)
        }
    }
}
