import Foundation
import GGUF
import PBFormat
import XCTest

/// The .pbllm container: round trips, and every kind of damage caught with a clear error.
final class PBFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-format-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A PB layer with random signs and a few salient weights, K deliberately not a multiple of 64.
    static func sampleLayer(rows: Int = 5, columns: Int = 300) -> PBLayer {
        var layer = PBLayer(rows: rows, columns: columns, highBit: 8)
        var seed: UInt64 = 12345
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for i in 0..<rows {
            for j in 0..<columns where next() % 2 == 0 { layer.signs[i * layer.wordsPerRow + j / 64] |= 1 << UInt64(j % 64) }
            layer.alpha[i] = Float(i + 1) * 0.01
            layer.mu[i] = Float(i) * -0.001
            layer.salientScale[i] = 0.02
            layer.salientZero[i] = 128
            for j in stride(from: i, to: columns, by: 37) {
                layer.salientCounts[i * layer.blocksPerRow + j / PBLayer.blockColumns] += 1
                layer.salientOffsets.append(UInt8(j % PBLayer.blockColumns))
                layer.salientQ.append(UInt8(next() % 256))
            }
        }
        return layer
    }

    func write(_ name: String, layer: PBLayer = sampleLayer(), encoding: PBEncoding = .pb, version: UInt32? = nil) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let writer = try PBFileWriter(path: path)
        try writer.add("blk.0.attn_q.weight", encoding: encoding, shape: [layer.columns, layer.rows],
                       parts: layer.parts(encoding), highBit: layer.highBit,
                       salientCount: encoding == .pbz ? layer.salientCount : nil)
        try writer.add("norm.weight", encoding: .f32, shape: [3], parts: [("data", [Float(1), 2, 3].littleEndianBytes)])
        try writer.add("token_embd.weight", encoding: .q8, shape: [4, 2],
                       parts: [("q", [Int8(1), -2, 3, -127, 0, 5, 6, 127].littleEndianBytes), ("scale", [Float(0.5), 2].littleEndianBytes)])
        try writer.add("output.weight", encoding: .f16, shape: [2, 2],
                       parts: [("data", [Float16(1.5), -2, 0.25, 8].map(\.bitPattern).littleEndianBytes)])
        var meta = GGUFWriter()
        meta.set("general.architecture", .string("llama"))
        meta.set("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
        try writer.finish(metadata: meta)
        return path
    }

    func testRoundTripKeepsEveryValue() throws {
        for encoding in [PBEncoding.pb, .pbz] { try checkRoundTrip(encoding) }
    }

    /// The optional `column_scale` part: kept through a file, multiplies every weight of its
    /// column, and a wrong size or a non-positive scale is a clear error.
    func testColumnScalesRoundTripAndAreChecked() throws {
        var layer = Self.sampleLayer(rows: 3, columns: 70)
        let plain = layer.dequantized()
        layer.columnScale = (0..<70).map { 0.5 + Float($0) / 8 }  // exact in float16
        let w = layer.dequantized()
        for i in 0..<3 { for j in 0..<70 { XCTAssertEqual(w[i * 70 + j], plain[i * 70 + j] * layer.columnScale![j]) } }
        for encoding in [PBEncoding.pb, .pbz] {
            let file = try PBFile(path: try write("c-\(encoding).pbllm", layer: layer, encoding: encoding))
            let t = file.tensor(named: "blk.0.attn_q.weight")!
            XCTAssertEqual(try file.pbLayer(t), layer)
            XCTAssertEqual(PBFileSummary(file).scaleBytes, 3 * 16 + 70 * 2, "column scales (float16) count as scales")
        }
        var negative = layer
        negative.columnScale![3] = -1
        let file = try PBFile(path: try write("negative.pbllm", layer: negative, encoding: .pbz))
        XCTAssertThrowsError(try file.pbLayer(file.tensors[0])) { XCTAssertTrue("\($0)".contains("column scales"), "\($0)") }
        var short = layer
        short.columnScale!.removeLast()
        assertRejected(try write("short.pbllm", layer: short, encoding: .pbz), mentioning: "column_scale")
    }

    /// `pbz` packs salient codes at high_bit bits each: every width round-trips through a file,
    /// in ⌈count·bits/8⌉ bytes.
    func testSalientValuesArePackedAtTheirWidth() throws {
        var rng = SystemRandomNumberGenerator()
        for bits in 1...8 {
            let mask = UInt8((1 << bits) - 1)
            for count in [0, 1, 7, 8, 9, 63, 1000] {
                let codes = (0..<count).map { _ in UInt8.random(in: 0...mask, using: &rng) }
                XCTAssertEqual(SalientValues.pack(codes, bits: bits).count, (count * bits + 7) / 8)
            }
            var layer = Self.sampleLayer()
            layer.highBit = bits
            layer.salientQ = layer.salientQ.map { $0 & mask }
            let file = try PBFile(path: try write("b\(bits).pbllm", layer: layer, encoding: .pbz))
            let t = file.tensor(named: "blk.0.attn_q.weight")!
            XCTAssertEqual(t.parts["salient_q"]!.size, (layer.salientCount * bits + 7) / 8)
            XCTAssertEqual(try file.pbLayer(t), layer)
        }
    }

    func checkRoundTrip(_ encoding: PBEncoding) throws {
        let layer = Self.sampleLayer()
        let path = try write("model-\(encoding).pbllm", layer: layer, encoding: encoding)
        let file = try PBFile(path: path)
        XCTAssertEqual(file.tensor(named: "blk.0.attn_q.weight")?.encoding, encoding)
        XCTAssertEqual(file.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(file.metadata["tokenizer.ggml.tokens"]?.stringArray, ["a", "b"])
        XCTAssertEqual(try file.pbLayer(file.tensor(named: "blk.0.attn_q.weight")!), layer)
        XCTAssertEqual(try file.floats(file.tensor(named: "norm.weight")!), [1, 2, 3])
        XCTAssertEqual(try file.floats(file.tensor(named: "token_embd.weight")!), [0.5, -1, 1.5, -63.5, 0, 10, 12, 254])
        XCTAssertEqual(try file.floats(file.tensor(named: "output.weight")!), [1.5, -2, 0.25, 8])
        for t in file.tensors { for p in t.parts.values { XCTAssertEqual(p.offset % 64, 0, "\(t.name) is not 64-byte aligned") } }
        XCTAssertTrue(PBFile.hasMagic(path))
    }

    func testDequantizedLayerFollowsTheFormula() {
        let layer = Self.sampleLayer(rows: 3, columns: 70)
        let w = layer.dequantized()
        var next = 0
        for i in 0..<3 {
            var salient: [Int: UInt8] = [:]
            next = layer.forEachSalient(row: i, start: next) { j, q in salient[j] = q }
            for j in 0..<70 {
                let expected = salient[j].map { layer.salientScale[i] * (Float($0) - layer.salientZero[i]) }
                    ?? layer.mu[i] + layer.alpha[i] * layer.sign(row: i, column: j)
                XCTAssertEqual(w[i * 70 + j], expected)
            }
        }
    }

    private func assertRejected(_ path: String, mentioning needle: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PBFile(path: path), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(needle), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(path), "the error names the file: \(error)", file: file, line: line)
        }
    }

    func testTruncatedFilesAreRejectedAtEveryLength() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try write("whole.pbllm")))
        let cut = dir.appendingPathComponent("cut.pbllm").path
        for length in Set(stride(from: 0, to: data.count, by: max(1, data.count / 97)).map { $0 } + [1, 8, 63, 64, data.count - 1]) {
            try data.prefix(length).write(to: URL(fileURLWithPath: cut))
            XCTAssertThrowsError(try PBFile(path: cut), "length \(length)")
        }
    }

    func testEveryFlippedBitIsCaught() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try write("whole.pbllm")))
        let flipped = dir.appendingPathComponent("flipped.pbllm").path
        // Every byte of the header and the data area, and a sample of metadata and directory.
        for offset in stride(from: 0, to: data.count, by: 3) {
            var copy = data
            copy[offset] ^= 0x10
            try copy.write(to: URL(fileURLWithPath: flipped))
            // A flip in JSON whitespace or a GGUF string may leave a valid file; it must never crash
            // and never yield different tensor bytes.
            if let file = try? PBFile(path: flipped) {
                let original = try PBFile(path: dir.appendingPathComponent("whole.pbllm").path)
                for t in original.tensors {
                    XCTAssertEqual(try file.floats(file.tensor(named: t.name)!), try original.floats(t), "offset \(offset)")
                }
            }
        }
    }

    func testWrongMagicAndVersionAreClearErrors() throws {
        let path = try write("v.pbllm")
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[8] = 2  // version 2, with the header checksum left as is
        try data.write(to: URL(fileURLWithPath: path))
        assertRejected(path, mentioning: "version 2 is not supported")
        data[0] = 0x47
        try data.write(to: URL(fileURLWithPath: path))
        assertRejected(path, mentioning: "not a .pbllm file")
    }

    func testDamagedTensorPartFailsItsChecksum() throws {
        let path = try write("d.pbllm")
        let file = try PBFile(path: path)
        let offset = file.tensor(named: "blk.0.attn_q.weight")!.parts["signs"]!.offset
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[offset + 5] ^= 1
        try data.write(to: URL(fileURLWithPath: path))
        assertRejected(path, mentioning: "checksum mismatch")
    }

    /// `pbz` bitmaps whose checksums are right but whose content is not the layer's: not zstd, the
    /// wrong size, padding bits set, or more positions than salient values.
    func testInconsistentSalientBitmapsAreClearErrors() throws {
        let layer = Self.sampleLayer()
        func withBitmap(_ bitmap: [UInt8], _ name: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            let writer = try PBFileWriter(path: path)
            let parts = layer.parts(.pbz).map { $0.0 == "salient_bitmap" ? ($0.0, bitmap) : $0 }
            try writer.add("blk.0.attn_q.weight", encoding: .pbz, shape: [layer.columns, layer.rows], parts: parts,
                           highBit: 8, salientCount: layer.salientCount)
            try writer.finish(metadata: GGUFWriter())
            return path
        }
        var other = layer  // one more salient position than values
        other.salientCounts[0] += 1
        other.salientOffsets.insert(1, at: 0)
        var wide = PBLayer(rows: layer.rows, columns: 304, highBit: 8)  // bits past column 300
        wide.salientCounts[1] = 1
        wide.salientOffsets = [45]  // column 256 + 45 = 301
        for (bitmap, expected) in [([UInt8](repeating: 0x55, count: 40), "does not decompress"),
                                   (SalientBitmap.compress(PBLayer(rows: 2, columns: 300, highBit: 8)), "its shape needs"),
                                   (SalientBitmap.compress(wide), "padding bits"),
                                   (SalientBitmap.compress(other), "salient counts sum to")] {
            let file = try PBFile(path: try withBitmap(bitmap, "\(expected).pbllm"))
            XCTAssertThrowsError(try file.pbLayer(file.tensors[0])) {
                XCTAssertTrue("\($0)".contains(expected), "\($0)")
            }
        }
    }

    func testAbandonedWriteLeavesNothing() throws {
        let path = dir.appendingPathComponent("never.pbllm").path
        do {
            let writer = try PBFileWriter(path: path)
            try writer.add("x", encoding: .f32, shape: [1], parts: [("data", [Float(1)].littleEndianBytes)])
            // dropped without finish()
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testChecksumDetectsAnySingleWordChange() {
        var bytes = [UInt8](repeating: 7, count: 100)
        let base = Checksum64.of(bytes)
        for i in 0..<bytes.count {
            bytes[i] ^= 0x80
            XCTAssertNotEqual(Checksum64.of(bytes), base)
            bytes[i] ^= 0x80
        }
        XCTAssertNotEqual(Checksum64.of([1, 0]), Checksum64.of([1]), "length is mixed in")
    }
}
