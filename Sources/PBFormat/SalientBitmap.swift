import CZstd

/// Salient positions as a zstd-compressed bitmap, the `salient_bitmap` part of encoding `pbz`:
/// row i is ⌈K/8⌉ bytes, bit j mod 8 of byte ⌊j/8⌋ set ⇔ weight (i, j) is salient, padding bits 0.
/// A 10%-salient bitmap compresses to ~0.49 bits per weight where `pb`'s block offsets take 0.88
/// (formats/pbllm.md); the loader rebuilds the in-memory counts and offsets from it.
public enum SalientBitmap {
    /// zstd's strongest regular level: conversion is one-off, decompression speed is level-independent.
    static let level: Int32 = 19

    /// The positions of `layer` as a compressed bitmap.
    public static func compress(_ layer: PBLayer) -> [UInt8] {
        let rowBytes = (layer.columns + 7) / 8
        var bitmap = [UInt8](repeating: 0, count: layer.rows * rowBytes)
        var next = 0
        for i in 0..<layer.rows {
            next = layer.forEachSalientPosition(row: i, start: next) { j, _ in bitmap[i * rowBytes + j / 8] |= 1 << UInt8(j % 8) }
        }
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bitmap.count))
        let size = ZSTD_compress(&out, out.count, bitmap, bitmap.count, level)
        precondition(ZSTD_isError(size) == 0, "zstd cannot fail into a buffer of ZSTD_compressBound bytes")
        return Array(out.prefix(size))
    }

    /// Fills `layer.salientCounts` and `salientOffsets` from a compressed bitmap; returns what is
    /// wrong when the bytes are not exactly one bitmap of the layer's shape.
    static func decode(_ compressed: UnsafeRawBufferPointer, into layer: inout PBLayer) -> String? {
        let rowBytes = (layer.columns + 7) / 8, size = layer.rows * rowBytes
        var bitmap = [UInt8](repeating: 0, count: size)
        let got = bitmap.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, size, compressed.baseAddress, compressed.count) }
        if ZSTD_isError(got) != 0 { return "salient bitmap does not decompress (\(String(cString: ZSTD_getErrorName(got))))" }
        if got != size { return "salient bitmap holds \(got) bytes, its shape needs \(size)" }
        // Unsafe buffers and exact sizes: this runs over every weight of the model at load.
        let rows = layer.rows, columns = layer.columns, blocks = layer.blocksPerRow
        let total = bitmap.reduce(0) { $0 + $1.nonzeroBitCount }
        var counts = [UInt16](repeating: 0, count: rows * blocks), offsets = [UInt8](repeating: 0, count: total)
        var problem: String?
        bitmap.withUnsafeBytes { b in counts.withUnsafeMutableBufferPointer { c in offsets.withUnsafeMutableBufferPointer { o in
            var n = 0
            for i in 0..<rows {
                // Eight bytes at a time (little-endian: bit j of the word is column start + j).
                for start in stride(from: 0, to: rowBytes, by: 8) {
                    var bits: UInt64 = 0
                    for k in 0..<min(8, rowBytes - start) { bits |= UInt64(b[i * rowBytes + start + k]) << UInt64(8 * k) }
                    while bits != 0 {
                        let j = start * 8 + bits.trailingZeroBitCount
                        if j >= columns { problem = "row \(i): salient bitmap padding bits are not zero"; return }
                        c[i * blocks + j / PBLayer.blockColumns] += 1
                        o[n] = UInt8(j % PBLayer.blockColumns)
                        n += 1
                        bits &= bits - 1
                    }
                }
            }
        } } }
        if let problem { return problem }
        layer.salientCounts = counts
        layer.salientOffsets = offsets
        return nil
    }
}
