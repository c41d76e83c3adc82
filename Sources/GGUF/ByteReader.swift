/// A bounds-checked little-endian cursor over the mapped file.
///
/// Every read first checks that the bytes exist, so a truncated or corrupt file becomes a
/// `GGUFError` naming what was being read and where, never an out-of-bounds access.
/// `what` arguments are autoclosures so the messages cost nothing on the happy path.
struct ByteReader {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    private(set) var offset = 0

    init(base: UnsafeRawPointer, size: Int, path: String) {
        self.base = base
        self.size = size
        self.path = path
    }

    var remaining: Int { size - offset }

    /// Declared sizes beyond this are garbage rather than a cut-off file: no GGUF file is a TiB.
    static let absurdSize: UInt64 = 1 << 40

    /// Throws unless `count` more bytes exist: the file was cut short.
    func need(_ count: Int, for what: @autoclosure () -> String) throws {
        guard count > remaining else { return }
        throw GGUFError.truncated(path: path, detail: "\(what()) at offset \(offset) needs \(count) bytes but only \(remaining) remain (file size \(size))")
    }

    /// The error for a length or count read from the file that needs `bytes` (nil: overflow)
    /// when fewer remain: corruption if the size is absurd, truncation otherwise.
    func overrun(_ bytes: UInt64?, _ detail: String) -> GGUFError {
        if let bytes, bytes <= Self.absurdSize {
            return .truncated(path: path, detail: detail)
        }
        return .corrupt(path: path, detail: detail)
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, for: what())
        let value = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A uint64 count of items that each take at least `minimumSize` bytes; rejects counts the
    /// rest of the file cannot possibly hold, before anything is allocated for them.
    mutating func readCount(minimumSize: Int, _ what: @autoclosure () -> String) throws -> Int {
        let raw = try read(UInt64.self, what())
        let (bytes, overflow) = raw.multipliedReportingOverflow(by: UInt64(minimumSize))
        guard !overflow, bytes <= UInt64(remaining) else {
            throw overrun(overflow ? nil : bytes, "\(what()) is \(raw), but \(raw) items of at least \(minimumSize) bytes cannot fit in the \(remaining) bytes left after offset \(offset) (file size \(size))")
        }
        return Int(raw)
    }

    /// A GGUF string: uint64 byte length, then UTF-8 bytes (no terminator). Invalid UTF-8 is
    /// repaired with U+FFFD rather than rejected, as other GGUF readers do.
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let start = offset
        let length = try read(UInt64.self, "length of \(what())")
        guard length <= UInt64(remaining) else {
            throw overrun(length, "\(what()) at offset \(start) declares a length of \(length) bytes but only \(remaining) remain (file size \(size))")
        }
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: Int(length))
        offset += Int(length)
        return String(decoding: bytes, as: UTF8.self)
    }
}
