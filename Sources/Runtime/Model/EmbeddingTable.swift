/// Token embeddings: a vocab × dim table whose rows are looked up by token id.
public protocol EmbeddingTable: AnyObject, Sendable {
    /// Rows `tokens` of the table, one after another, into `out` (tokens.count × width floats).
    func copyRows(_ tokens: [Int], width: Int, into out: UnsafeMutablePointer<Float>)
}

extension FloatBuffer: EmbeddingTable {}

/// An 8-bit table (encoding `q8`: row r is scale[r]·q[r, ·]) read in place from the mapped file,
/// each looked-up row expanded on the fly: the float copy of a large vocabulary (113 MB for
/// SmolLM2, 671 MB for Gemma 3) is never made.
final class Q8EmbeddingTable: EmbeddingTable, @unchecked Sendable {
    private let q: UnsafePointer<Int8>   // vocab × width, valid while `owner` lives
    private let scale: [Float]
    private let owner: AnyObject

    init(q: UnsafePointer<Int8>, scale: [Float], owner: AnyObject) {
        self.q = q
        self.scale = scale
        self.owner = owner
    }

    func copyRows(_ tokens: [Int], width: Int, into out: UnsafeMutablePointer<Float>) {
        for (t, row) in tokens.enumerated() {
            let source = q + row * width, s = scale[row], destination = out + t * width
            for j in 0..<width { destination[j] = Float(source[j]) * s }
        }
    }
}
