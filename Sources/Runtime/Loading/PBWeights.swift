import Kernels
import PBFormat

/// Reads the tensors of a .pbllm file: PB layers stay packed and run on the sign-bit kernels
/// (or, with `dequantize`, become float weights: the reference the kernels are checked against).
final class PBWeights: WeightSource {
    let file: PBFile
    let dequantize: Bool
    let variant: KernelVariant
    /// Activation scratch shared by every layer of the same input width.
    private var activations: [Int: BinaryActivations] = [:]
    static let batchTokens = 64

    init(file: PBFile, dequantize: Bool, variant: KernelVariant) {
        self.file = file
        self.dequantize = dequantize
        self.variant = variant
    }

    var path: String { file.path }

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    private func tensor(_ name: String, shape: [Int]) throws -> PBTensor {
        guard let t = file.tensor(named: name) else { throw RuntimeError.badTensor(name, path: path, reason: "missing") }
        guard t.shape == shape else {
            throw RuntimeError.badTensor(name, path: path, reason: "shape \(t.shape), expected \(shape)")
        }
        return t
    }

    func floats(_ name: String, shape: [Int]) throws -> FloatBuffer {
        FloatBuffer(try file.floats(try tensor(name, shape: shape)))
    }

    /// Activation scratch for inputs of width k.
    private func scratch(_ k: Int) -> BinaryActivations {
        let a = activations[k] ?? BinaryActivations(maxK: k, maxTokens: Self.batchTokens)
        activations[k] = a
        return a
    }

    /// 8-bit embeddings are looked up in place, row by row, never expanded to floats.
    func embeddingTable(_ name: String, dim: Int, vocabulary: Int) throws -> EmbeddingTable {
        let t = try tensor(name, shape: [dim, vocabulary])
        guard t.encoding == .q8, !dequantize else { return FloatBuffer(try file.floats(t)) }
        return Q8EmbeddingTable(q: file.bytes(t, "q").bindMemory(to: Int8.self).baseAddress!, scale: rowScales(t), owner: file)
    }

    /// An 8-bit head stays 8-bit (the q8 kernels); a float one shares the embeddings' floats.
    func tiedHead(_ name: String, embeddings: EmbeddingTable, dim: Int, vocabulary: Int) throws -> LinearLayer {
        let t = try tensor(name, shape: [dim, vocabulary])
        guard t.encoding == .q8, !dequantize else {
            return try floatHead(name, embeddings: embeddings, dim: dim, vocabulary: vocabulary)
        }
        return try q8Linear(t)
    }

    private func rowScales(_ t: PBTensor) -> [Float] {
        let scale = file.bytes(t, "scale")
        return (0..<t.rows).map { scale.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    }

    private func q8Linear(_ t: PBTensor) throws -> LinearLayer {
        let q = file.bytes(t, "q").bindMemory(to: Int8.self)
        do {
            return Q8Linear(matrix: try Q8Matrix(name: "\(path): \(t.name)", rows: t.rows, k: t.columns, q: q, scale: rowScales(t)),
                            activations: scratch(t.columns))
        } catch let error as Q8MatrixError {
            throw RuntimeError.badTensor(t.name, path: path, reason: error.description)
        }
    }

    func linear(_ name: String, in k: Int, out n: Int) throws -> LinearLayer {
        let t = try tensor(name, shape: [k, n])
        if t.encoding == .q8 && !dequantize { return try q8Linear(t) }
        guard t.encoding.isPB, !dequantize else {
            return FloatLinear(weights: FloatBuffer(try file.floats(t)), outFeatures: n, inFeatures: k)
        }
        do {
            return try PBLinear(name: "\(path): \(name)", layer: try file.pbLayer(t), variant: variant, activations: scratch(k))
        } catch let error as BinaryMatrixError {
            throw RuntimeError.badTensor(name, path: path, reason: error.description)
        }
    }
}
