/// Per-row asymmetric min-max quantizer of the salient weights, as GPTQ's: q = clamp(round(w/σ) + z,
/// 0, 2^bits − 1), ŵ = σ·(q − z), the grid spanning the row's range (and zero), calibrated once
/// from the original weights.
struct HighBitQuantizer {
    let maxQ: Float
    private(set) var scale: [Float]
    private(set) var zero: [Float]

    init(bits: Int, weights w: [Float], rows: Int, columns: Int) {
        maxQ = Float((1 << bits) - 1)
        scale = Array(repeating: 1, count: rows)
        zero = Array(repeating: 0, count: rows)
        for i in 0..<rows {
            var xmin: Float = 0, xmax: Float = 0
            for j in 0..<columns {
                xmin = min(xmin, w[i * columns + j])
                xmax = max(xmax, w[i * columns + j])
            }
            if xmin == 0 && xmax == 0 { xmin = -1; xmax = 1 }
            scale[i] = (xmax - xmin) / maxQ
            zero[i] = (-xmin / scale[i]).rounded()
        }
    }

    @inline(__always)
    func code(_ w: Float, row i: Int) -> UInt8 {
        UInt8(min(max((w / scale[i]).rounded() + zero[i], 0), maxQ))
    }

    @inline(__always)
    func value(_ q: UInt8, row i: Int) -> Float { scale[i] * (Float(q) - zero[i]) }
}
