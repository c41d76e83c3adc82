/// The directory of a .pbllm file: every tensor, its encoding, and where its parts lie.
public struct PBTensor: Codable, Sendable, Equatable {
    public var name: String
    public var encoding: PBEncoding
    /// GGUF order: shape[0] is the row length (K), shape[1] the number of rows (N).
    public var shape: [Int]
    public var parts: [String: PBPart]
    /// For `pb` and `pbz`: the width of salient values.
    public var highBit: Int?
    /// For `pbz`: how many salient weights the layer has (its `salient_q` packs that many codes).
    public var salientCount: Int?
    /// Free-form note shown by `inspect` (e.g. "2bit, stored dequantized").
    public var note: String?

    public var rows: Int { shape.count > 1 ? shape[1] : 1 }
    public var columns: Int { shape[0] }
    public var elementCount: Int { shape.reduce(1, *) }
    enum CodingKeys: String, CodingKey {
        case name, encoding, shape, parts, highBit = "high_bit", salientCount = "salient_count", note
    }
}

public struct PBPart: Codable, Sendable, Equatable {
    public var offset: Int
    public var size: Int
    public var checksum: String
}

public enum PBEncoding: String, Codable, Sendable, CaseIterable {
    /// `pb` keeps salient positions as block offsets (read in place); `pbz` as a zstd-compressed
    /// bitmap (smaller; decompressed at load). Everything else about them is the same.
    case f32, f16, q8, pb, pbz

    /// A partially-binarized layer, whichever way its salient positions are stored.
    public var isPB: Bool { self == .pb || self == .pbz }

    /// The parts an encoding has, with their sizes for a shape, where the shape alone decides.
    /// (`pb`'s salient_offsets and salient_q have one byte per salient weight: checked against
    /// the counts once they are read.)
    func fixedPartSizes(rows n: Int, columns k: Int) -> [String: Int?] {
        switch self {
        case .f32: return ["data": n * k * 4]
        case .f16: return ["data": n * k * 2]
        case .q8: return ["q": n * k, "scale": n * 4]
        case .pb, .pbz:
            var sizes: [String: Int?] = ["signs": n * ((k + 63) / 64) * 8, "alpha": n * 4, "mu": n * 4,
                                         "salient_q": nil, "salient_scale": n * 4, "salient_zero": n * 4]
            for (name, size) in positionPartSizes(rows: n, columns: k) { sizes[name] = size }
            return sizes
        }
    }

    /// The parts an encoding may have, with their sizes: PB layers' per-column scales.
    func optionalPartSizes(rows n: Int, columns k: Int) -> [String: Int] {
        isPB ? ["column_scale": k * 2] : [:]
    }

    /// The parts holding salient positions (sized by the shape, or nil: checked once decoded).
    func positionPartSizes(rows n: Int, columns k: Int) -> [String: Int?] {
        switch self {
        case .pb: ["salient_counts": n * ((k + PBLayer.blockColumns - 1) / PBLayer.blockColumns) * 2, "salient_offsets": nil]
        case .pbz: ["salient_bitmap": nil]
        default: [:]
        }
    }
}

struct PBDirectory: Codable {
    var tensors: [PBTensor]
}
