import Kernels

/// One linear layer quantized the PB-LLM way: salient weights to high_bit, the rest by the low
/// method, column by column, with GPTQ's error compensation when a Hessian is given:
///
///     for each column j:  qⱼ = quantize(wⱼ);  eⱼ = (wⱼ − qⱼ) / Uⱼⱼ;  w_{j+1…} −= eⱼ·U_{j, j+1…}
///
/// (U the upper Cholesky factor of H⁻¹), in blocks so the far columns get one GEMM per block.
public struct QuantizedLayer: Sendable {
    public let rows: Int
    public let columns: Int
    public var values: [Float]      // ŵ, N×K row-major
    public var salient: [Bool]      // N×K
    public var loss: Double         // GPTQ's Σ (w − q)² / d² / 2 (0 for round-to-nearest)
    /// The packed form when the method is a sign-bit one over whole rows; nil otherwise.
    public var packed: PBLayerCodes?
    /// Column scales c when quantized as W·diag(1/c) (`ColumnScale`): `packed` then holds the codes
    /// of W·diag(1/c), and `values` are those times c.
    public var columnScale: [Float]? = nil
}

/// What the file stores for a PB layer, before packing: a sign per weight, a code per salient
/// weight, and the per-row parameters.
public struct PBLayerCodes: Sendable {
    public var signs: [Bool]                 // N×K
    public var salientCodes: [UInt8]         // N×K (meaningful where salient)
    public var mu, alpha, salientScale, salientZero: [Float]
    public var highBit: Int
}

public enum LayerQuantizer {
    /// `weights`: N×K row-major. `hessian`: K×K (2/n·Σ xxᵀ of the layer's inputs), required for
    /// GPTQ and for Hessian saliency.
    public static func quantize(weights: [Float], rows: Int, columns: Int, settings s: QuantSettings,
                                hessian: [Float]? = nil) throws -> QuantizedLayer {
        if s.columnScale {
            // W·diag(1/c) for the inputs c ⊙ x, whose Hessian is diag(c)·H·diag(c).
            var plain = s
            plain.columnScale = false
            let c = ColumnScale.fit(weights, rows: rows, columns: columns)
            var q = try LayerQuantizer.quantize(weights: ColumnScale.scalingColumns(weights, by: c.map { 1 / $0 }), rows: rows,
                                                columns: columns, settings: plain, hessian: hessian.map { ColumnScale.congruence($0, c) })
            q.values = ColumnScale.scalingColumns(q.values, by: c)
            q.columnScale = c
            return q
        }
        if s.actOrder && s.gptq {
            guard let h = hessian else { throw QuantizerError.needsCalibration("--act-order") }
            guard (s.groupSize ?? columns) >= columns else { throw QuantizerError.invalidSetting("--act-order works on whole rows: drop --groupsize") }
            var plain = s
            plain.actOrder = false
            let order = (0..<columns).sorted { (h[$0 * columns + $0], $1) > (h[$1 * columns + $1], $0) }
            let q = try LayerQuantizer.quantize(weights: ColumnOrder.permute(weights, order), rows: rows, columns: columns,
                                                settings: plain, hessian: ColumnOrder.permuteSymmetric(h, order))
            return ColumnOrder.restore(q, order)
        }
        var w = weights
        let groupSize = min(s.groupSize ?? columns, columns)
        let inverse = try hessian.map { try InverseHessian(hessian: $0, columns: columns, percentDamp: s.percentDamp) }
        if let inverse {
            for j in inverse.deadColumns { for i in 0..<rows { w[i * columns + j] = 0 } }
        }

        let saliency: [Float]
        switch s.salient {
        case .magnitude: saliency = SalientMask.magnitude(w)
        case .hessian:
            guard let inverse else { throw QuantizerError.needsCalibration("--salient hessian") }
            saliency = SalientMask.hessian(w, columns: columns, inverseCholeskyDiagonal: inverse.diagonal)
        case .error:
            guard let inverse else { throw QuantizerError.needsCalibration("--salient error") }
            saliency = SalientMask.binarizationError(w, rows: rows, columns: columns, inverseCholeskyDiagonal: inverse.diagonal)
        }
        let mask = SalientMask.select(saliency: saliency, rows: rows, columns: columns,
                                      lowFraction: s.lowFraction, groupSize: groupSize, unit: s.salientUnit)
        let low = LowBitQuantizer(method: s.method, weights: w, mask: mask, rows: rows, columns: columns,
                                  groupSize: groupSize, pbllmStatistics: s.pbllmStatistics)
        let high = HighBitQuantizer(bits: s.highBit, weights: w, rows: rows, columns: columns)
        let packs = (s.method == .xnor || s.method == .sign) && groupSize == columns
        var codes = packs ? PBLayerCodes(signs: Array(repeating: false, count: rows * columns),
                                         salientCodes: Array(repeating: 0, count: rows * columns),
                                         mu: [], alpha: [], salientScale: high.scale, salientZero: high.zero,
                                         highBit: s.highBit) : nil

        // Quantizes weight (i, j) at its current value, recording its codes.
        func quantize(_ value: Float, _ i: Int, _ j: Int) -> Float {
            let index = i * columns + j
            codes?.signs[index] = low.signBit(value, row: i, column: j)
            if mask[index] {
                let q = high.code(value, row: i)
                codes?.salientCodes[index] = q
                return high.value(q, row: i)
            }
            return low.quantize(value, row: i, column: j)
        }

        var loss = 0.0
        if s.gptq, let inverse {
            loss = gptq(&w, rows: rows, columns: columns, blockSize: s.blockSize, u: inverse.upper, quantize: quantize)
        } else {
            for i in 0..<rows { for j in 0..<columns { w[i * columns + j] = quantize(w[i * columns + j], i, j) } }
        }
        if packs {
            let params = (0..<rows).map { low.binaryParameters(row: $0) }
            codes?.mu = params.map(\.mu)
            codes?.alpha = params.map(\.alpha)
            if s.refitScales, let h = hessian, let c = codes {
                codes = ScaleRefit.refit(codes: c, original: weights, quantized: &w, salient: mask, rows: rows,
                                         columns: columns, hessian: h, percentDamp: s.percentDamp)
            }
        }
        return QuantizedLayer(rows: rows, columns: columns, values: w, salient: mask, loss: loss, packed: codes)
    }

    /// GPTQ over column blocks; `w` ends holding the quantized values. Returns the loss.
    private static func gptq(_ w: inout [Float], rows: Int, columns k: Int, blockSize: Int, u: [Float],
                             quantize: (Float, Int, Int) -> Float) -> Double {
        var loss = 0.0
        var errors = [Float](repeating: 0, count: rows * blockSize)  // N × block, row-major
        for blockStart in stride(from: 0, to: k, by: blockSize) {
            let blockEnd = min(blockStart + blockSize, k), width = blockEnd - blockStart
            w.withUnsafeMutableBufferPointer { wp in
                for j in blockStart..<blockEnd {
                    let d = u[j * k + j]
                    for i in 0..<rows {
                        let row = wp.baseAddress! + i * k
                        let original = row[j]
                        let q = quantize(original, i, j)
                        row[j] = q
                        let e = (original - q) / d
                        loss += Double(e * e) / 2
                        errors[i * blockSize + (j - blockStart)] = e
                        // Spread the error over the rest of the block.
                        for c in (j + 1)..<blockEnd { row[c] -= e * u[j * k + c] }
                    }
                }
            }
            // The columns after the block: W[:, end…] −= E · U[block, end…]  (one GEMM).
            if blockEnd < k {
                w.withUnsafeMutableBufferPointer { wp in
                    errors.withUnsafeBufferPointer { ep in
                        u.withUnsafeBufferPointer { up in
                            BLAS.gemmAB(m: rows, n: k - blockEnd, k: width, alpha: -1,
                                        a: ep.baseAddress!, lda: blockSize,
                                        b: up.baseAddress! + blockStart * k + blockEnd, ldb: k,
                                        beta: 1, c: wp.baseAddress! + blockEnd, ldc: k)
                        }
                    }
                }
            }
        }
        return loss
    }
}

public enum QuantizerError: Error, CustomStringConvertible {
    case needsCalibration(String)
    case invalidSetting(String)
    public var description: String {
        switch self {
        case .needsCalibration(let what): "\(what) needs calibration data: pass --calib FILE"
        case .invalidSetting(let what): what
        }
    }
}
