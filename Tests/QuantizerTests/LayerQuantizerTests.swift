import Foundation
import PBFormat
import Quantizer
import Runtime
import XCTest

/// GPTQ-PB on single layers, against plain computations.
final class LayerQuantizerTests: XCTestCase {
    var rng = SeededRandom(seed: 2024)
    func gaussian() -> Float {
        let u = max(rng.nextUnit(), 1e-12), v = rng.nextUnit()
        return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }
    func matrix(_ rows: Int, _ cols: Int) -> [Float] { (0..<(rows * cols)).map { _ in gaussian() } }

    /// Inputs with correlated features (as real activations have): X = Z·A.
    func correlatedInputs(tokens: Int, features k: Int) -> [Float] {
        let z = matrix(tokens, k), a = matrix(k, k)
        var x = [Float](repeating: 0, count: tokens * k)
        for t in 0..<tokens { for j in 0..<k { var s: Float = 0; for m in 0..<k { s += z[t * k + m] * a[m * k + j] * (m % 7 == 0 ? 3 : 0.3) }; x[t * k + j] = s } }
        return x
    }

    func hessian(_ x: [Float], tokens: Int, k: Int) -> [Float] {
        let acc = HessianAccumulator(columns: k)
        x.withUnsafeBufferPointer { acc.add($0.baseAddress!, tokens: tokens) }
        return acc.hessian
    }

    /// ‖W·Xᵀ − Ŵ·Xᵀ‖² over all tokens.
    func outputError(_ w: [Float], _ q: [Float], _ x: [Float], rows: Int, k: Int, tokens: Int) -> Double {
        var e = 0.0
        for t in 0..<tokens { for i in 0..<rows {
            var d = 0.0
            for j in 0..<k { d += Double(w[i * k + j] - q[i * k + j]) * Double(x[t * k + j]) }
            e += d * d
        } }
        return e
    }

    func testHessianAccumulationEqualsDirectComputation() {
        let k = 19, chunks = [5, 8, 3]
        let acc = HessianAccumulator(columns: k)
        var all: [[Float]] = []
        for t in chunks {
            let x = matrix(t, k)
            all.append(x)
            x.withUnsafeBufferPointer { acc.add($0.baseAddress!, tokens: t) }
        }
        let h = acc.hessian
        for a in 0..<k { for b in 0..<k {
            var direct = 0.0
            for (x, t) in zip(all, chunks) { for r in 0..<t { direct += Double(x[r * k + a]) * Double(x[r * k + b]) } }
            direct *= 2 / Double(chunks.count)  // GPTQ's 2/n, n the number of samples
            XCTAssertEqual(Double(h[a * k + b]), direct, accuracy: 1e-4 * max(1, abs(direct)))
        } }
    }

    func testGPTQReducesLayerOutputErrorBelowRoundToNearest() throws {
        let rows = 24, k = 130, tokens = 400  // k straddles a GPTQ block of 128
        let w = matrix(rows, k), x = correlatedInputs(tokens: tokens, features: k)
        let h = hessian(x, tokens: tokens, k: k)
        for method in [QuantSettings.Method.xnor, .sign, .twoBit] {
            for salient in [QuantSettings.Salient.magnitude, .hessian] {
                var s = QuantSettings(); s.method = method; s.lowFraction = 0.9; s.salient = salient
                s.gptq = false
                let rtn = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
                s.gptq = true
                let gptq = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
                let eRTN = outputError(w, rtn.values, x, rows: rows, k: k, tokens: tokens)
                let eGPTQ = outputError(w, gptq.values, x, rows: rows, k: k, tokens: tokens)
                XCTAssertLessThan(eGPTQ, 0.9 * eRTN, "\(method) \(salient): GPTQ \(eGPTQ) vs RTN \(eRTN)")
            }
        }
    }

    func testRoundToNearestXnorFollowsPBLLM() throws {
        let rows = 7, k = 100
        let w = matrix(rows, k)
        var s = QuantSettings(); s.gptq = false; s.lowFraction = 0.8
        let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s)
        // Exactly the top 20% by magnitude are salient.
        let threshold = w.map(abs).sorted()[Int(Double(rows * k) * 0.8)]
        for i in 0..<(rows * k) { XCTAssertEqual(q.salient[i], abs(w[i]) > threshold) }
        XCTAssertEqual(q.salient.filter { $0 }.count, rows * k - Int(Double(rows * k) * 0.8) - 1)
        for i in 0..<rows {
            let low = (0..<k).filter { !q.salient[i * k + $0] }.map { Double(w[i * k + $0]) }
            let mu = low.reduce(0, +) / Double(low.count)
            let alpha = low.map { abs($0 - mu) }.reduce(0, +) / Double(low.count)
            for j in 0..<k where !q.salient[i * k + j] {
                let expected = mu + (Double(w[i * k + j]) - mu >= 0 ? alpha : -alpha)
                XCTAssertEqual(Double(q.values[i * k + j]), expected, accuracy: 1e-5)
            }
            for j in 0..<k where q.salient[i * k + j] {  // 8-bit: within half a step of the original
                XCTAssertEqual(q.values[i * k + j], w[i * k + j], accuracy: (w.max()! - w.min()!) / 255)
            }
        }
    }

    /// The least-squares refit of μ, α never raises the layer's output error on the calibration
    /// inputs; without it the row scales are PB-LLM's (mean and mean |w − μ| of the non-salient weights).
    func testScaleRefitLowersOutputErrorAndCanBeTurnedOff() throws {
        let rows = 12, k = 96, tokens = 80
        let w = matrix(rows, k), x = correlatedInputs(tokens: tokens, features: k)
        let h = hessian(x, tokens: tokens, k: k)
        var s = QuantSettings(); s.salient = .hessian; s.lowFraction = 0.9
        let refit = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
        s.refitScales = false
        let plain = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
        XCTAssertEqual(refit.salient, plain.salient)
        let refitError = outputError(w, refit.values, x, rows: rows, k: k, tokens: tokens)
        let plainError = outputError(w, plain.values, x, rows: rows, k: k, tokens: tokens)
        XCTAssertLessThan(refitError, plainError)
        let codes = try XCTUnwrap(plain.packed)
        for i in 0..<rows {
            let low = (0..<k).filter { !plain.salient[i * k + $0] }.map { Double(w[i * k + $0]) }
            let mu = low.reduce(0, +) / Double(low.count)
            XCTAssertEqual(Double(codes.mu[i]), mu, accuracy: 1e-5)
            XCTAssertEqual(Double(codes.alpha[i]), low.map { abs($0 - mu) }.reduce(0, +) / Double(low.count), accuracy: 1e-5)
        }
        XCTAssertNotEqual(try XCTUnwrap(refit.packed).alpha, codes.alpha)
    }

    /// `--salient error` keeps the weights binarization would hurt most: with H = I (every column
    /// weighs the same) the top 10% by (|w − μ| − α)², μ and α over the whole row.
    func testErrorSaliencyPicksTheWorstBinarizedWeights() throws {
        let rows = 8, k = 60
        let w = matrix(rows, k)
        var identity = [Float](repeating: 0, count: k * k)
        for j in 0..<k { identity[j * k + j] = 1 }
        var s = QuantSettings(); s.salient = .error; s.lowFraction = 0.9; s.gptq = false
        let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: identity)
        var cost = [Float](repeating: 0, count: rows * k)
        for i in 0..<rows {
            let row = w[(i * k)..<((i + 1) * k)]
            let mu = row.reduce(0, +) / Float(k), alpha = row.reduce(0) { $0 + abs($1 - mu) } / Float(k)
            for j in 0..<k { let e = abs(w[i * k + j] - mu) - alpha; cost[i * k + j] = e * e }
        }
        let threshold = cost.sorted()[Int(Double(rows * k) * 0.9)]
        XCTAssertEqual(q.salient, cost.map { $0 > threshold })
        s.gptq = true
        XCTAssertThrowsError(try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s), "needs calibration")
    }

    /// `pbllmStatistics`: xnor's μ, α over the whole row with the salient weights counted as
    /// zeros, as PB-LLM's low_quant.py computes them.
    func testPBLLMStatisticsCountSalientWeightsAsZeros() throws {
        let rows = 5, k = 40
        let w = matrix(rows, k)
        var s = QuantSettings(); s.gptq = false; s.lowFraction = 0.8; s.pbllmStatistics = true
        let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s)
        let codes = try XCTUnwrap(q.packed)
        for i in 0..<rows {
            let zeroed = (0..<k).map { q.salient[i * k + $0] ? 0 : Double(w[i * k + $0]) }
            let mu = zeroed.reduce(0, +) / Double(k)
            XCTAssertEqual(Double(codes.mu[i]), mu, accuracy: 1e-6)
            XCTAssertEqual(Double(codes.alpha[i]), zeroed.map { abs($0 - mu) }.reduce(0, +) / Double(k), accuracy: 1e-6)
        }
    }

    func testColumnSaliencyKeepsTheWholeColumnsWithTheLargestTotal() throws {
        let rows = 6, k = 50, tokens = 40
        let w = matrix(rows, k), x = correlatedInputs(tokens: tokens, features: k)
        let h = hessian(x, tokens: tokens, k: k)
        var s = QuantSettings(); s.lowFraction = 0.9; s.salientUnit = .column
        for salient in [QuantSettings.Salient.magnitude, .hessian] {
            s.salient = salient
            let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
            let chosen = (0..<k).filter { q.salient[$0] }
            XCTAssertEqual(chosen.count, 5, "10% of 50 columns")
            for j in 0..<k { for i in 0..<rows { XCTAssertEqual(q.salient[i * k + j], chosen.contains(j), "whole columns") } }
            if salient == .magnitude {  // the chosen columns have the largest Σ|w|
                let total = (0..<k).map { j in (0..<rows).reduce(Float(0)) { $0 + abs(w[$1 * k + j]) } }
                XCTAssertEqual(Set(chosen), Set(total.indices.sorted { total[$0] > total[$1] }.prefix(5)))
            }
            let packed = PBLayer(codes: try XCTUnwrap(q.packed), salient: q.salient, rows: rows, columns: k)
            let decoded = packed.dequantized()
            for i in 0..<(rows * k) { XCTAssertEqual(decoded[i], q.values[i], accuracy: 1e-5) }
        }
    }

    func testPackedLayerDecodesToTheQuantizedValues() throws {
        let rows = 9, k = 333, tokens = 50
        let w = matrix(rows, k), x = correlatedInputs(tokens: tokens, features: k)
        let h = hessian(x, tokens: tokens, k: k)
        for method in [QuantSettings.Method.xnor, .sign] {
            for gptq in [false, true] {
                var s = QuantSettings(); s.method = method; s.gptq = gptq; s.lowFraction = 0.85; s.highBit = 6
                let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
                let packed = PBLayer(codes: try XCTUnwrap(q.packed), salient: q.salient, rows: rows, columns: k)
                XCTAssertNil(packed.validationError())
                let decoded = packed.dequantized()
                for i in 0..<(rows * k) { XCTAssertEqual(decoded[i], q.values[i], accuracy: 1e-5, "\(method) gptq \(gptq) at \(i)") }
            }
        }
        var s = QuantSettings(); s.method = .fourBit; s.gptq = false
        XCTAssertNil(try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s).packed, "4bit has no packed form")
    }

    /// Column scales: on a layer whose columns have different magnitudes (as real layers' input
    /// channels do), binarizing W·diag(1/c) follows the weights better than one scale per row
    /// (round-to-nearest, nothing salient: the binarizer alone). With salient weights and GPTQ the
    /// packed codes with c decode to the quantized values. (Whether GPTQ-PB gains overall is a
    /// property of the model: SmolLM2 goes from 259.2 to 201.0, README.)
    func testColumnScalesFollowUnevenColumnsAndDecodeExactly() throws {
        let rows = 16, k = 130, tokens = 60
        let magnitude = (0..<k).map { _ in Float(exp(0.7 * Double(gaussian()))) }
        let w = matrix(rows, k).enumerated().map { $0.element * magnitude[$0.offset % k] }
        var s = QuantSettings(); s.gptq = false; s.lowFraction = 1
        let plain = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s)
        s.columnScale = true
        let scaled = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s)
        func error(_ q: [Float]) -> Float { zip(w, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        XCTAssertNil(plain.columnScale)
        XCTAssertLessThan(error(scaled.values), 0.8 * error(plain.values))

        let x = correlatedInputs(tokens: tokens, features: k)
        let h = hessian(x, tokens: tokens, k: k)
        for gptq in [false, true] {
            s.salient = .error; s.gptq = gptq; s.lowFraction = 0.9
            let q = try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h)
            var packed = PBLayer(codes: try XCTUnwrap(q.packed), salient: q.salient, rows: rows, columns: k)
            packed.columnScale = try XCTUnwrap(q.columnScale)
            XCTAssertNil(packed.validationError())
            let decoded = packed.dequantized()
            for i in 0..<(rows * k) { XCTAssertEqual(decoded[i], q.values[i], accuracy: 1e-4 * max(1, abs(q.values[i])), "gptq \(gptq)") }
        }
    }

    /// Act-order only changes the order GPTQ visits the columns: when the Hessian's diagonal is
    /// already decreasing the result is the same as without it; otherwise the per-weight arrays
    /// come back in the original column order (the packed codes decode to the values).
    func testActOrderVisitsColumnsByHessianDiagonalAndRestoresTheOrder() throws {
        let rows = 7, k = 75, tokens = 90
        let w = matrix(rows, k), x = correlatedInputs(tokens: tokens, features: k)
        var h = hessian(x, tokens: tokens, k: k)
        var s = QuantSettings(); s.salient = .error; s.lowFraction = 0.85
        // Reorder the inputs so that the diagonal decreases: act-order is then the identity.
        let order = (0..<k).sorted { h[$0 * k + $0] > h[$1 * k + $1] }
        let sortedW = (0..<(rows * k)).map { w[$0 / k * k + order[$0 % k]] }
        h = (0..<(k * k)).map { h[order[$0 / k] * k + order[$0 % k]] }
        let plain = try LayerQuantizer.quantize(weights: sortedW, rows: rows, columns: k, settings: s, hessian: h)
        s.actOrder = true
        let ordered = try LayerQuantizer.quantize(weights: sortedW, rows: rows, columns: k, settings: s, hessian: h)
        XCTAssertEqual(ordered.values, plain.values)
        XCTAssertEqual(ordered.salient, plain.salient)

        // Reversed inputs: a real permutation, undone on the way out.
        let reversedW = (0..<(rows * k)).map { sortedW[$0 / k * k + (k - 1 - $0 % k)] }
        let reversedH = (0..<(k * k)).map { h[(k - 1 - $0 / k) * k + (k - 1 - $0 % k)] }
        let q = try LayerQuantizer.quantize(weights: reversedW, rows: rows, columns: k, settings: s, hessian: reversedH)
        for i in 0..<rows { for j in 0..<k { XCTAssertEqual(q.values[i * k + j], ordered.values[i * k + (k - 1 - j)]) } }
        let decoded = PBLayer(codes: try XCTUnwrap(q.packed), salient: q.salient, rows: rows, columns: k).dequantized()
        for i in 0..<(rows * k) { XCTAssertEqual(decoded[i], q.values[i], accuracy: 1e-5) }
        s.groupSize = 25
        XCTAssertThrowsError(try LayerQuantizer.quantize(weights: w, rows: rows, columns: k, settings: s, hessian: h))
    }

    func testHessianSaliencyNeedsCalibration() {
        var s = QuantSettings(); s.salient = .hessian
        XCTAssertThrowsError(try LayerQuantizer.quantize(weights: matrix(2, 8), rows: 2, columns: 8, settings: s))
    }
}
