/// A ggml tensor storage type, with the block layout traits from ggml's `type_traits` table.
///
/// Quantized types store weights in blocks: `blockSize` weights packed into `bytesPerBlock`
/// bytes (layouts in ggml-common.h). A row length (`shape[0]`) is always a whole number of blocks.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
         q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15, bf16 = 30

    /// ggml's spelling, upper case: "Q4_K", "F32", ...
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .bf16: "BF16"
        }
    }

    public var description: String { name }

    /// Weights per block: 1 for plain floats, 32 for the legacy quants, 256 (QK_K) for K-quants.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: 256
        }
    }

    /// Bytes per block (`sizeof(block_…)` in ggml-common.h).
    public var bytesPerBlock: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18    // f16 d, 16 nibble bytes
        case .q4_1: 20    // f16 d, f16 m, 16 nibble bytes
        case .q5_0: 22    // f16 d, 4 high-bit bytes, 16 nibble bytes
        case .q5_1: 24    // f16 d, f16 m, 4 high-bit bytes, 16 nibble bytes
        case .q8_0: 34    // f16 d, 32 int8
        case .q8_1: 36    // f16 d, f16 s, 32 int8
        case .q2_K: 84    // 16 scale bytes, 64 quant bytes, f16 d, f16 dmin
        case .q3_K: 110   // 32 hmask, 64 quant bytes, 12 scale bytes, f16 d
        case .q4_K: 144   // f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes
        case .q5_K: 176   // f16 d, f16 dmin, 12 scale bytes, 32 qh, 128 nibble bytes
        case .q6_K: 210   // 128 ql, 64 qh, 16 int8 scales, f16 d
        case .q8_K: 292   // f32 d, 256 int8, 16 int16 block sums
        }
    }

    /// Whether `dequantize` handles this type. Q8_1 is an activation-only format in ggml
    /// (no `to_float`), so it is recognised in files but not dequantized.
    public var canDequantize: Bool { self != .q8_1 }

    /// Bytes holding `elements` weights, or nil when `elements` is not a whole number of
    /// blocks or the size overflows `Int`.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// Names of ggml type ids this module does not model, so an error can say "IQ2_XXS"
    /// rather than just a number.
    static func unsupportedName(id: UInt32) -> String? {
        switch id {
        case 4: "Q4_2 (removed from ggml)"
        case 5: "Q4_3 (removed from ggml)"
        case 16: "IQ2_XXS"
        case 17: "IQ2_XS"
        case 18: "IQ3_XXS"
        case 19: "IQ1_S"
        case 20: "IQ4_NL"
        case 21: "IQ3_S"
        case 22: "IQ2_S"
        case 23: "IQ4_XS"
        case 24: "I8"
        case 25: "I16"
        case 26: "I32"
        case 27: "I64"
        case 28: "F64"
        case 29: "IQ1_M"
        case 34: "TQ1_0"
        case 35: "TQ2_0"
        case 39: "MXFP4"
        default: nil
        }
    }
}
