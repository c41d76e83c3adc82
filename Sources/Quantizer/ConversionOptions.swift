import PBFormat

/// Everything `pbllm-run convert` can be told.
public struct ConversionOptions: Sendable {
    public enum HeadEncoding: String, Sendable { case float = "f16", q8 }

    public var settings = QuantSettings()
    public var head: HeadEncoding = .float           // output head and embeddings
    /// How PB layers store salient positions: `.pbz` (zstd bitmap, smaller) or `.pb` (block offsets).
    public var pbEncoding: PBEncoding = .pbz
    public var calibrationFile: String? = nil
    public var samples = 128                          // --nsamples
    public var sequenceLength = 2048                  // --seqlen
    public var seed: UInt64 = 0
    /// Layer selection as PB-LLM's: minLayer ≤ i < maxLayer and the name contains one of `only`
    /// (all when empty); `invert` quantizes exactly the others.
    public var minLayer = 0
    public var maxLayer = Int.max
    public var only: [String] = []
    public var invert = false
    public var threads = 2

    public init() {}

    public func selects(layer i: Int, name: String) -> Bool {
        let chosen = (minLayer..<maxLayer).contains(i) && (only.isEmpty || only.contains { name.contains($0) })
        return chosen != invert
    }

    /// Calibration is needed for GPTQ and for Hessian saliency.
    public var needsCalibration: Bool { settings.gptq || settings.salient != .magnitude }
}
