import Foundation

/// Logs go to stderr, text and results to stdout (so `> file` captures only the answer).
enum Output {
    static func log(_ message: String) {
        FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    }

    /// Writes text to stdout immediately (streamed tokens must not wait in a buffer).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// One JSON object on one line of stdout.
    static func json(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// Reads a file's bytes as UTF-8 text exactly as they are (CR, NUL and all).
func readUTF8File(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw UsageError(description: "cannot read '\(path)'")
    }
    guard let text = String(validating: data, as: UTF8.self) else {
        throw UsageError(description: "'\(path)' is not valid UTF-8 text")
    }
    return text
}
