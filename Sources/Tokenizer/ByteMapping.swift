/// GPT-2's reversible mapping between bytes and printable Unicode characters.
///
/// Byte-level BPE vocabularies never store raw bytes: each byte is spelled as a visible
/// character so that merges can be written as text ("Ġ" is the space byte 0x20).
/// Printable Latin-1 bytes stand for themselves; the other 68 bytes take U+0100, U+0101, ...
/// in byte order.
enum ByteMapping {
    /// `scalarForByte[b]` is the character that spells byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character spells, or nil if it spells none. Covers U+0000..U+01FF.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 512)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The bytes in GPT-2's "printable" set: '!'...'~', '¡'...'¬', '®'...'ÿ'.
    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The raw bytes a vocabulary string spells, or nil if it contains a character outside the mapping.
    static func bytes(ofToken token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteForScalar[v]))
        }
        return out
    }
}
