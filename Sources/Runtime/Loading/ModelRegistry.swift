import Foundation

/// Resolves `-m` arguments: a path to a model file, or a short name from models.txt whose file
/// the setup script fetched into models/ beside it.
public enum ModelRegistry {
    public struct Entry: Sendable {
        public let name, architecture, tokenizer, sha256, file: String
        public let path: String
    }

    /// models.txt found in $PBLLM_HOME, or the nearest folder above the working directory or
    /// above the executable that holds one.
    public static func registryFile() -> URL? {
        var starts: [URL] = []
        if let home = ProcessInfo.processInfo.environment["PBLLM_HOME"] { starts.append(URL(fileURLWithPath: home)) }
        starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        starts.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var dir = start
            while true {
                let candidate = dir.appendingPathComponent("models.txt")
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
                if dir.path == "/" || dir.path.isEmpty { break }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    public static func entries() -> [Entry] {
        guard let url = registryFile(), let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let modelsDir = url.deletingLastPathComponent().appendingPathComponent("models")
        return text.split(separator: "\n").compactMap { line in
            let cols = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard cols.count >= 6 else { return nil }
            return Entry(name: cols[0], architecture: cols[1], tokenizer: cols[2], sha256: cols[3], file: cols[4],
                         path: modelsDir.appendingPathComponent(cols[4]).path)
        }
    }

    /// A path to an existing file: `nameOrPath` itself if it is a file, else the registry's file.
    public static func resolve(_ nameOrPath: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw RuntimeError.invalidArgument("\(nameOrPath) is a directory, not a model file") }
            return nameOrPath
        }
        let known = entries()
        guard let entry = known.first(where: { $0.name == nameOrPath }) else {
            throw RuntimeError.modelNotFound(nameOrPath, known: known.map(\.name))
        }
        guard FileManager.default.fileExists(atPath: entry.path) else {
            throw RuntimeError.modelNotFetched(name: entry.name, path: entry.path)
        }
        return entry.path
    }
}
