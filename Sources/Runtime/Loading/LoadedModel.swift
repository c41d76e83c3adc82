import Foundation
import GGUF
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
    /// Bits stored per parameter, counting the whole file.
    public var bitsPerWeight: Double { Double(fileSize) * 8 / Double(max(parameterCount, 1)) }

    /// Only the tokenizer of a model file (no weights are read).
    public static func loadTokenizer(_ nameOrPath: String) throws -> Tokenizer {
        let path = try ModelRegistry.resolve(nameOrPath)
        return try Tokenizer(TokenizerVocabulary(gguf: try GGUFFile(path: path).metadata, path: path))
    }

    /// Loads a model from a path or a models.txt name.
    public static func load(_ nameOrPath: String, threads: Int) throws -> LoadedModel {
        let path = try ModelRegistry.resolve(nameOrPath)
        let file = try GGUFFile(path: path)
        guard let arch = file.metadata["general.architecture"]?.string else {
            throw RuntimeError.missingMetadata("general.architecture", path: path)
        }
        guard let loader = Architectures.loaders[arch] else {
            throw RuntimeError.unknownArchitecture(arch, path: path)
        }
        let tokenizer = try Tokenizer(TokenizerVocabulary(gguf: file.metadata, path: path))
        let model = try loader(GGUFWeights(file: file), ConfigReader(metadata: file.metadata, architecture: arch, path: path),
                               tokenizer.vocabularySize, threads)
        return LoadedModel(path: path, fileSize: file.fileSize, model: model, tokenizer: tokenizer,
                           chatTemplate: file.metadata["tokenizer.chat_template"]?.string,
                           parameterCount: file.tensors.reduce(0) { $0 + $1.elementCount })
    }
}
