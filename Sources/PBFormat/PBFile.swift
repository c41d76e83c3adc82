import Foundation
import GGUF

/// A .pbllm file, memory-mapped and validated on open: header, metadata, directory, every part's
/// bounds, alignment, size and checksum. After `init` succeeds the accessors cannot fail on
/// bytes; decoding a `pb` tensor still checks its internal consistency.
public final class PBFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: GGUFValue]
    public let tensors: [PBTensor]
    private let mapping: MappedFile
    private let index: [String: Int]

    public var fileSize: Int { mapping.size }

    /// Whether the file at `path` starts with the .pbllm magic.
    public static func hasMagic(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 8)).map { [UInt8]($0) } == PBHeader.magic
    }

    public init(path: String) throws {
        mapping = try MappedFile(path: path)
        self.path = path
        let all = UnsafeRawBufferPointer(start: mapping.base, count: mapping.size)
        let header = try PBHeader.decode(all, fileSize: mapping.size, path: path)
        metadata = try GGUFFile.parseEmbeddedMetadata(
            UnsafeRawBufferPointer(rebasing: all[header.metadataOffset..<(header.metadataOffset + header.metadataSize)]),
            path: path)
        let directoryBytes = Data(all[header.directoryOffset..<(header.directoryOffset + header.directorySize)])
        let directory: PBDirectory
        do { directory = try JSONDecoder().decode(PBDirectory.self, from: directoryBytes) } catch {
            throw PBFileError.corrupt(path: path, detail: "unreadable tensor directory (\(error))")
        }
        tensors = directory.tensors
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() {
            guard index.updateValue(i, forKey: t.name) == nil else {
                throw PBFileError.corrupt(path: path, detail: "tensor '\(t.name)' appears twice")
            }
        }
        self.index = index
        for t in tensors { try Self.validate(t, in: all, dataEnd: header.metadataOffset, path: path) }
    }

    private static func validate(_ t: PBTensor, in all: UnsafeRawBufferPointer, dataEnd: Int, path: String) throws {
        func fail(_ why: String) -> PBFileError { .corrupt(path: path, detail: "tensor '\(t.name)': \(why)") }
        guard (1...2).contains(t.shape.count), t.shape.allSatisfy({ $0 > 0 && $0 <= 1 << 31 }) else {
            throw fail("bad shape \(t.shape)")
        }
        let expected = t.encoding.fixedPartSizes(rows: t.rows, columns: t.columns)
        let optional = t.encoding.optionalPartSizes(rows: t.rows, columns: t.columns)
        guard Set(expected.keys).isSubset(of: t.parts.keys), Set(t.parts.keys).isSubset(of: Set(expected.keys).union(optional.keys)) else {
            throw fail("parts \(t.parts.keys.sorted()) do not match encoding \(t.encoding.rawValue) (\(expected.keys.sorted()), optionally \(optional.keys.sorted()))")
        }
        for (name, part) in t.parts {
            let size = expected.keys.contains(name) ? expected[name]! : optional[name]
            if let size, part.size != size {
                throw fail("part '\(name)' has \(part.size) bytes, its shape needs \(size)")
            }
            guard part.offset >= PBHeader.size, part.offset % 64 == 0, part.size >= 0,
                  part.offset <= dataEnd - part.size else {
                throw fail("part '\(name)' [\(part.offset), +\(part.size)] is misaligned or outside the data area")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: all[part.offset..<(part.offset + part.size)])
            guard Checksum64.hex(Checksum64.of(bytes)) == part.checksum else {
                throw fail("part '\(name)' checksum mismatch (the file is damaged)")
            }
        }
        if t.encoding.isPB, !(1...8).contains(t.highBit ?? 0) { throw fail("high_bit missing or outside 1...8") }
        if t.encoding == .pbz {
            guard let count = t.salientCount, (0...t.elementCount).contains(count) else {
                throw fail("salient_count missing or outside 0...\(t.elementCount)")
            }
            let size = SalientValues.packedSize(count: count, bits: t.highBit!)
            guard t.parts["salient_q"]!.size == size else {
                throw fail("part 'salient_q' has \(t.parts["salient_q"]!.size) bytes, \(count) values of \(t.highBit!) bits need \(size)")
            }
        }
    }

    public func tensor(named name: String) -> PBTensor? { index[name].map { tensors[$0] } }

    /// A part's bytes inside the mapping (valid while this PBFile lives).
    public func bytes(_ t: PBTensor, _ part: String) -> UnsafeRawBufferPointer {
        let p = t.parts[part]!
        return UnsafeRawBufferPointer(start: mapping.base + p.offset, count: p.size)
    }

    private func array<T>(_ t: PBTensor, _ part: String, as: T.Type) -> [T] {
        let b = bytes(t, part)
        return (0..<(b.count / MemoryLayout<T>.stride)).map { b.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self) }
    }

    /// A `pb` tensor as a PBLayer, checked for internal consistency.
    public func pbLayer(_ t: PBTensor) throws -> PBLayer {
        precondition(t.encoding.isPB)
        var layer = PBLayer(rows: t.rows, columns: t.columns, highBit: t.highBit!)
        layer.signs = array(t, "signs", as: UInt64.self)
        layer.alpha = array(t, "alpha", as: Float.self)
        layer.mu = array(t, "mu", as: Float.self)
        if t.encoding == .pbz {
            if let problem = SalientBitmap.decode(bytes(t, "salient_bitmap"), into: &layer) {
                throw PBFileError.corrupt(path: path, detail: "tensor '\(t.name)': \(problem)")
            }
            layer.salientQ = SalientValues.unpack(bytes(t, "salient_q"), count: t.salientCount!, bits: t.highBit!)
        } else {
            layer.salientCounts = array(t, "salient_counts", as: UInt16.self)
            layer.salientOffsets = array(t, "salient_offsets", as: UInt8.self)
            layer.salientQ = array(t, "salient_q", as: UInt8.self)
        }
        layer.salientScale = array(t, "salient_scale", as: Float.self)
        layer.salientZero = array(t, "salient_zero", as: Float.self)
        if t.parts["column_scale"] != nil {
            layer.columnScale = array(t, "column_scale", as: UInt16.self).map { Float(Float16(bitPattern: $0)) }
        }
        if let problem = layer.validationError() {
            throw PBFileError.corrupt(path: path, detail: "tensor '\(t.name)': \(problem)")
        }
        return layer
    }

    /// Any tensor as floats (rows × columns, row-major); `pb` is dequantized.
    public func floats(_ t: PBTensor) throws -> [Float] {
        switch t.encoding {
        case .f32: return array(t, "data", as: Float.self)
        case .f16: return array(t, "data", as: UInt16.self).map { Float(Float16(bitPattern: $0)) }
        case .q8:
            let q = array(t, "q", as: Int8.self), scale = array(t, "scale", as: Float.self)
            return q.indices.map { Float(q[$0]) * scale[$0 / t.columns] }
        case .pb, .pbz: return try pbLayer(t).dequantized()
        }
    }
}
