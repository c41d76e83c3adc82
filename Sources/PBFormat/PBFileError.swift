/// What can be wrong with a .pbllm file, always naming the file.
public enum PBFileError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notPBLLM(path: String)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case truncated(path: String, expected: Int, actual: Int)
    case corrupt(path: String, detail: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): "\(path): cannot open: \(reason)"
        case let .notPBLLM(path): "\(path): not a .pbllm file (bad magic)"
        case let .unsupportedVersion(path, found, supported):
            "\(path): .pbllm version \(found) is not supported (this build reads version \(supported))\nHINT: convert the model again with this pbllm-run"
        case let .truncated(path, expected, actual):
            "\(path): truncated: the header says \(expected) bytes, the file has \(actual)"
        case let .corrupt(path, detail): "\(path): corrupt: \(detail)"
        case let .cannotWrite(path, reason): "\(path): cannot write: \(reason)"
        }
    }
}
