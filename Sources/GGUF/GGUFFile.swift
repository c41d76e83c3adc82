/// One tensor's entry in the GGUF tensor-info table, with its data location resolved and checked.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// GGUF order: `shape[0]` (ggml's ne[0]) is the contiguous row length.
    public let shape: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the tensor data in the file.
    public let offset: Int
    public let byteCount: Int

    /// Product of `shape` (checked not to overflow when the file was read).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A GGUF v2/v3 file, memory-mapped read-only and fully validated on open.
///
/// Every count, length, offset and size in the file is checked against the file size before it
/// is used, so `init` either returns a file whose tensors all lie inside the mapping or throws a
/// `GGUFError` saying what is wrong; the accessors below can then read without further checks.
public final class GGUFFile: @unchecked Sendable {   // immutable after init; the mapping is read-only
    public let path: String
    /// 2 or 3 (identical layouts for little-endian files).
    public let version: UInt32
    /// `general.alignment`, 32 when absent.
    public let alignment: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (`metadata` is unordered).
    public let metadataKeys: [String]
    /// In file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute offset of the tensor data section (after the tensor infos, aligned).
    public let dataOffset: Int

    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        var reader = ByteReader(base: mapping.base, size: mapping.size, path: path)
        let layout = try GGUFParser.parse(&reader)
        self.path = path
        self.mapping = mapping
        version = layout.version
        alignment = layout.alignment
        metadata = layout.metadata
        metadataKeys = layout.metadataKeys
        tensors = layout.tensors
        dataOffset = layout.dataOffset
        tensorIndex = Dictionary(uniqueKeysWithValues: layout.tensors.enumerated().map { ($1.name, $0) })
    }

    public var fileSize: Int { mapping.size }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's raw bytes inside the mapping; valid as long as this `GGUFFile` is alive.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        // Infos from this file were checked on open; one from another file is a programming error.
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0 && tensor.offset <= fileSize - tensor.byteCount,
                     "tensor '\(tensor.name)' does not lie inside '\(path)'")
        return UnsafeRawBufferPointer(start: mapping.base + tensor.offset, count: tensor.byteCount)
    }

    /// The whole tensor as Float32, in file order (`shape[0]` contiguous).
    public func dequantize(_ tensor: GGUFTensorInfo) throws -> [Float] {
        try checkDequantizable(tensor)
        return try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            if let dst = buffer.baseAddress { try dequantize(tensor, into: dst) }
            initialized = tensor.elementCount
        }
    }

    /// Dequantizes the whole tensor into `into`, which must hold `tensor.elementCount` floats.
    /// Large tensors are split across cores.
    public func dequantize(_ tensor: GGUFTensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
        try checkDequantizable(tensor)
        let blocks = tensor.elementCount / tensor.type.blockSize
        dequantizeBlocksConcurrently(tensor.type, from: mapping.base + tensor.offset, blocks: blocks, into: dst)
    }

    private func checkDequantizable(_ tensor: GGUFTensorInfo) throws {
        guard tensor.type.canDequantize else {
            throw GGUFError.cannotDequantize(type: tensor.type, context: "tensor '\(tensor.name)' in '\(path)'")
        }
        guard tensor.offset >= dataOffset, tensor.byteCount <= fileSize - tensor.offset,
              tensor.type.byteCount(elements: tensor.elementCount) == tensor.byteCount else {
            throw GGUFError.invalidArgument("tensor '\(tensor.name)' [offset \(tensor.offset), \(tensor.byteCount) bytes] is not a tensor of '\(path)'")
        }
    }
}

/// The parsed layout of a GGUF file (everything but the mapping).
struct GGUFLayout {
    var version: UInt32
    var alignment: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var dataOffset: Int
}

/// Reads and validates the header, metadata and tensor infos (layout in ggml's docs/gguf.md):
/// magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata count, the key/values,
/// the tensor infos, padding to `general.alignment`, then the tensor data.
enum GGUFParser {
    static let magic: UInt32 = 0x4655_4747          // "GGUF" read as a little-endian uint32
    static let maxArrayNesting = 16                  // deeper nesting is corruption, not data
    static let minimumMetadataEntrySize = 8 + 4 + 1  // key length, value type, smallest value
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8  // name length, n_dims, one dim, type, offset

    static func parse(_ r: inout ByteReader) throws -> GGUFLayout {
        let path = r.path

        // Header.
        let magic = try r.read(UInt32.self, "the magic number")
        guard magic == Self.magic else {
            let bytes = (0..<4).map { hex(UInt8(truncatingIfNeeded: magic >> (8 * $0))) }.joined(separator: " ")
            throw GGUFError.corrupt(path: path, detail: "bad magic \(bytes) at offset 0 (expected 47 47 55 46, \"GGUF\")")
        }
        let version = try r.read(UInt32.self, "the version")
        switch version {
        case 2, 3: break
        case 1: throw GGUFError.unsupported(path: path, detail: "GGUF version 1 (32-bit counts, 2023) is not supported; versions 2 and 3 are")
        case _ where [2, 3].contains(version.byteSwapped):
            throw GGUFError.unsupported(path: path, detail: "big-endian GGUF (version \(version.byteSwapped) byte-swapped) is not supported")
        default: throw GGUFError.corrupt(path: path, detail: "unknown GGUF version \(version) at offset 4 (expected 2 or 3)")
        }
        let tensorCount = try r.readCount(minimumSize: minimumTensorInfoSize, "the tensor count")
        let metadataCount = try r.readCount(minimumSize: minimumMetadataEntrySize, "the metadata key/value count")

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var metadataKeys: [String] = []
        metadata.reserveCapacity(metadataCount)
        metadataKeys.reserveCapacity(metadataCount)
        for i in 0..<metadataCount {
            let keyOffset = r.offset
            let key = try r.readString("metadata key #\(i)")
            let typeID = try r.read(UInt32.self, "value type of metadata '\(key)'")
            let value = try readValue(typeID: typeID, &r, depth: 0, "value of metadata '\(key)'")
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError.corrupt(path: path, detail: "duplicate metadata key '\(key)' (entry #\(i) at offset \(keyOffset))")
            }
            metadataKeys.append(key)
        }

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a & (a - 1) == 0 else {
                throw GGUFError.corrupt(path: path, detail: "general.alignment is \(value), but it must be a positive power of two")
            }
            alignment = a
        }

        // Tensor infos.
        var pending: [(name: String, shape: [Int], type: GGMLType, byteCount: Int, relativeOffset: UInt64)] = []
        pending.reserveCapacity(tensorCount)
        var names = Set<String>()
        for i in 0..<tensorCount {
            let name = try r.readString("name of tensor #\(i)")
            guard names.insert(name).inserted else {
                throw GGUFError.corrupt(path: path, detail: "duplicate tensor name '\(name)' (tensor #\(i))")
            }
            let dimCount = try r.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard (1...4).contains(dimCount) else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(name)' has \(dimCount) dimensions (must be 1 to 4)")
            }
            var shape: [Int] = []
            var elements = 1
            var overflow = false
            for d in 0..<Int(dimCount) {
                let dim = try r.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                let n = Int(exactly: dim) ?? Int.max
                shape.append(n)
                let (product, o) = elements.multipliedReportingOverflow(by: n)
                elements = product
                overflow = overflow || o || dim > UInt64(Int.max)
            }
            guard !overflow else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(name)' has shape \(shape), whose element count overflows")
            }
            let typeID = try r.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: typeID) else {
                if let known = GGMLType.unsupportedName(id: typeID) {
                    throw GGUFError.unsupported(path: path, detail: "tensor '\(name)' has type \(known) (id \(typeID)), which this reader does not handle")
                }
                throw GGUFError.corrupt(path: path, detail: "tensor '\(name)' has unknown type id \(typeID)")
            }
            guard shape[0] % type.blockSize == 0 else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(name)' has rows of \(shape[0]) elements, not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            guard let byteCount = type.byteCount(elements: elements) else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(name)' of shape \(shape) is too large")
            }
            let relativeOffset = try r.read(UInt64.self, "data offset of tensor '\(name)'")
            pending.append((name, shape, type, byteCount, relativeOffset))
        }

        // Tensor data: the section starts at the next multiple of the alignment.
        let (padded, overflow) = r.offset.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw GGUFError.corrupt(path: path, detail: "general.alignment \(alignment) is too large")
        }
        let dataOffset = padded / alignment * alignment
        let size = r.size
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(pending.count)
        for t in pending {
            guard t.relativeOffset <= ByteReader.absurdSize else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(t.name)' data offset \(t.relativeOffset) (relative to the data section at \(dataOffset)) lies far beyond the end of the file (size \(size))")
            }
            guard t.relativeOffset % UInt64(alignment) == 0 else {
                throw GGUFError.corrupt(path: path, detail: "tensor '\(t.name)' data offset \(t.relativeOffset) (relative to the data section at \(dataOffset)) is not a multiple of the alignment \(alignment)")
            }
            let offset = dataOffset + Int(t.relativeOffset)   // < 2^62 + 2^41: no overflow
            guard offset <= size, t.byteCount <= size - offset else {
                throw GGUFError.truncated(path: path, detail: "tensor '\(t.name)' data [offset \(offset), \(t.byteCount) bytes] runs past the end of file (size \(size))")
            }
            tensors.append(GGUFTensorInfo(name: t.name, shape: t.shape, type: t.type, offset: offset, byteCount: t.byteCount))
        }

        // Overlapping data means the offsets are corrupt even if each lies inside the file.
        // (Empty tensors occupy nothing; ggml puts them at the next tensor's offset.)
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw GGUFError.corrupt(path: path, detail: "data of tensors '\(a.name)' [offset \(a.offset), \(a.byteCount) bytes] and '\(b.name)' [offset \(b.offset), \(b.byteCount) bytes] overlap")
        }

        return GGUFLayout(version: version, alignment: alignment, metadata: metadata, metadataKeys: metadataKeys,
                          tensors: tensors, dataOffset: dataOffset)
    }

    /// Reads one metadata value of type `typeID`; arrays recurse (up to `maxArrayNesting`).
    static func readValue(typeID: UInt32, _ r: inout ByteReader, depth: Int,
                          _ what: @autoclosure () -> String) throws -> GGUFValue {
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw GGUFError.corrupt(path: r.path, detail: "\(what()) at offset \(r.offset) has unknown value type id \(typeID) (expected 0 to 12)")
        }
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, what()))
        case .int8: return .int8(try r.read(Int8.self, what()))
        case .uint16: return .uint16(try r.read(UInt16.self, what()))
        case .int16: return .int16(try r.read(Int16.self, what()))
        case .uint32: return .uint32(try r.read(UInt32.self, what()))
        case .int32: return .int32(try r.read(Int32.self, what()))
        case .uint64: return .uint64(try r.read(UInt64.self, what()))
        case .int64: return .int64(try r.read(Int64.self, what()))
        case .float32: return .float32(try r.readFloat(what()))
        case .float64: return .float64(try r.readDouble(what()))
        case .bool: return .bool(try r.read(UInt8.self, what()) != 0)   // as ggml: any non-zero byte is true
        case .string: return .string(try r.readString(what()))
        case .array:
            guard depth < maxArrayNesting else {
                throw GGUFError.corrupt(path: r.path, detail: "\(what()) at offset \(r.offset) nests arrays more than \(maxArrayNesting) deep")
            }
            let elementTypeID = try r.read(UInt32.self, "element type of \(what())")
            guard let elementType = GGUFValueType(rawValue: elementTypeID) else {
                throw GGUFError.corrupt(path: r.path, detail: "\(what()) has unknown element type id \(elementTypeID) (expected 0 to 12)")
            }
            let count = try r.readCount(minimumSize: elementType.minimumSize, "element count of \(what())")
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for i in 0..<count {
                items.append(try readValue(typeID: elementTypeID, &r, depth: depth + 1, "element \(i) of \(what())"))
            }
            return .array(items)
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
