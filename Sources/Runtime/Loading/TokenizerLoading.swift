import GGUF
import Tokenizer

extension TokenizerVocabulary {
    /// The tokenizer a GGUF file describes under its `tokenizer.ggml.*` keys.
    public init(gguf metadata: [String: GGUFValue], path: String) throws {
        func key(_ k: String) -> GGUFValue? { metadata["tokenizer.ggml.\(k)"] }
        guard let model = key("model")?.string else {
            throw RuntimeError.missingMetadata("tokenizer.ggml.model", path: path)
        }
        guard let tokens = key("tokens")?.stringArray, !tokens.isEmpty else {
            throw RuntimeError.missingMetadata("tokenizer.ggml.tokens", path: path)
        }
        self.init(model: model, pre: key("pre")?.string, tokens: tokens,
                  tokenTypes: key("token_type")?.intArray, scores: key("scores")?.floatArray,
                  merges: key("merges")?.stringArray,
                  bosId: key("bos_token_id")?.int, eosId: key("eos_token_id")?.int,
                  unkId: key("unknown_token_id")?.int, padId: key("padding_token_id")?.int,
                  addBos: key("add_bos_token")?.bool ?? (model == "llama"), addEos: key("add_eos_token")?.bool ?? false,
                  addSpacePrefix: key("add_space_prefix")?.bool ?? (model == "llama"),
                  eotId: key("eot_token_id")?.int, source: path)
    }
}
