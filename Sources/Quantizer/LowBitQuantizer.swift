/// Quantizer of the non-salient weights, per row (or per row and column group). Its parameters
/// are calibrated once from the original weights, then applied column by column (by GPTQ to
/// weights that error compensation has since moved).
struct LowBitQuantizer {
    let method: QuantSettings.Method
    let groupSize: Int
    let columns: Int
    private(set) var mean: [Float]   // μ per (group, row) for xnor
    private(set) var scale: [Float]  // α (xnor, sign) or the min-max step (2bit, 4bit)
    private(set) var zero: [Float]   // min-max zero point
    private let rows: Int

    var groups: Int { (columns + groupSize - 1) / groupSize }
    var maxQ: Float { method == .twoBit ? 3 : 15 }

    /// Calibrates from the weights that are not salient (`mask` true = salient). `pbllmStatistics`:
    /// xnor's μ and α as PB-LLM's code computes them, over the whole group with salient weights
    /// counted as zeros (for reproducing its numbers).
    init(method: QuantSettings.Method, weights w: [Float], mask: [Bool], rows: Int, columns: Int, groupSize: Int,
         pbllmStatistics: Bool = false) {
        self.method = method
        self.rows = rows
        self.columns = columns
        self.groupSize = groupSize
        let groups = (columns + groupSize - 1) / groupSize
        mean = Array(repeating: 0, count: groups * rows)
        scale = Array(repeating: 0, count: groups * rows)
        zero = Array(repeating: 0, count: groups * rows)
        for g in 0..<groups {
            let lo = g * groupSize, hi = min(lo + groupSize, columns)
            for i in 0..<rows {
                var values: [Double] = []
                for j in lo..<hi {
                    if !mask[i * columns + j] { values.append(Double(w[i * columns + j])) } else if pbllmStatistics { values.append(0) }
                }
                let p = g * rows + i
                switch method {
                case .xnor:
                    // μ = mean of the binarized weights, α = mean |w − μ| (the least-squares scale).
                    let mu = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
                    mean[p] = Float(mu)
                    scale[p] = values.isEmpty ? 0 : Float(values.reduce(0) { $0 + abs($1 - mu) } / Double(values.count))
                case .sign:
                    // ŵ = α·[w > 0]: α = mean of the positive weights minimises the squared error.
                    let positive = values.filter { $0 > 0 }
                    scale[p] = positive.isEmpty ? 0 : Float(positive.reduce(0, +) / Double(positive.count))
                case .twoBit, .fourBit:
                    // GPTQ's min-max grid, with zero always representable.
                    var xmin = min(values.min() ?? 0, 0), xmax = max(values.max() ?? 0, 0)
                    if xmin == 0 && xmax == 0 { xmin = -1; xmax = 1 }
                    let step = Float((xmax - xmin)) / maxQ
                    scale[p] = step
                    zero[p] = (Float(-xmin) / step).rounded()
                case .prune, .none:
                    break
                }
            }
        }
    }

    /// The quantized value of weight (row i, column j) whose current value is w.
    @inline(__always)
    func quantize(_ w: Float, row i: Int, column j: Int) -> Float {
        let p = (j / groupSize) * rows + i
        switch method {
        case .xnor: return mean[p] + (w - mean[p] >= 0 ? scale[p] : -scale[p])
        case .sign: return w > 0 ? scale[p] : 0
        case .twoBit, .fourBit:
            let q = min(max((w / scale[p]).rounded() + zero[p], 0), maxQ)
            return scale[p] * (q - zero[p])
        case .prune: return 0
        case .none: return w
        }
    }

    /// For the sign-bit methods: the stored ±1 of a weight, and the row's (μ, α) in the file's
    /// ŵ = μ + α·s form (sign's α·[w > 0] is μ = α/2, α' = α/2).
    @inline(__always)
    func signBit(_ w: Float, row i: Int, column j: Int) -> Bool {
        let p = (j / groupSize) * rows + i
        return method == .xnor ? w - mean[p] >= 0 : w > 0
    }

    func binaryParameters(row i: Int) -> (mu: Float, alpha: Float) {
        method == .xnor ? (mean[i], scale[i]) : (scale[i] / 2, scale[i] / 2)
    }
}
