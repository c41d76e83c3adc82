import Foundation
import GGUF
import XCTest

/// Writing a file with GGUFWriter and reading it back with GGUFFile.
final class RoundTripTests: XCTestCase {
    /// One value of every metadata type, including nested and empty arrays.
    static let everyType: [(String, GGUFValue)] = [
        ("test.uint8", .uint8(200)),
        ("test.int8", .int8(-100)),
        ("test.uint16", .uint16(60000)),
        ("test.int16", .int16(-30000)),
        ("test.uint32", .uint32(4_000_000_000)),
        ("test.int32", .int32(-2_000_000_000)),
        ("test.uint64", .uint64(UInt64.max)),
        ("test.int64", .int64(Int64.min)),
        ("test.float32", .float32(-1.5e-7)),
        ("test.float64", .float64(3.141592653589793)),
        ("test.bool.true", .bool(true)),
        ("test.bool.false", .bool(false)),
        ("test.string", .string("héllo ▁wörld 🦙")),
        ("test.string.empty", .string("")),
        ("test.array.strings", .array([.string("a"), .string(""), .string("Ġthe")])),
        ("test.array.int32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("test.array.float32", .array([.float32(0.5), .float32(-0.25)])),
        ("test.array.empty", .array([])),
        ("test.array.nested", .array([.array([.uint8(1), .uint8(2)]), .array([.string("x")]), .array([])])),
        ("test.array.bool", .array([.bool(true), .bool(false)])),
    ]

    func makeWriter(version: UInt32 = 3, alignment: UInt32? = 64) throws -> GGUFWriter {
        var writer = GGUFWriter(version: version)
        writer.set("general.architecture", .string("llama"))
        if let alignment { writer.set("general.alignment", .uint32(alignment)) }
        for (key, value) in Self.everyType { writer.set(key, value) }
        try writer.addTensor(name: "a.f32", values: [1, -2, 3.5, 0, -0.0, 1e-30], shape: [3, 2])
        var q8: [UInt8] = []
        for block in 0..<2 {
            q8.appendF16(Float(block + 1) * 0.5)
            for j in 0..<32 { q8.append(UInt8(bitPattern: Int8(j - 16))) }
        }
        try writer.addTensor(name: "b.q8_0", type: .q8_0, shape: [32, 2], data: q8)
        var f16: [UInt8] = []
        for x: Float in [1, 0.5, -2, 65504, 0.000061035156] { f16.appendF16(x) }
        try writer.addTensor(name: "c.f16", type: .f16, shape: [5], data: f16)
        try writer.addTensor(name: "d.q4_k", type: .q4_K, shape: [256, 1, 1, 1],
                             data: (0..<144).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        return writer
    }

    func testRoundTripEveryMetadataTypeAndTensors() throws {
        let writer = try makeWriter()
        let path = temporaryPath("roundtrip.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writer.write(to: path)
        let file = try GGUFFile(path: path)

        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.metadataKeys, writer.metadataKeys)
        XCTAssertEqual(file.metadata, writer.metadata)
        for (key, value) in Self.everyType {
            XCTAssertEqual(file.metadata[key], value, key)
        }

        XCTAssertEqual(file.tensors.map(\.name), ["a.f32", "b.q8_0", "c.f16", "d.q4_k"])
        XCTAssertEqual(file.tensors.map(\.shape), [[3, 2], [32, 2], [5], [256, 1, 1, 1]])
        XCTAssertEqual(file.tensors.map(\.type), [.f32, .q8_0, .f16, .q4_K])
        XCTAssertEqual(file.tensors.map(\.byteCount), [24, 68, 10, 144])
        XCTAssertEqual(file.tensors.map(\.elementCount), [6, 64, 5, 256])
        XCTAssertEqual(file.dataOffset % 64, 0)
        for t in file.tensors {
            XCTAssertEqual(t.offset % 64, 0, "\(t.name) is aligned")
            XCTAssertEqual(file.tensor(named: t.name), t)
        }
        XCTAssertNil(file.tensor(named: "missing"))

        let a = try XCTUnwrap(file.tensor(named: "a.f32"))
        assertBitwiseEqual(try file.dequantize(a), [1, -2, 3.5, 0, -0.0, 1e-30])
        let c = try XCTUnwrap(file.tensor(named: "c.f16"))
        XCTAssertEqual(try file.dequantize(c), [1, 0.5, -2, 65504, 0.000061035156])
        let b = try XCTUnwrap(file.tensor(named: "b.q8_0"))
        let expectedB: [Float] = (0..<64).map { (i: Int) -> Float in
            let d = Float(i / 32 + 1) * 0.5
            return Float(i % 32 - 16) * d
        }
        XCTAssertEqual(try file.dequantize(b), expectedB)
        let d = try XCTUnwrap(file.tensor(named: "d.q4_k"))
        XCTAssertEqual(Array(file.bytes(of: d)), (0..<144).map { UInt8(truncatingIfNeeded: $0 &* 37) })
    }

    func testWriterBytesAreDeterministicAndRereadable() throws {
        let bytes = try makeWriter().serialized()
        XCTAssertEqual(bytes, try makeWriter().serialized())
        XCTAssertEqual(Array(bytes[0..<4]), Array("GGUF".utf8))
        XCTAssertEqual(bytes.count % 64, 0, "the last tensor is padded too")
        let file = try openBytes(bytes)
        XCTAssertEqual(file.fileSize, bytes.count)
    }

    func testVersion2ReadsLikeVersion3() throws {
        let file = try openBytes(try makeWriter(version: 2).serialized())
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(file.metadata["test.uint64"], .uint64(UInt64.max))
        XCTAssertEqual(file.tensors.count, 4)
    }

    func testDefaultAlignmentIs32() throws {
        let file = try openBytes(try makeWriter(alignment: nil).serialized())
        XCTAssertEqual(file.alignment, 32)
        XCTAssertNil(file.metadata["general.alignment"])
        XCTAssertEqual(file.dataOffset % 32, 0)
        XCTAssertTrue(file.tensors.allSatisfy { $0.offset % 32 == 0 })
        // With 32-byte alignment the 24-byte F32 tensor is followed by 8 bytes of padding.
        XCTAssertEqual(file.tensors[1].offset - file.tensors[0].offset, 32)
    }

    func testFileWithoutTensors() throws {
        var writer = GGUFWriter()
        writer.set("general.name", .string("empty"))
        let bytes = try writer.serialized()
        let file = try openBytes(bytes)
        XCTAssertEqual(file.tensors.count, 0)
        XCTAssertEqual(file.metadata["general.name"]?.string, "empty")
        // The bare header (no metadata, no tensors) is also a valid file.
        XCTAssertEqual(try openBytes(try GGUFWriter().serialized()).metadata.count, 0)
    }

    func testEmptyTensors() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "empty", type: .q4_K, shape: [0, 4], data: [])
        try writer.addTensor(name: "full", values: [1, 2])
        try writer.addTensor(name: "empty2", values: [], shape: [8, 0])
        let file = try openBytes(try writer.serialized())
        XCTAssertEqual(file.tensors.map(\.byteCount), [0, 8, 0])
        XCTAssertEqual(file.tensors[0].offset, file.tensors[1].offset, "an empty tensor takes no space")
        XCTAssertEqual(try file.dequantize(file.tensors[0]), [])
        XCTAssertEqual(try file.dequantize(file.tensors[1]), [1, 2])
        XCTAssertEqual(file.bytes(of: file.tensors[2]).count, 0)
    }

    func testEmbeddedMetadata() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyType { writer.set(key, value) }
        let bytes = try writer.serialized()
        let metadata = try bytes.withUnsafeBytes { try GGUFFile.parseEmbeddedMetadata($0, path: "model.pbllm") }
        XCTAssertEqual(metadata, writer.metadata)
        // Cut into the last value, past the zero padding that ends the section.
        XCTAssertThrowsError(try bytes.dropLast(40).withUnsafeBytes { try GGUFFile.parseEmbeddedMetadata($0, path: "model.pbllm") }) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "truncated")
            XCTAssertTrue("\(error)".contains("model.pbllm"))
        }
        XCTAssertThrowsError(try [UInt8]().withUnsafeBytes { try GGUFFile.parseEmbeddedMetadata($0, path: "x") })
    }

    func testSetReplacesValueAndKeepsOrder() {
        var writer = GGUFWriter()
        writer.set("a", .uint8(1))
        writer.set("b", .uint8(2))
        writer.set("a", .string("x"))
        XCTAssertEqual(writer.metadataKeys, ["a", "b"])
        XCTAssertEqual(writer.metadata["a"], .string("x"))
    }

    func testWriterRejectsInconsistentInput() {
        var writer = GGUFWriter()
        XCTAssertThrowsError(try writer.addTensor(name: "x", type: .q8_0, shape: [32], data: [UInt8](repeating: 0, count: 33)))
        XCTAssertThrowsError(try writer.addTensor(name: "x", type: .q8_0, shape: [16], data: [UInt8](repeating: 0, count: 17)))
        XCTAssertThrowsError(try writer.addTensor(name: "x", type: .f32, shape: [], data: []))
        XCTAssertThrowsError(try writer.addTensor(name: "x", type: .f32, shape: [1, 1, 1, 1, 1], data: [0, 0, 0, 0]))
        XCTAssertNoThrow(try writer.addTensor(name: "x", values: [1]))
        XCTAssertThrowsError(try writer.addTensor(name: "x", values: [1]), "duplicate name")

        var mixed = GGUFWriter()
        mixed.set("mixed", .array([.uint8(1), .int8(1)]))
        XCTAssertThrowsError(try mixed.serialized())
        var badAlignment = GGUFWriter()
        badAlignment.set("general.alignment", .uint32(48))
        XCTAssertThrowsError(try badAlignment.serialized())
        XCTAssertThrowsError(try GGUFWriter().write(to: "/nonexistent-dir/x.gguf")) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "writeFailed")
        }
    }

    func testWriteReplacesExistingFileAtomically() throws {
        let path = temporaryPath("replace.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var writer = GGUFWriter()
        writer.set("v", .uint32(1))
        try writer.write(to: path)
        let first = try GGUFFile(path: path)
        writer.set("v", .uint32(2))
        try writer.write(to: path)
        XCTAssertEqual(first.metadata["v"], .uint32(1), "an open file keeps its mapping")
        XCTAssertEqual(try GGUFFile(path: path).metadata["v"], .uint32(2))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.contains("replace.gguf.tmp") }
        XCTAssertEqual(leftovers, [])
    }

    func testValueAccessors() {
        XCTAssertEqual(GGUFValue.uint8(7).int, 7)
        XCTAssertEqual(GGUFValue.int64(-5).int, -5)
        XCTAssertNil(GGUFValue.uint64(UInt64.max).int)
        XCTAssertNil(GGUFValue.bool(true).int)
        XCTAssertNil(GGUFValue.float32(1).int)
        XCTAssertEqual(GGUFValue.float32(0.5).double, 0.5)
        XCTAssertEqual(GGUFValue.uint32(3).double, 3)
        XCTAssertEqual(GGUFValue.uint64(UInt64.max).double, 18446744073709551615.0)
        XCTAssertNil(GGUFValue.string("1").double)
        XCTAssertEqual(GGUFValue.bool(false).bool, false)
        XCTAssertNil(GGUFValue.uint8(1).bool)
        XCTAssertEqual(GGUFValue.string("s").string, "s")
        XCTAssertEqual(GGUFValue.array([.string("a"), .string("b")]).stringArray, ["a", "b"])
        XCTAssertNil(GGUFValue.array([.string("a"), .uint8(1)]).stringArray)
        XCTAssertEqual(GGUFValue.array([.int32(-1), .uint8(2)]).intArray, [-1, 2])
        XCTAssertNil(GGUFValue.array([.int32(1), .float32(2)]).intArray)
        XCTAssertEqual(GGUFValue.array([.float32(0.25), .int32(2), .float64(1.5)]).floatArray, [0.25, 2, 1.5])
        XCTAssertNil(GGUFValue.array([.float32(1), .string("x")]).floatArray)
        XCTAssertNil(GGUFValue.uint8(1).array)
        XCTAssertEqual(GGUFValue.array([]).stringArray, [])
        XCTAssertEqual(GGUFValue.string("x").typeID, 8)
        XCTAssertEqual(GGUFValue.float64(1).typeID, 12)
    }

    func testTypeTraits() {
        XCTAssertEqual(GGMLType.q4_K.name, "Q4_K")
        XCTAssertEqual(GGMLType.bf16.description, "BF16")
        XCTAssertEqual(GGMLType.q6_K.blockSize, 256)
        XCTAssertEqual(GGMLType.q5_0.bytesPerBlock, 22)
        XCTAssertEqual(GGMLType.q4_1.byteCount(elements: 64), 40)
        XCTAssertNil(GGMLType.q4_1.byteCount(elements: 48))
        XCTAssertNil(GGMLType.q8_0.byteCount(elements: Int.max - 31))
        XCTAssertFalse(GGMLType.q8_1.canDequantize)
        XCTAssertEqual(GGMLType.allCases.filter(\.canDequantize).count, 14)
    }
}
