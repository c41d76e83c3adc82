import CKernels
import XCTest

import Kernels

final class BinaryKernelTests: XCTestCase {
    /// Written to y outside the requested rows: must survive every call.
    let sentinel: Float = -12345.5

    /// Row ranges for a matrix of n rows, including ones that start past 0 and split row blocks.
    func rowRanges(_ n: Int) -> [Range<Int>] {
        var r: [Range<Int>] = [0..<n, min(1, n)..<n]
        if n >= 7 { r.append((n / 3)..<(n - n / 4)) }
        if n >= 64 { r.append(13..<57) }
        return r
    }

    /// Every available variant against its scalar twin (integer forms exactly, on the same
    /// quantized input) and against ŵ·x in Double within the derived bounds.
    func testEveryVariantAgainstTwinAndDoubleReference() throws {
        var rng = SplitMix64(seed: 0x5eed_0001)
        let variants = KernelVariant.allAvailable
        XCTAssertTrue(variants.contains(.scalarPopcount) && variants.contains(.scalarDot) && variants.contains(.scalarFloat))
        for k in awkwardK {
            let acts = BinaryActivations(maxK: k)
            for n in awkwardRows {
                let layer = TestLayer(rows: n, k: k, rng: &rng)
                let m = try layer.matrix(withSalient: false)
                let w = layer.dequantized()
                for kind in ActivationKind.allCases {
                    let x = kind.generate(count: k, rng: &rng)
                    acts.prepare(x, k: k, needs: [.float, .bytes, .planes])
                    let absSum = x.reduce(0.0) { $0 + Double(abs($1)) }
                    let d = acts.scales(token: 0)
                    let reference: [Double] = (0..<n).map { i in
                        (0..<k).reduce(0.0) { $0 + w[i * k + $1] * Double(x[$1]) }
                    }
                    var twins: [KernelVariant: [Float]] = [:]
                    for twin in [KernelVariant.scalarPopcount, .scalarDot, .scalarFloat] {
                        var y = [Float](repeating: sentinel, count: n)
                        m.gemv(acts, &y, variant: twin)
                        twins[twin] = y
                    }
                    XCTAssertEqual(twins[.scalarPopcount], twins[.scalarDot], "scalar integer twins disagree, K \(k) rows \(n) \(kind)")
                    for v in variants {
                        for range in rowRanges(n) {
                            var y = [Float](repeating: sentinel, count: n)
                            m.gemv(acts, &y, rows: range, variant: v)
                            let twin = twins[v.reference]!
                            for i in 0..<n {
                                let ctx = "\(v) K \(k) rows \(n) range \(range) row \(i) \(kind)"
                                guard range.contains(i) else {
                                    XCTAssertEqual(y[i], sentinel, "wrote outside the range: \(ctx)")
                                    continue
                                }
                                let floatBound = floatKernelBound(k: k, alpha: layer.alpha[i], mu: layer.mu[i], absSum: absSum)
                                if v.quantizesActivations {
                                    XCTAssertEqual(y[i], twin[i], "not bit-exact against \(v.reference): \(ctx)")
                                    let bound = quantizationBound(k: k, alpha: layer.alpha[i], scales: d) + floatBound
                                    XCTAssertLessThanOrEqual(abs(Double(y[i]) - reference[i]), bound, "vs Double: \(ctx)")
                                } else {
                                    XCTAssertLessThanOrEqual(abs(Double(y[i]) - Double(twin[i])), 2 * floatBound, "vs \(v.reference): \(ctx)")
                                    XCTAssertLessThanOrEqual(abs(Double(y[i]) - reference[i]), floatBound, "vs Double: \(ctx)")
                                }
                                if kind == .zeros { XCTAssertEqual(y[i], 0, "zero input: \(ctx)") }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The prefill product equals gemv token by token: bit for bit without salient weights, within
    /// the summation-order bound of the batched salient correction with them; with strided input
    /// and row ranges; and stays within the Double bounds.
    func testGemmMatchesGemvPerToken() throws {
        var rng = SplitMix64(seed: 0x5eed_0002)
        for (n, k) in [(7, 65), (65, 576), (64, 129), (3, 1000), (33, 64)] {
            let layer = TestLayer(rows: n, k: k, salientFraction: 0.1, rng: &rng)
            let m = try layer.matrix()
            let dense = try layer.matrix(withSalient: false)
            let w = layer.dequantized()
            for tokens in [1, 2, 4, 5, 9, 17, 70] {
                let ldx = k + 3
                var x = [Float](repeating: .nan, count: tokens * ldx)   // the gap must never be read
                for t in 0..<tokens {
                    let v = ActivationKind.allCases[t % ActivationKind.allCases.count].generate(count: k, rng: &rng)
                    for j in 0..<k { x[t * ldx + j] = v[j] }
                }
                let batch = BinaryActivations(maxK: k, maxTokens: tokens)
                batch.prepare(x, k: k, tokens: tokens, stride: ldx, needs: [.float, .bytes, .planes])
                let single = BinaryActivations(maxK: k)
                for v in KernelVariant.allAvailable {
                    if tokens > 9 && (v == .scalarDot || v == .scalarFloat) { continue }   // slow bit loops
                    let range = min(1, n)..<n
                    let ldy = n + 2
                    var y = [Float](repeating: sentinel, count: tokens * ldy)
                    var yd = [Float](repeating: sentinel, count: tokens * ldy)
                    m.gemm(batch, &y, ldy: ldy, rows: range, variant: v)
                    dense.gemm(batch, &yd, ldy: ldy, rows: range, variant: v)
                    for t in 0..<tokens {
                        var y1 = [Float](repeating: sentinel, count: n)
                        var yd1 = [Float](repeating: sentinel, count: n)
                        x.withUnsafeBufferPointer { single.prepare($0.baseAddress! + t * ldx, k: k, for: v) }
                        m.gemv(single, &y1, rows: range, variant: v)
                        dense.gemv(single, &yd1, rows: range, variant: v)
                        let absSum = (0..<k).reduce(0.0) { $0 + Double(abs(x[t * ldx + $1])) }
                        for i in 0..<n {
                            let ctx = "\(v) K \(k) rows \(n) tokens \(tokens) t \(t) row \(i)"
                            XCTAssertEqual(yd[t * ldy + i], yd1[i], "dense gemm ≠ gemv: \(ctx)")
                            guard range.contains(i) else {
                                XCTAssertEqual(y[t * ldy + i], sentinel, ctx)
                                continue
                            }
                            let entries = Int(layer.salient!.start[i + 1] - layer.salient!.start[i])
                            // |cᵢⱼ| ≤ 1 + μ + α < 2, so Σ|c·x| over the salient entries ≤ 2·Σ|x|.
                            let sparse = sparseBound(entries: entries, absSum: 2 * absSum)
                            XCTAssertLessThanOrEqual(abs(Double(y[t * ldy + i]) - Double(y1[i])), 2 * sparse + 2 * floatRoundoff * abs(Double(y1[i])),
                                                     "gemm vs gemv: \(ctx)")
                            let ref = (0..<k).reduce(0.0) { $0 + w[i * k + $1] * Double(x[t * ldx + $1]) }
                            var bound = floatKernelBound(k: k, alpha: layer.alpha[i], mu: layer.mu[i], absSum: absSum) + sparse
                            if v.quantizesActivations {
                                bound += quantizationBound(k: k, alpha: layer.alpha[i], scales: batch.scales(token: t))
                            }
                            XCTAssertLessThanOrEqual(abs(Double(y[t * ldy + i]) - ref), bound, "vs Double: \(ctx)")
                        }
                        XCTAssertEqual(y[t * ldy + n], sentinel)
                        XCTAssertEqual(y[t * ldy + n + 1], sentinel)
                    }
                }
            }
        }
    }

    /// Rows long enough to pass the AVX2 accumulator flushes (31 words, 64 half-words), with
    /// saturated data (every sign +1, every u = 255) that would overflow a missed flush.
    func testLongRowsAndSaturatedInputs() throws {
        var rng = SplitMix64(seed: 0x5eed_0008)
        for k in [2049, 4160] {
            let random = TestLayer(rows: 9, k: k, rng: &rng)
            let words = random.words
            var full = [UInt64](repeating: ~0, count: 9 * words)
            for i in 0..<9 where k % 64 != 0 { full[i * words + words - 1] = (UInt64(1) << UInt64(k % 64)) - 1 }
            let saturated = try BinaryMatrix(rows: 9, k: k, signs: full, alpha: random.alpha, mu: random.mu,
                                             variants: KernelVariant.allCases)
            let acts = BinaryActivations(maxK: k)
            for (m, x) in [(try random.matrix(), ActivationKind.normal.generate(count: k, rng: &rng)),
                           (saturated, [Float](repeating: 3, count: k))] {
                acts.prepare(x, k: k, needs: [.float, .bytes, .planes])
                for v in KernelVariant.allAvailable {
                    var y = [Float](repeating: 0, count: 9), twin = [Float](repeating: 0, count: 9)
                    m.gemv(acts, &y, variant: v)
                    m.gemv(acts, &twin, variant: v.reference)
                    for i in 0..<9 {
                        let bound = 2 * floatKernelBound(k: k, alpha: random.alpha[i], mu: random.mu[i],
                                                         absSum: x.reduce(0.0) { $0 + Double(abs($1)) })
                        if v.quantizesActivations {
                            XCTAssertEqual(y[i], twin[i], "\(v) K \(k) row \(i)")
                        } else {
                            XCTAssertLessThanOrEqual(abs(Double(y[i] - twin[i])), bound, "\(v) K \(k) row \(i)")
                        }
                    }
                }
            }
        }
    }

    /// Splitting the rows into arbitrary pieces (as threads would) gives the whole-range result.
    func testRowSplitsAgreeWithWholeRange() throws {
        var rng = SplitMix64(seed: 0x5eed_0003)
        let (n, k) = (65, 576)
        let layer = TestLayer(rows: n, k: k, salientFraction: 0.05, rng: &rng)
        let m = try layer.matrix()
        let acts = BinaryActivations(maxK: k)
        let x = ActivationKind.normal.generate(count: k, rng: &rng)
        acts.prepare(x, k: k, needs: [.float, .bytes, .planes])
        for v in KernelVariant.allAvailable {
            var whole = [Float](repeating: 0, count: n)
            m.gemv(acts, &whole, variant: v)
            var pieces = [Float](repeating: sentinel, count: n)
            for r in [0..<5, 5..<13, 13..<14, 14..<40, 40..<65] { m.gemv(acts, &pieces, rows: r, variant: v) }
            XCTAssertEqual(whole, pieces, "\(v)")
        }
    }

    /// The salient correction alone, every helper level (one vector at a time from the CSR or the
    /// ELL copy, and batched over the transposed copy) against the scalar one and Double.
    func testSparseCorrectionHelpers() throws {
        var rng = SplitMix64(seed: 0x5eed_0004)
        let (n, k) = (65, 1000)
        let layer = TestLayer(rows: n, k: k, salientFraction: 0.12, rng: &rng)
        let s = layer.salient!
        let coef: [UInt16] = (0..<s.count).map { e in
            let i = s.start.firstIndex { Int($0) > e }! - 1
            let j = Int(s.columns[e])
            return Float16(s.values[e] - layer.mu[i] - layer.alpha[i] * Float(layer.sign(i, j))).bitPattern
        }
        for tokens in [1, 3, 16, 37, 64, 70] {
            let x = ActivationKind.normal.generate(count: tokens * k, rng: &rng)
            let ldxt = (tokens + 15) / 16 * 16
            var xt = [Float](repeating: .nan, count: k * ldxt)
            pb_transpose(x, Int64(k), Int64(tokens), Int64(k), &xt, Int64(ldxt))
            for j in [0, 7, k - 1] {
                for t in 0..<ldxt { XCTAssertEqual(xt[j * ldxt + t], t < tokens ? x[t * k + j] : 0) }
            }
            try s.start.withUnsafeBufferPointer { start in
                try s.columns.withUnsafeBufferPointer { col in
                    try coef.withUnsafeBufferPointer { cf in
                        var csr = pb_sparse(rows: Int64(n), k: Int64(k), start: start.baseAddress, col: col.baseAddress,
                                            coef: cf.baseAddress, ell_start: nil, ell_col: nil, ell_coef: nil)
                        let slots = Int(pb_sparse_ell_slots(start.baseAddress, Int64(n)))
                        var ellStart = [UInt32](repeating: 0, count: (n + 15) / 16 + 1)
                        var ellCol = [UInt16](repeating: 7, count: slots * 16), ellCoef = ellCol
                        pb_sparse_fill_ell(start.baseAddress, col.baseAddress, cf.baseAddress, Int64(n), &ellStart, &ellCol, &ellCoef)
                        XCTAssertEqual(Int(ellStart.last!), slots)
                        var reference = [Float](repeating: 0, count: tokens * n)
                        let scalar = try XCTUnwrap(pb_table_helpers(PB_ISA_SCALAR)).pointee
                        scalar.sparse(&csr, x, Int64(k), nil, 0, Int64(tokens), 0, Int64(n), &reference, Int64(n))
                        for isa in [PB_ISA_SCALAR, PB_ISA_AVX2, PB_ISA_AVX512] {
                            guard let h = pb_table_helpers(isa)?.pointee else { continue }
                            for (batched, ell) in [(false, false), (false, true), (true, false), (true, true)] {
                                var y = [Float](repeating: 1, count: tokens * n)   // adds to what is there
                                ellStart.withUnsafeBufferPointer { es in
                                    ellCol.withUnsafeBufferPointer { ec in
                                        ellCoef.withUnsafeBufferPointer { ef in
                                            var m = csr
                                            if ell { (m.ell_start, m.ell_col, m.ell_coef) = (es.baseAddress, ec.baseAddress, ef.baseAddress) }
                                            h.sparse(&m, x, Int64(k), batched ? xt : nil, Int64(ldxt), Int64(tokens), 2, Int64(n), &y, Int64(n))
                                        }
                                    }
                                }
                                for t in 0..<tokens {
                                    for i in 0..<n {
                                        guard i >= 2 else { XCTAssertEqual(y[t * n + i], 1); continue }
                                        var exact = 0.0, absSum = 0.0
                                        for e in Int(s.start[i])..<Int(s.start[i + 1]) {
                                            let p = Double(Float(Float16(bitPattern: coef[e]))) * Double(x[t * k + Int(s.columns[e])])
                                            exact += p
                                            absSum += abs(p)
                                        }
                                        let entries = Int(s.start[i + 1] - s.start[i])
                                        let bound = sparseBound(entries: entries, absSum: absSum + 1)
                                        let ctx = "isa \(isa.rawValue) batched \(batched) ell \(ell) tokens \(tokens) t \(t) row \(i)"
                                        XCTAssertLessThanOrEqual(abs(Double(y[t * n + i]) - (1 + exact)), bound, ctx)
                                        XCTAssertLessThanOrEqual(abs(Double(y[t * n + i] - 1 - reference[t * n + i])), 2 * bound, ctx)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Quantization, bit-planes and the float copy: every helper level equals the scalar one, and
    /// the scalar one is what it claims (per-block scales, Q, padding, planes rebuild q).
    func testActivationHelpersAgreeAcrossLevels() throws {
        var rng = SplitMix64(seed: 0x5eed_0005)
        let scalar = try XCTUnwrap(pb_table_helpers(PB_ISA_SCALAR)).pointee
        for k in awkwardK + [4100] {
            let words = (k + 63) / 64, padded = words * 64
            for kind in ActivationKind.allCases {
                let x = kind.generate(count: k, rng: &rng)
                var q0 = [Int8](repeating: 0x2A, count: padded), u0 = [UInt8](repeating: 0xAA, count: padded)
                var p0 = [UInt64](repeating: 0, count: words * 8)
                var x0 = [Float](repeating: .nan, count: padded)
                var d0 = [Float](repeating: .nan, count: words), qs0: Float = .nan
                let s0 = scalar.load_float(x, Int64(k), Int64(padded), &x0)
                scalar.quantize(x, Int64(k), Int64(padded), &q0, &u0, &d0, &qs0)
                scalar.bitplanes(q0, Int64(words), &p0)
                // The scalar twin itself: per-block scales, q within half a step, Q, padding, planes.
                var total = 0.0
                for w in 0..<words {
                    let block = x[(64 * w)..<min(k, 64 * w + 64)]
                    let m = block.reduce(Float(0)) { max($0, abs($1)) }
                    XCTAssertEqual(d0[w], m > 0 ? m / 127 : 0, "K \(k) \(kind) block \(w)")
                    var qs = 0
                    for j in (64 * w)..<(64 * w + 64) {
                        qs += Int(q0[j])
                        XCTAssertEqual(Int(u0[j]), Int(q0[j]) + 128)
                        if j < k {
                            XCTAssertLessThanOrEqual(abs(Double(x[j]) - Double(d0[w]) * Double(q0[j])),
                                                     Double(d0[w]) * (0.5 + quantizationRoundingSlack), "K \(k) \(kind) j \(j)")
                        }
                    }
                    total += Double(d0[w]) * Double(qs)
                }
                XCTAssertEqual(qs0, Float(total))
                XCTAssertTrue(q0[k...].allSatisfy { $0 == 0 } && x0[k...].allSatisfy { $0 == 0 })
                for j in 0..<padded {
                    let rebuilt = (0..<8).reduce(0) { $0 | Int((p0[(j / 64) * 8 + $1] >> UInt64(j % 64)) & 1) << $1 }
                    XCTAssertEqual(rebuilt, Int(UInt8(bitPattern: q0[j])))
                }
                let exactSum = x.reduce(0.0) { $0 + Double($1) }
                XCTAssertEqual(Double(s0), exactSum, accuracy: floatRoundoff * x.reduce(0.0) { $0 + Double(abs($1)) } * 2)
                for isa in [PB_ISA_AVX2, PB_ISA_AVX512] {
                    guard let h = pb_table_helpers(isa)?.pointee else { continue }
                    var q1 = [Int8](repeating: 0x55, count: padded), u1 = [UInt8](repeating: 0x55, count: padded)
                    var p1 = [UInt64](repeating: 1, count: words * 8)
                    var x1 = [Float](repeating: .nan, count: padded)
                    var d1 = [Float](repeating: 7, count: words), qs1: Float = 0
                    let s1 = h.load_float(x, Int64(k), Int64(padded), &x1)
                    h.quantize(x, Int64(k), Int64(padded), &q1, &u1, &d1, &qs1)
                    h.bitplanes(q1, Int64(words), &p1)
                    let ctx = "isa \(isa.rawValue) K \(k) \(kind)"
                    XCTAssertEqual(q1, q0, ctx)
                    XCTAssertEqual(u1, u0, ctx)
                    XCTAssertEqual(d1, d0, ctx)
                    XCTAssertEqual(qs1.bitPattern, qs0.bitPattern, ctx)
                    XCTAssertEqual(p1, p0, ctx)
                    XCTAssertEqual(x1, x0, ctx)
                    XCTAssertEqual(Double(s1), exactSum, accuracy: floatRoundoff * x.reduce(0.0) { $0 + Double(abs($1)) } * 2, ctx)
                    // Without the offset copy.
                    var q2 = [Int8](repeating: 0x55, count: padded)
                    h.quantize(x, Int64(k), Int64(padded), &q2, nil, &d1, &qs1)
                    XCTAssertEqual(q2, q0, ctx)
                }
            }
        }
    }

    /// Rounding is half to even at every level (d = 1 exactly when a block's max|x| = 127), and
    /// each block of 64 has its own scale.
    func testQuantizationRoundsHalfToEvenPerBlock() throws {
        var x: [Float] = [127, 2.5, 3.5, -2.5, -0.5, 0.5, 1.5, -127, 126.5]
        let expected: [Int] = [127, 2, 4, -2, 0, 0, 2, -127, 126]
        x += [Float](repeating: 0, count: 64 - x.count)
        x += [0.5, -1, 0.25, 0.125]   // block 1: max 1, d = 1/127
        for isa in [PB_ISA_SCALAR, PB_ISA_AVX2, PB_ISA_AVX512] {
            guard let h = pb_table_helpers(isa)?.pointee else { continue }
            var q = [Int8](repeating: 0, count: 128), d = [Float](repeating: 0, count: 2)
            var total: Float = 0
            h.quantize(x, Int64(x.count), 128, &q, nil, &d, &total)
            XCTAssertEqual(d[0], 1)
            XCTAssertEqual(d[1], Float(1) / 127)
            XCTAssertEqual(q[0..<expected.count].map { Int($0) }, expected, "isa \(isa.rawValue)")
            XCTAssertEqual(q[64..<68].map { Int($0) }, [64, -127, 32, 16], "isa \(isa.rawValue)")   // 63.5 → 64
            XCTAssertEqual(total, Float(Double(expected.reduce(0, +)) + Double(d[1]) * Double(64 - 127 + 32 + 16)))
        }
    }

    /// The transposed copy, on the widest path and on plain x86-64, for awkward shapes.
    func testTransposeEveryLevel() {
        defer { CPUFeatures.restrictDispatch(to: .current) }
        var rng = SplitMix64(seed: 0x5eed_000a)
        for features in [CPUFeatures.current, .baseline] {
            CPUFeatures.restrictDispatch(to: features)
            for (count, k, ldx) in [(1, 1, 1), (2, 17, 20), (16, 576, 576), (37, 65, 70), (64, 1536, 1536), (70, 33, 40)] {
                let x = (0..<(count * ldx)).map { _ in Float.random(in: -1...1, using: &rng) }
                let ldxt = (count + 15) / 16 * 16
                var xt = [Float](repeating: .nan, count: k * ldxt + 3)
                pb_transpose(x, Int64(ldx), Int64(count), Int64(k), &xt, Int64(ldxt))
                for j in 0..<k {
                    for t in 0..<ldxt {
                        XCTAssertEqual(xt[j * ldxt + t], t < count ? x[t * ldx + j] : 0, "\(features) count \(count) k \(k) j \(j) t \(t)")
                    }
                }
                XCTAssertTrue(xt[(k * ldxt)...].allSatisfy(\.isNaN), "wrote past the copy")
            }
        }
    }

    /// float → half, scalar and batched (F16C), equals Swift's Float16(_:) on every rounding
    /// boundary (each half, the midpoints to its neighbours and one float step either side) and on
    /// random floats across the whole exponent range.
    func testFloatToHalfRoundsLikeSwift() {
        var xs: [Float] = [0, -0, .infinity, -.infinity, 65504, 65519.998, 65520, 65536, 1e10, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26]
        for bits in UInt16(0)..<0x7c00 {
            let h = Float(Float16(bitPattern: bits)), next = Float(Float16(bitPattern: bits + 1))
            let mid = (h + next) / 2   // exact in Float
            for v in [h, mid, mid.nextDown, mid.nextUp] { xs += [v, -v] }
        }
        var rng = SplitMix64(seed: 0x5eed_000b)
        for _ in 0..<200_000 { xs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        var batch = [UInt16](repeating: 0, count: xs.count)
        pb_floats_to_halves(xs, Int64(xs.count), &batch)
        for (i, x) in xs.enumerated() where !x.isNaN {
            let want = Float16(x).bitPattern
            XCTAssertEqual(pb_float_to_half(x), want, "scalar \(x)")
            XCTAssertEqual(batch[i], want, "batch \(x)")
        }
    }

    func testHalfToFloatIsExactForEveryPattern() {
        for bits in 0...UInt16.max {
            let got = pb_half_to_float(bits), want = Float(Float16(bitPattern: bits))
            if want.isNaN { XCTAssertTrue(got.isNaN, "\(bits)") } else { XCTAssertEqual(got.bitPattern, want.bitPattern, "\(bits)") }
        }
    }

    func testInterleaveAndRowOnes() {
        var rng = SplitMix64(seed: 0x5eed_0006)
        let (rows, words) = (19, 3)
        let bits = (0..<(rows * words)).map { _ in rng.next() }
        var ones = [Int32](repeating: 0, count: rows)
        pb_row_ones(bits, Int64(rows), Int64(words), &ones)
        var il = [UInt64](repeating: 7, count: 24 * words)
        pb_interleave8(bits, Int64(rows), Int64(words), &il)
        var nib = [UInt64](repeating: 7, count: 32 * words)
        pb_interleave_nibbles(bits, Int64(rows), Int64(words), &nib)
        for i in 0..<32 {
            for w in 0..<words where i < 24 {
                XCTAssertEqual(il[((i / 8) * words + w) * 8 + i % 8], i < rows ? bits[i * words + w] : 0)
            }
            for j in 0..<(words * 64) {
                let want = i < rows ? (bits[i * words + j / 64] >> UInt64(j % 64)) & 1 : 0
                let c = j / 4
                XCTAssertEqual((nib[(i / 16) * words * 16 + c] >> UInt64(4 * (i % 16) + j % 4)) & 1, want, "row \(i) col \(j)")
            }
            if i < rows { XCTAssertEqual(Int(ones[i]), (0..<words).reduce(0) { $0 + bits[i * words + $1].nonzeroBitCount }) }
        }
    }

    /// Narrowing the dispatch table picks the AVX2 and plain x86-64 paths.
    func testDispatchFollowsFeatures() {
        defer { CPUFeatures.restrictDispatch(to: .current) }
        let cpu = CPUFeatures.current
        if cpu.avx512vnni { XCTAssertTrue(cpu.avx512f && cpu.avx512bw) }
        XCTAssertEqual(CPUFeatures.dispatch, cpu)
        XCTAssertTrue(KernelVariant.best.available)

        CPUFeatures.restrictDispatch(to: .baseline)
        XCTAssertEqual(KernelVariant.best, .scalarPopcount)
        XCTAssertEqual(KernelVariant.allAvailable, [.scalarPopcount, .scalarDot, .scalarFloat])
        XCTAssertNoThrow(try defaultPathMatchesTwin())

        if cpu.avx2 && cpu.fma && cpu.f16c {
            CPUFeatures.restrictDispatch(to: .avx2Only)
            XCTAssertEqual(KernelVariant.best, .avx2Dot)
            XCTAssertFalse(KernelVariant.avx512VNNI.available)
            XCTAssertTrue(KernelVariant.avx2Popcount.available)
            XCTAssertNoThrow(try defaultPathMatchesTwin())
        }
        CPUFeatures.restrictDispatch(to: .current)
        if cpu.avx512vnni && cpu.avx512bw && cpu.avx512vl {
            XCTAssertEqual(KernelVariant.best, .avx512VNNI)
            XCTAssertTrue(KernelVariant.prefer(.avx512Popcount))
            XCTAssertEqual(KernelVariant.best, .avx512Popcount)
            CPUFeatures.restrictDispatch(to: .current)   // refilling restores the preference
        }
        for v in KernelVariant.allCases { XCTAssertEqual(v.reference.reference, v.reference) }
        XCTAssertEqual(KernelVariant.avx512VNNI.reference, .scalarDot)
        XCTAssertEqual(KernelVariant.avx2Popcount.reference, .scalarPopcount)
        XCTAssertEqual(KernelVariant.avx512MaskedFloat.reference, .scalarFloat)
    }

    /// What the runtime does — a matrix built for `.best`, the one-call gemv with defaults — gives
    /// the scalar twin's result under the current dispatch table.
    func defaultPathMatchesTwin() throws {
        var rng = SplitMix64(seed: 0x5eed_0009)
        let layer = TestLayer(rows: 65, k: 576, rng: &rng)
        let m = try layer.matrix(variants: [KernelVariant.best])
        let x = ActivationKind.normal.generate(count: 576, rng: &rng)
        let scratch = BinaryActivations(maxK: 576)
        var y = [Float](repeating: 0, count: 65), twin = [Float](repeating: 0, count: 65)
        m.gemv(x, &y, scratch: scratch)
        m.gemv(scratch, &twin, variant: KernelVariant.best.reference)
        XCTAssertEqual(y, twin, "\(KernelVariant.best)")
    }

    func testLayoutValidation() throws {
        var rng = SplitMix64(seed: 0x5eed_0007)
        let layer = TestLayer(rows: 3, k: 65, rng: &rng)
        var bad = layer.signs
        bad[1 * layer.words + 1] |= 1 << 5   // column 69 of row 1: padding
        XCTAssertThrowsError(try BinaryMatrix(rows: 3, k: 65, signs: bad, alpha: layer.alpha, mu: layer.mu)) { e in
            guard case BinaryMatrixError.paddingBits(_, 1) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("Hint"))
        }
        XCTAssertThrowsError(try BinaryMatrix(rows: 3, k: 65, signs: Array(layer.signs.dropLast()), alpha: layer.alpha, mu: layer.mu))
        XCTAssertThrowsError(try BinaryMatrix(rows: 3, k: 65, signs: layer.signs, alpha: [1], mu: layer.mu))
        let outOfRange = SalientWeights(rows: 3, start: [0, 1, 1, 1], columns: [65], values: [1])
        XCTAssertThrowsError(try BinaryMatrix(rows: 3, k: 65, signs: layer.signs, alpha: layer.alpha, mu: layer.mu, salient: outOfRange))
        let overflow = SalientWeights(rows: 3, start: [0, 1, 1, 1], columns: [3], values: [1e6])
        XCTAssertThrowsError(try BinaryMatrix(rows: 3, k: 65, signs: layer.signs, alpha: layer.alpha, mu: layer.mu, salient: overflow))
        // A matrix built only for the scalar twin has no interleaved rows: SIMD variants are not supported.
        let slim = try BinaryMatrix(rows: 3, k: 65, signs: layer.signs, alpha: layer.alpha, mu: layer.mu, variants: [.scalarDot])
        XCTAssertFalse(slim.supports(.avx512Popcount) || slim.supports(.avx512VNNI) || slim.supports(.avx2Dot))
        XCTAssertTrue(slim.supports(.scalarPopcount))
        XCTAssertFalse(slim.hasNibbleRows || slim.hasInterleavedRows)
        let vnni = try BinaryMatrix(rows: 3, k: 65, signs: layer.signs, alpha: layer.alpha, mu: layer.mu, variants: [.avx2Dot])
        XCTAssertTrue(vnni.hasNibbleRows && !vnni.hasInterleavedRows)
    }

    /// The `.pbllm` salient parts (block counts, in-block offsets, 8-bit values) decode to CSR.
    func testSalientDecodeFromFileParts() throws {
        // 2 rows, K = 300 (2 blocks of 256): row 0 has columns 3, 260; row 1 has column 255.
        let offsets = buffer([3, 4, 255] as [UInt8]), q = buffer([10, 20, 30] as [UInt8])
        let scale = buffer([0.5, 2] as [Float]), zero = buffer([8, 1] as [Float])
        let counts = buffer([1, 1, 1, 0] as [UInt16]), tooMany = buffer([1, 1, 2, 0] as [UInt16])
        defer { for p in [offsets.baseAddress, q.baseAddress] { p?.deallocate() } }
        defer { for p in [scale.baseAddress, zero.baseAddress] { p?.deallocate() } }
        defer { for p in [counts.baseAddress, tooMany.baseAddress] { p?.deallocate() } }

        let s = try SalientWeights(rows: 2, k: 300, blockCounts: counts, offsets: offsets, q: q, scale: scale, zero: zero)
        XCTAssertEqual(s.start, [0, 2, 3])
        XCTAssertEqual(s.columns, [3, 260, 255])
        XCTAssertEqual(s.values, [1, 6, 58])
        XCTAssertThrowsError(try SalientWeights(rows: 2, k: 300, blockCounts: tooMany, offsets: offsets, q: q,
                                                scale: scale, zero: zero))
    }

    /// A copy of `a` in its own allocation (the caller deallocates), standing in for mapped file parts.
    func buffer<T>(_ a: [T]) -> UnsafeBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: a.count)
        _ = p.initialize(from: a)
        return UnsafeBufferPointer(p)
    }
}
