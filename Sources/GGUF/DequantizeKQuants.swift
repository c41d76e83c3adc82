// Dequantizers for the 256-weight K-quant super-blocks, transcribed from ggml-quants.c
// `dequantize_row_q{2,3,4,5,6,8}_K`: scales are combined in f32 first (d * sc, dmin * m), then
// each weight is `scale * q - min`, the same operation order as ggml and gguf-py.

/// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed scale bytes of Q4_K/Q5_K
/// (`get_scale_min_k4`): bytes 0-3 hold scales 0-3 and the top bits of scales 4-7, bytes 4-7
/// the mins 0-3 and the top bits of mins 4-7, bytes 8-11 the low nibbles of scales/mins 4-7.
@inline(__always) func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (u8(s, j) & 63, u8(s, j + 4) & 63)
    }
    return ((u8(s, j + 4) & 0x0F) | ((u8(s, j - 4) >> 6) << 4),
            (u8(s, j + 4) >> 4) | ((u8(s, j) >> 6) << 4))
}

/// block_q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit quants,
/// f16 d, f16 dmin. 16 sub-blocks of 16 weights; w = d*sc * q - dmin*m.
func dequantizeQ2_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 84
        var y = dst + b * 256
        let d = f16(x, 80), dmin = f16(x, 82)
        var scaleIndex = 0
        for half in 0..<2 {                        // each half: 32 quant bytes, 128 weights
            let q = x + 16 + 32 * half
            for shift in stride(from: 0, to: 8, by: 2) {
                for part in 0..<2 {                // bytes 0-15, then 16-31
                    let sc = u8(x, scaleIndex)
                    scaleIndex += 1
                    let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
                    for l in 0..<16 {
                        y[l] = dl * Float((u8(q, 16 * part + l) >> UInt8(shift)) & 3) - ml
                    }
                    y += 16
                }
            }
        }
    }
}

/// block_q3_K: 32 bytes hmask (3rd bit, set = no -4 offset), 64 bytes of 2-bit quants,
/// 12 bytes of packed 6-bit scales (biased by 32), f16 d. w = d*(sc - 32) * (q - (h ? 0 : 4)).
func dequantizeQ3_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 110
        var y = dst + b * 256
        let hm = x, s = x + 96
        let dAll = f16(x, 108)
        var scaleIndex = 0
        var mask: UInt8 = 1
        for half in 0..<2 {
            let q = x + 32 + 32 * half
            for shift in stride(from: 0, to: 8, by: 2) {
                for part in 0..<2 {
                    // Scale k: low 4 bits from byte k%8 (nibble k/8), high 2 bits from byte 8 + k%4.
                    let k = scaleIndex
                    scaleIndex += 1
                    let low = (u8(s, k % 8) >> UInt8(4 * (k / 8))) & 0x0F
                    let high = (u8(s, 8 + k % 4) >> UInt8(2 * (k / 4))) & 3
                    let dl = dAll * Float(Int32(low | (high << 4)) - 32)
                    for l in 0..<16 {
                        let i = 16 * part + l
                        let q2 = Int32((u8(q, i) >> UInt8(shift)) & 3)
                        let offset: Int32 = (u8(hm, i) & mask) != 0 ? 0 : 4
                        y[l] = dl * Float(q2 - offset)
                    }
                    y += 16
                }
                mask <<= 1
            }
        }
    }
}

/// block_q4_K: f16 d, f16 dmin, 12 bytes packed scales/mins, 128 bytes of nibbles. Each 32-byte
/// run of nibbles holds two 32-weight sub-blocks: low nibbles first, then high nibbles.
func dequantizeQ4_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 144, y = dst + b * 256
        let d = f16(x, 0), dmin = f16(x, 2)
        let scales = x + 4
        for pair in 0..<4 {
            let q = x + 16 + 32 * pair, out = y + 64 * pair
            let (sc1, m1) = scaleMinK4(2 * pair, scales)
            let (sc2, m2) = scaleMinK4(2 * pair + 1, scales)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let d2 = d * Float(sc2), min2 = dmin * Float(m2)
            for l in 0..<32 { out[l] = d1 * Float(u8(q, l) & 0x0F) - min1 }
            for l in 0..<32 { out[32 + l] = d2 * Float(u8(q, l) >> 4) - min2 }
        }
    }
}

/// block_q5_K: as Q4_K plus 32 bytes qh; bit 2*pair (low sub-block) and 2*pair+1 (high
/// sub-block) of qh[l] add 16 to the nibble.
func dequantizeQ5_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 176, y = dst + b * 256
        let d = f16(x, 0), dmin = f16(x, 2)
        let scales = x + 4, qh = x + 16
        for pair in 0..<4 {
            let ql = x + 48 + 32 * pair, out = y + 64 * pair
            let (sc1, m1) = scaleMinK4(2 * pair, scales)
            let (sc2, m2) = scaleMinK4(2 * pair + 1, scales)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let d2 = d * Float(sc2), min2 = dmin * Float(m2)
            let bit1 = UInt8(1) << UInt8(2 * pair), bit2 = UInt8(2) << UInt8(2 * pair)
            for l in 0..<32 {
                let high: UInt8 = (u8(qh, l) & bit1) != 0 ? 16 : 0
                out[l] = d1 * Float((u8(ql, l) & 0x0F) + high) - min1
            }
            for l in 0..<32 {
                let high: UInt8 = (u8(qh, l) & bit2) != 0 ? 16 : 0
                out[32 + l] = d2 * Float((u8(ql, l) >> 4) + high) - min2
            }
        }
    }
}

/// block_q6_K: 128 bytes low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, f16 d.
/// Each 128-weight half uses 64 ql bytes, 32 qh bytes and 8 scales (one per 16 weights);
/// w = (d * sc) * (q - 32).
func dequantizeQ6_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 210
        let d = f16(x, 208)
        for half in 0..<2 {
            let ql = x + 64 * half, qh = x + 128 + 32 * half, sc = x + 192 + 8 * half
            let y = dst + b * 256 + 128 * half
            for l in 0..<32 {
                let s = l / 16
                let h = u8(qh, l)
                let q1 = Int32((u8(ql, l) & 0x0F) | ((h & 3) << 4)) - 32
                let q2 = Int32((u8(ql, l + 32) & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                let q3 = Int32((u8(ql, l) >> 4) | (((h >> 4) & 3) << 4)) - 32
                let q4 = Int32((u8(ql, l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
                y[l] = d * Float(i8(sc, s)) * Float(q1)
                y[l + 32] = d * Float(i8(sc, s + 2)) * Float(q2)
                y[l + 64] = d * Float(i8(sc, s + 4)) * Float(q3)
                y[l + 96] = d * Float(i8(sc, s + 6)) * Float(q4)
            }
        }
    }
}

/// block_q8_K: f32 d, 256 x int8, 16 x int16 block sums (unused here); w = d * q.
func dequantizeQ8_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 292, y = dst + b * 256
        let d = Float(bitPattern: UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        for j in 0..<256 { y[j] = d * Float(i8(x, 4 + j)) }
    }
}
