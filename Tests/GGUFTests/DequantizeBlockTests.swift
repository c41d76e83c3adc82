import GGUF
import XCTest

/// Each dequantizer on hand-built blocks. The expected values are worked out here from the
/// format definition (which bits of which byte belong to weight i), independently of the
/// loop structure of the implementation. Scales are small dyadic numbers, so every product is
/// exact and the comparison is bitwise.
final class DequantizeBlockTests: XCTestCase {
    func testF32F16BF16() throws {
        var f32: [UInt8] = []
        for x: Float in [1.5, -0.0, .infinity, Float(bitPattern: 0x0001_1170)] { f32.appendLE(x.bitPattern) }
        assertBitwiseEqual(try dequantizeBytes(.f32, f32, count: 4), [1.5, -0.0, .infinity, Float(bitPattern: 0x0001_1170)])

        // f16: normal, negative, max, smallest normal, smallest subnormal, -0, infinity.
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0400, 0x0001, 0x8000, 0x7C00]
        let expected: [Float] = [1, -2, 65504, 0.00006103515625, 0.000000059604644775390625, -0.0, .infinity]
        var f16: [UInt8] = []
        for h in halves { f16.appendLE(h) }
        assertBitwiseEqual(try dequantizeBytes(.f16, f16, count: 7), expected)

        // bf16 is the high half of the f32 bit pattern.
        var bf16: [UInt8] = []
        let bfloats: [Float] = [1, -3.5, 1.0e30, -0.0]
        for x in bfloats { bf16.appendLE(UInt16(x.bitPattern >> 16)) }
        assertBitwiseEqual(try dequantizeBytes(.bf16, bf16, count: 4), bfloats.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
    }

    /// The 4-bit value of weight i (0..<32) in a legacy 16-byte nibble array: byte i%16, low
    /// nibble for the first 16 weights, high nibble for the last 16.
    func nibble(_ qs: [UInt8], _ i: Int) -> Int {
        i < 16 ? Int(qs[i] & 0x0F) : Int(qs[i - 16] >> 4)
    }

    let nibbles: [UInt8] = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }   // 0..15 low, 15..0 high

    func testQ4_0() throws {
        let d: Float = 0.25
        var block: [UInt8] = []
        block.appendF16(d)
        block.append(contentsOf: nibbles)
        let expected = (0..<32).map { Float(nibble(nibbles, $0) - 8) * d }
        assertBitwiseEqual(try dequantizeBytes(.q4_0, block, count: 32), expected)
        XCTAssertEqual(expected[0], -2)
        XCTAssertEqual(expected[15], 1.75)
    }

    func testQ4_1() throws {
        let d: Float = 0.5, m: Float = -1
        var block: [UInt8] = []
        block.appendF16(d)
        block.appendF16(m)
        block.append(contentsOf: nibbles)
        let expected = (0..<32).map { d * Float(nibble(nibbles, $0)) + m }
        assertBitwiseEqual(try dequantizeBytes(.q4_1, block, count: 32), expected)
        XCTAssertEqual(Array(expected[0..<4]), [-1, -0.5, 0, 0.5])
        XCTAssertEqual(expected[16], 6.5)
    }

    /// Bit i of the little-endian uint32 qh is the fifth bit of weight i.
    let qh: UInt32 = 0xA5C3_0F96

    func testQ5_0() throws {
        let d: Float = 0.125
        var block: [UInt8] = []
        block.appendF16(d)
        block.appendLE(qh)
        block.append(contentsOf: nibbles)
        let expected = (0..<32).map { i in
            Float((nibble(nibbles, i) | Int((qh >> UInt32(i)) & 1) << 4) - 16) * d
        }
        assertBitwiseEqual(try dequantizeBytes(.q5_0, block, count: 32), expected)
    }

    func testQ5_1() throws {
        let d: Float = 0.25, m: Float = -4
        var block: [UInt8] = []
        block.appendF16(d)
        block.appendF16(m)
        block.appendLE(qh)
        block.append(contentsOf: nibbles)
        let expected = (0..<32).map { i in
            d * Float(nibble(nibbles, i) | Int((qh >> UInt32(i)) & 1) << 4) + m
        }
        assertBitwiseEqual(try dequantizeBytes(.q5_1, block, count: 32), expected)
    }

    func testQ8_0TwoBlocks() throws {
        var bytes: [UInt8] = []
        var expected: [Float] = []
        for (d, base) in [(Float(0.0625), -128), (Float(-2), 96)] {
            bytes.appendF16(d)
            for j in 0..<32 {
                let q = Int8(base + j)
                bytes.append(UInt8(bitPattern: q))
                expected.append(d * Float(q))
            }
        }
        assertBitwiseEqual(try dequantizeBytes(.q8_0, bytes, count: 64), expected)
        XCTAssertEqual(expected[0], -8)
    }

    // MARK: - K-quants (256 weights per super-block)

    /// Packs eight 6-bit scales and mins the way Q4_K/Q5_K store them (inverse of ggml's
    /// get_scale_min_k4): bytes 0-3 scales 0-3 + top 2 bits of scales 4-7, bytes 4-7 mins 0-3 +
    /// top 2 bits of mins 4-7, bytes 8-11 low nibbles of scale (low) and min (high) 4-7.
    func packScaleMinK4(scales: [UInt8], mins: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            out[j] = scales[j] | (scales[j + 4] >> 4) << 6
            out[j + 4] = mins[j] | (mins[j + 4] >> 4) << 6
            out[j + 8] = (scales[j + 4] & 0x0F) | (mins[j + 4] & 0x0F) << 4
        }
        return out
    }

    let kScales: [UInt8] = [1, 63, 17, 32, 5, 48, 60, 33]   // exercise all 6 bits, esp. of 4-7
    let kMins: [UInt8] = [0, 2, 63, 16, 47, 3, 31, 50]

    /// 128 quant bytes with varied nibbles.
    let kNibbles: [UInt8] = (0..<128).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 7) }

    /// Q4_K weight i: sub-block j = i/32 uses scale j, min j; its 4 bits are in byte
    /// 32*(j/2) + i%32 of qs, low nibble for even j, high nibble for odd j.
    func q4KQuant(_ i: Int) -> Int {
        let j = i / 32, byte = kNibbles[32 * (j / 2) + i % 32]
        return Int(j % 2 == 0 ? byte & 0x0F : byte >> 4)
    }

    func testQ4_K() throws {
        let d: Float = 0.5, dmin: Float = 0.25
        var block: [UInt8] = []
        block.appendF16(d)
        block.appendF16(dmin)
        block.append(contentsOf: packScaleMinK4(scales: kScales, mins: kMins))
        block.append(contentsOf: kNibbles)
        XCTAssertEqual(block.count, 144)
        let expected = (0..<256).map { i -> Float in
            let j = i / 32
            return d * Float(kScales[j]) * Float(q4KQuant(i)) - dmin * Float(kMins[j])
        }
        assertBitwiseEqual(try dequantizeBytes(.q4_K, block, count: 256), expected)
    }

    func testQ5_K() throws {
        let d: Float = 0.25, dmin: Float = 0.5
        let qhBytes: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        var block: [UInt8] = []
        block.appendF16(d)
        block.appendF16(dmin)
        block.append(contentsOf: packScaleMinK4(scales: kScales, mins: kMins))
        block.append(contentsOf: qhBytes)
        block.append(contentsOf: kNibbles)
        XCTAssertEqual(block.count, 176)
        // The fifth bit of weight i is bit j (its sub-block) of qh[i % 32].
        let expected = (0..<256).map { i -> Float in
            let j = i / 32
            let q = q4KQuant(i) | Int((qhBytes[i % 32] >> UInt8(j)) & 1) << 4
            return d * Float(kScales[j]) * Float(q) - dmin * Float(kMins[j])
        }
        assertBitwiseEqual(try dequantizeBytes(.q5_K, block, count: 256), expected)
    }

    func testQ6_K() throws {
        let d: Float = 0.125
        let ql: [UInt8] = kNibbles
        let qhBytes: [UInt8] = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 5) }
        let scales: [Int8] = [1, -1, 127, -128, 3, -7, 64, 0, 5, -64, 33, -33, 2, 9, -2, 100]
        var block = ql + qhBytes
        block.append(contentsOf: scales.map { UInt8(bitPattern: $0) })
        block.appendF16(d)
        XCTAssertEqual(block.count, 210)
        // Weight i: half h = i/128, r = i%128, quarter s = r/32, l = r%32. Low 4 bits: byte
        // 64h + l (+32 for odd s) of ql, low nibble for s < 2; high 2 bits: bits 2s..2s+1 of
        // qh[32h + l]; value q - 32; scale i/16.
        let expected = (0..<256).map { i -> Float in
            let h = i / 128, r = i % 128, s = r / 32, l = r % 32
            let lowByte = ql[64 * h + l + (s % 2 == 1 ? 32 : 0)]
            let low = Int(s < 2 ? lowByte & 0x0F : lowByte >> 4)
            let high = Int((qhBytes[32 * h + l] >> UInt8(2 * s)) & 3)
            return d * Float(scales[i / 16]) * Float((low | high << 4) - 32)
        }
        assertBitwiseEqual(try dequantizeBytes(.q6_K, block, count: 256), expected)
    }

    func testQ2_K() throws {
        let d: Float = 0.5, dmin: Float = 0.125
        let scales: [UInt8] = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }  // scale low, min high
        let qs: [UInt8] = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
        var block = scales + qs
        block.appendF16(d)
        block.appendF16(dmin)
        XCTAssertEqual(block.count, 84)
        // Weight i: half h = i/128, r = i%128, shift 2*(r/32), byte 32h + r%32; sub-block i/16.
        let expected = (0..<256).map { i -> Float in
            let h = i / 128, r = i % 128
            let q = Int((qs[32 * h + r % 32] >> UInt8(2 * (r / 32))) & 3)
            let sc = scales[i / 16]
            return d * Float(sc & 0x0F) * Float(q) - dmin * Float(sc >> 4)
        }
        assertBitwiseEqual(try dequantizeBytes(.q2_K, block, count: 256), expected)
    }

    func testQ3_K() throws {
        let d: Float = 0.25
        let hmask: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 59 &+ 3) }
        let qs: [UInt8] = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
        let sixBit: [UInt8] = [0, 63, 32, 31, 1, 62, 40, 20, 33, 7, 50, 15, 16, 48, 2, 61]
        // Scale k: low 4 bits in byte k%8 (low nibble for k < 8), high 2 bits in byte 8 + k%4
        // at bit 2*(k/4).
        var packed = [UInt8](repeating: 0, count: 12)
        for k in 0..<16 {
            packed[k % 8] |= (sixBit[k] & 0x0F) << UInt8(4 * (k / 8))
            packed[8 + k % 4] |= (sixBit[k] >> 4) << UInt8(2 * (k / 4))
        }
        var block = hmask + qs + packed
        block.appendF16(d)
        XCTAssertEqual(block.count, 110)
        // Weight i: half h = i/128, r = i%128, s = r/32, l = r%32. 2 low bits from
        // qs[32h + l] >> 2s; the hmask bit 4h + s of hmask[l] set means no -4 offset.
        let expected = (0..<256).map { i -> Float in
            let h = i / 128, r = i % 128, s = r / 32, l = r % 32
            let low = Int((qs[32 * h + l] >> UInt8(2 * s)) & 3)
            let highSet = (hmask[l] >> UInt8(4 * h + s)) & 1 == 1
            return d * Float(Int(sixBit[i / 16]) - 32) * Float(low - (highSet ? 0 : 4))
        }
        assertBitwiseEqual(try dequantizeBytes(.q3_K, block, count: 256), expected)
    }

    func testQ8_K() throws {
        let d: Float = 0.015625
        var block: [UInt8] = []
        block.appendLE(d.bitPattern)
        let qs: [Int8] = (0..<256).map { Int8(truncatingIfNeeded: $0 - 128) }
        block.append(contentsOf: qs.map { UInt8(bitPattern: $0) })
        for _ in 0..<16 { block.appendLE(Int16(0)) }   // block sums: not used to dequantize
        XCTAssertEqual(block.count, 292)
        assertBitwiseEqual(try dequantizeBytes(.q8_K, block, count: 256), qs.map { d * Float($0) })
    }

    func testDequantizeRejectsPartialBlocksAndQ8_1() {
        XCTAssertThrowsError(try dequantizeBytes(.q4_K, [UInt8](repeating: 0, count: 144), count: 128)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "invalidArgument")
        }
        XCTAssertThrowsError(try dequantizeBytes(.q8_1, [UInt8](repeating: 0, count: 36), count: 32)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, "cannotDequantize")
        }
        XCTAssertEqual(try dequantizeBytes(.q8_0, [], count: 0), [])
    }

    /// The file-level dequantizer splits big tensors across threads; the result must equal the
    /// single-threaded one bit for bit.
    func testParallelDequantizeMatchesSerial() throws {
        var rng = SplitMix64(state: 7)
        var writer = GGUFWriter()
        var tensors: [(String, GGMLType, Int)] = []
        for type in [GGMLType.q4_0, .q6_K, .f16] {
            let elements = 256 * 1024 + 256 * 3   // not a multiple of the task count
            var bytes = (0..<type.byteCount(elements: elements)!).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if type == .f16 { for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] &= 0x7B } }  // no NaN/inf
            try writer.addTensor(name: "t.\(type.name)", type: type, shape: [256, elements / 256], data: bytes)
            tensors.append(("t.\(type.name)", type, elements))
        }
        let file = try openBytes(try writer.serialized())
        for (name, type, elements) in tensors {
            let info = try XCTUnwrap(file.tensor(named: name))
            let serial = try dequantizeBytes(type, Array(file.bytes(of: info)), count: elements)
            assertBitwiseEqual(try file.dequantize(info), serial, name)
        }
    }
}
