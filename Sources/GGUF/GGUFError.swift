/// Everything that can go wrong reading, dequantizing or writing a GGUF file.
///
/// Each case carries the file path (when there is one) and a sentence saying what is wrong and
/// where (byte offsets, tensor or key names); `description` adds a hint on what to do about it.
public enum GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file could not be opened, inspected or memory-mapped.
    case cannotOpen(path: String, reason: String)
    /// The file ends before something it declares (header, metadata, tensor infos, tensor data).
    case truncated(path: String, detail: String)
    /// The bytes are present but make no sense: bad magic, unknown type id, misaligned or
    /// overlapping data, counts larger than the whole file, duplicate names, ...
    case corrupt(path: String, detail: String)
    /// A well-formed feature this reader does not handle (GGUF v1, big-endian files, tensor
    /// types such as IQ2_XXS that have no entry in `GGMLType`).
    case unsupported(path: String, detail: String)
    /// No dequantizer exists for this type (`GGMLType.canDequantize` is false).
    case cannotDequantize(type: GGMLType, context: String)
    /// A caller passed something invalid (a count that is not a whole number of blocks, a
    /// writer tensor whose bytes do not match its shape, ...).
    case invalidArgument(String)
    /// Writing a file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open GGUF file '\(path)': \(reason). Hint: check the path and permissions; model files are fetched with scripts/fetch-models.py."
        case let .truncated(path, detail):
            return "GGUF file '\(path)' is truncated: \(detail). Hint: the file is incomplete (interrupted download or copy?); fetch it again."
        case let .corrupt(path, detail):
            return "GGUF file '\(path)' is corrupt: \(detail). Hint: the file is damaged or not a GGUF file; fetch or convert it again."
        case let .unsupported(path, detail):
            return "GGUF file '\(path)' is not supported: \(detail). Hint: re-convert the model with a current llama.cpp (GGUF v3, little-endian, a supported tensor type)."
        case let .cannotDequantize(type, context):
            return "cannot dequantize \(type.name) (\(context)): no dequantizer for this type. Hint: use a model quantized as F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 or a K-quant."
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case let .writeFailed(path, reason):
            return "cannot write GGUF file '\(path)': \(reason). Hint: check that the folder exists, is writable and has free space."
        }
    }
}
