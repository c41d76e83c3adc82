import Foundation
import GGUF
import XCTest

/// A unique path in a per-process temporary folder (tests delete what they create).
func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("gguf-tests-\(getpid())", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

/// Writes raw bytes (possibly an invalid GGUF file) to a temporary file and returns its path.
func writeTemporary(_ bytes: [UInt8], name: String = "test.gguf") throws -> String {
    let path = temporaryPath(name)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Opens `bytes` as a GGUF file; the file is deleted afterwards.
func openBytes(_ bytes: [UInt8]) throws -> GGUFFile {
    let path = try writeTemporary(bytes)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try GGUFFile(path: path)   // the mapping outlives the directory entry
}

/// Asserts that opening `bytes` throws a GGUFError (never crashes, never succeeds) and returns it.
@discardableResult
func assertRejects(_ bytes: [UInt8], _ message: @autoclosure () -> String = "",
                   file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
    do {
        _ = try openBytes(bytes)
        XCTFail("expected a GGUFError, but the file opened. \(message())", file: file, line: line)
    } catch let error as GGUFError {
        return error
    } catch {
        XCTFail("expected a GGUFError, got \(error). \(message())", file: file, line: line)
    }
    return nil
}

extension GGUFError {
    /// The case name, for asserting on the kind of failure.
    var kind: String {
        switch self {
        case .cannotOpen: "cannotOpen"
        case .truncated: "truncated"
        case .corrupt: "corrupt"
        case .unsupported: "unsupported"
        case .cannotDequantize: "cannotDequantize"
        case .invalidArgument: "invalidArgument"
        case .writeFailed: "writeFailed"
        }
    }
}

// MARK: - Building raw bytes

func f16Bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendF16(_ x: Float) { appendLE(f16Bits(x)) }

    /// Overwrites `value` little-endian at `offset`.
    mutating func patchLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { bytes in
            for (i, b) in bytes.enumerated() { self[offset + i] = b }
        }
    }

    /// Offset of the first occurrence of `pattern`.
    func firstIndex(of pattern: [UInt8]) -> Int? {
        guard pattern.count <= count else { return nil }
        return (0...(count - pattern.count)).first { start in
            pattern.indices.allSatisfy { self[start + $0] == pattern[$0] }
        }
    }
}

/// The encoded GGUF string (uint64 length + bytes), to find keys and names in serialized files.
func ggufString(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    out.appendLE(UInt64(s.utf8.count))
    out.append(contentsOf: s.utf8)
    return out
}

/// Runs the dequantizer over raw block bytes.
func dequantizeBytes(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    try bytes.withUnsafeBytes { src in
        try out.withUnsafeMutableBufferPointer { dst in
            try dequantize(type, from: src.baseAddress!, count: count, into: dst.baseAddress!)
        }
    }
    return out
}

/// Bitwise equality, so -0 vs 0 and NaN payloads count as differences.
func assertBitwiseEqual(_ got: [Float], _ expected: [Float], _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, expected.count, message(), file: file, line: line)
    for i in 0..<Swift.min(got.count, expected.count) where got[i].bitPattern != expected[i].bitPattern {
        XCTFail("element \(i): got \(got[i]), expected \(expected[i]). \(message())", file: file, line: line)
        return
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// A deterministic generator (SplitMix64) so fuzz-style tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
