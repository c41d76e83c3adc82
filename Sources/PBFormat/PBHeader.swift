/// The 96-byte header of a .pbllm file (formats/pbllm.md).
struct PBHeader: Equatable {
    static let magic: [UInt8] = [0x89, 0x50, 0x42, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]  // \x89PBL\r\n\x1a\n
    static let version: UInt32 = 1
    static let size = 96

    var metadataOffset = 0, metadataSize = 0
    var directoryOffset = 0, directorySize = 0
    var fileSize = 0
    var metadataChecksum: UInt64 = 0, directoryChecksum: UInt64 = 0

    func encoded() -> [UInt8] {
        var b = Self.magic
        b.appendLE(Self.version)
        b.appendLE(UInt32(Self.size))
        for v in [metadataOffset, metadataSize, directoryOffset, directorySize, fileSize] { b.appendLE(UInt64(v)) }
        b.appendLE(metadataChecksum)
        b.appendLE(directoryChecksum)
        b.appendLE(UInt64(0))  // reserved
        b.appendLE(UInt64(0))  // reserved
        b.appendLE(Checksum64.of(b))
        return b
    }

    /// Reads and checks a header; `fileSize` is the actual size on disk.
    static func decode(_ p: UnsafeRawBufferPointer, fileSize actual: Int, path: String) throws -> PBHeader {
        guard actual >= 8, Array(p.prefix(8)) == magic else { throw PBFileError.notPBLLM(path: path) }
        guard actual >= size else { throw PBFileError.truncated(path: path, expected: size, actual: actual) }
        let version = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == Self.version else {
            throw PBFileError.unsupportedVersion(path: path, found: version, supported: Self.version)
        }
        let checksum = p.loadUnaligned(fromByteOffset: size - 8, as: UInt64.self).littleEndian
        guard Checksum64.of(UnsafeRawBufferPointer(rebasing: p[0..<(size - 8)])) == checksum else {
            throw PBFileError.corrupt(path: path, detail: "header checksum mismatch")
        }
        func field(_ offset: Int) throws -> Int {
            let v = p.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
            guard let i = Int(exactly: v) else { throw PBFileError.corrupt(path: path, detail: "header field at \(offset) out of range") }
            return i
        }
        let h = PBHeader(metadataOffset: try field(16), metadataSize: try field(24), directoryOffset: try field(32),
                         directorySize: try field(40), fileSize: try field(48),
                         metadataChecksum: p.loadUnaligned(fromByteOffset: 56, as: UInt64.self).littleEndian,
                         directoryChecksum: p.loadUnaligned(fromByteOffset: 64, as: UInt64.self).littleEndian)
        guard h.fileSize == actual else { throw PBFileError.truncated(path: path, expected: h.fileSize, actual: actual) }
        for (name, offset, length, checksum) in [("metadata", h.metadataOffset, h.metadataSize, h.metadataChecksum),
                                                 ("directory", h.directoryOffset, h.directorySize, h.directoryChecksum)] {
            guard offset >= size, length <= actual, offset <= actual - length else {
                throw PBFileError.corrupt(path: path, detail: "\(name) section [\(offset), +\(length)] lies outside the file")
            }
            guard Checksum64.of(UnsafeRawBufferPointer(rebasing: p[offset..<(offset + length)])) == checksum else {
                throw PBFileError.corrupt(path: path, detail: "\(name) checksum mismatch (the file is damaged)")
            }
        }
        return h
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
