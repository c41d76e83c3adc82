/// What `inspect` reports: where the bits of a .pbllm file go.
public struct PBFileSummary: Sendable {
    /// Bytes by role, over the PB-encoded linear layers.
    public var signBytes = 0
    public var scaleBytes = 0          // α, μ, σ, z and column scales c
    public var salientValueBytes = 0   // q
    public var salientPositionBytes = 0  // block counts + in-block offsets, or the compressed bitmap
    public var pbWeights = 0           // weights in PB layers
    public var salientWeights = 0
    public var highBit = 0
    /// Everything else: other tensors, metadata, directory, header, alignment padding.
    public var otherBytes = 0
    public var totalWeights = 0
    public var fileBytes = 0
    public var encodings: [PBEncoding: Int] = [:]  // tensors per encoding

    public init(_ file: PBFile) {
        fileBytes = file.fileSize
        for t in file.tensors {
            encodings[t.encoding, default: 0] += 1
            totalWeights += t.elementCount
            guard t.encoding.isPB else { continue }
            pbWeights += t.elementCount
            highBit = max(highBit, t.highBit ?? 0)
            signBytes += t.parts["signs"]!.size
            scaleBytes += ["alpha", "mu", "salient_scale", "salient_zero", "column_scale"].reduce(0) { $0 + (t.parts[$1]?.size ?? 0) }
            salientValueBytes += t.parts["salient_q"]!.size
            salientPositionBytes += t.encoding.positionPartSizes(rows: t.rows, columns: t.columns).keys.reduce(0) { $0 + t.parts[$1]!.size }
            salientWeights += t.salientCount ?? t.parts["salient_q"]!.size  // pb: one byte per value
        }
        otherBytes = fileBytes - signBytes - scaleBytes - salientValueBytes - salientPositionBytes
    }

    public var pbBytes: Int { signBytes + scaleBytes + salientValueBytes + salientPositionBytes }
    public var salientFraction: Double { pbWeights == 0 ? 0 : Double(salientWeights) / Double(pbWeights) }
    /// The paper's count: 1 bit per binarized weight, high_bit per salient one.
    public var paperBitsPerWeight: Double { (1 - salientFraction) + Double(highBit) * salientFraction }
    /// Real stored bits per weight of the PB layers, everything they store counted.
    public var pbBitsPerWeight: Double { pbWeights == 0 ? 0 : Double(pbBytes * 8) / Double(pbWeights) }
    /// Real bits per weight of the whole file over every weight it holds.
    public var fileBitsPerWeight: Double { totalWeights == 0 ? 0 : Double(fileBytes * 8) / Double(totalWeights) }

    public func bits(_ bytes: Int) -> Double { pbWeights == 0 ? 0 : Double(bytes * 8) / Double(pbWeights) }
}
