/// The file's checksum (formats/pbllm.md): FNV-1a over little-endian 64-bit words, the tail
/// zero-padded into a last word, then the length mixed in. Each step is a bijection of the
/// state, so any change inside one word always changes the result.
public enum Checksum64 {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = offsetBasis
        let words = bytes.count / 8
        if let base = bytes.baseAddress {
            for i in 0..<words {
                h = (h ^ UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* prime
            }
            if bytes.count % 8 != 0 {
                var tail: UInt64 = 0
                for i in 0..<(bytes.count % 8) { tail |= UInt64(bytes[words * 8 + i]) << (8 * UInt64(i)) }
                h = (h ^ tail) &* prime
            }
        }
        return (h ^ UInt64(bytes.count)) &* prime
    }

    public static func of(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { of($0) } }

    public static func hex(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
