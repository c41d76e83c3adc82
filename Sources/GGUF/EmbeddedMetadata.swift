extension GGUFFile {
    /// Parses a GGUF stream held in memory — e.g. the metadata section a .pbllm file embeds —
    /// with the same validation as a file on disk, and returns its key/values. `path` names the
    /// containing file in errors.
    public static func parseEmbeddedMetadata(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [String: GGUFValue] {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw GGUFError.truncated(path: path, detail: "the embedded metadata section is empty")
        }
        var reader = ByteReader(base: base, size: bytes.count, path: path)
        return try GGUFParser.parse(&reader).metadata
    }
}
