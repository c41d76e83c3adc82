/// Errors a user can cause: bad files, unknown models or architectures, bad arguments.
public enum RuntimeError: Error, CustomStringConvertible {
    case modelNotFound(String, known: [String])
    case modelNotFetched(name: String, path: String)
    case unknownArchitecture(String, path: String)
    case missingMetadata(String, path: String)
    case badTensor(String, path: String, reason: String)
    case invalidArgument(String)
    case contextFull(needed: Int, capacity: Int)

    public var description: String {
        switch self {
        case .modelNotFound(let m, let known):
            return "no model file or registered model named '\(m)'"
                + (known.isEmpty ? "" : " (models.txt lists: \(known.joined(separator: ", ")))")
        case .modelNotFetched(let name, let path):
            return "model '\(name)' is registered but not fetched (\(path) is missing)\n"
                + "HINT: run scripts/fetch-models.py \(name)"
        case .unknownArchitecture(let arch, let path):
            return "\(path): unsupported architecture '\(arch)' (supported: \(Architectures.supported.joined(separator: ", ")))"
        case .missingMetadata(let key, let path):
            return "\(path): required metadata key '\(key)' is missing or has the wrong type"
        case .badTensor(let name, let path, let reason):
            return "\(path): tensor '\(name)': \(reason)"
        case .invalidArgument(let message):
            return message
        case .contextFull(let needed, let capacity):
            return "the context holds \(capacity) tokens but \(needed) are needed (raise -c)"
        }
    }
}
