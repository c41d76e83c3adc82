import Foundation
import GGUF
import TestSupport
import XCTest

/// Checks against the gguf-py reference dequantization in shared/reference/dequant-vectors-*.json.
///
/// - `examples` (raw block bytes and their values): must match exactly, bit for bit.
/// - `tensors` (every tensor of the file): type and shape must match, `first_8` exactly, and
///   `sum` / `sumsq` (float64 sums over the whole tensor) within a relative 1e-9 of the sum of
///   |x| and x² — the tolerance only absorbs the different order of float64 additions; a single
///   wrong weight moves the sums far more for these tensors.
final class ReferenceVectorTests: XCTestCase {
    func testSmolLM2() throws { try check(model: "smollm2-135m") }
    func testGemma3() throws { try check(model: "gemma3-270m") }

    func check(model: String) throws {
        let reference = try XCTUnwrap(Paths.json(Paths.reference("dequant-vectors-\(model).json")) as? [String: Any])
        let modelURL = Paths.model(model)
        try XCTSkipUnless(FileManager.default.fileExists(atPath: modelURL.path), "\(modelURL.path) not fetched")
        let file = try GGUFFile(path: modelURL.path)
        XCTAssertEqual(modelURL.lastPathComponent, reference["gguf_file"] as? String)

        let examples = try XCTUnwrap(reference["examples"] as? [[String: Any]])
        XCTAssertFalse(examples.isEmpty)
        for example in examples {
            let name = try XCTUnwrap(example["tensor"] as? String)
            let typeName = try XCTUnwrap(example["type"] as? String)
            let raw = hexBytes(try XCTUnwrap(example["raw_hex"] as? String))
            let expected = try XCTUnwrap(example["values"] as? [Double]).map { Float($0) }
            let info = try XCTUnwrap(file.tensor(named: name), name)
            XCTAssertEqual(info.type.name, typeName, name)
            // The example blocks are the first blocks of the tensor.
            XCTAssertEqual(Array(file.bytes(of: info).prefix(raw.count)), raw, name)
            assertBitwiseEqual(try dequantizeBytes(info.type, raw, count: expected.count), expected, "example \(name)")
        }

        let tensors = try XCTUnwrap(reference["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, file.tensors.count)
        var buffer = [Float](repeating: 0, count: file.tensors.map(\.elementCount).max() ?? 0)
        for entry in tensors {
            let name = try XCTUnwrap(entry["name"] as? String)
            let info = try XCTUnwrap(file.tensor(named: name), name)
            XCTAssertEqual(info.type.name, entry["type"] as? String, name)
            XCTAssertEqual(info.shape, entry["ne"] as? [Int], name)
            try buffer.withUnsafeMutableBufferPointer { try file.dequantize(info, into: $0.baseAddress!) }

            let first8 = try XCTUnwrap(entry["first_8"] as? [Double]).map { Float($0) }
            assertBitwiseEqual(Array(buffer[0..<first8.count]), first8, "first_8 of \(name)")

            // A raw pointer loop: debug builds run it ~10x faster than iterating an ArraySlice.
            var sum = 0.0, sumAbs = 0.0, sumSq = 0.0
            buffer.withUnsafeBufferPointer { values in
                var p = values.baseAddress!
                let end = p + info.elementCount
                while p < end {
                    let v = Double(p.pointee)
                    sum += v
                    sumAbs += v.magnitude
                    sumSq += v * v
                    p += 1
                }
            }
            let expectedSum = try XCTUnwrap(entry["sum"] as? Double)
            let expectedSumSq = try XCTUnwrap(entry["sumsq"] as? Double)
            XCTAssertLessThanOrEqual(abs(sum - expectedSum), 1e-9 * sumAbs, "sum of \(name): \(sum) vs \(expectedSum)")
            XCTAssertLessThanOrEqual(abs(sumSq - expectedSumSq), 1e-9 * sumSq, "sumsq of \(name): \(sumSq) vs \(expectedSumSq)")
        }
    }
}
