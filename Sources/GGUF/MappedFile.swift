#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the last reference goes away.
///
/// Tensor bytes are read straight from the mapping, so opening a model costs no copy and the
/// kernel pages weights in on demand. The descriptor is closed right after mapping (the
/// mapping keeps the file alive).
public final class MappedFile: @unchecked Sendable {   // immutable after init
    public let base: UnsafeRawPointer
    public let size: Int

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: path, reason: MappedFile.errnoText()) }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw GGUFError.cannotOpen(path: path, reason: "fstat failed: \(MappedFile.errnoText())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        size = Int(info.st_size)
        // mmap rejects a zero length, and an empty file is simply a truncated GGUF file.
        guard size > 0 else {
            throw GGUFError.truncated(path: path, detail: "the file is empty (0 bytes)")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else {  // MAP_FAILED
            throw GGUFError.cannotOpen(path: path, reason: "mmap of \(size) bytes failed: \(MappedFile.errnoText())")
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), size)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
