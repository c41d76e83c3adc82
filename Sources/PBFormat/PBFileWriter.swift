#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GGUF

/// Writes a .pbllm file as formats/pbllm.md lays it out: tensor parts streamed one by one, then
/// metadata and directory, then the header. Everything goes to a temporary file beside the
/// target, renamed into place by `finish()`: a failed or interrupted write leaves no output file.
public final class PBFileWriter {
    public let path: String
    let temporaryPath: String
    private var fd: Int32
    private var offset = 0
    private var directory = PBDirectory(tensors: [])
    private var finished = false

    public init(path: String) throws {
        self.path = path
        temporaryPath = path + ".tmp-\(getpid())"
        InterruptCleanup.register(temporaryPath)  // before the file exists: no window without cleanup
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            InterruptCleanup.unregister()
            throw PBFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        try write([UInt8](repeating: 0, count: PBHeader.size))  // the header is written last
    }

    deinit {
        if !finished { abandon() }
    }

    /// Appends one tensor; `parts` maps part names to their bytes.
    public func add(_ name: String, encoding: PBEncoding, shape: [Int], parts: [(String, [UInt8])],
                    highBit: Int? = nil, salientCount: Int? = nil, note: String? = nil) throws {
        var entries: [String: PBPart] = [:]
        for (partName, bytes) in parts {
            try write([UInt8](repeating: 0, count: (64 - offset % 64) % 64))  // 64-byte alignment
            entries[partName] = PBPart(offset: offset, size: bytes.count, checksum: Checksum64.hex(Checksum64.of(bytes)))
            try write(bytes)
        }
        directory.tensors.append(PBTensor(name: name, encoding: encoding, shape: shape, parts: entries,
                                          highBit: highBit, salientCount: salientCount, note: note))
    }

    /// Writes metadata, directory and header, syncs, and renames the file into place.
    public func finish(metadata: GGUFWriter) throws {
        var header = PBHeader()
        let metadataBytes = try metadata.serialized()
        header.metadataOffset = offset
        header.metadataSize = metadataBytes.count
        header.metadataChecksum = Checksum64.of(metadataBytes)
        try write(metadataBytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let directoryBytes = [UInt8](try encoder.encode(directory))
        header.directoryOffset = offset
        header.directorySize = directoryBytes.count
        header.directoryChecksum = Checksum64.of(directoryBytes)
        try write(directoryBytes)
        header.fileSize = offset
        guard pwrite(fd, header.encoded(), PBHeader.size, 0) == PBHeader.size, fsync(fd) == 0 else {
            throw PBFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            throw PBFileError.cannotWrite(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        finished = true
        InterruptCleanup.unregister()
    }

    /// Deletes the temporary file (an error or Ctrl-C mid-conversion).
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        finished = true
        InterruptCleanup.unregister()
    }

    private func write(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { throw PBFileError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
            done += n
        }
        offset += bytes.count
    }
}

/// Removes the temporary output file when the process is interrupted (SIGINT, SIGTERM, SIGHUP),
/// so an interrupted conversion leaves nothing behind.
enum InterruptCleanup {
    nonisolated(unsafe) private static var pendingPath: UnsafeMutablePointer<CChar>?

    static func register(_ path: String) {
        unregister()
        pendingPath = strdup(path)
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { sig in
                if let p = InterruptCleanup.pendingPath { unlink(p) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    static func unregister() {
        if let p = pendingPath { free(p) }
        pendingPath = nil
    }
}

extension Array {
    /// The raw little-endian bytes of an array of numbers (x86-64 and ARM64 are little-endian).
    public var littleEndianBytes: [UInt8] { withUnsafeBytes { [UInt8]($0) } }
}
