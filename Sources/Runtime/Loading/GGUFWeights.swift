import GGUF

/// Where an architecture's loader gets its tensors, by GGUF name, checked for shape: a GGUF file
/// (everything dequantized to float) or a .pbllm file (PB layers stay packed).
protocol WeightSource {
    var path: String { get }
    func has(_ name: String) -> Bool
    func floats(_ name: String, shape: [Int]) throws -> FloatBuffer
    /// A linear layer in → out, stored as `out` rows of `in` values.
    func linear(_ name: String, in k: Int, out n: Int) throws -> LinearLayer
    /// The token embeddings `name` (vocab × dim) as the model looks them up.
    func embeddingTable(_ name: String, dim: Int, vocabulary: Int) throws -> EmbeddingTable
    /// The output head of a model whose head is tied to its embeddings (`name`), already loaded
    /// as `embeddings`.
    func tiedHead(_ name: String, embeddings: EmbeddingTable, dim: Int, vocabulary: Int) throws -> LinearLayer
}

extension WeightSource {
    func vector(_ name: String, _ n: Int) throws -> FloatBuffer { try floats(name, shape: [n]) }

    func embeddingTable(_ name: String, dim: Int, vocabulary: Int) throws -> EmbeddingTable {
        try floats(name, shape: [dim, vocabulary])
    }

    func tiedHead(_ name: String, embeddings: EmbeddingTable, dim: Int, vocabulary: Int) throws -> LinearLayer {
        try floatHead(name, embeddings: embeddings, dim: dim, vocabulary: vocabulary)
    }

    /// A float head: float embeddings serve as its weights; any other table is read again as floats.
    func floatHead(_ name: String, embeddings: EmbeddingTable, dim: Int, vocabulary: Int) throws -> LinearLayer {
        let weights = try (embeddings as? FloatBuffer) ?? floats(name, shape: [dim, vocabulary])
        return FloatLinear(weights: weights, outFeatures: vocabulary, inFeatures: dim)
    }
}

/// Reads the tensors of a GGUF file as float32 weights, checking every name and shape.
struct GGUFWeights: WeightSource {
    var path: String { file.path }
    let file: GGUFFile

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    func floats(_ name: String, shape: [Int]) throws -> FloatBuffer {
        guard let info = file.tensor(named: name) else {
            throw RuntimeError.badTensor(name, path: file.path, reason: "missing")
        }
        // Trailing 1s are implicit in GGUF: [576] and [576, 1] are the same shape.
        func trimmed(_ s: [Int]) -> [Int] { var s = s; while s.count > 1 && s.last == 1 { s.removeLast() }; return s }
        guard trimmed(info.shape) == trimmed(shape) else {
            throw RuntimeError.badTensor(name, path: file.path,
                                         reason: "shape \(info.shape), expected \(shape)")
        }
        guard info.type.canDequantize else {
            throw RuntimeError.badTensor(name, path: file.path, reason: "type \(info.type.name) is not supported")
        }
        let buffer = FloatBuffer(count: info.elementCount)
        try file.dequantize(info, into: buffer.pointer)
        return buffer
    }

    func linear(_ name: String, in k: Int, out n: Int) throws -> LinearLayer {
        FloatLinear(weights: try floats(name, shape: [k, n]), outFeatures: n, inFeatures: k)
    }
}
