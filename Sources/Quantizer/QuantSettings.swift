/// Every setting of PB-LLM's quantizer (gptq_pb), with its defaults.
public struct QuantSettings: Sendable, Codable, Equatable {
    /// How the non-salient ("low") weights are quantized.
    public enum Method: String, Sendable, Codable, CaseIterable {
        case xnor      // ŵ = μ + α·sign(w − μ)
        case sign      // ŵ = α·[w > 0]
        case twoBit = "2bit", fourBit = "4bit"  // per-row min-max at that width
        case prune     // ŵ = 0
        case none = "no"  // left in float
    }

    /// How salient weights are chosen.
    public enum Salient: String, Sendable, Codable, CaseIterable {
        case magnitude  // |w|
        case hessian    // w² / [chol(H⁻¹)]ⱼⱼ²
        case error      // (|w − μ| − α)² / [chol(H⁻¹)]ⱼⱼ²: what binarizing the weight would cost
    }

    /// What is salient: single weights (PB-LLM), or whole input columns (no positions to store;
    /// the column's saliency is the sum of its weights').
    public enum SalientUnit: String, Sendable, Codable, CaseIterable {
        case weight, column
    }

    public var method: Method = .xnor
    public var lowFraction: Double = 0.9   // share of weights that are binarized
    public var highBit: Int = 8            // width of the salient weights
    public var salient: Salient = .magnitude
    public var salientUnit: SalientUnit = .weight
    public var groupSize: Int? = nil       // columns per saliency/scale group; nil: the whole row
    public var blockSize: Int = 128        // GPTQ column block
    public var percentDamp: Double = 0.01  // GPTQ dampening, a fraction of mean(diag H)
    public var gptq: Bool = true
    /// After GPTQ has chosen the signs, refit each row's μ and α to minimise the layer's output
    /// error (w − ŵ)ᵀH(w − ŵ) — a 2×2 least-squares solve per row (our addition to PB-LLM).
    public var refitScales: Bool = true
    /// xnor's μ, α over the whole row with salient weights as zeros, as PB-LLM's code has them.
    public var pbllmStatistics: Bool = false
    /// Per-input-column scales c (`ColumnScale`; our addition to PB-LLM): ŵᵢⱼ = cⱼ·(μᵢ + αᵢ·sᵢⱼ),
    /// for 16 bits (one float16) per column.
    public var columnScale: Bool = false
    /// GPTQ's act-order: quantize the columns in decreasing order of the Hessian's diagonal (the
    /// inputs with the most energy first), so later columns absorb their error. Whole rows only.
    public var actOrder: Bool = false

    public init() {}

    /// The paper's bits per weight: 1 bit for binarized weights, high_bit for salient ones.
    public var paperBitsPerWeight: Double { lowFraction + Double(highBit) * (1 - lowFraction) }
}
