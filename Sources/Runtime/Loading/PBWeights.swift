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

    func linear(_ name: String, in k: Int, out n: Int) throws -> LinearLayer {
        let t = try tensor(name, shape: [k, n])
        guard t.encoding == .pb, !dequantize else {
            return FloatLinear(weights: FloatBuffer(try file.floats(t)), outFeatures: n, inFeatures: k)
        }
        let scratch = activations[k] ?? BinaryActivations(maxK: k, maxTokens: Self.batchTokens)
        activations[k] = scratch
        do {
            return try PBLinear(name: "\(path): \(name)", layer: try file.pbLayer(t), variant: variant, activations: scratch)
        } catch let error as BinaryMatrixError {
            throw RuntimeError.badTensor(name, path: path, reason: error.description)
        }
    }
}
