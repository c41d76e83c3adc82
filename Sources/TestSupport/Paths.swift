import Foundation

/// Where the tests find the repository, the shared fixtures and the fetched models.
///
/// The repository root is the nearest folder above the test source holding `models.txt`;
/// `shared/` sits beside the checkout (`../shared`), as laid out for developers and CI.
public enum Paths {
    public static let repoRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("models.txt").path) { return dir }
            dir.deleteLastPathComponent()
        }
        fatalError("no models.txt above \(#filePath)")  // test-only: the tree itself is broken
    }()

    public static let shared: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    public static func reference(_ name: String) -> URL { shared.appendingPathComponent("reference/\(name)") }
    public static func data(_ name: String) -> URL { shared.appendingPathComponent("data/\(name)") }

    /// A model file fetched by `scripts/fetch-models.py` (column 5 of models.txt).
    public static func model(_ name: String) -> URL {
        let text = (try? String(contentsOf: repoRoot.appendingPathComponent("models.txt"), encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let cols = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if cols.count >= 5, cols[0] == name {
                return repoRoot.appendingPathComponent("models/\(cols[4])")
            }
        }
        fatalError("model \(name) not in models.txt")
    }

    /// Parses a JSON fixture into Foundation objects.
    public static func json(_ url: URL) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }
}
