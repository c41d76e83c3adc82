/// Salient codes of `high_bit` bits packed back to back, least significant bit first (`pbz`'s
/// `salient_q`): at high_bit 4 a value costs 4 bits, not a byte. Unpacked to one byte each at load.
public enum SalientValues {
    public static func packedSize(count: Int, bits: Int) -> Int { (count * bits + 7) / 8 }

    public static func pack(_ codes: [UInt8], bits: Int) -> [UInt8] {
        if bits == 8 { return codes }
        var out = [UInt8](repeating: 0, count: packedSize(count: codes.count, bits: bits))
        for (n, code) in codes.enumerated() {
            for b in 0..<bits where code >> UInt8(b) & 1 == 1 {
                let bit = n * bits + b
                out[bit / 8] |= 1 << UInt8(bit % 8)
            }
        }
        return out
    }

    /// `count` codes from `bytes`, which must hold `packedSize(count:bits:)` bytes.
    static func unpack(_ bytes: UnsafeRawBufferPointer, count: Int, bits: Int) -> [UInt8] {
        if bits == 8 { return Array(bytes.prefix(count)) }
        var codes = [UInt8](repeating: 0, count: count)
        for n in 0..<count {
            var code: UInt8 = 0
            for b in 0..<bits {
                let bit = n * bits + b
                code |= (bytes[bit / 8] >> UInt8(bit % 8) & 1) << UInt8(b)
            }
            codes[n] = code
        }
        return codes
    }
}
