import Foundation
import GGUF
import Kernels
import PBFormat
import Tokenizer

/// A model ready to run: the network, its tokenizer, and what the file says about itself.
public final class LoadedModel: @unchecked Sendable {
    public let path: String
    public let fileSize: Int
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let chatTemplate: String?
    /// Weights stored in the file's linear layers and everything else, for bits-per-weight.
    public let parameterCount: Int

    init(path: String, fileSize: Int, model: LanguageModel, tokenizer: Tokenizer, chatTemplate: String?,
         parameterCount: Int) {
        self.path = path
        self.fileSize = fileSize
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.parameterCount = parameterCount
    }

    public var config: ModelConfig { model.config }
    /// Whether PB layers run on the sign-bit kernels (a .pbllm file, not dequantized).
    public private(set) var isPacked = false

    /// Threads for everything: OpenBLAS, and for packed models the kernels' thread pool.
    public func setThreads(_ threads: Int) {
        model.threads = threads
        if isPacked { ThreadPool.setSharedThreads(threads) }
    }
    /// Bits stored per parameter, counting the whole file.
    public var bitsPerWeight: Double { Double(fileSize) * 8 / Double(max(parameterCount, 1)) }

    /// A model file opened, validated, with its metadata: GGUF or .pbllm, told apart by magic.
    private static func open(_ path: String, dequantize: Bool, kernel: KernelVariant = .best) throws
        -> (metadata: [String: GGUFValue], weights: WeightSource, fileSize: Int, parameters: Int) {
        if PBFile.hasMagic(path) {
            let file = try PBFile(path: path)
            return (file.metadata, PBWeights(file: file, dequantize: dequantize, variant: kernel), file.fileSize,
                    file.tensors.reduce(0) { $0 + $1.elementCount })
        }
        let file = try GGUFFile(path: path)
        return (file.metadata, GGUFWeights(file: file), file.fileSize, file.tensors.reduce(0) { $0 + $1.elementCount })
    }

    /// Only the tokenizer of a model file (no weights are decoded).
    /// A SentencePiece `tokenizer.model` file (as Hugging Face checkpoints ship) works too.
    public static func loadTokenizer(_ nameOrPath: String) throws -> Tokenizer {
        let path = try ModelRegistry.resolve(nameOrPath)
        if path.hasSuffix(".model") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RuntimeError.invalidArgument("cannot read \(path)")
            }
            return try Tokenizer(TokenizerVocabulary(sentencePieceModel: [UInt8](data), source: path))
        }
        return try Tokenizer(TokenizerVocabulary(gguf: try open(path, dequantize: false).metadata, path: path))
    }

    /// Loads a model from a path or a models.txt name: a GGUF checkpoint (weights dequantized to
    /// float) or a .pbllm file (PB layers on the sign-bit kernels, or dequantized to float with
    /// `dequantize`, the reference for those kernels).
    public static func load(_ nameOrPath: String, threads: Int, dequantize: Bool = false,
                            kernel: KernelVariant = .best) throws -> LoadedModel {
        let path = try ModelRegistry.resolve(nameOrPath)
        guard kernel.available else {
            throw RuntimeError.invalidArgument("kernel \(kernel) is not available on this CPU (available: \(KernelVariant.allAvailable.map(\.rawValue).joined(separator: ", ")))")
        }
        let (metadata, weights, fileSize, parameters) = try open(path, dequantize: dequantize, kernel: kernel)
        guard let arch = metadata["general.architecture"]?.string else {
            throw RuntimeError.missingMetadata("general.architecture", path: path)
        }
        guard let loader = Architectures.loaders[arch] else {
            throw RuntimeError.unknownArchitecture(arch, path: path)
        }
        let tokenizer = try Tokenizer(TokenizerVocabulary(gguf: metadata, path: path))
        let model = try loader(weights, ConfigReader(metadata: metadata, architecture: arch, path: path),
                               tokenizer.vocabularySize, threads)
        let loaded = LoadedModel(path: path, fileSize: fileSize, model: model, tokenizer: tokenizer,
                                 chatTemplate: metadata["tokenizer.chat_template"]?.string, parameterCount: parameters)
        loaded.isPacked = weights is PBWeights && !dequantize
        loaded.setThreads(threads)
        return loaded
    }
}
