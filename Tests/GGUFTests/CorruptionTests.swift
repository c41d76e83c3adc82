import Foundation
import GGUF
import XCTest

/// Truncated and corrupted files must be rejected with a GGUFError, never crash or open.
final class CorruptionTests: XCTestCase {
    /// A small valid file: metadata of several kinds, then three tensors.
    static func validFile() throws -> [UInt8] {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("test.numbers", .array([.uint32(1), .uint32(2), .uint32(3)]))
        writer.set("test.nested", .array([.array([.string("a"), .string("bc")]), .array([.float32(1)])]))
        writer.set("test.flag", .bool(true))
        var q8: [UInt8] = []
        for _ in 0..<2 { q8.appendF16(0.5); q8.append(contentsOf: (0..<32).map { UInt8($0) }) }
        try writer.addTensor(name: "blk.0.attn_q.weight", type: .q8_0, shape: [32, 2], data: q8)
        try writer.addTensor(name: "blk.0.norm.weight", values: [1, 2, 3, 4])
        try writer.addTensor(name: "blk.0.ffn.weight", type: .q4_K, shape: [256], data: [UInt8](repeating: 1, count: 144))
        return try writer.serialized()
    }

    /// Offset of the tensor-info fields that follow `name`.
    struct InfoOffsets { var dimCount: Int; var dims: Int; var type: Int; var offset: Int }
    func info(of name: String, in bytes: [UInt8], dims: Int) -> InfoOffsets {
        let start = bytes.firstIndex(of: ggufString(name))! + ggufString(name).count
        return InfoOffsets(dimCount: start, dims: start + 4, type: start + 4 + 8 * dims, offset: start + 8 + 8 * dims)
    }

    func testValidFileOpens() throws {
        let file = try openBytes(try Self.validFile())
        XCTAssertEqual(file.tensors.count, 3)
        for t in file.tensors { XCTAssertNoThrow(try file.dequantize(t)) }
    }

    /// Cut the file at every length: header, metadata, tensor infos, padding and data.
    func testTruncatedAtEveryOffsetThrows() throws {
        let bytes = try Self.validFile()
        let full = try openBytes(bytes)
        let dataEnd = full.tensors.map { $0.offset + $0.byteCount }.max()!
        let path = temporaryPath("cut.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var kinds: [String: Int] = [:]
        for length in 0..<bytes.count {
            try Data(bytes[0..<length]).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFFile(path: path)
                // Only the zero padding after the last tensor's data may be cut without harm.
                XCTAssertGreaterThanOrEqual(length, dataEnd, "a file cut to \(length) bytes opened")
            } catch let error as GGUFError {
                XCTAssertLessThan(length, dataEnd)
                XCTAssertTrue(error.description.contains(path), "\(error) names the file")
                kinds[error.kind, default: 0] += 1
            }
        }
        XCTAssertEqual(Array(kinds.keys), ["truncated"], "every cut is reported as truncation")
    }

    func testTruncatedTensorDataNamesTheTensor() throws {
        let bytes = try Self.validFile()
        let full = try openBytes(bytes)
        let last = full.tensors.max { $0.offset < $1.offset }!
        let error = assertRejects(Array(bytes[0..<(last.offset + 100)]))
        XCTAssertEqual(error?.kind, "truncated")
        XCTAssertTrue(error?.description.contains("tensor '\(last.name)' data [offset \(last.offset), 144 bytes] runs past the end of file (size \(last.offset + 100))") ?? false, "\(String(describing: error))")
    }

    func testEmptyAndMissingFiles() throws {
        XCTAssertEqual(assertRejects([])?.kind, "truncated")
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/model.gguf")) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "cannotOpen")
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf"))
        }
        XCTAssertThrowsError(try GGUFFile(path: NSTemporaryDirectory())) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "cannotOpen", "a directory is not a GGUF file")
        }
    }

    func testBadMagic() throws {
        var bytes = try Self.validFile()
        bytes[0] = UInt8(ascii: "G"); bytes[3] = UInt8(ascii: "X")
        let error = assertRejects(bytes)
        XCTAssertEqual(error?.kind, "corrupt")
        XCTAssertTrue(error?.description.contains("bad magic 47 47 55 58") ?? false, "\(String(describing: error))")
    }

    func testVersions() throws {
        var bytes = try Self.validFile()
        bytes.patchLE(UInt32(1), at: 4)
        let v1 = assertRejects(bytes)
        XCTAssertEqual(v1?.kind, "unsupported")
        XCTAssertTrue(v1?.description.contains("version 1") ?? false)
        bytes.patchLE(UInt32(4), at: 4)
        XCTAssertEqual(assertRejects(bytes)?.kind, "corrupt")
        bytes.patchLE(UInt32(3).byteSwapped, at: 4)
        XCTAssertTrue(assertRejects(bytes)?.description.contains("big-endian") ?? false)
        bytes.patchLE(UInt32(2), at: 4)
        XCTAssertEqual(try openBytes(bytes).version, 2)
    }

    func testAbsurdCounts() throws {
        let bytes = try Self.validFile()
        for count in [UInt64(1) << 40, UInt64.max, UInt64(Int.max) + 1] {
            var tensors = bytes
            tensors.patchLE(count, at: 8)
            XCTAssertEqual(assertRejects(tensors, "tensor count \(count)")?.kind, "corrupt")
            var kvs = bytes
            kvs.patchLE(count, at: 16)
            XCTAssertEqual(assertRejects(kvs, "metadata count \(count)")?.kind, "corrupt")
        }
        // One more tensor or key than present: the file runs out while reading them.
        var tensors = bytes
        tensors.patchLE(UInt64(4), at: 8)
        assertRejects(tensors)
        var kvs = bytes
        kvs.patchLE(UInt64(5), at: 16)
        assertRejects(kvs)
    }

    func testHugeStringLength() throws {
        let bytes = try Self.validFile()
        for length in [UInt64.max, UInt64(1) << 62, UInt64(bytes.count)] {
            var patched = bytes
            patched.patchLE(length, at: 24)   // the first key's length
            let error = assertRejects(patched, "key length \(length)")
            XCTAssertTrue(error?.description.contains("metadata key #0") ?? false, "\(String(describing: error))")
        }
        // A string value: general.architecture's "llama".
        var patched = bytes
        patched.patchLE(UInt64.max, at: bytes.firstIndex(of: ggufString("llama"))!)
        XCTAssertTrue(assertRejects(patched)?.description.contains("value of metadata 'general.architecture'") ?? false)
    }

    func testHugeArrayCount() throws {
        let bytes = try Self.validFile()
        let countOffset = bytes.firstIndex(of: ggufString("test.numbers"))! + ggufString("test.numbers").count + 8
        for (count, kind) in [(UInt64.max, "corrupt"), (UInt64(1) << 61, "corrupt"), (1_000_000, "truncated")] {
            var patched = bytes
            patched.patchLE(count, at: countOffset)
            let error = assertRejects(patched)
            XCTAssertEqual(error?.kind, kind, "count \(count)")
            XCTAssertTrue(error?.description.contains("element count of value of metadata 'test.numbers'") ?? false, "\(String(describing: error))")
        }
    }

    func testUnknownValueTypes() throws {
        let bytes = try Self.validFile()
        let typeOffset = bytes.firstIndex(of: ggufString("test.flag"))! + ggufString("test.flag").count
        var patched = bytes
        patched.patchLE(UInt32(13), at: typeOffset)
        XCTAssertTrue(assertRejects(patched)?.description.contains("unknown value type id 13") ?? false)
        let elementOffset = bytes.firstIndex(of: ggufString("test.numbers"))! + ggufString("test.numbers").count + 4
        patched = bytes
        patched.patchLE(UInt32.max, at: elementOffset)
        XCTAssertTrue(assertRejects(patched)?.description.contains("unknown element type id") ?? false)
    }

    func testDeeplyNestedArraysAreRejected() throws {
        var value = GGUFValue.array([.uint8(1)])
        for _ in 0..<20 { value = .array([value]) }
        var writer = GGUFWriter()
        writer.set("deep", value)
        XCTAssertTrue(assertRejects(try writer.serialized())?.description.contains("nests arrays") ?? false)
    }

    func testDuplicateMetadataKey() throws {
        var writer = GGUFWriter()
        writer.set("key.a", .uint8(1))
        writer.set("key.b", .uint8(2))
        var bytes = try writer.serialized()
        bytes[bytes.firstIndex(of: ggufString("key.b"))! + 8 + 4] = UInt8(ascii: "a")
        XCTAssertTrue(assertRejects(bytes)?.description.contains("duplicate metadata key 'key.a'") ?? false)
    }

    func testBadAlignment() throws {
        /// A file whose general.alignment is `value` (written as 32, then patched in place).
        func file(_ value: GGUFValue, patch: Int32?) throws -> [UInt8] {
            var writer = GGUFWriter()
            writer.set("general.alignment", value)
            try writer.addTensor(name: "t", values: [1])
            var bytes = try writer.serialized()
            if let patch {
                bytes.patchLE(patch, at: bytes.firstIndex(of: ggufString("general.alignment"))! + ggufString("general.alignment").count + 4)
            }
            return bytes
        }
        for patch: Int32 in [0, 3, 48] {
            XCTAssertTrue(assertRejects(try file(.uint32(32), patch: patch))?.description.contains("general.alignment is uint32(\(patch))") ?? false)
        }
        XCTAssertTrue(assertRejects(try file(.int32(32), patch: -32))?.description.contains("general.alignment") ?? false)
        XCTAssertTrue(assertRejects(try file(.string("32"), patch: nil))?.description.contains("general.alignment") ?? false)
        XCTAssertEqual(try openBytes(try file(.uint32(32), patch: 16)).alignment, 16)
    }

    func testUnknownTensorType() throws {
        let bytes = try Self.validFile()
        let offsets = info(of: "blk.0.norm.weight", in: bytes, dims: 1)
        var patched = bytes
        patched.patchLE(UInt32(99), at: offsets.type)
        XCTAssertTrue(assertRejects(patched)?.description.contains("tensor 'blk.0.norm.weight' has unknown type id 99") ?? false)
        patched.patchLE(UInt32(16), at: offsets.type)
        let error = assertRejects(patched)
        XCTAssertEqual(error?.kind, "unsupported")
        XCTAssertTrue(error?.description.contains("IQ2_XXS") ?? false)
    }

    func testBadDimensions() throws {
        let bytes = try Self.validFile()
        let offsets = info(of: "blk.0.attn_q.weight", in: bytes, dims: 2)
        for count in [UInt32(0), 5, UInt32.max] {
            var patched = bytes
            patched.patchLE(count, at: offsets.dimCount)
            XCTAssertTrue(assertRejects(patched)?.description.contains("has \(count) dimensions") ?? false)
        }
        // A Q8_0 row of 16 weights is half a block.
        var patched = bytes
        patched.patchLE(UInt64(16), at: offsets.dims)
        patched.patchLE(UInt64(4), at: offsets.dims + 8)
        XCTAssertTrue(assertRejects(patched)?.description.contains("not a multiple of the Q8_0 block size 32") ?? false)
        // Dimensions whose product overflows.
        patched = bytes
        patched.patchLE(UInt64(1) << 40, at: offsets.dims)
        patched.patchLE(UInt64(1) << 40, at: offsets.dims + 8)
        XCTAssertTrue(assertRejects(patched)?.description.contains("overflows") ?? false)
        patched.patchLE(UInt64.max, at: offsets.dims)
        assertRejects(patched)
        // Larger than the data but no overflow.
        patched = bytes
        patched.patchLE(UInt64(32) << 20, at: offsets.dims)
        XCTAssertEqual(assertRejects(patched)?.kind, "truncated")
    }

    func testTensorOffsetOutOfRange() throws {
        let bytes = try Self.validFile()
        let offsets = info(of: "blk.0.norm.weight", in: bytes, dims: 1)
        for offset in [UInt64.max, UInt64(Int.max), UInt64(1) << 40, UInt64(bytes.count / 32 * 32 + 32)] {
            var patched = bytes
            patched.patchLE(offset, at: offsets.offset)
            let error = assertRejects(patched, "offset \(offset)")
            XCTAssertTrue(error?.description.contains("blk.0.norm.weight") ?? false, "\(String(describing: error))")
        }
    }

    func testMisalignedTensorOffset() throws {
        let bytes = try Self.validFile()
        let offsets = info(of: "blk.0.norm.weight", in: bytes, dims: 1)
        let original = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offsets.offset, as: UInt64.self) }
        var patched = bytes
        patched.patchLE(original + 4, at: offsets.offset)
        XCTAssertTrue(assertRejects(patched)?.description.contains("is not a multiple of the alignment 32") ?? false)
    }

    func testOverlappingTensors() throws {
        let bytes = try Self.validFile()
        var patched = bytes
        patched.patchLE(UInt64(0), at: info(of: "blk.0.norm.weight", in: bytes, dims: 1).offset)
        XCTAssertTrue(assertRejects(patched)?.description.contains("overlap") ?? false)
    }

    func testDuplicateTensorNames() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "w.a", values: [1])
        try writer.addTensor(name: "w.b", values: [2])
        var bytes = try writer.serialized()
        bytes[bytes.firstIndex(of: ggufString("w.b"))! + 8 + 2] = UInt8(ascii: "a")
        XCTAssertTrue(assertRejects(bytes)?.description.contains("duplicate tensor name 'w.a'") ?? false)
    }

    /// Random byte corruption: every outcome is a clean open or a GGUFError, and whatever opens
    /// can be fully dequantized without touching memory outside the file.
    func testRandomCorruptionNeverCrashes() throws {
        let bytes = try Self.validFile()
        var rng = SplitMix64(state: 42)
        let path = temporaryPath("fuzz.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var opened = 0, rejected = 0
        for _ in 0..<1500 {
            var patched = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<patched.count, using: &rng)
                patched[i] = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : patched[i] ^ 0x80
            }
            try Data(patched).write(to: URL(fileURLWithPath: path))
            do {
                let file = try GGUFFile(path: path)
                for t in file.tensors where t.type.canDequantize { _ = try file.dequantize(t) }
                opened += 1
            } catch is GGUFError {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 100)
        XCTAssertGreaterThan(opened, 100, "flips in tensor data or values leave the file valid")
    }
}
