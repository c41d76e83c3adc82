#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a GGUF file (v3 by default; v2 has the same little-endian layout) in memory and writes
/// it atomically. Used by tests and tools to produce small files.
///
/// Metadata keeps insertion order. The data alignment is `general.alignment` if set (it must be
/// a uint32 power of two, as readers expect), else 32; each tensor's data starts on a multiple
/// of it, zero-padded, as ggml lays files out.
public struct GGUFWriter: Sendable {
    public var version: UInt32
    public private(set) var metadataKeys: [String] = []
    public private(set) var metadata: [String: GGUFValue] = [:]
    private var tensors: [(name: String, type: GGMLType, shape: [Int], data: [UInt8])] = []

    public init(version: UInt32 = 3) {
        self.version = version
    }

    /// Sets a metadata value; a new key goes last, an existing key keeps its place.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if metadata.updateValue(value, forKey: key) == nil { metadataKeys.append(key) }
    }

    /// Adds a tensor given its raw bytes, which must be exactly the size its type and shape need.
    public mutating func addTensor(name: String, type: GGMLType, shape: [Int], data: [UInt8]) throws {
        guard (1...4).contains(shape.count), shape.allSatisfy({ $0 >= 0 }) else {
            throw GGUFError.invalidArgument("tensor '\(name)': shape \(shape) must have 1 to 4 non-negative dimensions")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw GGUFError.invalidArgument("tensor '\(name)' was already added")
        }
        let elements = shape.reduce(1, *)
        guard shape[0] % type.blockSize == 0, let expected = type.byteCount(elements: elements) else {
            throw GGUFError.invalidArgument("tensor '\(name)': rows of \(shape[0]) are not a whole number of \(type.name) blocks of \(type.blockSize)")
        }
        guard data.count == expected else {
            throw GGUFError.invalidArgument("tensor '\(name)': \(type.name) \(shape) needs \(expected) bytes, got \(data.count)")
        }
        tensors.append((name, type, shape, data))
    }

    /// Adds an F32 tensor; `shape` defaults to one dimension of `values.count`.
    public mutating func addTensor(name: String, values: [Float], shape: [Int]? = nil) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values { appendLittleEndian(v.bitPattern, to: &bytes) }
        try addTensor(name: name, type: .f32, shape: shape ?? [values.count], data: bytes)
    }

    /// The data alignment the file will use.
    public var alignment: Int { metadata["general.alignment"]?.int ?? 32 }

    /// The complete file.
    public func serialized() throws -> [UInt8] {
        let alignment = self.alignment
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError.invalidArgument("general.alignment \(alignment) is not a positive power of two")
        }
        var out: [UInt8] = []
        appendLittleEndian(GGUFParser.magic, to: &out)
        appendLittleEndian(version, to: &out)
        appendLittleEndian(UInt64(tensors.count), to: &out)
        appendLittleEndian(UInt64(metadataKeys.count), to: &out)
        for key in metadataKeys {
            let value = metadata[key]!
            appendString(key, to: &out)
            appendLittleEndian(value.typeID, to: &out)
            try appendValue(value, to: &out, key: key)
        }

        // Tensor infos, with offsets relative to the data section.
        var offset = 0
        for t in tensors {
            appendString(t.name, to: &out)
            appendLittleEndian(UInt32(t.shape.count), to: &out)
            for dim in t.shape { appendLittleEndian(UInt64(dim), to: &out) }
            appendLittleEndian(t.type.rawValue, to: &out)
            appendLittleEndian(UInt64(offset), to: &out)
            offset = padded(offset + t.data.count, to: alignment)
        }

        out.append(contentsOf: repeatElement(0, count: padded(out.count, to: alignment) - out.count))
        for t in tensors {
            out.append(contentsOf: t.data)
            out.append(contentsOf: repeatElement(0, count: padded(out.count, to: alignment) - out.count))
        }
        return out
    }

    /// Writes the file to a temporary name beside `path`, then renames it into place, so readers
    /// never see a half-written file.
    public func write(to path: String) throws {
        let bytes = try serialized()
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GGUFError.writeFailed(path: path, reason: "cannot create \(temporary): \(errnoText())") }
        var written = 0
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed after \(written) bytes: \(errnoText())"
                    return
                }
                written += n
            }
        }
        if close(fd) != 0, failure == nil { failure = "close failed: \(errnoText())" }
        if failure == nil, rename(temporary, path) != 0 { failure = "rename from \(temporary) failed: \(errnoText())" }
        if let failure {
            unlink(temporary)
            throw GGUFError.writeFailed(path: path, reason: failure)
        }
    }

    // MARK: - Encoding

    private func appendValue(_ value: GGUFValue, to out: inout [UInt8], key: String) throws {
        switch value {
        case let .uint8(v): out.append(v)
        case let .int8(v): out.append(UInt8(bitPattern: v))
        case let .uint16(v): appendLittleEndian(v, to: &out)
        case let .int16(v): appendLittleEndian(v, to: &out)
        case let .uint32(v): appendLittleEndian(v, to: &out)
        case let .int32(v): appendLittleEndian(v, to: &out)
        case let .uint64(v): appendLittleEndian(v, to: &out)
        case let .int64(v): appendLittleEndian(v, to: &out)
        case let .float32(v): appendLittleEndian(v.bitPattern, to: &out)
        case let .float64(v): appendLittleEndian(v.bitPattern, to: &out)
        case let .bool(v): out.append(v ? 1 : 0)
        case let .string(v): appendString(v, to: &out)
        case let .array(items):
            // GGUF stores one element type per array; an empty array gets uint8 (any would do).
            let elementType = items.first?.typeID ?? GGUFValueType.uint8.rawValue
            guard items.allSatisfy({ $0.typeID == elementType }) else {
                throw GGUFError.invalidArgument("metadata '\(key)': array elements must all have the same type")
            }
            appendLittleEndian(elementType, to: &out)
            appendLittleEndian(UInt64(items.count), to: &out)
            for item in items { try appendValue(item, to: &out, key: key) }
        }
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
}

private func appendString(_ string: String, to out: inout [UInt8]) {
    let utf8 = Array(string.utf8)
    appendLittleEndian(UInt64(utf8.count), to: &out)
    out.append(contentsOf: utf8)
}

private func padded(_ n: Int, to alignment: Int) -> Int {
    (n + alignment - 1) / alignment * alignment
}

/// `write(2)`; named apart from `GGUFWriter.write(to:)`, which would shadow it inside the struct.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

private func errnoText() -> String {
    String(cString: strerror(errno))
}
