import PBFormat

extension PBLayer {
    /// Packs a quantized layer's codes into the file's layout (formats/pbllm.md, encoding `pb`).
    public init(codes c: PBLayerCodes, salient: [Bool], rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, highBit: c.highBit)
        alpha = c.alpha
        mu = c.mu
        salientScale = c.salientScale
        salientZero = c.salientZero
        let words = wordsPerRow, blocks = blocksPerRow
        for i in 0..<rows {
            for j in 0..<columns where c.signs[i * columns + j] {
                signs[i * words + j / 64] |= 1 << UInt64(j % 64)
            }
            for j in 0..<columns where salient[i * columns + j] {
                salientCounts[i * blocks + j / Self.blockColumns] += 1
                salientOffsets.append(UInt8(j % Self.blockColumns))
                salientQ.append(c.salientCodes[i * columns + j])
            }
        }
    }
}
