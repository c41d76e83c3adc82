#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

// Dequantizers for the plain float types and the 32-weight "legacy" quants, transcribed from
// ggml-quants.c `dequantize_row_*`. Each scale is converted f16 -> f32 first and the rest is
// f32 arithmetic in ggml's (and gguf-py's) order, so results are bit-exact with gguf-py.
// The loops read the mapped bytes through UnsafeRawPointer (unaligned loads, no copies, no
// allocation) and are concrete functions so the optimizer can unroll and vectorise them.

/// Dequantizes `count` weights (a multiple of type.blockSize) of `type` starting at `src`.
public func dequantize(_ type: GGMLType, from src: UnsafeRawPointer, count: Int,
                       into dst: UnsafeMutablePointer<Float>) throws {
    guard type.canDequantize else {
        throw GGUFError.cannotDequantize(type: type, context: "\(count) weights")
    }
    guard count >= 0, count % type.blockSize == 0 else {
        throw GGUFError.invalidArgument("cannot dequantize \(count) \(type.name) weights: not a whole number of \(type.blockSize)-weight blocks")
    }
    dequantizeBlocks(type, from: src, blocks: count / type.blockSize, into: dst)
}

/// Dispatches to the per-type loop. Callers have checked `type.canDequantize`.
func dequantizeBlocks(_ type: GGMLType, from src: UnsafeRawPointer, blocks: Int,
                      into dst: UnsafeMutablePointer<Float>) {
    switch type {
    case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: blocks * 4)
    case .f16: dequantizeF16(src, blocks, dst)
    case .bf16: dequantizeBF16(src, blocks, dst)
    case .q4_0: dequantizeQ4_0(src, blocks, dst)
    case .q4_1: dequantizeQ4_1(src, blocks, dst)
    case .q5_0: dequantizeQ5_0(src, blocks, dst)
    case .q5_1: dequantizeQ5_1(src, blocks, dst)
    case .q8_0: dequantizeQ8_0(src, blocks, dst)
    case .q2_K: dequantizeQ2_K(src, blocks, dst)
    case .q3_K: dequantizeQ3_K(src, blocks, dst)
    case .q4_K: dequantizeQ4_K(src, blocks, dst)
    case .q5_K: dequantizeQ5_K(src, blocks, dst)
    case .q6_K: dequantizeQ6_K(src, blocks, dst)
    case .q8_K: dequantizeQ8_K(src, blocks, dst)
    case .q8_1: preconditionFailure("Q8_1 has no dequantizer; callers check canDequantize")
    }
}

/// Like `dequantizeBlocks`, split into contiguous ranges of blocks across cores when the tensor
/// is big enough for threads to pay off. The output is identical either way.
func dequantizeBlocksConcurrently(_ type: GGMLType, from src: UnsafeRawPointer, blocks: Int,
                                  into dst: UnsafeMutablePointer<Float>) {
    let minimumBlocksPerTask = max(1, (1 << 16) / type.blockSize)   // ~64K weights
    let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let tasks = min(cores * 4, blocks / minimumBlocksPerTask)
    guard tasks > 1 else {
        dequantizeBlocks(type, from: src, blocks: blocks, into: dst)
        return
    }
    let pointers = SendablePointers(src: src, dst: dst)
    DispatchQueue.concurrentPerform(iterations: tasks) { task in
        let first = blocks * task / tasks, end = blocks * (task + 1) / tasks
        dequantizeBlocks(type, from: pointers.src + first * type.bytesPerBlock, blocks: end - first,
                         into: pointers.dst + first * type.blockSize)
    }
}

/// The tasks write disjoint ranges of `dst` and only read `src`.
private struct SendablePointers: @unchecked Sendable {
    let src: UnsafeRawPointer
    let dst: UnsafeMutablePointer<Float>
}

// MARK: - Byte access helpers

@inline(__always) func u8(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    p.load(fromByteOffset: offset, as: UInt8.self)
}

@inline(__always) func i8(_ p: UnsafeRawPointer, _ offset: Int) -> Int8 {
    p.load(fromByteOffset: offset, as: Int8.self)
}

/// An IEEE half at `offset`, widened to Float (exact).
@inline(__always) func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
}

// MARK: - Plain floats

func dequantizeF16(_ src: UnsafeRawPointer, _ count: Int, _ y: UnsafeMutablePointer<Float>) {
    for i in 0..<count { y[i] = f16(src, 2 * i) }
}

/// bfloat16 is the top half of a float32.
func dequantizeBF16(_ src: UnsafeRawPointer, _ count: Int, _ y: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        y[i] = Float(bitPattern: UInt32(bits) << 16)
    }
}

// MARK: - 32-weight blocks. Nibble layout: byte j holds weight j (low) and weight j+16 (high).

/// block_q4_0: f16 d, 16 bytes of nibbles; w = (q - 8) * d.
func dequantizeQ4_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 18, y = dst + b * 32
        let d = f16(x, 0)
        for j in 0..<16 {
            let q = u8(x, 2 + j)
            y[j] = Float(Int32(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int32(q >> 4) - 8) * d
        }
    }
}

/// block_q4_1: f16 d, f16 m, 16 bytes of nibbles; w = q * d + m.
func dequantizeQ4_1(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 20, y = dst + b * 32
        let d = f16(x, 0), m = f16(x, 2)
        for j in 0..<16 {
            let q = u8(x, 4 + j)
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }
}

/// block_q5_0: f16 d, uint32 qh (bit j = 5th bit of weight j), 16 bytes of nibbles;
/// w = (q - 16) * d.
func dequantizeQ5_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 22, y = dst + b * 32
        let d = f16(x, 0)
        let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = UInt32(u8(x, 6 + j))
            let h0 = ((qh >> UInt32(j)) << 4) & 0x10
            let h1 = (qh >> UInt32(j + 12)) & 0x10
            y[j] = Float(Int32((q & 0x0F) | h0) - 16) * d
            y[j + 16] = Float(Int32((q >> 4) | h1) - 16) * d
        }
    }
}

/// block_q5_1: f16 d, f16 m, uint32 qh, 16 bytes of nibbles; w = q * d + m.
func dequantizeQ5_1(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 24, y = dst + b * 32
        let d = f16(x, 0), m = f16(x, 2)
        let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = UInt32(u8(x, 8 + j))
            let h0 = ((qh >> UInt32(j)) << 4) & 0x10
            let h1 = (qh >> UInt32(j + 12)) & 0x10
            y[j] = Float((q & 0x0F) | h0) * d + m
            y[j + 16] = Float((q >> 4) | h1) * d + m
        }
    }
}

/// block_q8_0: f16 d, 32 x int8; w = q * d.
func dequantizeQ8_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
    for b in 0..<blocks {
        let x = src + b * 34, y = dst + b * 32
        let d = f16(x, 0)
        for j in 0..<32 { y[j] = Float(i8(x, 2 + j)) * d }
    }
}
